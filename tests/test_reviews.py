"""Still-missing risk reviews on a fake clock, over signed HTTP: the reminder to the officer in
the case once per due review, the overdue note in the thread once, nothing after the return,
a review from the button moving the next one, quiet hours held except for high risk.

Logged at 12:00 on Tue 24/11/2026 (UK time is UTC in November) at high risk: the review is
due at 14:00 (REVIEW_HOURS high=2) and overdue at 15:00 (REVIEW_OVERDUE_MINUTES=60).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from fakeslack import Posted
from storage.models import Followup, OutboxMessage, Review
from tests.support.harness import CONTROL, LOGGER, Bot
from tests.support.updates import UPDATE, replies, submit_update


def at(bot: Bot, hour: int, minute: int = 0, *, day: int = 24) -> None:
    """Move the clock to this UK time and run one scheduler pass."""
    bot.clock.set(datetime(2026, 11, day, hour, minute, tzinfo=UTC))
    bot.sweep()
    bot.fake.wait_idle(quiet=0.02)


def every_quarter(bot: Bot, first: tuple[int, int], last: tuple[int, int], day: int = 24) -> None:
    for minutes in range(first[0] * 60 + first[1], last[0] * 60 + last[1] + 1, 15):
        at(bot, minutes // 60, minutes % 60, day=day)


def reminders(bot: Bot, user: str = LOGGER) -> list[Posted]:
    return [p for p in bot.fake.dms_to(user) if "Risk review" in (p.text or "")]


def overdue_notes(bot: Bot, post: Posted) -> list[Posted]:
    return [p for p in replies(bot, post) if "Risk review overdue" in (p.text or "")]


def review_keys(bot: Bot) -> list[tuple[str, str]]:
    with bot.services.db.read() as session:
        rows = session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.key.like("review:%"))
            .order_by(OutboxMessage.id)
        )
        return [(o.key, o.status) for o in rows]


@pytest.mark.both_databases  # follow-up claims and the outbox's keys
def test_each_reminder_once_then_the_overdue_note_once(bot: Bot) -> None:
    post = bot.log_episode()
    every_quarter(bot, (12, 0), (13, 45))
    assert reminders(bot) == []
    at(bot, 14, 0)
    (reminder,) = reminders(bot)
    assert reminder.text == "Risk review due for M-1"
    blocks = json.dumps(reminder.blocks)
    assert "missing 4 h 30 min" in blocks and "every 2 h" in blocks
    assert "Review: risk stays" in blocks and "Re-grade / update" in blocks
    assert "Jane" not in blocks and "Acacia" not in blocks
    every_quarter(bot, (14, 15), (14, 45))
    assert overdue_notes(bot, post) == []
    at(bot, 15, 0)
    (note,) = overdue_notes(bot, post)
    assert "due Tue 24/11/2026 14:00, none recorded since" in json.dumps(note.blocks)
    assert f"Officer in the case: <@{LOGGER}>" in json.dumps(note.blocks)
    assert bot.fake.posted.index(reminder) < bot.fake.posted.index(note)
    every_quarter(bot, (15, 15), (23, 45))
    assert len(reminders(bot)) == 1 and len(overdue_notes(bot, post)) == 1
    assert review_keys(bot) == [
        ("review:1:20261124T140000Z:due", "sent"),
        ("review:1:20261124T140000Z:overdue", "sent"),
    ]
    # The list says so too.
    listed = json.dumps(bot.slash("list").blocks)
    assert "1 risk review overdue" in listed and "*review overdue* by 9 h 45 min" in listed


def test_a_review_from_the_button_schedules_the_next(sqlite_bot: Bot) -> None:
    bot = sqlite_bot
    post = bot.log_episode()
    at(bot, 14, 0)
    (reminder,) = reminders(bot)
    bot.clock.set(datetime(2026, 11, 24, 14, 20, tzinfo=UTC))
    mark = bot.fake.mark()
    bot.sender.click("review_stays", message=reminder, user_id=LOGGER)
    replaced = bot.fake.wait_for_posted(kind="response", since=mark)[0]
    assert "Risk review for *M-1* recorded by <@UCONTROL1>: stays high risk" in json.dumps(
        replaced.blocks
    )
    assert "Next review due Tue 24/11/2026 16:20" in json.dumps(replaced.blocks)
    now_shown = bot.fake.message(reminder.channel or "", reminder.ts or "") or {}
    assert "actions" not in [b["type"] for b in now_shown.get("blocks", [])]
    (reply,) = replies(bot, post)
    text = json.dumps(reply.blocks, ensure_ascii=False)
    assert f"Risk reviewed by <@{LOGGER}>: stays *High*" in text
    assert "Next risk review due Tue 24/11/2026 16:20" in text
    every_quarter(bot, (14, 30), (16, 15))
    assert overdue_notes(bot, post) == [] and len(reminders(bot)) == 1
    at(bot, 16, 20)
    assert len(reminders(bot)) == 2
    (audited,) = bot.audit("episode.reviewed")
    assert audited.detail["via"] == "reminder" and audited.detail["risk"] == "high"
    # The first reminder's button asks for a review since recorded: it changes nothing.
    mark = bot.fake.mark()
    stale_value = f"1:{int(datetime(2026, 11, 24, 14, 0, tzinfo=UTC).timestamp())}"
    bot.sender.click("review_stays", value=stale_value, message=reminder, user_id=LOGGER)
    answer = bot.fake.wait_for_posted(kind="response", since=mark)[0]
    assert "has been recorded since; nothing was changed" in (answer.text or "")
    with bot.services.db.read() as session:
        assert len(session.scalars(select(Review)).all()) == 1


def test_the_update_button_opens_the_form_and_a_regrade_moves_the_review(
    sqlite_bot: Bot,
) -> None:
    bot = sqlite_bot
    post = bot.log_episode()
    at(bot, 14, 0)
    (reminder,) = reminders(bot)
    views = len(bot.fake.views)
    bot.sender.click("review_update", message=reminder, user_id=LOGGER)
    view = bot.fake.wait_for_view(UPDATE, since=views)
    submit_update(bot, view, risk_level="medium", risk_reason="Seen safe with a relative")
    assert "Next risk review due Tue 24/11/2026 20:00" in json.dumps(replies(bot, post)[0].blocks)
    every_quarter(bot, (14, 15), (19, 45))
    assert overdue_notes(bot, post) == [] and len(reminders(bot)) == 1
    at(bot, 20, 0)
    assert len(reminders(bot)) == 2


def test_a_reason_with_the_risk_unchanged_records_a_review(sqlite_bot: Bot) -> None:
    bot = sqlite_bot
    post = bot.log_episode(risk_level="medium")  # due 18:00
    bot.clock.set(datetime(2026, 11, 24, 13, 0, tzinfo=UTC))
    mark = len(bot.fake.views)
    bot.sender.slash("update M-1")
    form = bot.fake.wait_for_view(UPDATE, since=mark)
    submit_update(bot, form, risk_reason="No change: still believed with friends")
    text = json.dumps(replies(bot, post)[0].blocks, ensure_ascii=False)
    assert f"Risk reviewed by <@{LOGGER}>: stays *Medium*" in text
    assert "Next risk review due Tue 24/11/2026 19:00" in text
    shown = json.dumps(bot.slash("show M-1").blocks, ensure_ascii=False)
    assert "reviewed by <@UCONTROL1>: stays *Medium*: No change: still believed" in shown
    assert "*Next risk review:* due Tue 24/11/2026 19:00" in shown


def test_nothing_after_the_return(sqlite_bot: Bot) -> None:
    bot = sqlite_bot
    post = bot.log_episode()
    at(bot, 13, 0)
    bot.slash("returned M-1 now")
    every_quarter(bot, (13, 15), (23, 45))
    assert reminders(bot) == [] and overdue_notes(bot, post) == []
    with bot.services.db.read() as session:
        (followup,) = session.scalars(select(Followup).where(Followup.kind == "review")).all()
        assert followup.next_at is None


def test_a_reopen_asks_for_the_review_owed(sqlite_bot: Bot) -> None:
    bot = sqlite_bot
    post = bot.log_episode()
    at(bot, 14, 0)
    assert len(reminders(bot)) == 1
    at(bot, 14, 10)
    bot.slash("returned M-1 now")
    at(bot, 15, 0)
    assert overdue_notes(bot, post) == []
    at(bot, 16, 0)
    bot.slash("reopen M-1 it was her sister who came back")
    at(bot, 16, 0)
    assert [r.text for r in reminders(bot)] == ["Risk review due for M-1"] * 2
    at(bot, 17, 0)
    assert len(overdue_notes(bot, post)) == 1


def quiet_bot(bot_at: Callable[..., Bot]) -> Bot:
    bot = bot_at(datetime(2026, 11, 24, 21, 0, tzinfo=UTC), quiet_hours="22:00-07:00")
    bot.log_episode(risk_level="medium", last_seen_at=datetime(2026, 11, 24, 20, 0, tzinfo=UTC))
    return bot


def test_quiet_hours_hold_the_reminder_not_the_note(bot_at: Callable[..., Bot]) -> None:
    bot = quiet_bot(bot_at)  # M-1, medium: due 03:00, overdue 04:00
    bot.clock.set(datetime(2026, 11, 24, 23, 0, tzinfo=UTC))
    post = bot.log_episode(
        child_name="Ben Brown", last_seen_at=datetime(2026, 11, 24, 22, 0, tzinfo=UTC)
    )  # M-2, high: due 01:00, never held
    arrived: list[tuple[str, str]] = []
    for hour in range(0, 9):
        before = len(reminders(bot))
        at(bot, hour, day=25)
        arrived += [(f"{hour:02d}:00", r.text or "") for r in reminders(bot)[before:]]
    assert arrived == [
        ("01:00", "Risk review due for M-2"),
        ("07:00", "Risk review for M-1 overdue by 4 h 0 min"),
    ]
    notes = [p for p in bot.fake.messages_in(CONTROL) if "Risk review overdue" in (p.text or "")]
    assert [n.text for n in notes] == [
        "Risk review overdue for M-2",  # 02:00
        "Risk review overdue for M-1",  # 04:00: a thread note is not a direct message
    ]
    assert notes[0].thread_ts == post.ts


def test_a_held_reminder_is_not_sent_once_the_child_is_back(bot_at: Callable[..., Bot]) -> None:
    bot = quiet_bot(bot_at)
    at(bot, 3, 0, day=25)  # due, held until 07:00
    at(bot, 4, 0, day=25)  # overdue: the note goes
    assert review_keys(bot) == [("review:1:20261125T030000Z:overdue", "sent")]
    bot.clock.set(datetime(2026, 11, 25, 5, 0, tzinfo=UTC))
    bot.slash("returned M-1 now")
    at(bot, 7, 0, day=25)
    assert reminders(bot) == []
    assert review_keys(bot) == [("review:1:20261125T030000Z:overdue", "sent")]
