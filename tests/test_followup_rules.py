"""The pure rules of the scheduler: each interview's ladder, held reminders, the daily list."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.domain.followup import (
    NextAction,
    QuietHours,
    RhiFacts,
    RhiPolicy,
    first_action,
    next_local_time,
    on_overdue_list,
    plan,
)
from bot.domain.states import RhiStep

LONDON = ZoneInfo("Europe/London")
RETURNED = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
DUE = RETURNED + timedelta(hours=72)
FACTS = RhiFacts(returned_at=RETURNED, due_at=DUE)
NO_QUIET = RhiPolicy(quiet=None)


def at(hours: float) -> datetime:
    return RETURNED + timedelta(hours=hours)


def walk(policy: RhiPolicy, facts: RhiFacts, times: list[float]) -> list[str]:
    """Fire the rule whenever the next action has come, as the scheduler would."""
    log: list[str] = []
    action: NextAction | None = first_action(facts, policy)
    for hours in times:
        now = at(hours)
        if action is None or action.at > now:
            continue
        step = plan(facts, policy, pending=action.step, now=now)
        if step.remind:
            log.append(f"{hours:g}h remind {step.remind}")
        if step.escalate:
            log.append(f"{hours:g}h escalate")
        if step.lapse:
            log.append(f"{hours:g}h lapse")
        action = step.next
    return log


def test_the_whole_ladder_once_each_in_order() -> None:
    every_hour = [h / 2 for h in range(0, 2 * 24 * 16)]
    assert walk(NO_QUIET, FACTS, every_hour) == [
        "48h remind due_soon",
        "72h remind due_now",
        "96h escalate",
        f"{14 * 24}h lapse",
    ]


def test_after_downtime_one_current_reminder_not_the_backlog() -> None:
    # The bot was down from before the first reminder until after the escalation.
    assert walk(NO_QUIET, FACTS, [100]) == ["100h remind due_now", "100h escalate"]
    # Down past the lapse: only the lapse (it says everything the rest would have).
    assert walk(NO_QUIET, FACTS, [24 * 15]) == ["360h lapse"]


def test_quiet_hours_hold_reminders_not_escalations() -> None:
    policy = RhiPolicy(quiet=QuietHours(time(22), time(7), LONDON))
    # Returned at 23:30 GMT: due soon at 23:30, due at 23:30, escalation at 23:30.
    late = datetime(2026, 11, 24, 23, 30, tzinfo=UTC)
    facts = RhiFacts(returned_at=late, due_at=late + timedelta(hours=72))
    soon = plan(facts, policy, pending=RhiStep.DUE_SOON, now=late + timedelta(hours=48))
    assert soon.remind is None and soon.next == NextAction(
        datetime(2026, 11, 27, 7, 0, tzinfo=UTC), RhiStep.DUE_SOON
    )
    escalated = plan(facts, policy, pending=RhiStep.ESCALATE, now=late + timedelta(hours=96))
    assert escalated.escalate
    # High risk is never held.
    urgent = RhiFacts(returned_at=late, due_at=late + timedelta(hours=72), high_risk=True)
    assert plan(urgent, policy, pending=RhiStep.DUE_SOON, now=late + timedelta(hours=48)).remind


def test_a_snooze_holds_the_reminder_but_not_the_escalation() -> None:
    snoozed = RhiFacts(returned_at=RETURNED, due_at=DUE, snoozed_until=at(97))
    held = plan(snoozed, NO_QUIET, pending=RhiStep.DUE_NOW, now=at(96))
    assert held.remind is None and held.escalate
    assert held.next == NextAction(at(97), RhiStep.DUE_NOW)
    after = plan(snoozed, NO_QUIET, pending=RhiStep.DUE_NOW, now=at(97))
    assert after.remind is RhiStep.DUE_NOW


def test_the_lapse_comes_after_the_escalation_whatever_the_settings() -> None:
    policy = RhiPolicy(quiet=None, lapse_days=2, escalate_after_hours=48)
    # Lapse at the escalation's time: the last escalation (the lapse) replaces the first.
    assert walk(policy, FACTS, [h / 2 for h in range(0, 400)]) == [
        "48h remind due_soon",
        "72h remind due_now",
        "120h lapse",
    ]


def test_daily_times_across_both_clock_changes() -> None:
    nine = time(9)
    # The night the clocks go back: 09:00 local is 09:00 UTC on 25/10, 08:00 UTC the day before.
    assert next_local_time(datetime(2026, 10, 24, 9, 0, tzinfo=UTC), nine, LONDON) == datetime(
        2026, 10, 25, 9, 0, tzinfo=UTC
    )
    assert next_local_time(datetime(2026, 10, 24, 7, 0, tzinfo=UTC), nine, LONDON) == datetime(
        2026, 10, 24, 8, 0, tzinfo=UTC
    )
    # Spring: 09:00 BST on 29/03 is 08:00 UTC.
    assert next_local_time(datetime(2026, 3, 29, 1, 30, tzinfo=UTC), nine, LONDON) == datetime(
        2026, 3, 29, 8, 0, tzinfo=UTC
    )
    # A time the clocks skip (01:30 on 29/03) comes after the jump: 02:30 BST, 01:30 UTC.
    assert next_local_time(
        datetime(2026, 3, 29, 0, 0, tzinfo=UTC), time(1, 30), LONDON
    ) == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    # A time the clocks repeat (01:30 on 25/10) happens once, the first time: 00:30 UTC.
    assert next_local_time(
        datetime(2026, 10, 25, 0, 0, tzinfo=UTC), time(1, 30), LONDON
    ) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("hours_after_due", "snoozed", "listed"),
    [
        (-1, False, False),
        (11.9, False, False),
        (12, False, True),
        (48, False, True),
        (48, True, False),
    ],
)
def test_the_daily_list_names_interviews_overdue_half_a_day(
    hours_after_due: float, snoozed: bool, listed: bool
) -> None:
    now = DUE + timedelta(hours=hours_after_due)
    facts = RhiFacts(
        returned_at=RETURNED,
        due_at=DUE,
        snoozed_until=now + timedelta(hours=1) if snoozed else None,
    )
    assert on_overdue_list(facts, NO_QUIET, now) is listed
