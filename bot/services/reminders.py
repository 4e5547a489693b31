"""Plans the reminders and escalations owed now, as outbox rows with one unique key each."""

from __future__ import annotations

from datetime import datetime

from bot.clock import Clock
from bot.domain import rhi as rules
from bot.domain.people import initials
from bot.domain.refs import format_ref
from bot.services.outbox import enqueue
from storage import queries
from storage.db import Database
from storage.models import ReturnInterview


class ReminderPlanner:
    def __init__(
        self,
        *,
        db: Database,
        clock: Clock,
        policy: rules.ReminderPolicy,
        safeguarding_channel: str,
        control_room_channel: str,
    ) -> None:
        self.db = db
        self.clock = clock
        self.policy = policy
        self.safeguarding_channel = safeguarding_channel
        self.control_room_channel = control_room_channel

    def plan(self) -> list[int]:
        """Enqueue what is owed; returns the ids of new outbox rows (others already exist)."""
        now = self.clock.now()
        new_ids: list[int] = []
        with self.db.transaction() as session:
            unreachable = queries.unreachable_reminder_targets(session)
            for rhi in queries.open_rhis(session, limit=100_000):
                for key, template, target, in_thread, data in self._owed(rhi, now):
                    if template == "rhi_reminder" and (rhi.id, target) in unreachable:
                        # Slack said this person cannot be reached (user_not_found, ...); the
                        # safeguarding channel was told. Reassigning the RHI resumes reminders.
                        continue
                    new_id = enqueue(
                        session,
                        key=key,
                        template=template,
                        target=target,
                        data=data,
                        now=now,
                        episode_id=rhi.episode_id,
                        rhi_id=rhi.id,
                        in_thread=in_thread,
                    )
                    if new_id is not None:
                        new_ids.append(new_id)
        return new_ids

    def _owed(
        self, rhi: ReturnInterview, now: datetime
    ) -> list[tuple[str, str, str, bool, dict[str, object]]]:
        episode = rhi.episode
        data: dict[str, object] = {
            "ref": format_ref(episode.id),
            "initials": initials(episode.child.full_name),
            "risk": episode.risk_level,
            "due_at": rhi.due_at.isoformat(),
            "returned_at": rhi.returned_at.isoformat(),
            "assignee_id": rhi.assignee_id,
            "rhi_id": rhi.id,
            "episode_id": episode.id,
        }
        owed = []
        reminder = rules.owed_reminder(
            due=rhi.due_at,
            returned_at=rhi.returned_at,
            now=now,
            policy=self.policy,
            snoozed_until=rhi.snoozed_until,
            high_risk=episode.risk_level == "high",
        )
        if reminder is not None:
            owed.append(
                (
                    f"rhi:{rhi.id}:{reminder.name}",
                    "rhi_reminder",
                    rhi.assignee_id,
                    False,
                    {**data, "occurrence": reminder.name},
                )
            )
        if rules.escalation_owed(due=rhi.due_at, now=now, policy=self.policy):
            if self.safeguarding_channel:
                owed.append(
                    (
                        f"rhi:{rhi.id}:escalation",
                        "rhi_escalation",
                        self.safeguarding_channel,
                        False,
                        data,
                    )
                )
            owed.append(
                (
                    f"rhi:{rhi.id}:escalation:thread",
                    "rhi_escalation",
                    self.control_room_channel,
                    True,
                    data,
                )
            )
        return owed
