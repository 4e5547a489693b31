"""`/missing list` triages: high risk first, then longest missing, overdue reviews said;
`/missing list returned` shows the children back in the last 24 hours."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from tests.support.harness import Bot


def listed(bot: Bot, text: str = "list") -> str:
    return json.dumps(bot.slash(text).blocks, ensure_ascii=False)


def test_high_risk_first_then_longest_missing(sqlite_bot: Bot) -> None:
    bot = sqlite_bot
    now = bot.clock.now()
    for name, risk, hours in (
        ("Amy Adams", "low", 20),  # M-1
        ("Ben Brown", "high", 1),  # M-2
        ("Cal Cole", "medium", 9),  # M-3
        ("Dee Dunn", "high", 5),  # M-4
        ("Eve Earl", "no_apparent_risk", 30),  # M-5
        ("Fay Ford", "medium", 2),  # M-6
    ):
        bot.log_episode(child_name=name, risk_level=risk, last_seen_at=now - timedelta(hours=hours))
    text = listed(bot)
    order = sorted(range(1, 7), key=lambda n: text.index(f"*M-{n}*"))
    assert order == [4, 2, 3, 6, 1, 5]
    assert "Open episodes: 6*, high risk first, then longest missing" in text
    assert "overdue" not in text
    assert "Amy" not in text and "Adams" not in text


def test_overdue_reviews_are_shown(sqlite_bot: Bot) -> None:
    bot = sqlite_bot
    bot.log_episode(child_name="Amy Adams", risk_level="high")  # review due 14:00
    bot.log_episode(child_name="Ben Brown", risk_level="low")  # due 00:00
    bot.clock.advance(hours=2, minutes=30)  # 14:30: M-1 due, not yet overdue
    text = listed(bot)
    assert "review due now" in text and "overdue" not in text
    bot.clock.advance(minutes=30)  # 15:00: an hour past due
    text = listed(bot)
    assert "1 risk review overdue" in text and "*review overdue* by 1 h 0 min" in text
    (audited,) = bot.audit("episodes.listed")[-1:]
    assert audited.detail == {"count": 2, "reviews_overdue": 1}


def test_list_returned_shows_the_last_24_hours(sqlite_bot: Bot) -> None:
    bot = sqlite_bot
    start = bot.clock.now()
    for name in ("Amy Adams", "Ben Brown", "Cal Cole", "Dee Dunn"):
        bot.log_episode(child_name=name, last_seen_at=start - timedelta(hours=3))
    bot.slash("returned M-1 at 10:00")  # 25 hours before the look below
    bot.clock.set(datetime(2026, 11, 25, 11, 0, tzinfo=UTC))
    bot.slash("returned M-2 at 08:30")
    bot.slash("returned M-3 now")
    bot.slash("rhi M-3 declined")
    text = listed(bot, "list returned")
    assert "Returned in the last 24 hours: 2*, latest first" in text
    assert text.index("*M-3*") < text.index("*M-2*")
    assert "M-1" not in text and "M-4" not in text  # back 25 h ago; still missing
    assert "RHI declined" in text and "RHI due Sat 28/11 08:30" in text
    assert "Ben" not in text
    assert bot.audit("episodes.listed")[-1].detail == {"count": 2, "returned_within_hours": 24}
    assert "Open episodes: 1" in listed(bot)


def test_nobody_back_and_a_wrong_word(sqlite_bot: Bot) -> None:
    assert "Nobody has come back in the last 24 hours" in listed(sqlite_bot, "list returned")
    answer = sqlite_bot.slash("list everything").text or ""
    assert "`/missing list returned`" in answer
