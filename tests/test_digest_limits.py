"""The digest within Slack's limits and despite Slack: a quiet day in one line, 200 children
missing, no files:write scope, a copy that died between uploading the chart and recording it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.domain.states import DeliveryStatus, MessageKind, Risk
from storage.models import DeliveryPause, OutboxMessage
from tests.support.blockkit import MAX_MESSAGE_BLOCK_TEXT, assert_valid_message
from tests.support.digest_reading import digests, headline, refs, section, text_of
from tests.support.digest_seed import RISKS, Ep, Rhi, expected, seed
from tests.support.harness import SAFEGUARDING, Bot

# These tests read the chart in the digest's thread.
pytestmark = pytest.mark.digest_chart

StartBot = Callable[..., Bot]
START = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
AT = datetime(2026, 11, 25, 8, 0, 30, tzinfo=UTC)


def at_eight(bot: Bot) -> None:
    bot.clock.set(AT)
    bot.sweep()


def test_a_quiet_day_is_one_line_with_the_figures(bot_at: StartBot) -> None:
    bot = bot_at(START)
    bot.sweep()
    # Only history: back and interviewed weeks ago.
    old = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)
    episodes = [
        Ep("Amy Adams", old, returned=old + timedelta(hours=5), rhi=Rhi("completed", closed_at=old))
    ]
    seed(bot.services.db, episodes)
    at_eight(bot)
    [post] = digests(bot.fake)
    body = [b for b in post.blocks if b["type"] == "section"]
    assert len(body) == 1
    line = body[0]["text"]["text"]
    assert line.startswith(":white_check_mark: *Nothing to report:* 0 new episodes")
    want = expected(episodes, AT - timedelta(hours=24), AT)
    shown = headline(line)
    assert (sum(shown.new_by_risk.values()), shown.returns, shown.missing) == (0, 0, 0)
    assert (shown.overdue, shown.due) == (want.overdue, want.due) == (0, 0)
    assert "7-day daily averages: 0.0 new" in line


def test_two_hundred_missing_the_most_urgent_are_shown_and_the_rest_counted(
    bot_at: StartBot,
) -> None:
    bot = bot_at(START)
    bot.sweep()
    episodes = [
        Ep(
            f"Child{n} Test",
            AT - timedelta(hours=1 + (n * 7919) % 500),  # missing from 1 to 500 hours, shuffled
            RISKS[n % 4],
            looked_after=n % 3 == 0,
            authority=f"London Borough {n % 5} & <!channel>" if n % 3 == 0 else None,
        )
        for n in range(200)
    ]
    seed(bot.services.db, episodes)
    at_eight(bot)
    [post] = digests(bot.fake)
    payload = {"text": post.text, "blocks": post.blocks}
    assert_valid_message(payload)
    assert len(post.blocks) <= 50
    total_text = len(text_of(post))
    assert total_text < MAX_MESSAGE_BLOCK_TEXT
    for block in post.blocks:
        if block["type"] == "section" and "text" in block:
            assert len(block["text"]["text"]) < 3000

    rank = {r.value: r.rank for r in Risk}
    urgent = sorted(episodes, key=lambda e: (rank[e.risk], e.last_seen))
    listed = section(post, "Still missing")
    shown = refs(listed)
    assert 10 <= len(shown) < 200
    assert shown == [e.ref for e in urgent[: len(shown)]]  # the most urgent, in order
    assert f"…and {200 - len(shown)} more: `/missing list`" in listed
    assert headline(post.text or "").missing == 200
    # What people typed is escaped: no channel-wide ping.
    assert "<!channel>" not in str(post.blocks) and "&lt;!channel&gt;" in str(post.blocks)


def test_without_files_write_the_digest_posts_and_says_the_chart_is_missing(
    bot_at: StartBot,
) -> None:
    bot = bot_at(START)
    bot.sweep()
    seed(bot.services.db, [Ep("Amy Adams", AT - timedelta(hours=3), "high")])
    bot.fake.fail("files.getUploadURLExternal", "missing_scope", times=None)
    at_eight(bot)
    bot.clock.set(AT + timedelta(minutes=1))
    bot.sweep()
    [post] = digests(bot.fake)
    assert bot.fake.uploads == []
    # The digest itself now says so, where its readers look.
    [edit] = [p for p in bot.fake.posted if p.kind == "update" and p.ts == post.ts]
    assert "The chart could not be attached" in text_of(edit)
    assert "`files:write`" in text_of(edit)
    assert "Safeguarding digest" in text_of(edit)  # the digest kept, the note added
    # One file refused is not Slack refusing the bot: nothing paused, nothing else reported.
    with bot.services.db.read() as session:
        assert session.get(DeliveryPause, "slack") is None
    reports = [p for p in bot.fake.posted if "could not deliver" in (p.text or "").lower()]
    assert reports == []
    bot.log_episode()  # and everything else still goes
    assert len(bot.fake.uploads) == 0


def test_with_digest_chart_off_the_digest_posts_alone_and_promises_no_chart(
    bot_at: StartBot,
) -> None:
    bot = bot_at(START, digest_chart=False)
    bot.sweep()
    seed(bot.services.db, [Ep("Amy Adams", AT - timedelta(hours=3), "high")])
    at_eight(bot)
    bot.clock.set(AT + timedelta(minutes=1))
    bot.sweep()
    [post] = digests(bot.fake)
    assert "Still missing: 1" in text_of(post)
    assert "chart" not in text_of(post).lower()
    assert bot.fake.uploads == []
    assert bot.fake.calls_to("files.getUploadURLExternal") == []
    with bot.services.db.read() as session:
        kinds = session.scalars(select(OutboxMessage.kind)).all()
    assert MessageKind.DIGEST_CHART not in kinds


def test_a_copy_that_died_after_uploading_the_chart_does_not_upload_it_twice(
    bot_at: StartBot,
) -> None:
    bot = bot_at(START)
    bot.sweep()
    seed(bot.services.db, [Ep("Amy Adams", AT - timedelta(hours=3), "high")])
    # The digest falls due and is queued with its chart; this copy posts the digest only.
    bot.clock.set(AT)
    bot.services.sweeper.runner.run_due()
    outbox = bot.services.outbox
    with bot.services.db.read() as session:
        ids = dict(session.execute(select(OutboxMessage.kind, OutboxMessage.id)).all())
    outbox.deliver([ids[MessageKind.DIGEST]])
    [post] = digests(bot.fake)
    chart_id = ids[MessageKind.DIGEST_CHART]
    # Another copy claims it, uploads it into the thread, and dies before recording that.
    bot.clock.set(AT + timedelta(minutes=2))
    claimed = outbox.claim(chart_id)
    assert claimed is not None
    outbox.notifier.upload(
        target=SAFEGUARDING, thread_ts=post.ts, payload=claimed.payload, key=claimed.key
    )
    assert len(bot.fake.uploads) == 1
    # Its claim times out; this copy takes it over, looks in the thread first, finds it.
    bot.clock.set(AT + timedelta(minutes=10))
    bot.sweep()
    assert len(bot.fake.uploads) == 1
    with bot.services.db.read() as session:
        row = session.get(OutboxMessage, chart_id)
        assert row is not None and row.status == DeliveryStatus.SENT
        assert row.ts == bot.fake.uploads[0].ts
    assert bot.fake.calls_to("conversations.replies")
