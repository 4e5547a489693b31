"""Still-missing risk reviews: when the next one falls due, when a due one is overdue.

APP asks supervisors to "regularly review and confirm the risk assessment" while a child is
missing, and sets no national interval: each force chooses hours by risk (REVIEW_HOURS). The
next review falls due that long after the last one (or after the report, before any), at the
episode's current risk. A review not recorded `overdue_after` past its due time is overdue.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.domain.states import ReviewStep, Risk

DEFAULT_HOURS: Mapping[Risk, float] = {
    Risk.HIGH: 2,
    Risk.MEDIUM: 6,
    Risk.LOW: 12,
    Risk.NO_APPARENT_RISK: 24,
}
# A week: anything longer is not a review of a missing child's risk.
MAX_HOURS = 24 * 7


@dataclass(frozen=True)
class ReviewPolicy:
    hours: Mapping[Risk, float] = field(default_factory=lambda: dict(DEFAULT_HOURS))
    overdue_after: timedelta = timedelta(hours=1)

    def interval(self, risk: Risk) -> timedelta:
        return timedelta(hours=self.hours.get(risk, DEFAULT_HOURS[risk]))

    def fingerprint(self) -> str:
        """What stored due times depend on: when it changes, open episodes are replanned."""
        parts = (
            tuple((r.value, self.interval(r).total_seconds()) for r in Risk),
            self.overdue_after.total_seconds(),
        )
        return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]


def next_due(*, since: datetime, risk: Risk, policy: ReviewPolicy) -> datetime:
    """The next review after one recorded (or a report made) at `since`."""
    return since + policy.interval(risk)


def due_on_resume(*, since: datetime, risk: Risk, policy: ReviewPolicy, now: datetime) -> datetime:
    """After a return recorded in error is undone: the review owed from `since`, and at once if
    that time has passed (the child was missing all along; the last reminder may be stale)."""
    return max(next_due(since=since, risk=risk, policy=policy), now)


def overdue_at(due: datetime, policy: ReviewPolicy) -> datetime:
    return due + policy.overdue_after


def is_overdue(due: datetime | None, policy: ReviewPolicy, now: datetime) -> bool:
    return due is not None and now >= overdue_at(due, policy)


def overdue_cutoff(now: datetime, policy: ReviewPolicy) -> datetime:
    """Reviews due at or before this are overdue at `now`."""
    return now - policy.overdue_after


@dataclass(frozen=True)
class ReviewPlan:
    """What to do for a due review whose follow-up fell due, and what comes next."""

    remind: bool  # the direct message to the officer in the case, now
    overdue: bool  # the note in the episode's thread, now
    next: tuple[datetime, ReviewStep] | None


# What each pending step still owes: (the reminder, the overdue note).
_OWED = {
    ReviewStep.DUE: (True, True),
    ReviewStep.OVERDUE: (False, True),
    ReviewStep.REMINDER: (True, False),
}


def plan(
    *,
    due_at: datetime,
    policy: ReviewPolicy,
    pending: ReviewStep,
    now: datetime,
    held_until: datetime | None = None,
) -> ReviewPlan:
    """The reminder once when the review falls due, the overdue note once after; nothing more
    until a review is recorded (which schedules the next one).

    `held_until`: quiet hours hold the reminder until then (never for high risk: the caller
    says); it is sent then, saying how late it is. The note goes to a channel and is never
    held. After downtime past both, both go at once: one current reminder, not a backlog.
    """
    late = overdue_at(due_at, policy)
    reminder_owed, note_owed = _OWED[pending]
    reminder_at = max(due_at, held_until) if held_until is not None else due_at
    remind = reminder_owed and now >= reminder_at
    overdue = note_owed and now >= late
    still = [
        (at, step)
        for owed, at, step in (
            (reminder_owed and not remind, reminder_at, ReviewStep.REMINDER),
            (note_owed and not overdue, late, ReviewStep.OVERDUE),
        )
        if owed
    ]
    if len(still) == 2:
        return ReviewPlan(remind, overdue, (min(at for at, _ in still), ReviewStep.DUE))
    return ReviewPlan(remind, overdue, still[0] if still else None)


def parse_review_hours(text: str) -> dict[Risk, float]:
    """`high=2,medium=6` -> {HIGH: 2, MEDIUM: 6, LOW: 12, NO_APPARENT_RISK: 24}: risks left out
    keep the default. ValueError naming what is wrong."""
    hours = dict(DEFAULT_HOURS)
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        name, sep, value = part.partition("=")
        key = "_".join(name.strip().lower().replace("-", " ").split())
        try:
            risk = Risk(key)
        except ValueError:
            known = ", ".join(r.value for r in Risk)
            raise ValueError(f"unknown risk {name.strip()[:30]!r}: use {known}") from None
        try:
            number = float(value) if sep else float("nan")
        except ValueError:
            number = float("nan")
        if not 0 < number <= MAX_HOURS:
            raise ValueError(
                f"{risk.value} needs a number of hours above 0 and at most {MAX_HOURS}, "
                f"like {risk.value}={DEFAULT_HOURS[risk]:g}"
            )
        hours[risk] = number
    return hours
