"""The lists the control room triages from: who is still missing (most urgent first, with the
reviews that are overdue), and who came back lately. Each look is audited."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from bot.clock import Clock
from bot.domain.access import Action
from bot.domain.review import overdue_cutoff
from bot.domain.states import AuditAction
from bot.services import audit
from bot.services.access import AccessService, Caller
from bot.services.cards import episode_card, rhi_view
from bot.services.results import OpenEpisode, OpenEpisodes, RecentReturn, RecentReturns
from bot.services.reviews import ReviewSchedule
from storage import queries
from storage.db import Database

RECENT_RETURN_HOURS = 24


class EpisodeLists:
    def __init__(
        self,
        *,
        db: Database,
        clock: Clock,
        access: AccessService,
        reviews: ReviewSchedule,
        tz: ZoneInfo,
    ) -> None:
        self.db = db
        self.clock = clock
        self.access = access
        self.reviews = reviews
        self.tz = tz

    def open_episodes(self, caller: Caller, *, limit: int = 40) -> OpenEpisodes:
        """Still missing: high risk first, then longest missing; which reviews are overdue."""
        now = self.clock.now()
        with self.access.refusals_audited(caller), self.db.transaction() as session:
            self.access.require(session, caller, Action.LIST)
            episodes, total = queries.open_episodes(session, limit=limit)
            cutoff = overdue_cutoff(now, self.reviews.policy)
            overdue = queries.reviews_overdue(session, due_by=cutoff)
            audit.record(
                session,
                at=now,
                actor=caller.user_id,
                action=AuditAction.EPISODES_LISTED,
                channel=caller.channel_id,
                count=total,
                reviews_overdue=overdue,
            )
            rows = tuple(
                OpenEpisode(
                    card=episode_card(e, e.child, tz=self.tz),
                    review_due_at=e.review_due_at,
                    review_overdue=self.reviews.is_overdue(e.review_due_at, now),
                )
                for e in episodes
            )
        return OpenEpisodes(rows, total, overdue)

    def recent_returns(self, caller: Caller, *, limit: int = 40) -> RecentReturns:
        """Children back in the last 24 hours (by the time they came back), latest first."""
        now = self.clock.now()
        since = now - timedelta(hours=RECENT_RETURN_HOURS)
        with self.access.refusals_audited(caller), self.db.transaction() as session:
            self.access.require(session, caller, Action.LIST)
            episodes, total = queries.returned_since(session, since=since, limit=limit)
            audit.record(
                session,
                at=now,
                actor=caller.user_id,
                action=AuditAction.EPISODES_LISTED,
                channel=caller.channel_id,
                count=total,
                returned_within_hours=RECENT_RETURN_HOURS,
            )
            rows = tuple(
                RecentReturn(
                    card=episode_card(e, e.child, tz=self.tz),
                    rhi=rhi_view(e.rhis[-1]) if e.rhis else None,
                )
                for e in episodes
            )
        return RecentReturns(rows, total, RECENT_RETURN_HOURS)
