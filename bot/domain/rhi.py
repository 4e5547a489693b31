"""Return home interviews: the due time, status changes, and which reminder is owed when.

The scheduler asks `owed_reminder` on every pass. It answers with the single latest reminder
whose time has come, so a bot that was stopped for days sends one current reminder, not the
backlog; the outbox's unique key makes each occurrence go out once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.domain.errors import UserError
from bot.domain.states import OPEN_RHI_STATUSES, RhiStatus

# (previous, current): every allowed change. Closed interviews stay closed.
TRANSITIONS: set[tuple[RhiStatus, RhiStatus]] = {
    (RhiStatus.PENDING, RhiStatus.OFFERED),
    (RhiStatus.PENDING, RhiStatus.DECLINED),
    (RhiStatus.PENDING, RhiStatus.COMPLETED),
    (RhiStatus.PENDING, RhiStatus.NOT_DONE),
    (RhiStatus.PENDING, RhiStatus.CANCELLED),
    (RhiStatus.OFFERED, RhiStatus.DECLINED),
    (RhiStatus.OFFERED, RhiStatus.COMPLETED),
    (RhiStatus.OFFERED, RhiStatus.NOT_DONE),
    (RhiStatus.OFFERED, RhiStatus.CANCELLED),
}


def check_transition(previous: RhiStatus, current: RhiStatus) -> None:
    if (previous, current) in TRANSITIONS:
        return
    if previous not in OPEN_RHI_STATUSES:
        raise UserError(f"This return home interview is already closed ({previous.label}).")
    raise UserError(
        f"A return home interview that is {previous.label} cannot become {current.label}."
    )


def due_at(returned_at: datetime, due_hours: int) -> datetime:
    """Absolute time: 72 real hours, whatever the clocks do in between."""
    return returned_at + timedelta(hours=due_hours)


@dataclass(frozen=True)
class ReminderPolicy:
    before_hours: int = 24
    escalate_after_hours: int = 24
    repeat_every_hours: int = 24
    quiet: tuple[time, time] | None = (time(22, 0), time(7, 0))
    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("Europe/London"))


@dataclass(frozen=True)
class Reminder:
    """One occurrence of a reminder: `name` is unique per interview and goes into the outbox key."""

    name: str  # "due_soon", "due_now", "overdue_1", "overdue_2", ...
    at: datetime


def reminder_occurrences(due: datetime, now: datetime, policy: ReminderPolicy) -> list[Reminder]:
    """Every direct-message reminder whose time has come, oldest first."""
    owed = [Reminder("due_soon", due - timedelta(hours=policy.before_hours))]
    owed.append(Reminder("due_now", due))
    if now >= due:
        step = timedelta(hours=policy.repeat_every_hours)
        count = int((now - due) / step)
        owed.extend(Reminder(f"overdue_{n}", due + n * step) for n in range(1, count + 1))
    return [r for r in owed if r.at <= now]


def owed_reminder(
    *,
    due: datetime,
    returned_at: datetime,
    now: datetime,
    policy: ReminderPolicy,
    snoozed_until: datetime | None,
    high_risk: bool,
) -> Reminder | None:
    """The one reminder to send now, or None (nothing due, snoozed, or held for quiet hours)."""
    owed = [r for r in reminder_occurrences(due, now, policy) if r.at >= returned_at]
    if not owed:
        return None
    if snoozed_until is not None and now < snoozed_until:
        return None
    if not high_risk and in_quiet_hours(now, policy):
        return None
    return owed[-1]


def escalation_at(due: datetime, policy: ReminderPolicy) -> datetime:
    return due + timedelta(hours=policy.escalate_after_hours)


def escalation_owed(*, due: datetime, now: datetime, policy: ReminderPolicy) -> bool:
    """Escalations are never held by snooze or quiet hours."""
    return now >= escalation_at(due, policy)


def in_quiet_hours(now: datetime, policy: ReminderPolicy) -> bool:
    if policy.quiet is None:
        return False
    start, end = policy.quiet
    local = now.astimezone(policy.tz).time()
    if start <= end:
        return start <= local < end
    return local >= start or local < end


def snooze_until(*, now: datetime, hours: float, due: datetime) -> datetime:
    """Before the due time a snooze stops at the due time, so 'overdue now' is never hidden."""
    if hours <= 0:
        raise UserError("Snooze needs a positive number of hours, e.g. `snooze 4`.")
    if hours > 72:
        raise UserError("Snooze is at most 72 hours.")
    until = now + timedelta(hours=hours)
    return min(until, due) if now < due else until
