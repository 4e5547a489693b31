"""Still-missing risk reviews: recording one, and keeping each open episode's next review due
(see bot.domain.review for the rules).

Every change that moves an episode's next review calls in here, in the caller's transaction: the
report (`start`), a review or a re-grade (`record`), the return (`stop`) and a reopen
(`resume`). The episode keeps when its review is due (`review_due_at`); its follow-up row says
what the scheduler does next: the reminder when due, the overdue note after (bot.services.
review_reminders).
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.orm import Session

from bot.domain import review as rules
from bot.domain.followup import QuietHours, quiet_until
from bot.domain.states import FollowupKind, ReviewStep, Risk
from bot.services.followups import pending_step, remember, set_next
from storage import episode_records as records
from storage.models import Episode, Review

log = logging.getLogger(__name__)


class ReviewSchedule:
    def __init__(self, *, policy: rules.ReviewPolicy, quiet: QuietHours | None) -> None:
        self.policy = policy
        self.quiet = quiet

    def start(self, session: Session, episode: Episode, now: datetime) -> None:
        """A new episode: its first review is due after the report, by its risk."""
        due = rules.next_due(since=episode.created_at, risk=_risk(episode), policy=self.policy)
        self._due(session, episode, due, now)

    def record(
        self,
        session: Session,
        episode: Episode,
        *,
        now: datetime,
        actor: str,
        decided_by: str,
        reason: str | None = None,
    ) -> Review:
        """A review of the episode's risk as it now stands (kept, or just re-graded): the
        next one is due from now, by that risk."""
        due = rules.next_due(since=now, risk=_risk(episode), policy=self.policy)
        review = Review(
            episode_id=episode.id,
            at=now,
            actor=actor,
            decided_by=decided_by,
            risk=episode.risk_level,
            reason=reason,
            next_due=due,
        )
        session.add(review)
        self._due(session, episode, due, now)
        return review

    def stop(self, session: Session, episode: Episode, now: datetime) -> None:
        """The child is back: no review is owed, nothing more is sent."""
        episode.review_due_at = None
        set_next(session, kind=FollowupKind.REVIEW, subject=str(episode.id), action=None, now=now)

    def resume(self, session: Session, episode: Episode, now: datetime) -> None:
        """A return recorded in error is undone: the review owed since the last one (or the
        report), and at once if that time has passed."""
        since = records.last_review_at(session, episode_id=episode.id) or episode.created_at
        due = rules.due_on_resume(since=since, risk=_risk(episode), policy=self.policy, now=now)
        self._due(session, episode, due, now)

    def quiet_until(self, now: datetime, *, high_risk: bool) -> datetime | None:
        return quiet_until(self.quiet, now, high_risk=high_risk)

    def is_overdue(self, due: datetime | None, now: datetime) -> bool:
        return rules.is_overdue(due, self.policy, now)

    def ensure_current(self, session: Session, now: datetime) -> None:
        """At start-up: if REVIEW_HOURS (or the overdue margin) changed since the stored due
        times were computed, recompute every open episode's next review under the new
        settings. The first start after the upgrade only remembers them: migration 0008 and
        every episode logged since scheduled with the settings of their time."""
        fingerprint = self.policy.fingerprint()
        known = pending_step(session, kind=FollowupKind.POLICY, subject="review")
        if known == fingerprint:
            return
        if known is not None:
            self._replan(session, now)
        remember(session, kind=FollowupKind.POLICY, subject="review", value=fingerprint, now=now)

    def _replan(self, session: Session, now: datetime) -> None:
        episodes = records.missing_episodes(session)
        last = records.last_reviews(session, [e.id for e in episodes])
        moved = 0
        for episode in episodes:
            since = last.get(episode.id, episode.created_at)
            due = rules.next_due(since=since, risk=_risk(episode), policy=self.policy)
            if episode.review_due_at is not None and due == episode.review_due_at:
                continue  # unchanged: its reminders stand (and are not sent twice)
            self._due(session, episode, due, now)
            moved += 1
        log.info("review settings changed: %d open episodes replanned", moved)

    @staticmethod
    def _due(session: Session, episode: Episode, due: datetime, now: datetime) -> None:
        episode.review_due_at = due
        set_next(
            session,
            kind=FollowupKind.REVIEW,
            subject=str(episode.id),
            action=(due, ReviewStep.DUE),
            now=now,
        )


def _risk(episode: Episode) -> Risk:
    return Risk(episode.risk_level)
