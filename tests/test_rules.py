"""Pure rules: references, initials, times typed by people, RHI reminder arithmetic."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.domain.episode import NewEpisode
from bot.domain.errors import UserError
from bot.domain.people import age_on, initials, name_key
from bot.domain.refs import parse_ref
from bot.domain.rhi import snooze_until
from bot.domain.timetext import fmt_duration, parse_date, parse_when

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize("text", ["M-42", "m42", "42", " m-042 ", "M 42"])
def test_references(text: str) -> None:
    assert parse_ref(text) == 42


@pytest.mark.parametrize(
    "text",
    # Digits of other scripts (Arabic-Indic, full-width) and other spaces are not a reference.
    ["", "M-", "M-0", "x42", "42a", "M--4", "1" * 12, "M-١", "٤٢", "Ｍ-４２", "M\u300042"],
)
def test_bad_references(text: str) -> None:
    with pytest.raises(UserError):
        parse_ref(text)


def test_initials_and_names() -> None:
    assert initials("Jane Mary Smith") == "J.M.S."
    assert initials("zoë o'brien") == "Z.O."
    assert initials("<!channel> <@U1> Ann") == "A."
    assert initials("12345") == "?"
    assert name_key("  JANE   smith ") == name_key("jane smith")
    assert age_on(datetime(2012, 11, 25).date(), datetime(2026, 11, 24).date()) == 13


@pytest.mark.parametrize(
    ("text", "expected_utc"),
    [
        ("09:15", datetime(2026, 11, 24, 9, 15, tzinfo=UTC)),
        ("11:30", datetime(2026, 11, 23, 11, 30, tzinfo=UTC)),  # later than now: yesterday
        ("yesterday 23:10", datetime(2026, 11, 23, 23, 10, tzinfo=UTC)),
        ("24/11 08:00", datetime(2026, 11, 24, 8, 0, tzinfo=UTC)),
        ("3/11/2026 08:00", datetime(2026, 11, 3, 8, 0, tzinfo=UTC)),  # day first
        ("2026-11-03 08:00", datetime(2026, 11, 3, 8, 0, tzinfo=UTC)),
        ("01/07/2026 12:00", datetime(2026, 7, 1, 11, 0, tzinfo=UTC)),  # BST
    ],
)
def test_times_typed_by_people(text: str, expected_utc: datetime) -> None:
    assert parse_when(text, now=NOW, tz=LONDON) == expected_utc


@pytest.mark.parametrize("text", ["noon", "24/13 10:00", "29/03/2026 01:30", "99:00", ""])
def test_bad_times(text: str) -> None:
    with pytest.raises(UserError):
        parse_when(text, now=NOW, tz=LONDON)


def test_dates_are_day_first() -> None:
    assert parse_date("04/03/2012").month == 3
    with pytest.raises(UserError):
        parse_date("2012/03/04")


def test_durations() -> None:
    assert fmt_duration(timedelta(minutes=5)) == "5 min"
    assert fmt_duration(timedelta(hours=2, minutes=3)) == "2 h 3 min"
    assert fmt_duration(timedelta(days=3, hours=1)) == "3 d 1 h"


def test_snooze_stops_at_the_due_time() -> None:
    due = NOW + timedelta(hours=10)
    assert snooze_until(now=NOW, hours=48, due=due) == due
    assert snooze_until(now=due, hours=4, due=due) == due + timedelta(hours=4)
    with pytest.raises(UserError):
        snooze_until(now=NOW, hours=-1, due=due)


def test_a_placing_authority_needs_a_looked_after_child() -> None:
    new = NewEpisode(
        child_name="Amy Adams",
        date_of_birth=date(2012, 1, 1),
        last_seen_at=NOW,
        last_seen_place="Ipswich",
        risk_level="high",
        looked_after=False,
        placing_authority="Essex",
        officer_id="U1",
    )
    assert "only for a looked-after child" in new.validate(now=NOW, tz=LONDON)["placing_authority"]
    new.looked_after = True
    assert new.validate(now=NOW, tz=LONDON) == {}
