"""Database rows into the plain data the services hand back (see bot.services.results)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from bot.domain.people import age_on, initials
from bot.domain.refs import format_ref
from bot.domain.states import EpisodeStatus, NoteKind, RhiStatus, Risk
from bot.services.results import EpisodeCard, NoteView, RhiView, RiskEvent
from storage.models import Child, Episode, EpisodeNote, ReturnInterview, Review, RiskChange


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


def risk_history(
    episode: Episode, changes: list[RiskChange], reviews: list[Review]
) -> tuple[RiskEvent, ...]:
    """The grade at the report, then every review and re-grade, oldest first. A re-grade
    records a review at the same moment: it is shown once, as the re-grade."""
    initial = Risk(changes[0].from_risk) if changes else Risk(episode.risk_level)
    events = [
        RiskEvent(
            at=episode.created_at,
            actor=episode.logged_by,
            decided_by=episode.logged_by,
            risk=initial,
            at_report=True,
        )
    ]
    regraded_at = {(c.at, c.decided_by): c for c in changes}
    next_of = {(r.at, r.decided_by): r.next_due for r in reviews}
    for change in changes:
        events.append(
            RiskEvent(
                at=change.at,
                actor=change.actor,
                decided_by=change.decided_by,
                risk=Risk(change.to_risk),
                previous=Risk(change.from_risk),
                reason=change.reason,
                next_review=next_of.get((change.at, change.decided_by)),
            )
        )
    for review in reviews:
        if (review.at, review.decided_by) in regraded_at:
            continue
        events.append(
            RiskEvent(
                at=review.at,
                actor=review.actor,
                decided_by=review.decided_by,
                risk=Risk(review.risk),
                reason=review.reason,
                next_review=review.next_due,
            )
        )
    return tuple(sorted(events, key=lambda e: e.at))


def note_view(note: EpisodeNote) -> NoteView:
    return NoteView(
        at=note.at,
        actor=note.actor,
        kind=NoteKind(note.kind),
        text=note.text,
        seen_at=note.seen_at,
        place=note.place,
    )
