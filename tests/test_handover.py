"""Shift handovers (HANDOVER_TIMES=07:00,19:00) in the control-room channel: what is handed
over, checked against the seeded episodes; once per time; late after downtime; skipped ones
named. Off unless set."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from tests.support.digest_reading import handovers, refs, section, text_of
from tests.support.digest_seed import Ep, Rhi, missing_at, returned_in, seed
from tests.support.harness import Bot

StartBot = Callable[..., Bot]
START = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
EVENING = datetime(2026, 11, 24, 19, 0, 30, tzinfo=UTC)


def shift() -> list[Ep]:
    day = datetime(2026, 11, 24, tzinfo=UTC)
    return [
        Ep("Amy Adams", day + timedelta(hours=10), "high", review_due=day + timedelta(hours=20)),
        Ep("Ben Brown", day - timedelta(hours=4), "low", review_due=day + timedelta(hours=33)),
        Ep("Cal Cole", day + timedelta(hours=9), "medium", review_due=day + timedelta(hours=18)),
        Ep(
            "Dee Dunn",
            day + timedelta(hours=8),
            returned=day + timedelta(hours=15),
            rhi=Rhi(),
            safe_well="to_be_done",
        ),
        Ep(
            "Eve Earl",
            day - timedelta(hours=9),
            returned=day + timedelta(hours=6),
            rhi=Rhi(),
            safe_well="to_be_done",
        ),
        Ep(
            "Fay Ford",
            day + timedelta(hours=7),
            returned=day + timedelta(hours=16),
            rhi=Rhi(),
            safe_well="done",
        ),
    ]


def test_handovers_at_each_shift_change_once_and_caught_up(bot_at: StartBot) -> None:
    bot = bot_at(START, handover_times="07:00,19:00")
    bot.sweep()
    episodes = shift()
    seed(bot.services.db, episodes)
    bot.clock.set(EVENING - timedelta(minutes=2))
    bot.sweep()
    assert handovers(bot.fake) == []
    for minutes in (0, 10, 30):
        bot.clock.set(EVENING + timedelta(minutes=minutes))
        bot.sweep()
    [post] = handovers(bot.fake)
    text = text_of(post)
    assert "Shift handover · 19:00 Tue 24/11/2026" in text

    missing = missing_at(episodes, EVENING)
    assert f"*Still missing: {len(missing)}*" in text
    listed = section(post, "Still missing")
    by_risk = ["high", "medium", "low"]
    order = sorted(missing, key=lambda e: (by_risk.index(e.risk), e.last_seen))
    assert refs(listed) == [e.ref for e in order]
    lines = listed.splitlines()
    assert lines.index("*High* :red_circle:") < lines.index("*Medium* :large_orange_circle:")
    assert "missing 10 h 0 min" in listed  # Amy, last seen at 09:00

    next_handover = datetime(2026, 11, 25, 7, 0, tzinfo=UTC)
    due = [e for e in missing if e.review_due and e.review_due < next_handover]
    reviews = section(post, "Risk reviews due before the next handover")
    assert refs(reviews) == [e.ref for e in sorted(due, key=lambda e: e.review_due or EVENING)]
    assert "overdue by 1 h 0 min" in reviews  # Cal's, due at 18:00

    since = datetime(2026, 11, 24, 7, 0, 30, tzinfo=UTC)  # no handover before: since 07:00
    back = returned_in(episodes, since, EVENING)
    returned = section(post, "Returned since the last handover")
    assert refs(returned) == [e.ref for e in sorted(back, key=lambda e: e.returned or EVENING)]
    assert "*safe-and-well check to do*" in returned and "safe-and-well check done" in returned
    outstanding = [e for e in episodes if e.returned and e.safe_well == "to_be_done"]
    checks = section(post, "Safe-and-well checks outstanding")
    assert f"outstanding: {len(outstanding)}*" in checks
    assert sorted(refs(checks)) == sorted(e.ref for e in outstanding)
    for surname in {e.name.split()[1] for e in episodes}:
        assert surname not in text

    # Down over 07:00: the morning's handover comes when the bot is back, late.
    bot.clock.set(datetime(2026, 11, 25, 10, 0, tzinfo=UTC))
    bot.sweep()
    _, morning = handovers(bot.fake)
    assert "Shift handover · 07:00 Wed 25/11/2026" in text_of(morning)
    assert "*Late:* due at 07:00, posted 3 h 0 min later." in text_of(morning)
    assert "Since Tue 24/11/2026 19:00 (14 h 59 min)." in text_of(morning)

    # Down from then until 08:00 on the 26th: the evening's is skipped, and said to be.
    bot.clock.set(datetime(2026, 11, 26, 8, 0, tzinfo=UTC))
    bot.sweep()
    bot.clock.set(datetime(2026, 11, 26, 8, 30, tzinfo=UTC))
    bot.sweep()
    posts = handovers(bot.fake)
    assert len(posts) == 3
    last = text_of(posts[-1])
    assert "Shift handover · 07:00 Thu 26/11/2026" in last
    assert "No handover was posted at 19:00 Wed 25/11" in last


def test_no_handover_unless_handover_times_is_set(bot_at: StartBot) -> None:
    bot = bot_at(START)
    bot.sweep()
    seed(bot.services.db, shift())
    for hour in (19, 31, 43):
        bot.clock.set(START.replace(hour=0) + timedelta(hours=hour, minutes=1))
        bot.sweep()
    assert handovers(bot.fake) == []
