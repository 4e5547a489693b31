"""A return as the control room records it: when, where found, how, and the police
safe-and-well check; and when that check falls due and is chased."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.domain.people import is_staff_id
from bot.domain.states import ReturnHow, SafeWellStatus
from bot.domain.text import text_problem

MAX_PLACE = 400
MAX_DISCLOSURE = 2000


@dataclass(frozen=True)
class ReturnDetails:
    """What the return form adds to the time (a quick `/missing returned M-4 14:30` has none:
    the check is then to be done by the officer in the case)."""

    found_place: str = ""
    how: ReturnHow | None = None
    safe_well: SafeWellStatus = SafeWellStatus.TO_BE_DONE
    safe_well_by: str = ""  # who did it or will do it; empty: the officer in the case
    # Anything the child disclosed that needs a referral: private, never posted to a channel.
    disclosure: str = ""

    def errors(self) -> dict[str, str]:
        found: dict[str, str] = {}
        for field, text, limit in (
            ("found_place", self.found_place, MAX_PLACE),
            ("disclosure", self.disclosure, MAX_DISCLOSURE),
        ):
            problem = text_problem(text, limit=limit)
            if problem:
                found[field] = problem
        if self.safe_well_by and not is_staff_id(self.safe_well_by):
            found["safe_well_by"] = "That is not someone I can record: choose the person again."
        return found


@dataclass(frozen=True)
class SafeWellPolicy:
    hours: int = 24  # SAFE_WELL_HOURS: the check is due this long after the return
    before_hours: int = 4  # a reminder this long before it falls due
    escalate_after_hours: int = 12  # then said in the control room this long after


def safe_well_due(returned_at: datetime, policy: SafeWellPolicy) -> datetime:
    return returned_at + timedelta(hours=policy.hours)


def safe_well_ladder(returned_at: datetime, policy: SafeWellPolicy) -> list[tuple[str, datetime]]:
    """("due_soon" | "due_now" | "escalate", when), in order; the first is skipped for a return
    recorded so late that it would come before the return itself."""
    due = safe_well_due(returned_at, policy)
    rungs = [
        ("due_soon", due - timedelta(hours=policy.before_hours)),
        ("due_now", due),
        ("escalate", due + timedelta(hours=policy.escalate_after_hours)),
    ]
    return [(step, at) for step, at in rungs if at > returned_at]


@dataclass(frozen=True)
class SafeWellPlan:
    remind: str | None  # "due_soon" or "due_now": a reminder to the officer now
    escalate: bool  # overdue: said in the control room
    next: tuple[datetime, str] | None  # (when, rung), or None: nothing more to chase


def first_safe_well_action(returned_at: datetime, policy: SafeWellPolicy) -> tuple[datetime, str]:
    step, at = safe_well_ladder(returned_at, policy)[0]
    return at, step


def safe_well_plan(
    returned_at: datetime, policy: SafeWellPolicy, *, pending: str, now: datetime
) -> SafeWellPlan:
    """Act on every rung from `pending` that has come (after downtime: the latest only, the
    escalation instead of a reminder), and say which comes next."""
    rungs = safe_well_ladder(returned_at, policy)
    names = [step for step, _ in rungs]
    start = names.index(pending) if pending in names else 0
    owed = [step for step, at in rungs[start:] if at <= now]
    later = [(at, step) for step, at in rungs[start:] if at > now]
    escalate = "escalate" in owed
    reminders = [step for step in owed if step != "escalate"]
    remind = reminders[-1] if reminders and not escalate else None
    return SafeWellPlan(remind=remind, escalate=escalate, next=later[0] if later else None)
