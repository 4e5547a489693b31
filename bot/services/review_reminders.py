"""Handler for FollowupKind.REVIEW: a still-missing episode's risk review, once it falls due.

The officer in the case gets one direct message when the review falls due (held by quiet hours
unless the risk is high, and then rendered when it goes, saying how late it is); if none is
recorded by the overdue margin, one note goes in the episode's thread. Each is keyed by the due
time of the review it is about, so each goes once per due review; a review or a return
recorded meanwhile moves or clears that due time, and the outbox drops what was queued for the
old one (bot.services.outbox).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.domain import review as rules
from bot.domain.states import EpisodeStatus, FollowupKind, ReviewStep, Risk
from bot.services.cards import episode_card
from bot.services.followups import Claimed, Decision
from bot.services.messages import ReviewDue, ReviewOverdue
from bot.services.outbox import Outbox, Pending
from bot.services.reviews import ReviewSchedule
from storage import episode_records as records
from storage.db import Database
from storage.models import Episode

_STEPS = frozenset(s.value for s in ReviewStep)


def review_key(episode_id: int, due_at: datetime, what: str) -> str:
    """One message of each kind per due review: the due time names the review."""
    return f"review:{episode_id}:{due_at.strftime('%Y%m%dT%H%M%SZ')}:{what}"


class ReviewReminders:
    kind = FollowupKind.REVIEW

    def __init__(
        self,
        *,
        db: Database,
        outbox: Outbox,
        schedule: ReviewSchedule,
        control_room_channel: str,
        tz: ZoneInfo,
    ) -> None:
        self.db = db
        self.outbox = outbox
        self.schedule = schedule
        self.control_room_channel = control_room_channel
        self.tz = tz

    def prepare(self, rows: Sequence[Claimed], now: datetime) -> list[Decision]:
        ids = [int(r.subject) for r in rows if r.subject.isdigit()]
        with self.db.read() as session:
            episodes = {e.id: e for e in records.episodes_with_children(session, ids)}
            return [self._decide(row, episodes, now) for row in rows]

    def _decide(self, row: Claimed, episodes: dict[int, Episode], now: datetime) -> Decision:
        episode = episodes.get(int(row.subject)) if row.subject.isdigit() else None
        if episode is None or episode.status != EpisodeStatus.MISSING:
            return Decision(row, None)  # back (or gone) meanwhile: no review is owed
        due = episode.review_due_at
        if due is None:
            return Decision(row, None)
        pending = ReviewStep(row.step) if row.step in _STEPS else ReviewStep.DUE
        card = episode_card(episode, episode.child, tz=self.tz)
        plan = rules.plan(
            due_at=due,
            policy=self.schedule.policy,
            pending=pending,
            now=now,
            held_until=self.schedule.quiet_until(now, high_risk=card.risk is Risk.HIGH),
        )
        messages: list[Pending] = []
        if plan.remind:
            reminder = ReviewDue(
                card, due, self.schedule.policy.interval(card.risk).total_seconds() / 3600
            )
            messages.append(
                Pending(
                    key=review_key(episode.id, due, "due"),
                    kind=reminder.kind,
                    payload=self.outbox.render(reminder, now=now),
                    target=episode.officer_id,
                    episode_id=episode.id,
                )
            )
        if plan.overdue:
            note = ReviewOverdue(card, due, episode.officer_id)
            messages.append(
                Pending(
                    key=review_key(episode.id, due, "overdue"),
                    kind=note.kind,
                    payload=self.outbox.render(note, now=now),
                    target=self.control_room_channel,
                    episode_id=episode.id,
                    in_thread=True,
                )
            )
        return Decision(row, plan.next, messages)
