"""Return home interview reminders on a fake clock: the right message, at the right time, once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from fakeslack import Posted
from storage.models import OutboxMessage
from tests.support.harness import CONTROL, LOGGER, SAFEGUARDING, Bot

RETURN = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def reminders(bot: Bot, user: str = LOGGER) -> list[str]:
    return [p.text for p in bot.fake.dms_to(user) if "RHI for" in p.text]


def escalations(bot: Bot) -> list[Posted]:
    return [p for p in bot.fake.posted if p.kind == "message" and "Escalation" in p.text]


def log_and_return(bot: Bot, **answers: object) -> Posted:
    post = bot.log_episode(**answers)
    bot.slash("returned M-1")
    return post


def at(bot: Bot, hours: float) -> None:
    """Move the clock to `hours` after the return and run one scheduler pass."""
    bot.clock.set(RETURN + timedelta(hours=hours))
    bot.sweep()


def test_life_of_an_rhi_each_message_once_in_order(bot: Bot) -> None:
    post = log_and_return(bot)
    for hours in (1, 24, 47.9):
        at(bot, hours)
    assert reminders(bot) == []
    at(bot, 48)
    at(bot, 48.5)
    assert reminders(bot) == ["RHI for M-1 due tomorrow 12:00"]
    at(bot, 71.9)
    at(bot, 72)
    at(bot, 72.2)
    assert reminders(bot)[1:] == ["RHI for M-1 overdue now"]
    assert escalations(bot) == []
    at(bot, 95.9)
    assert escalations(bot) == []
    at(bot, 96)
    at(bot, 96.5)
    assert reminders(bot)[2:] == ["RHI for M-1 overdue by 1 d 0 h"]
    # Escalated once to the safeguarding channel and once in the episode's thread.
    escalated = escalations(bot)
    assert [(p.channel, p.thread_ts) for p in escalated] == [
        (SAFEGUARDING, None),
        (CONTROL, post.ts),
    ]
    text = str(escalated[0].blocks)
    assert "M-1" in text and "J.M.S." in text and "overdue by *1 d 0 h*" in text
    assert f"<@{LOGGER}>" in text and "Jane" not in text
    at(bot, 119)
    at(bot, 120)
    at(bot, 121)
    assert reminders(bot)[3:] == ["RHI for M-1 overdue by 2 d 0 h"]
    assert len(escalations(bot)) == 2

    # Completed: nothing more is sent, ever.
    reply = bot.slash("rhi M-1 done by Suffolk County Council")
    assert "completed" in reply.text
    closing = bot.fake.thread(CONTROL, post.ts)[-1]
    # The organisation is free text: in the record and private answers, not in the channel.
    assert "completed (<@UCONTROL1>)" in str(closing.blocks)
    assert "Suffolk" not in str(closing.raw)
    assert "by Suffolk County Council" in str(bot.slash("show M-1").blocks)
    for hours in (144, 168, 240):
        at(bot, hours)
    assert len(reminders(bot)) == 4 and len(escalations(bot)) == 2
    with bot.services.db.transaction() as session:
        keys = sorted(
            d.key
            for d in session.scalars(select(OutboxMessage).where(OutboxMessage.key.like("rhi:%")))
            if ":status:" not in d.key
        )
        assert keys == [
            "rhi:1:due_now",
            "rhi:1:due_soon",
            "rhi:1:escalation",
            "rhi:1:escalation:thread",
            "rhi:1:overdue_1",
            "rhi:1:overdue_2",
        ]
        assert all(d.status == "sent" and d.ts for d in session.scalars(select(OutboxMessage)))


def test_after_three_days_down_one_current_reminder_not_a_backlog(bot: Bot) -> None:
    log_and_return(bot)
    at(bot, 1)
    # The bot is stopped from +1 h until +6 days: nothing ran in between.
    at(bot, 144)
    assert reminders(bot) == ["RHI for M-1 overdue by 3 d 0 h"]
    assert len(escalations(bot)) == 2
    at(bot, 145)
    assert len(reminders(bot)) == 1


def test_nothing_for_closed_declined_or_reopened(bot: Bot) -> None:
    bot.log_episode(child_name="Amy Adams")
    bot.log_episode(child_name="Ben Brown")
    bot.log_episode(child_name="Cal Cole")
    for ref in ("M-1", "M-2", "M-3"):
        bot.slash(f"returned {ref}")
    bot.slash("rhi M-1 declined")
    bot.slash("rhi M-2 notdone child moved out of area")
    assert "open again" in bot.slash("reopen M-3 seen again by staff, return logged in error").text
    for hours in (48, 72, 96, 120):
        at(bot, hours)
    assert reminders(bot) == [] and escalations(bot) == []


def test_snooze_caps_at_due_time_and_never_hides_escalation(bot: Bot) -> None:
    log_and_return(bot)
    at(bot, 48)
    assert len(reminders(bot)) == 1
    reply = bot.slash("rhi M-1 snooze 48")
    assert "snoozed until Fri 27/11/2026 12:00" in reply.text and "most before it" in reply.text
    at(bot, 72)
    assert reminders(bot)[1:] == ["RHI for M-1 overdue now"]
    bot.slash("rhi M-1 snooze 30")  # from 72 h until 102 h
    at(bot, 96)
    assert len(reminders(bot)) == 2  # the daily reminder is held...
    assert len(escalations(bot)) == 2  # ...the escalation is not
    at(bot, 102)
    assert reminders(bot)[2:] == ["RHI for M-1 overdue by 1 d 6 h"]


def returned_at_0100(bot_at: Callable[..., Bot], risk: str) -> Bot:
    """Returned 01:00 on 24/11 with quiet hours on: due-soon falls at 01:00 on 26/11."""
    bot = bot_at(datetime(2026, 11, 24, 1, 0, tzinfo=UTC), quiet_hours="22:00-07:00")
    bot.log_episode(risk_level=risk, last_seen_at=datetime(2026, 11, 23, 20, 0, tzinfo=UTC))
    bot.slash("returned M-1")
    return bot


def sweep_on(bot: Bot, day: int, hour: int, minute: int = 0) -> None:
    bot.clock.set(datetime(2026, 11, day, hour, minute, tzinfo=UTC))
    bot.sweep()


def test_quiet_hours_hold_direct_messages_until_morning(bot_at: Callable[..., Bot]) -> None:
    bot = returned_at_0100(bot_at, "medium")
    sweep_on(bot, 26, 1)
    sweep_on(bot, 26, 6, 59)
    assert reminders(bot) == []
    sweep_on(bot, 26, 7)
    assert reminders(bot) == ["RHI for M-1 due tomorrow 01:00"]
    # The escalation at 01:00 on 28/11 is never held...
    sweep_on(bot, 28, 1)
    assert len(escalations(bot)) == 2
    assert len(reminders(bot)) == 1  # ...but the 'overdue' DM owed since 01:00 on 27/11 waits
    sweep_on(bot, 28, 7)
    assert reminders(bot)[1:] == ["RHI for M-1 overdue by 1 d 6 h"]  # ...till 07:00


def test_high_risk_is_never_held_by_quiet_hours(bot_at: Callable[..., Bot]) -> None:
    bot = returned_at_0100(bot_at, "high")
    sweep_on(bot, 26, 1)
    assert reminders(bot) == ["RHI for M-1 due tomorrow 01:00"]
