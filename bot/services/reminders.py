"""Plans the reminders and escalations owed now, as outbox rows with one unique key each."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.clock import Clock
from bot.domain import rhi as rules
from bot.domain.states import Risk
from bot.services.cards import episode_card, rhi_view
from bot.services.messages import Outbound, RhiEscalation, RhiReminder
from bot.services.outbox import Outbox
from storage import queries
from storage.db import Database
from storage.models import ReturnInterview


class ReminderPlanner:
    def __init__(
        self,
        *,
        db: Database,
        clock: Clock,
        outbox: Outbox,
        policy: rules.ReminderPolicy,
        safeguarding_channel: str,
        control_room_channel: str,
        tz: ZoneInfo,
    ) -> None:
        self.db = db
        self.clock = clock
        self.outbox = outbox
        self.policy = policy
        self.safeguarding_channel = safeguarding_channel
        self.control_room_channel = control_room_channel
        self.tz = tz

    def plan(self) -> list[int]:
        """Enqueue what is owed; returns the ids of new outbox rows (others already exist)."""
        now = self.clock.now()
        new_ids: list[int] = []
        with self.db.transaction() as session:
            unreachable = queries.unreachable_reminder_targets(session)
            for rhi in queries.open_rhis(session, limit=100_000):
                for key, message, target, in_thread in self._owed(rhi, now):
                    if isinstance(message, RhiReminder) and (rhi.id, target) in unreachable:
                        # Slack said this person cannot be reached (user_not_found, ...); the
                        # safeguarding channel was told. Reassigning the RHI resumes reminders.
                        continue
                    new_id = self.outbox.enqueue(
                        session,
                        key=key,
                        message=message,
                        target=target,
                        now=now,
                        episode_id=rhi.episode_id,
                        rhi_id=rhi.id,
                        in_thread=in_thread,
                    )
                    if new_id is not None:
                        new_ids.append(new_id)
        return new_ids

    def _owed(self, rhi: ReturnInterview, now: datetime) -> list[tuple[str, Outbound, str, bool]]:
        episode = rhi.episode
        view = rhi_view(rhi)
        card = episode_card(episode, episode.child, tz=self.tz)
        owed: list[tuple[str, Outbound, str, bool]] = []
        reminder = rules.owed_reminder(
            due=rhi.due_at,
            returned_at=rhi.returned_at,
            now=now,
            policy=self.policy,
            snoozed_until=rhi.snoozed_until,
            high_risk=episode.risk_level == Risk.HIGH,
        )
        if reminder is not None:
            owed.append(
                (f"rhi:{rhi.id}:{reminder.name}", RhiReminder(view, card), rhi.assignee_id, False)
            )
        if rules.escalation_owed(due=rhi.due_at, now=now, policy=self.policy):
            escalation = RhiEscalation(view, card)
            if self.safeguarding_channel:
                owed.append(
                    (f"rhi:{rhi.id}:escalation", escalation, self.safeguarding_channel, False)
                )
            owed.append(
                (f"rhi:{rhi.id}:escalation:thread", escalation, self.control_room_channel, True)
            )
        return owed
