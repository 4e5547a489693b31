"""Database rows into the plain data the services hand back (see bot.services.results)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from bot.domain.people import age_on, initials
from bot.domain.refs import format_ref
from bot.domain.states import EpisodeStatus, RhiStatus, Risk
from bot.services.results import EpisodeCard, RhiView
from storage.models import Child, Episode, ReturnInterview


def episode_card(
    episode: Episode, child: Child, *, tz: ZoneInfo, counts: tuple[int, int] | None = None
) -> EpisodeCard:
    return EpisodeCard(
        episode_id=episode.id,
        ref=format_ref(episode.id),
        initials=initials(child.full_name),
        age=age_on(child.date_of_birth, episode.last_seen_at.astimezone(tz).date()),
        risk=Risk(episode.risk_level),
        looked_after=episode.looked_after,
        placing_authority=episode.placing_authority,
        last_seen_at=episode.last_seen_at,
        status=EpisodeStatus(episode.status),
        child_episode_number=counts[0] if counts else None,
        recent_count=counts[1] if counts else None,
        returned_at=episode.returned_at,
        voided_at=episode.voided_at,
        duplicate_of=format_ref(episode.duplicate_of) if episode.duplicate_of else None,
    )


def rhi_view(rhi: ReturnInterview) -> RhiView:
    return RhiView(
        rhi_id=rhi.id,
        episode_id=rhi.episode_id,
        ref=format_ref(rhi.episode_id),
        status=RhiStatus(rhi.status),
        returned_at=rhi.returned_at,
        due_at=rhi.due_at,
        assignee_id=rhi.assignee_id,
        snoozed_until=rhi.snoozed_until,
        completed_at=rhi.completed_at,
        completed_by_org=rhi.completed_by_org,
    )
