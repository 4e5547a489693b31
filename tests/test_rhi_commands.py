"""RHI commands and reminder buttons, bad input, and Slack failures while reminding."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from fakeslack import Posted
from storage.models import OutboxMessage, ReturnInterview
from tests.support.harness import LOGGER, SAFEGUARDING, Bot
from tests.support.timeline import at, but_digests, is_digest, log_and_return, reminders


def reminder_message(bot: Bot) -> Posted:
    return [p for p in bot.fake.dms_to(LOGGER) if "RHI for" in p.text][-1]


def rhi(bot: Bot) -> ReturnInterview:
    with bot.services.db.transaction() as session:
        return session.scalars(select(ReturnInterview)).one()


def test_list_done_with_time_and_organisation(bot: Bot) -> None:
    bot.log_episode(child_name="Amy Adams")
    bot.log_episode(child_name="Ben Brown")
    bot.slash("returned M-2 at 10:00")
    bot.slash("returned M-1 at 11:00")
    listed = bot.slash("rhi")
    text = str(listed.blocks)
    assert "Your open return home interviews: 2" in text
    assert text.index("M-2") < text.index("M-1")  # soonest due first
    bot.clock.advance(hours=5)
    reply = bot.slash("rhi M-2 done 24/11 15:30 by Suffolk County Council")
    assert "completed" in reply.text
    done = next(r for r in _all_rhis(bot) if r.episode_id == 2)
    assert done.status == "completed" and done.completed_by_org == "Suffolk County Council"
    assert done.completed_at is not None and done.completed_at.hour == 15
    assert "Your open return home interviews: 1" in str(bot.slash("rhi").blocks)
    assert [e.action for e in bot.audit() if e.action.startswith("rhi.")] == [
        "rhi.listed",
        "rhi.completed",
        "rhi.listed",
    ]


def _all_rhis(bot: Bot) -> list[ReturnInterview]:
    with bot.services.db.transaction() as session:
        return list(session.scalars(select(ReturnInterview)))


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("rhi M-9 done", "There is no episode M-9"),
        ("rhi nonsense done", "is not an episode reference"),
        ("rhi M-1", "What about M-1?"),
        ("rhi M-1 dance", "I don't know `dance`"),
        ("rhi M-1 done 24/11 09:00", "before the child returned"),
        ("rhi M-1 done 25/11/2026 09:00", "in the future"),
        ("rhi M-1 done by", "`by` needs the organisation"),
        ("rhi M-1 done yesterday-ish", "I couldn't read the time"),
        ("rhi M-1 assign", "Assign to whom?"),
        ("rhi M-1 assign bob", "Assign to whom?"),
        ("rhi M-1 snooze", "how many hours"),
        ("rhi M-1 snooze soon", "is not a number of hours"),
        ("rhi M-1 snooze -3", "positive number of hours"),
        ("rhi M-1 snooze 0", "positive number of hours"),
        ("rhi M-1 snooze 500", "at most 72 hours"),
        ("rhi M-1 notdone", "Say why it was not done"),
    ],
)
def test_bad_rhi_commands_change_nothing(bot: Bot, command: str, expected: str) -> None:
    log_and_return(bot)  # returned at 12:00 on 24/11
    before = rhi(bot)
    reply = bot.slash(command)
    assert expected in reply.text
    after = rhi(bot)
    assert (after.status, after.assignee_id, after.snoozed_until, after.updated_at) == (
        before.status,
        before.assignee_id,
        before.snoozed_until,
        before.updated_at,
    )


def test_rhi_on_an_episode_not_returned_or_closed(bot: Bot) -> None:
    bot.log_episode()
    assert "no return recorded yet" in bot.slash("rhi M-1 done").text
    bot.slash("returned M-1 now")
    bot.slash("rhi M-1 declined")
    assert "already closed (declined)" in bot.slash("rhi M-1 done").text


def test_assign_moves_the_reminders(bot: Bot) -> None:
    log_and_return(bot)
    reply = bot.slash("rhi M-1 assign <@U0SOCIAL|sam>")
    assert "has no missing-bot role" in reply.text and rhi(bot).assignee_id == LOGGER
    bot.grant("U0SOCIAL")
    reply = bot.slash("rhi M-1 assign <@U0SOCIAL|sam>")
    assert "<@U0SOCIAL> now chases" in reply.text
    at(bot, 48)
    assert reminders(bot) == []
    assert reminders(bot, "U0SOCIAL") == [
        "You now chase the RHI for M-1",
        "RHI for M-1 due tomorrow 12:00",
    ]


def test_done_button_updates_the_message_and_a_second_click_changes_nothing(bot: Bot) -> None:
    log_and_return(bot)
    at(bot, 48)
    message = reminder_message(bot)
    assert "Done" in str(message.blocks)
    bot.sender.click("rhi_done", message=message, user_id=LOGGER)
    updated = bot.fake.wait_for(
        lambda f: [p for p in f.posted if p.kind == "update" and p.channel == message.channel]
    )[-1]
    assert "Marked completed by <@UCONTROL1>" in str(updated.blocks)
    assert "actions" not in [b["type"] for b in updated.blocks]
    assert rhi(bot).status == "completed"
    mark = bot.fake.mark()
    # A second click on the same button (a double click, or a stale copy of the message).
    bot.sender.click(
        "rhi_done",
        value="1:1",
        block_id="rhi_actions:1",
        channel_id=message.channel,
        message_ts=message.ts,
        user_id=LOGGER,
    )
    answer = bot.fake.wait_for_posted(kind="response", since=mark)[0]
    assert "no longer open (completed)" in answer.text
    assert len(bot.audit("rhi.completed")) == 1


def test_button_clicked_by_someone_not_allowed(bot: Bot) -> None:
    log_and_return(bot)
    at(bot, 48)
    mark = bot.fake.mark()
    bot.sender.click("rhi_declined", message=reminder_message(bot), user_id="U0STRANGER")
    answer = bot.fake.wait_for_posted(kind="response", since=mark)[0]
    assert "You need the *safeguarding* role" in answer.text and "<@UCONTROL1>" in answer.text
    assert "nothing was done" in answer.text
    assert rhi(bot).status == "pending"
    (refusal,) = bot.audit("access.refused")
    assert refusal.actor == "U0STRANGER" and refusal.detail["needed"] == "safeguarding"


def test_snooze_and_reassign_buttons(bot: Bot) -> None:
    log_and_return(bot)
    bot.grant("U0SOCIAL")
    at(bot, 48)
    bot.sender.click("rhi_snooze", message=reminder_message(bot), user_id=LOGGER)
    bot.fake.wait_for(
        lambda f: [p for p in f.posted if p.kind == "update" and "Snoozed" in str(p.blocks)]
    )
    assert rhi(bot).snoozed_until is not None
    views = len(bot.fake.views)
    bot.sender.click("rhi_reassign", message=reminder_message(bot), user_id=LOGGER)
    view = bot.fake.wait_for_view("rhi_reassign", since=views)
    response = bot.sender.submit_answers(view, {"assignee": "U0SOCIAL"}, user_id=LOGGER)
    assert response.status == 200 and not response.body
    assert rhi(bot).assignee_id == "U0SOCIAL"
    updated = bot.fake.wait_for(
        lambda f: [p for p in f.posted if p.kind == "update" and "Reassigned" in str(p.blocks)]
    )
    blocks = str(updated[-1].blocks)
    assert "Reassigned to <@U0SOCIAL> by <@UCONTROL1>" in blocks
    assert "RHI for M-1" in updated[-1].text and "J.M.S." in blocks


def test_permanent_slack_error_stops_retrying_and_tells_safeguarding(bot: Bot) -> None:
    log_and_return(bot)
    bot.fake.fail(
        "chat.postMessage",
        error="user_not_found",
        times=None,
        when=lambda a: a.get("channel") == LOGGER,
    )
    at(bot, 48)
    alerts = but_digests(bot.fake.messages_in(SAFEGUARDING))
    assert len(alerts) == 1 and "user_not_found" in alerts[0].text + str(alerts[0].blocks)

    def posts() -> int:  # but the daily digest, which goes on regardless
        calls = bot.fake.calls_to("chat.postMessage")
        return sum(1 for c in calls if not is_digest(c.args.get("text")))

    attempts = posts()
    for hours in (49, 60, 72, 73):
        at(bot, hours)
    # No more tries to that person (the escalation at 96 h still goes out to the channels).
    dm_calls = [
        c
        for c in bot.fake.calls_to("chat.postMessage")
        if c.args.get("channel") == LOGGER and "RHI for" in c.args.get("text", "")
    ]
    assert len(dm_calls) == 1
    assert posts() == attempts
    at(bot, 96)
    assert any("Escalation" in p.text for p in bot.fake.messages_in(SAFEGUARDING))


def test_rate_limited_reminder_waits_for_retry_after(bot: Bot) -> None:
    log_and_return(bot)
    # Twice: the SDK retries once after Retry-After itself, then the outbox waits it out.
    bot.fake.fail(
        "chat.postMessage",
        status=429,
        retry_after=1,
        times=2,
        when=lambda a: a.get("channel") == LOGGER,
    )
    at(bot, 48)
    assert reminders(bot) == []
    with bot.services.db.transaction() as session:
        row = session.scalars(
            select(OutboxMessage).where(OutboxMessage.key == "rhi:1:due_soon")
        ).one()
        assert row.status == "pending" and row.error == "ratelimited"
    at(bot, 48.01)  # 36 s later: past Retry-After and the first backoff
    assert reminders(bot) == ["RHI for M-1 due tomorrow 12:00"]


def test_server_errors_are_retried_on_later_passes(bot: Bot) -> None:
    log_and_return(bot)
    bot.fake.fail(
        "chat.postMessage", status=500, times=2, when=lambda a: a.get("channel") == LOGGER
    )
    at(bot, 48)
    at(bot, 48.01)
    assert reminders(bot) == []
    at(bot, 48.1)
    assert reminders(bot) == ["RHI for M-1 due tomorrow 12:00"]
    at(bot, 49)
    assert len(reminders(bot)) == 1


def test_connection_errors_are_retried_on_later_passes(bot: Bot) -> None:
    log_and_return(bot)
    client = bot.services.outbox.notifier.client  # type: ignore[attr-defined]
    real_url = client.base_url
    client.base_url = "http://127.0.0.1:9/api/"  # nothing listens there: connection refused
    try:
        at(bot, 48)
    finally:
        client.base_url = real_url
    assert reminders(bot) == []
    with bot.services.db.transaction() as session:
        row = session.scalars(
            select(OutboxMessage).where(OutboxMessage.key == "rhi:1:due_soon")
        ).one()
        assert row.status == "pending" and row.error.startswith("connection")
    at(bot, 48.01)
    assert reminders(bot) == ["RHI for M-1 due tomorrow 12:00"]
