"""The pure rules of when a digest or handover is owed (bot.domain.occasions)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.domain.occasions import (
    LONGEST_PERIOD,
    due_now,
    first_due,
    moments_between,
    next_moment,
    on_schedule,
    parse_times,
    period_since,
)

LONDON = ZoneInfo("Europe/London")
EIGHT = (time(8),)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def test_parse_times() -> None:
    assert parse_times("19:00, 07:00") == (time(7), time(19))
    assert parse_times("") == parse_times("off") == ()
    with pytest.raises(ValueError, match="'7pm' is not a time of day"):
        parse_times("07:00,7pm")
    with pytest.raises(ValueError, match="given twice"):
        parse_times("07:00,07:00")


def test_digest_on_time_late_the_same_day_and_never_stale() -> None:
    on_time = due_now(EIGHT, LONDON, now=utc(2026, 11, 25, 8, 0, 30), same_day_only=True)
    assert (on_time.post, on_time.next_at) == (utc(2026, 11, 25, 8), utc(2026, 11, 26, 8))
    late = due_now(EIGHT, LONDON, now=utc(2026, 11, 25, 23, 59), same_day_only=True)
    assert late.post == utc(2026, 11, 25, 8)
    # Back at 06:00 the next day: yesterday's is stale; today's comes at 08:00.
    stale = due_now(EIGHT, LONDON, now=utc(2026, 11, 26, 6), same_day_only=True)
    assert (stale.post, stale.next_at) == (None, utc(2026, 11, 26, 8))


@pytest.mark.parametrize(
    ("after", "expected"),
    [
        # Spring forward (29/03/2026): 08:00 GMT then 08:00 BST (07:00 UTC).
        (utc(2026, 3, 28, 8), utc(2026, 3, 29, 7)),
        (utc(2026, 3, 29, 7), utc(2026, 3, 30, 7)),
        # Fall back (25/10/2026): 08:00 BST (07:00 UTC) then 08:00 GMT.
        (utc(2026, 10, 24, 7), utc(2026, 10, 25, 8)),
    ],
)
def test_eight_local_across_the_clock_changes(after: datetime, expected: datetime) -> None:
    assert next_moment(EIGHT, LONDON, after) == expected
    assert on_schedule(expected, EIGHT, LONDON)
    assert not on_schedule(expected + timedelta(hours=1), EIGHT, LONDON)


def test_a_time_the_clocks_skip_or_repeat_happens_once_that_night() -> None:
    half_one = (time(1, 30),)
    # 01:30 never happens on 29/03/2026: it comes after the jump, at 02:30 BST (01:30 UTC).
    assert next_moment(half_one, LONDON, utc(2026, 3, 28, 12)) == utc(2026, 3, 29, 1, 30)
    # 01:30 happens twice on 25/10/2026: the first (BST, 00:30 UTC) only.
    first = next_moment(half_one, LONDON, utc(2026, 10, 24, 12))
    assert first == utc(2026, 10, 25, 0, 30)
    assert next_moment(half_one, LONDON, first) == utc(2026, 10, 26, 1, 30)
    repeated = due_now(half_one, LONDON, now=utc(2026, 10, 25, 1, 40), same_day_only=True)
    assert repeated.post == first  # the second 01:30 is not another digest


def test_handovers_stay_current_until_the_next_and_skipped_ones_are_found() -> None:
    shifts = (time(7), time(19))
    assert first_due(shifts, LONDON, utc(2026, 11, 24, 12)) == utc(2026, 11, 24, 19)
    back = due_now(shifts, LONDON, now=utc(2026, 11, 26, 6, 59), same_day_only=False)
    assert (back.post, back.next_at) == (utc(2026, 11, 25, 19), utc(2026, 11, 26, 7))
    assert moments_between(shifts, LONDON, utc(2026, 11, 24, 19), utc(2026, 11, 26, 7)) == [
        utc(2026, 11, 25, 7),
        utc(2026, 11, 25, 19),
    ]


def test_the_period_covered() -> None:
    until = utc(2026, 11, 25, 8)
    first = period_since(None, until)
    assert (first.start, first.capped) == (until - timedelta(hours=24), False)
    gap = period_since(utc(2026, 11, 23, 8), until)
    assert (gap.start, gap.capped) == (utc(2026, 11, 23, 8), False)
    long = period_since(utc(2026, 9, 1), until)
    assert (long.start, long.capped) == (until - LONGEST_PERIOD, True)
