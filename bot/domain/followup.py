"""What is followed up, and when: the pure rules behind the scheduler.

Everything the bot follows up carries a *next action*: when it falls due and what it is. The
scheduler looks only at next actions that have fallen due (an index makes that a range scan),
acts, and stores the next one, so a pass costs what is due, never what is past.

For a return home interview the ladder is: a reminder before it falls due, a reminder when it
does, an escalation to safeguarding a day after, and, if nothing is recorded by the end,
a last escalation and the interview recorded as not done ("lapsed"). While it is overdue the
person chasing it also gets one message a day listing all their overdue interviews.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.domain.states import RhiStep

LONDON = ZoneInfo("Europe/London")


@dataclass(frozen=True)
class QuietHours:
    """Hours when direct messages that are not urgent wait (local time, may span midnight)."""

    start: time
    end: time
    tz: ZoneInfo = LONDON

    def contains(self, now: datetime) -> bool:
        local = now.astimezone(self.tz).time()
        if self.start <= self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def end_after(self, now: datetime) -> datetime:
        """The first moment after `now` at which quiet hours end."""
        return next_local_time(now, self.end, self.tz, strictly_after=True)


def quiet_until(quiet: QuietHours | None, now: datetime, *, high_risk: bool) -> datetime | None:
    """When a direct message that is not urgent may go (None: now). High risk never waits."""
    if quiet is None or high_risk or not quiet.contains(now):
        return None
    return quiet.end_after(now)


def next_local_time(
    now: datetime, at: time, tz: ZoneInfo, *, strictly_after: bool = False
) -> datetime:
    """The next moment (UTC) the local clock shows `at`, at or after `now`.

    Keyed on the local date: on the night the clocks change a daily time happens once (a time
    the clocks skip comes after the jump, one they repeat at its first occurrence).
    """
    local_day = now.astimezone(tz).date()
    for offset in range(3):
        candidate = local_moment(local_day + timedelta(days=offset), at, tz)
        if candidate > now or (candidate == now and not strictly_after):
            return candidate
    raise AssertionError("a local time recurs within three days")  # pragma: no cover


def local_moment(day: date, at: time, tz: ZoneInfo) -> datetime:
    """`day` at `at` local time, as UTC.

    fold=0 reads a repeated wall time as its first occurrence and a skipped one with the
    offset from before the jump, which lands after it (01:30 on the spring night: 02:30 BST).
    """
    return datetime.combine(day, at).replace(tzinfo=tz, fold=0).astimezone(UTC)


@dataclass(frozen=True)
class RhiPolicy:
    before_hours: int = 24
    escalate_after_hours: int = 24
    lapse_days: int = 14
    quiet: QuietHours | None = field(default_factory=lambda: QuietHours(time(22), time(7)))
    tz: ZoneInfo = LONDON
    # The daily list of overdue interviews, one message per person, at this local time.
    overdue_list_time: time = time(9, 0)
    # An interview joins the daily list once it has been overdue this long (the "overdue now"
    # reminder is recent enough before that).
    overdue_list_min_hours: int = 12

    def fingerprint(self) -> str:
        """What stored next actions depend on: when it changes they are recomputed. (Quiet
        hours and snoozes are looked at when an action falls due, so they are not in it.)"""
        parts = (
            self.before_hours,
            self.escalate_after_hours,
            self.lapse_days,
            self.overdue_list_time.isoformat(),
            self.tz.key,
        )
        return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class RhiFacts:
    """What the rules need to know about an open return home interview."""

    returned_at: datetime
    due_at: datetime
    snoozed_until: datetime | None = None
    high_risk: bool = False


@dataclass(frozen=True)
class NextAction:
    at: datetime
    step: RhiStep


@dataclass(frozen=True)
class RhiPlan:
    """What to do now for an interview whose next action fell due, and what comes next."""

    remind: RhiStep | None  # the direct-message reminder to send now, if any
    escalate: bool
    lapse: bool
    next: NextAction | None


ORDER = (RhiStep.DUE_SOON, RhiStep.DUE_NOW, RhiStep.ESCALATE, RhiStep.LAPSE)
REMINDERS = (RhiStep.DUE_SOON, RhiStep.DUE_NOW)


def ladder(facts: RhiFacts, policy: RhiPolicy) -> list[tuple[RhiStep, datetime]]:
    escalate = facts.due_at + timedelta(hours=policy.escalate_after_hours)
    # The lapse comes last, whatever the settings: never before the escalation it follows.
    lapse = max(facts.returned_at + timedelta(days=policy.lapse_days), escalate)
    return [
        (RhiStep.DUE_SOON, facts.due_at - timedelta(hours=policy.before_hours)),
        (RhiStep.DUE_NOW, facts.due_at),
        (RhiStep.ESCALATE, escalate),
        (RhiStep.LAPSE, lapse),
    ]


def first_action(facts: RhiFacts, policy: RhiPolicy) -> NextAction:
    """A new interview's next action: the first rung (at once if its time has passed)."""
    step, at = ladder(facts, policy)[0]
    return NextAction(at, step)


def action_for(facts: RhiFacts, policy: RhiPolicy, step: RhiStep) -> NextAction:
    """The next action when the pending step is `step` (after a change to the interview)."""
    return NextAction(dict(ladder(facts, policy))[step], step)


def plan(facts: RhiFacts, policy: RhiPolicy, *, pending: RhiStep, now: datetime) -> RhiPlan:
    """Act on every step from `pending` whose time has come, and say what comes next.

    After downtime only the latest reminder goes (one current reminder, not the backlog); the
    escalation goes once; a lapse closes the interview and replaces anything else still owed.
    A reminder held by a snooze or by quiet hours (not for high risk) stays the next action,
    at the moment it may go; escalations and the lapse are never held.
    """
    rungs = [(s, t) for s, t in ladder(facts, policy) if ORDER.index(s) >= ORDER.index(pending)]
    owed = [s for s, t in rungs if t <= now]
    if RhiStep.LAPSE in owed:
        return RhiPlan(remind=None, escalate=False, lapse=True, next=None)
    escalate = RhiStep.ESCALATE in owed
    reminders = [s for s in owed if s in REMINDERS]
    remind = reminders[-1] if reminders else None
    later = [(s, t) for s, t in rungs if t > now]
    following = NextAction(later[0][1], later[0][0]) if later else None
    hold = _held_until(facts, policy, now) if remind is not None else None
    if remind is not None and hold is not None:
        # The reminder waits; whatever comes due before the hold ends is not delayed by it.
        at = min(hold, following.at) if following is not None else hold
        return RhiPlan(remind=None, escalate=escalate, lapse=False, next=NextAction(at, remind))
    return RhiPlan(remind=remind, escalate=escalate, lapse=False, next=following)


def _held_until(facts: RhiFacts, policy: RhiPolicy, now: datetime) -> datetime | None:
    if facts.snoozed_until is not None and now < facts.snoozed_until:
        return facts.snoozed_until
    if policy.quiet is not None and not facts.high_risk and policy.quiet.contains(now):
        return policy.quiet.end_after(now)
    return None


def on_overdue_list(facts: RhiFacts, policy: RhiPolicy, now: datetime) -> bool:
    """Whether the daily list at `now` names this interview."""
    if facts.snoozed_until is not None and now < facts.snoozed_until:
        return False
    return facts.due_at <= now - timedelta(hours=policy.overdue_list_min_hours)


def overdue_cutoff(now: datetime, policy: RhiPolicy) -> datetime:
    """Interviews due before this are old enough for the daily list at `now`."""
    return now - timedelta(hours=policy.overdue_list_min_hours)
