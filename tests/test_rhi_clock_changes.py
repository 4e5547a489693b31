"""Both 2026 clock changes: due times in absolute time, reminders and quiet hours in local time."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.support.harness import Bot
from tests.support.timeline import reminders


def sweep_at(bot: Bot, when: datetime) -> None:
    bot.clock.set(when)
    bot.sweep()


def test_return_at_0130_when_clocks_go_back_is_due_72_real_hours_later(bot_at) -> None:
    bot = bot_at(datetime(2026, 10, 25, 3, 0, tzinfo=UTC))
    bot.log_episode(last_seen_at=datetime(2026, 10, 24, 20, 0, tzinfo=UTC))
    # 01:30 happens twice on 25/10/2026: refused unless BST or GMT says which.
    assert "happened twice" in bot.slash("returned M-1 at 25/10/2026 01:30").text
    # The first (BST) is 00:30 UTC.
    reply = bot.slash("returned M-1 at 25/10/2026 01:30 BST")
    assert "returned at Sun 25/10/2026 01:30" in reply.text
    # 72 real hours later is 00:30 GMT on the 28th: the wall clock shows 71 hours.
    assert "due by *Wed 28/10/2026 00:30*" in reply.text
    sweep_at(bot, datetime(2026, 10, 27, 0, 29, tzinfo=UTC))
    assert reminders(bot) == []
    sweep_at(bot, datetime(2026, 10, 27, 0, 30, tzinfo=UTC))
    assert reminders(bot) == ["RHI for M-1 due tomorrow 00:30"]
    sweep_at(bot, datetime(2026, 10, 28, 0, 30, tzinfo=UTC))
    assert reminders(bot)[1:] == ["RHI for M-1 overdue now"]


def test_return_when_clocks_go_forward_is_due_72_real_hours_later(bot_at) -> None:
    bot = bot_at(datetime(2026, 3, 29, 3, 0, tzinfo=UTC))
    bot.log_episode(
        date_of_birth="2012-03-04", last_seen_at=datetime(2026, 3, 28, 20, 0, tzinfo=UTC)
    )
    reply = bot.slash("returned M-1 at 29/03/2026 00:30")  # GMT, before the change
    assert "due by *Wed 01/04/2026 01:30*" in reply.text  # BST: 72 real hours later
    sweep_at(bot, datetime(2026, 3, 31, 0, 30, tzinfo=UTC))
    assert reminders(bot) == ["RHI for M-1 due tomorrow 01:30"]
    # 01:30 on 29/03/2026 never happened in the UK.
    assert "did not happen" in bot.slash("returned M-1 at 29/03/2026 01:30").text


def test_quiet_hours_end_at_0700_local_after_clocks_go_forward(bot_at) -> None:
    bot = bot_at(datetime(2026, 3, 26, 3, 0, tzinfo=UTC), quiet_hours="22:00-07:00")
    bot.log_episode(
        risk_level="medium",
        date_of_birth="2012-03-04",
        last_seen_at=datetime(2026, 3, 25, 20, 0, tzinfo=UTC),
    )
    bot.slash("returned M-1 now")  # 03:00 GMT on 26/03: due 03:00 UTC on 29/03 = 04:00 BST
    sweep_at(bot, datetime(2026, 3, 29, 3, 0, tzinfo=UTC))
    sweep_at(bot, datetime(2026, 3, 29, 5, 59, tzinfo=UTC))  # 06:59 BST: still quiet
    assert reminders(bot)[1:] == []
    sweep_at(bot, datetime(2026, 3, 29, 6, 0, tzinfo=UTC))  # 07:00 BST
    assert reminders(bot)[-1] == "RHI for M-1 overdue by 3 h 0 min"


def test_quiet_hours_end_at_0700_local_after_clocks_go_back(bot_at) -> None:
    bot = bot_at(datetime(2026, 10, 22, 6, 30, tzinfo=UTC), quiet_hours="22:00-07:00")
    bot.log_episode(risk_level="medium", last_seen_at=datetime(2026, 10, 22, 1, 0, tzinfo=UTC))
    bot.slash("returned M-1 now")  # due 06:30 UTC on 25/10 = 06:30 GMT, after the change
    sweep_at(bot, datetime(2026, 10, 25, 6, 30, tzinfo=UTC))  # 06:30 GMT: quiet
    assert reminders(bot) == []
    sweep_at(bot, datetime(2026, 10, 25, 6, 59, tzinfo=UTC))  # 07:59 if it were still BST
    assert reminders(bot) == []
    sweep_at(bot, datetime(2026, 10, 25, 7, 0, tzinfo=UTC))  # 07:00 GMT
    assert reminders(bot) == ["RHI for M-1 overdue now"]
