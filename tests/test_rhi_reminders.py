"""Return home interview follow-ups on a fake clock: the right message, at the right time, once.

The ladder of one interview returned at 12:00 on Tue 24/11/2026 (due 12:00 Fri 27/11):
due-soon reminder 12:00 Thu 26/11; due-now reminder 12:00 Fri 27/11; the daily list of overdue
interviews at 09:00 from Sat 28/11; the escalation 12:00 Sat 28/11; the lapse 12:00 Tue 8/12.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import select

from bot.domain.states import RhiStatus
from storage.models import Followup, OutboxMessage, ReturnInterview
from tests.support.harness import CONTROL, LOGGER, SAFEGUARDING, Bot
from tests.support.timeline import (
    at,
    but_digests,
    dms,
    escalations,
    every_hour,
    log_and_return,
)


def rhi(bot: Bot) -> ReturnInterview:
    with bot.services.db.read() as session:
        return session.scalars(select(ReturnInterview)).one()


def test_the_whole_ladder_once_each_then_nothing(bot: Bot) -> None:
    post = log_and_return(bot)
    every_hour(bot, 0, 47)
    assert dms(bot) == []
    at(bot, 48)
    at(bot, 48.5)
    assert dms(bot) == ["RHI for M-1 due tomorrow 12:00"]
    every_hour(bot, 49, 72)
    assert dms(bot)[1:] == ["RHI for M-1 overdue now"]
    every_hour(bot, 73, 92)  # 09:00 Sat 28/11 is +93 h
    assert len(dms(bot)) == 2
    at(bot, 93)
    assert dms(bot)[2:] == ["1 overdue return home interview to chase"]
    assert escalations(bot) == []
    every_hour(bot, 94, 96)  # the escalation at +96 h, once to each place
    escalated = escalations(bot)
    assert [(p.channel, p.thread_ts) for p in escalated] == [
        (SAFEGUARDING, None),
        (CONTROL, post.ts),
    ]
    text = str(escalated[0].blocks)
    assert "M-1" in text and "J.M.S." in text and "overdue by *1 d 0 h*" in text
    assert f"<@{LOGGER}>" in text and "Jane" not in text
    # A list every morning until the lapse at +336 h (12:00 Tue 8/12); nothing after it.
    every_hour(bot, 97, 400)
    lists = [t for t in dms(bot) if "overdue return home" in t]
    assert len(lists) == 11  # Sat 28/11 to Tue 8/12, 09:00 each
    assert len(dms(bot)) == 2 + 11
    lapsed = escalations(bot)[2:]
    assert [(p.channel, p.thread_ts) for p in lapsed] == [(SAFEGUARDING, None), (CONTROL, post.ts)]
    assert "recorded as *not done (lapsed)*" in str(lapsed[0].blocks)
    assert (rhi(bot).status, rhi(bot).status_reason) == (RhiStatus.NOT_DONE, "lapsed")
    assert [a.actor for a in bot.audit("rhi.lapsed")] == ["missing-bot"]
    with bot.services.db.read() as session:
        keys = sorted(
            o.key for o in session.scalars(select(OutboxMessage)) if o.key.startswith("rhi:1:")
        )
        assert keys == [
            "rhi:1:due_now",
            "rhi:1:due_soon",
            "rhi:1:escalation",
            "rhi:1:escalation:thread",
            "rhi:1:lapsed",
            "rhi:1:lapsed:thread",
        ]
        assert all(o.status == "sent" for o in session.scalars(select(OutboxMessage)))
        (followup,) = session.scalars(select(Followup).where(Followup.kind == "rhi")).all()
        assert followup.next_at is None


def test_nothing_more_after_an_outcome(bot: Bot) -> None:
    post = log_and_return(bot)
    every_hour(bot, 0, 100)
    sent = len(but_digests(bot.fake.posted))
    reply = bot.slash("rhi M-1 done by Suffolk County Council")
    assert "completed" in (reply.text or "")
    closing = bot.fake.thread(CONTROL, post.ts)[-1]
    # The organisation is free text: in the record and private answers, not in the channel.
    assert "Suffolk" not in str(closing.raw)
    assert "by Suffolk County Council" in str(bot.slash("show M-1").blocks)
    every_hour(bot, 101, 400)
    # Only the thread update about the outcome (and the daily digests).
    assert len(but_digests(bot.fake.posted)) == sent + 1


def test_after_three_days_down_one_current_reminder_not_a_backlog(bot: Bot) -> None:
    log_and_return(bot)
    at(bot, 1)
    # The bot is stopped from +1 h until +6 days (14:00 Mon 30/11): nothing ran in between.
    at(bot, 146)
    assert dms(bot) == ["RHI for M-1 overdue by 3 d 2 h"]
    assert len(escalations(bot)) == 2
    at(bot, 147)
    assert len(dms(bot)) == 1


def test_nothing_for_closed_declined_or_reopened(bot: Bot) -> None:
    bot.log_episode(child_name="Amy Adams")
    bot.log_episode(child_name="Ben Brown")
    bot.log_episode(child_name="Cal Cole")
    for ref in ("M-1", "M-2", "M-3"):
        bot.slash(f"returned {ref} now")
    bot.slash("rhi M-1 declined")
    bot.slash("rhi M-2 notdone child moved out of area")
    assert "open again" in bot.slash("reopen M-3 seen again by staff, return logged in error").text
    for hours in (48, 72, 93, 96, 120, 400):
        at(bot, hours)
    assert dms(bot) == [] and escalations(bot) == []


def test_snooze_holds_reminders_never_the_escalation(bot: Bot) -> None:
    log_and_return(bot)
    at(bot, 48)
    assert len(dms(bot)) == 1
    reply = bot.slash("rhi M-1 snooze 48")
    assert "snoozed until Fri 27/11/2026 12:00" in reply.text and "most before it" in reply.text
    at(bot, 72)
    assert dms(bot)[1:] == ["RHI for M-1 overdue now"]
    bot.slash("rhi M-1 snooze 30")  # from +72 h until +102 h
    at(bot, 93)
    assert len(dms(bot)) == 2  # the daily list leaves a snoozed interview out...
    at(bot, 96)
    assert len(escalations(bot)) == 2  # ...the escalation is never held
    at(bot, 117)  # 09:00 Sun 29/11: the snooze is over, it is listed again
    assert dms(bot)[2:] == ["1 overdue return home interview to chase"]


def test_one_daily_list_for_several_overdue_interviews(bot: Bot) -> None:
    for name in ("Amy Adams", "Ben Brown", "Cal Cole"):
        bot.log_episode(child_name=name)
    for ref in ("M-1", "M-2", "M-3"):
        bot.slash(f"returned {ref} now")
    every_hour(bot, 0, 93)
    lists = [p for p in bot.fake.dms_to(LOGGER) if "overdue return home" in (p.text or "")]
    assert len(lists) == 1 and lists[0].text == "3 overdue return home interviews to chase"
    blocks = str(lists[0].blocks)
    assert all(ref in blocks for ref in ("M-1", "M-2", "M-3"))
    # Its buttons act on each interview; the list is edited to show it.
    mark = bot.fake.mark()
    bot.sender.click("rhi_done", message=lists[0], value="2:2", block_id="rhi_actions:2")
    bot.settle()
    updated = bot.fake.wait_for(lambda f: [p for p in f.posted[mark:] if p.kind == "update"])
    text = str(updated[-1].blocks)
    assert "Marked completed" in text and "rhi_actions:1" in text and "rhi_actions:2" not in text
    every_hour(bot, 94, 117)
    second = [p for p in bot.fake.dms_to(LOGGER) if "overdue return home" in (p.text or "")][1]
    assert second.text == "2 overdue return home interviews to chase"


def test_a_reassigned_interview_tells_the_new_person_once(bot: Bot) -> None:
    log_and_return(bot)
    bot.grant("U0SOCIAL")
    reply = bot.slash("rhi M-1 assign <@U0SOCIAL|sam>")
    assert "<@U0SOCIAL> now chases" in reply.text
    told = dms(bot, "U0SOCIAL")
    assert told == ["You now chase the RHI for M-1"]
    every_hour(bot, 0, 72)
    assert dms(bot, "U0SOCIAL")[1:] == [
        "RHI for M-1 due tomorrow 12:00",
        "RHI for M-1 overdue now",
    ]
    assert dms(bot) == []
    bot.slash("rhi M-1 assign <@U0SOCIAL|sam>")  # the same person again: nobody is told twice
    assert len(dms(bot, "U0SOCIAL")) == 3


def returned_at_0100(bot_at: Callable[..., Bot], risk: str) -> Bot:
    """Returned 01:00 on 24/11 with quiet hours on: due-soon falls at 01:00 on 26/11."""
    bot = bot_at(datetime(2026, 11, 24, 1, 0, tzinfo=UTC), quiet_hours="22:00-07:00")
    bot.log_episode(risk_level=risk, last_seen_at=datetime(2026, 11, 23, 20, 0, tzinfo=UTC))
    bot.slash("returned M-1 now")
    return bot


def sweep_on(bot: Bot, day: int, hour: int, minute: int = 0) -> None:
    bot.clock.set(datetime(2026, 11, day, hour, minute, tzinfo=UTC))
    bot.sweep()


def test_quiet_hours_hold_direct_messages_until_morning(bot_at: Callable[..., Bot]) -> None:
    bot = returned_at_0100(bot_at, "medium")
    sweep_on(bot, 26, 1)
    sweep_on(bot, 26, 6, 59)
    assert dms(bot) == []
    sweep_on(bot, 26, 7)
    assert dms(bot) == ["RHI for M-1 due tomorrow 01:00"]
    # The due-now reminder at 01:00 on 27/11 waits until 07:00...
    sweep_on(bot, 27, 1)
    assert len(dms(bot)) == 1
    sweep_on(bot, 27, 7)
    assert dms(bot)[1:] == ["RHI for M-1 overdue by 6 h 0 min"]
    # ...the escalation at 01:00 on 28/11 is never held.
    sweep_on(bot, 28, 1)
    assert len(escalations(bot)) == 2


def test_high_risk_is_never_held_by_quiet_hours(bot_at: Callable[..., Bot]) -> None:
    bot = returned_at_0100(bot_at, "high")
    sweep_on(bot, 26, 1)
    assert dms(bot) == ["RHI for M-1 due tomorrow 01:00"]
