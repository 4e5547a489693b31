"""Times typed by people: every accepted form at an ordinary time, at New Year, on both 2026
clock-change nights and just ahead of the clock; what is refused and why; take_time."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.domain.errors import UserError
from bot.domain.timetext import (
    ACCEPTED_FORMS,
    AmbiguousTime,
    FutureTime,
    ImpossibleTime,
    SkippedTime,
    UnreadableTime,
    parse_when,
    take_time,
)

LONDON = ZoneInfo("Europe/London")

ORDINARY = datetime(2026, 11, 24, 14, 28, tzinfo=UTC)  # Tue 24/11/2026 14:28 GMT
NEW_YEAR = datetime(2027, 1, 1, 0, 15, tzinfo=UTC)  # Fri 01/01/2027 00:15 GMT
SPRING = datetime(2026, 3, 29, 2, 0, tzinfo=UTC)  # 03:00 BST: 01:00-02:00 GMT was skipped
AUTUMN = datetime(2026, 10, 25, 3, 0, tzinfo=UTC)  # 03:00 GMT: 01:00-02:00 happened twice

Outcome = datetime | tuple[type[UserError], str]


def utc(month: int, day: int, hour: int, minute: int, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def unreadable(fragment: str = "I couldn't read the time") -> tuple[type[UserError], str]:
    return (UnreadableTime, fragment)


def future(fragment: str) -> tuple[type[UserError], str]:
    return (FutureTime, fragment)


CASES: dict[str, list[tuple[str, Outcome]]] = {
    "ordinary": [
        # Every form, a little before now (14:28).
        ("14:20", utc(11, 24, 14, 20)),
        ("14.20", utc(11, 24, 14, 20)),
        ("1420", utc(11, 24, 14, 20)),
        ("2:20pm", utc(11, 24, 14, 20)),
        ("2.20pm", utc(11, 24, 14, 20)),
        ("2:20 PM", utc(11, 24, 14, 20)),
        ("2.20 p.m.", utc(11, 24, 14, 20)),
        ("2pm", utc(11, 24, 14, 0)),
        ("12am", utc(11, 24, 0, 0)),
        ("12pm", utc(11, 24, 12, 0)),
        ("now", ORDINARY),
        ("  NOW ", ORDINARY),
        ("at 14:20", utc(11, 24, 14, 20)),
        ("yesterday 23:10", utc(11, 23, 23, 10)),
        ("Yesterday at 23:10", utc(11, 23, 23, 10)),
        ("23:10 yesterday", utc(11, 23, 23, 10)),
        ("yesterday 11pm", utc(11, 23, 23, 0)),
        ("today 09:00", utc(11, 24, 9, 0)),
        ("24/11 14:20", utc(11, 24, 14, 20)),
        ("24/11 at 14:20", utc(11, 24, 14, 20)),
        ("14:20 on 24/11", utc(11, 24, 14, 20)),
        ("3/11 08:00", utc(11, 3, 8, 0)),  # day first
        ("24/11/2026 14:20", utc(11, 24, 14, 20)),
        ("24/11/2026, 14:20", utc(11, 24, 14, 20)),
        ("24/11/26 14:20", utc(11, 24, 14, 20)),
        ("Tue 24/11/2026 14:20", utc(11, 24, 14, 20)),  # as the bot shows times
        ("01/07/2026 12:00", utc(7, 1, 11, 0)),  # BST in summer
        ("2026-11-24 14:20", utc(11, 24, 14, 20)),
        ("2026-11-03 08:00", utc(11, 3, 8, 0)),  # ISO is year-month-day, never day first
        ("2026-03-11T08:00Z", utc(3, 11, 8, 0)),
        ("2026-13-01 08:00", (ImpossibleTime, "is not a real date")),
        ("2026-11-24T14:20", utc(11, 24, 14, 20)),
        ("2026-11-24T14:20:00Z", utc(11, 24, 14, 20)),
        ("2026-11-24T15:20:00+01:00", utc(11, 24, 14, 20)),
        ("2026-11-24 09:20 -05:00", utc(11, 24, 14, 20)),
        ("14:20 GMT", utc(11, 24, 14, 20)),
        ("14:20gmt", utc(11, 24, 14, 20)),
        ("14:20 UTC", utc(11, 24, 14, 20)),
        ("14:28", ORDINARY),  # equal to now is fine
        # A date without a year is the latest such date not in the future.
        ("25/11 09:00", utc(11, 25, 9, 0, year=2025)),
        ("29/02 10:00", utc(2, 29, 10, 0, year=2024)),
        # A bare time ahead of the clock: up to 15 minutes is refused, beyond means yesterday.
        ("14:29", future("`14:29` is 1 minute in the future: ")),
        ("14:30", future("`14:30` is 2 minutes in the future: ")),
        ("2:30pm", future("is 2 minutes in the future")),
        ("14:43", future("is 15 minutes in the future")),
        ("14:44", utc(11, 23, 14, 44)),
        ("14:48", utc(11, 23, 14, 48)),  # 20 minutes ahead
        ("23:50", utc(11, 23, 23, 50)),
        # An explicit date or `today` in the future is refused, however far ahead.
        ("today 14:48", future("`today 14:48` is 20 minutes in the future")),
        ("24/11 14:30", future("(Tue 24/11/2026 14:30) is 2 minutes in the future")),
        ("24/11/2026 14:48", future("is 20 minutes in the future")),
        ("2026-11-24T14:48:00Z", future("is 20 minutes in the future")),
        ("25/11/2026 09:00", future("(Wed 25/11/2026 09:00) is 18 h 32 min in the future")),
        ("24/11/27 09:00", future("(Wed 24/11/2027 09:00)")),
        # Junk dateutil would guess at is refused.
        ("next week", unreadable()),
        ("blah 3", unreadable()),
        ("3 hours", unreadable()),
        ("sat 14:00", unreadable("a day name needs a date")),
        ("may 14:00", unreadable()),
        ("14:20 12:34", unreadable()),
        ("14:20 45", unreadable()),
        ("24 14:20", unreadable()),
        ("14:3", unreadable()),
        ("14:20 at", unreadable()),
        ("noon", unreadable()),
        ("tomorrow 14:30", unreadable()),
        ("14:20 24/11", unreadable()),  # a date after the time needs `on`
        ("", unreadable("Give a time")),
        ("yesterday", unreadable("`yesterday` needs a time of day too")),
        ("24/11", unreadable("`24/11` needs a time of day too")),
        ("yesterday 24/11 14:20", unreadable("give `yesterday` or a date, not both")),
        ("14:20 UTC +01:00", unreadable("give `UTC` or an offset, not both")),
        # Recognised, but no such moment.
        ("31/02 10:00", (ImpossibleTime, "`31/02 10:00` is not a real date")),
        ("24/13 10:00", (ImpossibleTime, "is not a real date")),
        ("11/24 10:00", (ImpossibleTime, "dates are day/month")),
        ("25:99", (ImpossibleTime, "`25:99` is not a real time of day")),
        ("24:00", (ImpossibleTime, "is not a real time of day")),
        ("13pm", (ImpossibleTime, "is not a real time of day")),
        ("Mon 24/11/2026 14:20", (ImpossibleTime, "24/11/2026 is a Tuesday")),
        ("14:20 BST", (ImpossibleTime, "UK clocks were on GMT at 14:20 on Tue 24/11/2026")),
        ("29/03/2026 01:30", (SkippedTime, "did not happen in UK time")),
    ],
    "new year": [
        ("31/12 23:30", utc(12, 31, 23, 30)),
        ("23:30", utc(12, 31, 23, 30)),
        ("yesterday 23:10", utc(12, 31, 23, 10)),
        ("31/12/26 23:30", utc(12, 31, 23, 30)),
        ("2026-12-31T23:30:00Z", utc(12, 31, 23, 30)),
        ("00:10", utc(1, 1, 0, 10, year=2027)),
        ("today 00:10", utc(1, 1, 0, 10, year=2027)),
        ("1/1 00:10", utc(1, 1, 0, 10, year=2027)),
        ("12am", utc(1, 1, 0, 0, year=2027)),
        ("2/1 10:00", utc(1, 2, 10, 0)),  # 02/01/2027 has not come yet
        ("00:16", future("`00:16` is 1 minute in the future")),
        ("00:35", utc(12, 31, 0, 35)),  # 20 minutes ahead: yesterday
        ("01/01 00:30", future("(Fri 01/01/2027 00:30) is 15 minutes in the future")),
        ("1/1/2027 00:20", future("is 5 minutes in the future")),
    ],
    "clocks forward": [
        ("01:30", (SkippedTime, "01:30 on Sun 29/03/2026 did not happen in UK time")),
        ("01:00", (SkippedTime, "(01:00 GMT was 02:00 BST)")),
        ("29/03 01:30", (SkippedTime, "did not happen")),
        ("29/03/2026 01:30", (SkippedTime, "did not happen")),
        ("01:30 BST", (SkippedTime, "did not happen")),
        ("01:30 GMT", (SkippedTime, "did not happen")),
        ("00:30", utc(3, 29, 0, 30)),
        ("00:59 GMT", utc(3, 29, 0, 59)),
        ("02:00", utc(3, 29, 1, 0)),
        ("02:30", utc(3, 29, 1, 30)),
        ("02:30 BST", utc(3, 29, 1, 30)),
        ("03:00", SPRING),
        ("yesterday 23:10", utc(3, 28, 23, 10)),
        ("2026-03-29T01:30:00Z", utc(3, 29, 1, 30)),
        ("01:30 UTC", utc(3, 29, 1, 30)),
        ("03:01", future("`03:01` is 1 minute in the future")),
        ("03:20", utc(3, 28, 3, 20)),  # 20 minutes ahead: yesterday, still GMT
        ("02:30 GMT", (ImpossibleTime, "UK clocks were on BST at 02:30 on Sun 29/03/2026")),
        ("00:30 BST", (ImpossibleTime, "Leave out `BST`")),
    ],
    "clocks back": [
        ("01:30", (AmbiguousTime, "01:30 on Sun 25/10/2026 happened twice")),
        ("01:00", (AmbiguousTime, "Say `01:00 BST` (the first, 00:00 UTC)")),
        ("25/10 01:30", (AmbiguousTime, "Say `25/10 01:30 BST`")),
        ("01:30 BST", utc(10, 25, 0, 30)),
        ("01:30 GMT", utc(10, 25, 1, 30)),
        ("01:30bst", utc(10, 25, 0, 30)),
        ("1:30am GMT", utc(10, 25, 1, 30)),
        ("25/10 01:30 GMT", utc(10, 25, 1, 30)),
        ("25/10/2026 01:30 BST", utc(10, 25, 0, 30)),
        ("25/10 01:30 BST", utc(10, 25, 0, 30)),
        ("2026-10-25T01:30:00+01:00", utc(10, 25, 0, 30)),
        ("00:30", utc(10, 24, 23, 30)),
        ("00:59", utc(10, 24, 23, 59)),
        ("02:00", utc(10, 25, 2, 0)),
        ("02:30", utc(10, 25, 2, 30)),
        ("yesterday 01:30", utc(10, 24, 0, 30)),
        ("03:01", future("`03:01` is 1 minute in the future")),
        ("03:20", utc(10, 24, 2, 20)),  # 20 minutes ahead: yesterday, BST
        ("00:30 GMT", (ImpossibleTime, "UK clocks were on BST at 00:30 on Sun 25/10/2026")),
        ("02:30 BST", (ImpossibleTime, "Leave out `BST`")),
    ],
}
NOWS = {"ordinary": ORDINARY, "new year": NEW_YEAR, "clocks forward": SPRING, "clocks back": AUTUMN}


@pytest.mark.parametrize(
    ("now", "text", "outcome"),
    [
        pytest.param(NOWS[label], text, outcome, id=f"{label}: {text}")
        for label, cases in CASES.items()
        for text, outcome in cases
    ],
)
def test_parse_when(now: datetime, text: str, outcome: Outcome) -> None:
    if isinstance(outcome, datetime):
        when = parse_when(text, now=now, tz=LONDON)
        assert when == outcome and when.tzinfo == UTC
    else:
        error, fragment = outcome
        with pytest.raises(error) as caught:
            parse_when(text, now=now, tz=LONDON)
        assert fragment in caught.value.message


def test_the_doubled_hour_offers_both_readings() -> None:
    with pytest.raises(AmbiguousTime) as caught:
        parse_when("01:30", now=AUTUMN, tz=LONDON)
    assert caught.value.message == (
        "01:30 on Sun 25/10/2026 happened twice (the clocks went back). "
        "Say `01:30 BST` (the first, 00:30 UTC) or `01:30 GMT` (the second, 01:30 UTC)."
    )
    assert caught.value.readings == (utc(10, 25, 0, 30), utc(10, 25, 1, 30))


def test_every_suggested_reading_is_accepted() -> None:
    for typed in ("01:30", "25/10 01:30", "yesterday 1:30am"):
        now = AUTUMN if "yesterday" not in typed else datetime(2026, 10, 26, 9, 0, tzinfo=UTC)
        with pytest.raises(AmbiguousTime) as caught:
            parse_when(typed, now=now, tz=LONDON)
        first, second = caught.value.message.split("`")[1::2]
        assert parse_when(first, now=now, tz=LONDON) == caught.value.readings[0]
        assert parse_when(second, now=now, tz=LONDON) == caught.value.readings[1]


@pytest.mark.parametrize("error", [UnreadableTime, ImpossibleTime, FutureTime, SkippedTime])
def test_errors_are_distinct_user_errors(error: type[UserError]) -> None:
    assert issubclass(error, UserError)
    assert issubclass(AmbiguousTime, UserError)
    others = {UnreadableTime, ImpossibleTime, FutureTime, SkippedTime, AmbiguousTime} - {error}
    assert not any(issubclass(error, other) for other in others)


@pytest.mark.parametrize(
    "text", ["x" * 100, "14:20 " + "y" * 100, "99:99 " + "z" * 100, "yesterday " + "w" * 100]
)
def test_messages_quote_at_most_40_characters(text: str) -> None:
    with pytest.raises(UserError) as caught:
        parse_when(text, now=ORDINARY, tz=LONDON)
    quoted = caught.value.message.split("`")[1]
    assert len(quoted) <= 40 and text.startswith(quoted)


def test_the_clock_is_never_read() -> None:
    # The same text means different things only because `now` differs.
    assert parse_when("23:30", now=NEW_YEAR, tz=LONDON).year == 2026
    assert parse_when("23:30", now=ORDINARY, tz=LONDON) == utc(11, 23, 23, 30)
    assert parse_when("24/11/26 10:00", now=ORDINARY, tz=LONDON).year == 2026


def test_accepted_forms_lists_the_main_forms() -> None:
    for form in ("`14:30`", "`2:30pm`", "`now`", "`yesterday 23:10`", "`24/11 14:30`"):
        assert form in ACCEPTED_FORMS
    for form in ("`24/11/2026 14:30`", "`2026-11-24 14:30`"):
        assert form in ACCEPTED_FORMS


TakeOutcome = tuple[datetime | None, int] | tuple[type[UserError], str]

TAKE_CASES: list[tuple[datetime, str, TakeOutcome]] = [
    (ORDINARY, "yesterday 23:50 found at a friend's", (utc(11, 23, 23, 50), 2)),
    (ORDINARY, "at 14:20 found at school", (utc(11, 24, 14, 20), 2)),
    (ORDINARY, "at 2pm found", (utc(11, 24, 14, 0), 2)),
    (ORDINARY, "at 2 pm found", (utc(11, 24, 14, 0), 3)),
    (ORDINARY, "1420 found", (utc(11, 24, 14, 20), 1)),
    (ORDINARY, "24/11 14:20 by car", (utc(11, 24, 14, 20), 2)),
    (ORDINARY, "at 24/11/2026 14:20 by car", (utc(11, 24, 14, 20), 3)),
    (ORDINARY, "yesterday at 23:10 home", (utc(11, 23, 23, 10), 3)),
    (ORDINARY, "Tue 24/11/2026 14:20 ok", (utc(11, 24, 14, 20), 3)),
    (ORDINARY, "now safe and well", (ORDINARY, 1)),
    (ORDINARY, "14:20 24/7 supervision", (utc(11, 24, 14, 20), 1)),
    (ORDINARY, "14:20 sat in the car", (utc(11, 24, 14, 20), 1)),
    (ORDINARY, "14:20 may return", (utc(11, 24, 14, 20), 1)),
    (ORDINARY, "14:20 at home", (utc(11, 24, 14, 20), 1)),
    (ORDINARY, "14:20 12:34 wrong", (utc(11, 24, 14, 20), 1)),
    # Not a time at all: every word is a note.
    (ORDINARY, "found at 14:20", (None, 0)),
    (ORDINARY, "at school", (None, 0)),
    (ORDINARY, "at a friend's 14:20", (None, 0)),
    (ORDINARY, "2 officers attended", (None, 0)),
    (ORDINARY, "999 call made", (None, 0)),
    (ORDINARY, "sat in the car", (None, 0)),
    (ORDINARY, "", (None, 0)),
    # Recognisably a time, but refused: that error, not a note.
    (ORDINARY, "14:30 found", (FutureTime, "`14:30` is 2 minutes in the future")),
    (ORDINARY, "at 24/11 14:30 found", (FutureTime, "in the future")),
    (ORDINARY, "at 25:99", (ImpossibleTime, "`25:99` is not a real time of day")),
    (ORDINARY, "31/02 10:00 home", (ImpossibleTime, "`31/02 10:00` is not a real date")),
    (ORDINARY, "at 14:20 BST home", (ImpossibleTime, "Leave out `BST`")),
    (ORDINARY, "at", (UnreadableTime, "`at` needs a time")),
    (ORDINARY, "at 2 officers", (UnreadableTime, "`2`")),
    (ORDINARY, "at teatime", (None, 0)),
    (ORDINARY, "yesterday evening", (UnreadableTime, "`yesterday` needs a time of day")),
    (ORDINARY, "24/11 found", (UnreadableTime, "`24/11` needs a time of day")),
    (ORDINARY, "14:3 found", (UnreadableTime, "`14:3`")),
    (AUTUMN, "01:30 found", (AmbiguousTime, "Say `01:30 BST`")),
    (AUTUMN, "01:30 GMT found", (utc(10, 25, 1, 30), 2)),
    (AUTUMN, "at 25/10/2026 01:30 BST found", (utc(10, 25, 0, 30), 4)),
    (SPRING, "at 01:30 found", (SkippedTime, "did not happen")),
    (NEW_YEAR, "31/12 23:30 home", (utc(12, 31, 23, 30), 2)),
    (NEW_YEAR, "00:35 home", (utc(12, 31, 0, 35), 1)),
]


@pytest.mark.parametrize(
    ("now", "text", "outcome"),
    [
        pytest.param(now, text, outcome, id=f"{now:%d/%m %H:%M}: {text}")
        for now, text, outcome in TAKE_CASES
    ],
)
def test_take_time(now: datetime, text: str, outcome: TakeOutcome) -> None:
    words = text.split()
    expected, detail = outcome
    if isinstance(expected, type):
        with pytest.raises(expected) as caught:
            take_time(words, now=now, tz=LONDON)
        assert str(detail) in caught.value.message
    else:
        assert take_time(words, now=now, tz=LONDON) == (expected, detail)
