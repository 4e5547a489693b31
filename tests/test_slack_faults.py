"""Slack misbehaving, over the fake: the bot itself refused (delivery pauses, then resumes and
says so), a post that went out although the answer came too late (not posted twice), and a
button's message that could not be updated (the person is told the outcome is recorded)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import select

from bot.domain.states import DeliveryStatus
from storage.models import OutboxMessage
from tests.support.harness import LOGGER, SAFEGUARDING, Bot
from tests.support.timeline import at, log_and_return


def health(bot: Bot) -> tuple[int, dict[str, str]]:
    try:
        with urllib.request.urlopen(f"{bot.url}/healthz", timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def statuses(bot: Bot) -> Counter[str]:
    with bot.services.db.read() as session:
        return Counter(session.scalars(select(OutboxMessage.status)))


def test_a_revoked_token_pauses_delivery_until_it_works_again(sqlite_bot: Bot) -> None:
    bot = sqlite_bot
    view = bot.open_form()
    bot.fake.fail("chat.postMessage", "token_revoked", times=None)
    assert bot.submit_form(view).status == 200
    bot.settle()
    # Nothing is lost or reported as failed: everything waits.
    assert statuses(bot) == Counter({"pending": 2})
    status, report = health(bot)
    assert status == 503 and "token_revoked" in report["slack"]
    bot.slash("returned M-1 now")
    for _ in range(3):
        bot.clock.advance(minutes=1)
        bot.sweep()
    probes = [c for c in bot.fake.calls_to("chat.postMessage") if c.error == "token_revoked"]
    assert 3 <= len(probes) <= 5  # about one probe a minute, not one per message
    assert bot.fake.messages_in(SAFEGUARDING) == []
    # The token works again: everything held goes out once, and safeguarding is told.
    bot.fake.clear_faults()
    bot.clock.advance(minutes=1)
    bot.sweep()
    bot.settle()
    # The post, the confirmation, the return's thread reply and the post's edit, held; then
    # the notice that delivery resumed.
    assert statuses(bot)["sent"] == 5 and "pending" not in statuses(bot)
    (notice,) = bot.fake.messages_in(SAFEGUARDING)
    assert "Slack accepts the bot again" in (notice.text or "")
    assert "`token_revoked`" in json.dumps(notice.blocks)
    assert health(bot)[0] == 200
    keys = Counter(
        (p.raw.get("metadata") or {}).get("event_payload", {}).get("key") for p in bot.fake.posted
    )
    assert all(n == 1 for k, n in keys.items() if k)


def test_a_post_that_went_out_too_late_is_not_posted_twice(
    bot_at: Callable[..., Bot],
) -> None:
    bot = bot_at(datetime(2026, 11, 24, 12, 0, tzinfo=UTC), slack_timeout_seconds=1)
    log_and_return(bot)
    # Slack takes the due-soon reminder but answers only after the bot stopped waiting.
    bot.fake.fail("chat.postMessage", delay=2, when=lambda a: a.get("channel") == LOGGER)
    at(bot, 48)
    with bot.services.db.read() as session:
        row = session.scalars(
            select(OutboxMessage).where(OutboxMessage.key == "rhi:1:due_soon")
        ).one()
        assert row.status == DeliveryStatus.PENDING and row.error.startswith("connection")
    bot.fake.wait_idle(quiet=0.1, timeout=5)
    at(bot, 48.2)  # the retry looks first, finds it, and does not post again
    reminders = [p for p in bot.fake.dms_to(LOGGER) if "RHI for M-1 due" in (p.text or "")]
    assert len(reminders) == 1
    with bot.services.db.read() as session:
        row = session.scalars(
            select(OutboxMessage).where(OutboxMessage.key == "rhi:1:due_soon")
        ).one()
        assert (row.status, row.ts) == (DeliveryStatus.SENT, reminders[0].ts)
    assert bot.fake.calls_to("conversations.history")


def test_a_button_whose_message_cannot_be_updated_says_it_is_recorded(sqlite_bot: Bot) -> None:
    bot = sqlite_bot
    log_and_return(bot)
    bot.clock.advance(hours=48)
    bot.sweep()
    reminder = next(p for p in bot.fake.dms_to(LOGGER) if "RHI for M-1 due" in (p.text or ""))
    bot.fake.fail("chat.update", "message_not_found", times=None)
    mark = bot.fake.mark()
    bot.sender.click("rhi_done", message=reminder)
    bot.settle()
    answer = bot.fake.wait_for_posted(kind="response", since=mark)[0]
    assert "Marked completed" in (answer.text or "") and "It is recorded" in (answer.text or "")
    assert len(bot.audit("rhi.completed")) == 1
