"""The pure rules of still-missing risk reviews and of an update, with `now` given."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.episode_update import Corrections, EpisodeUpdate
from bot.domain.review import (
    ReviewPolicy,
    due_on_resume,
    is_overdue,
    next_due,
    parse_review_hours,
    plan,
)
from bot.domain.states import ReviewStep, Risk
from bot.settings import SettingsError, load_settings

DUE = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)
POLICY = ReviewPolicy()
H = timedelta(hours=1)


def test_the_next_review_is_due_by_the_current_risk() -> None:
    since = DUE - 2 * H
    assert next_due(since=since, risk=Risk.HIGH, policy=POLICY) == DUE
    assert next_due(since=since, risk=Risk.NO_APPARENT_RISK, policy=POLICY) == since + 24 * H
    forced = ReviewPolicy(hours={Risk.HIGH: 0.5})
    assert next_due(since=since, risk=Risk.HIGH, policy=forced) == since + H / 2
    assert next_due(since=since, risk=Risk.LOW, policy=forced) == since + 12 * H  # default


def test_after_a_reopen_a_review_long_owed_is_due_at_once() -> None:
    since = DUE - 2 * H
    assert due_on_resume(since=since, risk=Risk.HIGH, policy=POLICY, now=DUE - H) == DUE
    assert due_on_resume(since=since, risk=Risk.HIGH, policy=POLICY, now=DUE + 5 * H) == DUE + 5 * H


def test_overdue_an_hour_after_due() -> None:
    assert not is_overdue(DUE, POLICY, DUE + 59 * timedelta(minutes=1))
    assert is_overdue(DUE, POLICY, DUE + H) and not is_overdue(None, POLICY, DUE + H)


@pytest.mark.parametrize(
    ("pending", "now", "held", "remind", "overdue", "next_"),
    [
        (ReviewStep.DUE, DUE, None, True, False, (DUE + H, ReviewStep.OVERDUE)),
        (ReviewStep.OVERDUE, DUE + H, None, False, True, None),
        # Down past both: one current reminder and the note at once.
        (ReviewStep.DUE, DUE + 5 * H, None, True, True, None),
        # Held until 07:00 (03:00 due): the note is not held; the reminder follows alone.
        (ReviewStep.DUE, DUE, DUE + 4 * H, False, False, (DUE + H, ReviewStep.DUE)),
        (ReviewStep.DUE, DUE + H, DUE + 4 * H, False, True, (DUE + 4 * H, ReviewStep.REMINDER)),
        (ReviewStep.REMINDER, DUE + 4 * H, None, True, False, None),
        # A hold that ends before the note is due: the reminder goes first, then the note.
        (ReviewStep.DUE, DUE, DUE + H / 2, False, False, (DUE + H / 2, ReviewStep.DUE)),
        # Not yet due (a clock that moved back): wait.
        (ReviewStep.DUE, DUE - H, None, False, False, (DUE, ReviewStep.DUE)),
    ],
)
def test_the_plan(
    pending: ReviewStep,
    now: datetime,
    held: datetime | None,
    remind: bool,
    overdue: bool,
    next_: tuple[datetime, ReviewStep] | None,
) -> None:
    decided = plan(due_at=DUE, policy=POLICY, pending=pending, now=now, held_until=held)
    assert (decided.remind, decided.overdue, decided.next) == (remind, overdue, next_)


def test_review_hours_are_read_and_checked() -> None:
    hours = parse_review_hours("high=1, Medium=4.5,no apparent risk=48")
    assert hours == {Risk.HIGH: 1, Risk.MEDIUM: 4.5, Risk.LOW: 12, Risk.NO_APPARENT_RISK: 48}
    assert parse_review_hours("") == parse_review_hours("high=2")
    for bad, said in (
        ("urgent=1", "unknown risk 'urgent'"),
        ("high=0", "above 0"),
        ("high", "above 0"),
        ("low=two", "above 0"),
        ("low=500", "at most 168"),
    ):
        with pytest.raises(ValueError, match=said):
            parse_review_hours(bad)
    with pytest.raises(SettingsError, match="REVIEW_HOURS"):
        load_settings(_env_file=None, review_hours="high=nan")


NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
SEEN = NOW - 3 * H


def problems(update: EpisodeUpdate, *, looked_after: bool = True) -> dict[str, str]:
    return update.validate(now=NOW, last_seen_at=SEEN, looked_after=looked_after)


def test_an_update_says_what_is_wrong() -> None:
    assert list(problems(EpisodeUpdate())) == ["information"]
    assert problems(EpisodeUpdate(risk=Risk.HIGH, reason="seen with adults")) == {}
    assert "risk_reason" in problems(EpisodeUpdate(risk=Risk.HIGH))
    assert problems(EpisodeUpdate(sighting_at=SEEN - H, sighting_place="Park")) == {
        "sighting_at": "That is before the child was last seen."
    }
    assert problems(EpisodeUpdate(sighting_at=NOW)) == {
        "sighting_place": "Give where the child was seen."
    }
    fixed = Corrections(placing_authority="Camden", risk_factors=("nonsense",), officer_id="")
    assert set(problems(EpisodeUpdate(corrections=fixed), looked_after=False)) == {
        "placing_authority",
        "risk_factors",
        "officer",
    }
    assert problems(EpisodeUpdate(corrections=Corrections(incident_ref="x" * 61))) == {
        "incident_ref": "Keep this under 60 characters."
    }
