"""When the digest goes: 08:00 London time on both sides of the 2026 clock changes, once a
day; late the same day after downtime, never stale the next; retried while Slack is down."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from fakeslack import Posted
from storage.models import OutboxMessage
from tests.support.digest_reading import digests, headline, text_of
from tests.support.digest_seed import Ep, Rhi, expected, seed
from tests.support.harness import Bot

# These tests read the chart in the digest's thread.
pytestmark = pytest.mark.digest_chart

StartBot = Callable[..., Bot]


def passes(bot: Bot, start: datetime, end: datetime, every: timedelta) -> None:
    """A scheduler pass every `every` from `start` to `end`, as a running copy would."""
    at = start
    while at <= end:
        bot.clock.set(at)
        bot.sweep()
        at += every


def posted_at(post: Posted, bot: Bot) -> datetime:
    """When a digest went out: the time the bot recorded it as sent."""
    with bot.services.db.read() as session:
        sent = session.scalar(select(OutboxMessage.sent_at).where(OutboxMessage.ts == post.ts))
    assert sent is not None
    return sent


def test_spring_forward_the_digest_still_comes_at_eight_local(bot_at: StartBot) -> None:
    """29/03/2026: clocks go from 01:00 GMT to 02:00 BST. 08:00 is 08:00 UTC on the 28th and
    07:00 UTC on the 29th; the digest of the 29th covers 23 hours."""
    bot = bot_at(datetime(2026, 3, 27, 12, 0, tzinfo=UTC))
    bot.sweep()
    episodes = [
        Ep("Amy Adams", datetime(2026, 3, 28, 20, 0, tzinfo=UTC), "high"),
        # 07:30 BST on the 29th: before that day's 08:00.
        Ep("Ben Brown", datetime(2026, 3, 29, 6, 30, tzinfo=UTC)),
        # 08:30 BST on the 29th: after its digest (a digest keyed on 08:00 UTC would count it).
        Ep("Cal Cole", datetime(2026, 3, 29, 7, 30, tzinfo=UTC)),
    ]
    seed(bot.services.db, episodes)
    passes(
        bot,
        datetime(2026, 3, 28, 0, 0, tzinfo=UTC),
        datetime(2026, 3, 30, 12, 0, tzinfo=UTC),
        timedelta(minutes=30),
    )
    first, second, third = digests(bot.fake)
    assert [posted_at(p, bot) for p in (first, second, third)] == [
        datetime(2026, 3, 28, 8, 0, tzinfo=UTC),
        datetime(2026, 3, 29, 7, 0, tzinfo=UTC),
        datetime(2026, 3, 30, 7, 0, tzinfo=UTC),
    ]
    assert "Sun 29/03/2026" in (second.text or "")
    assert "Covers Sat 28/03/2026 08:00 to Sun 29/03/2026 08:00 (23 h 0 min)" in text_of(second)
    want = expected(
        episodes,
        datetime(2026, 3, 28, 8, 0, tzinfo=UTC),
        datetime(2026, 3, 29, 7, 0, tzinfo=UTC),
    )
    assert headline(second.text or "").new_by_risk == want.new_by_risk
    assert sum(want.new_by_risk.values()) == 2  # Amy and Ben; Cal is the 30th's
    assert sum(headline(third.text or "").new_by_risk.values()) == 1


def test_fall_back_the_digest_still_comes_at_eight_local(bot_at: StartBot) -> None:
    """25/10/2026: clocks go from 02:00 BST back to 01:00 GMT. 08:00 is 07:00 UTC on the 24th
    and 08:00 UTC on the 25th; the digest of the 25th covers 25 hours."""
    bot = bot_at(datetime(2026, 10, 23, 12, 0, tzinfo=UTC))
    bot.sweep()
    episodes = [
        Ep("Amy Adams", datetime(2026, 10, 24, 22, 0, tzinfo=UTC), "high"),
        # 07:30 GMT on the 25th: before its 08:00 (a digest at 07:00 UTC would miss it).
        Ep("Ben Brown", datetime(2026, 10, 25, 7, 30, tzinfo=UTC)),
        # 01:30 on the 25th happened twice: this is the second (GMT) one.
        Ep("Cal Cole", datetime(2026, 10, 25, 1, 30, tzinfo=UTC), "low"),
    ]
    seed(bot.services.db, episodes)
    passes(
        bot,
        datetime(2026, 10, 24, 0, 0, tzinfo=UTC),
        datetime(2026, 10, 26, 12, 0, tzinfo=UTC),
        timedelta(minutes=30),
    )
    first, second, third = digests(bot.fake)
    assert [posted_at(p, bot) for p in (first, second, third)] == [
        datetime(2026, 10, 24, 7, 0, tzinfo=UTC),
        datetime(2026, 10, 25, 8, 0, tzinfo=UTC),
        datetime(2026, 10, 26, 8, 0, tzinfo=UTC),
    ]
    assert "Covers Sat 24/10/2026 08:00 to Sun 25/10/2026 08:00 (1 d 1 h)" in text_of(second)
    want = expected(
        episodes,
        datetime(2026, 10, 24, 7, 0, tzinfo=UTC),
        datetime(2026, 10, 25, 8, 0, tzinfo=UTC),
    )
    assert headline(second.text or "").new_by_risk == want.new_by_risk
    assert sum(want.new_by_risk.values()) == 3


def test_after_downtime_late_the_same_day_never_stale_the_next(bot_at: StartBot) -> None:
    day = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
    bot = bot_at(day)
    bot.sweep()  # plans 08:00 on the 25th; then the bot is down until 10:30 that day
    episodes = [
        Ep("Amy Adams", datetime(2026, 11, 25, 2, 0, tzinfo=UTC), "high"),
        Ep(
            "Ben Brown",
            datetime(2026, 11, 26, 9, 0, tzinfo=UTC),
            "low",
            returned=datetime(2026, 11, 26, 15, 0, tzinfo=UTC),
            rhi=Rhi(),
        ),
        Ep("Cal Cole", datetime(2026, 11, 27, 3, 0, tzinfo=UTC)),
    ]
    seed(bot.services.db, episodes)

    late = datetime(2026, 11, 25, 10, 30, tzinfo=UTC)
    bot.clock.set(late)
    bot.sweep()
    bot.clock.set(late + timedelta(minutes=5))
    bot.sweep()
    [first] = digests(bot.fake)
    assert "Wed 25/11/2026" in (first.text or "")
    assert "*Late:* due at 08:00, posted 2 h 30 min later." in text_of(first)
    assert "Posted late" in (first.text or "")

    # Down again from noon on the 25th until 06:00 on the 27th: the 26th's digest is not
    # posted that early morning as a stale digest...
    bot.clock.set(datetime(2026, 11, 27, 6, 0, tzinfo=UTC))
    bot.sweep()
    assert len(digests(bot.fake)) == 1
    # ...and the 27th's covers the whole time since the last one, and says so.
    passes(
        bot,
        datetime(2026, 11, 27, 7, 0, tzinfo=UTC),
        datetime(2026, 11, 27, 9, 0, tzinfo=UTC),
        timedelta(minutes=10),
    )
    _, second = digests(bot.fake)
    text = text_of(second)
    assert "Fri 27/11/2026" in (second.text or "")
    assert "No digest was posted on Thu 26/11/2026" in text
    assert "Covers Wed 25/11/2026 10:30 to Fri 27/11/2026 08:00" in text
    assert "*Late:*" not in text
    since, until = late, datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
    want = expected(episodes, since, until)
    shown = headline(second.text or "")
    assert (shown.new_by_risk, shown.returns, shown.missing) == (
        want.new_by_risk,
        want.returns,
        want.missing,
    )
    assert (sum(want.new_by_risk.values()), want.returns) == (2, 1)


def test_slack_down_at_eight_the_digest_is_retried_and_says_it_is_late(bot_at: StartBot) -> None:
    bot = bot_at(datetime(2026, 11, 24, 12, 0, tzinfo=UTC))
    bot.sweep()
    seed(bot.services.db, [Ep("Amy Adams", datetime(2026, 11, 25, 2, 0, tzinfo=UTC))])
    bot.fake.fail("chat.postMessage", status=503, times=None)
    passes(
        bot,
        datetime(2026, 11, 25, 8, 0, 30, tzinfo=UTC),
        datetime(2026, 11, 25, 8, 40, tzinfo=UTC),
        timedelta(minutes=2),
    )
    assert digests(bot.fake) == []
    tried = len(bot.fake.calls_to("chat.postMessage"))
    assert tried >= 3  # retried on later passes, waits doubling
    bot.fake.clear_faults()
    passes(
        bot,
        datetime(2026, 11, 25, 8, 45, tzinfo=UTC),
        datetime(2026, 11, 25, 10, 0, tzinfo=UTC),
        timedelta(minutes=5),
    )
    [post] = digests(bot.fake)
    assert "Sent late: queued Wed 25/11/2026 08:00" in (post.text or "")
    assert len(bot.fake.uploads) == 1 and bot.fake.uploads[0].thread_ts == post.ts
