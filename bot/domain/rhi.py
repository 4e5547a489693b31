"""Return home interviews: the due time, status changes and snoozes.

When each reminder and escalation falls due is in bot.domain.followup.
"""

from __future__ import annotations

from datetime import datetime, timedelta

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


def snooze_until(*, now: datetime, hours: float, due: datetime) -> datetime:
    """Before the due time a snooze stops at the due time, so 'overdue now' is never hidden."""
    if hours <= 0:
        raise UserError("Snooze needs a positive number of hours, e.g. `snooze 4`.")
    if hours > 72:
        raise UserError("Snooze is at most 72 hours.")
    until = now + timedelta(hours=hours)
    return min(until, due) if now < due else until
