"""The outbox's branches: failures, retries, waiting for a parent post, cancelling, lateness."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.domain.states import DeliveryStatus, RhiStatus
from bot.services.messages import DeliveryFailed
from bot.services.ports import DeliveryError
from storage.models import OutboxMessage
from tests.services.conftest import CONTROL, LOGGER, OFFICER, SAFEGUARDING, World, as_
from tests.support.recording import Recorded


def rows(world: World) -> dict[str, OutboxMessage]:
    with world.services.db.read() as session:
        return {r.key: r for r in session.scalars(select(OutboxMessage))}


def test_an_enqueued_key_is_enqueued_once(world: World) -> None:
    outbox = world.services.outbox
    message = DeliveryFailed(what="x", target="U1", reason="r", ref=None)
    with world.services.db.transaction() as session:
        first = outbox.enqueue(
            session, key="k", message=message, target="C1", now=world.clock.now()
        )
        again = outbox.enqueue(
            session, key="k", message=message, target="C1", now=world.clock.now()
        )
    assert first is not None and again is None


def test_a_permanent_failure_is_reported_once_and_not_retried(world: World) -> None:
    world.notifier.fail_next(DeliveryError("channel_not_found", permanent=True))
    world.log()
    post = rows(world)["episode:1:post"]
    assert (post.status, post.error) == (DeliveryStatus.FAILED, "channel_not_found")
    (report,) = world.notifier.to(SAFEGUARDING)
    assert "could not deliver" in str(report.payload) and "channel_not_found" in str(report.payload)
    world.clock.advance(hours=1)
    world.services.sweeper.run_once()
    assert len(world.notifier.to(SAFEGUARDING)) == 1


def test_a_transient_failure_backs_off_then_goes(world: World) -> None:
    world.notifier.fail_next(DeliveryError("ratelimited", permanent=False, retry_after=90))
    world.log()
    post = rows(world)["episode:1:post"]
    assert (post.status, post.attempts) == (DeliveryStatus.PENDING, 1)
    assert post.not_before == world.clock.now() + timedelta(seconds=90)
    world.clock.advance(seconds=60)
    world.services.sweeper.run_once()
    assert rows(world)["episode:1:post"].status == DeliveryStatus.PENDING
    world.clock.advance(seconds=31)
    world.services.sweeper.run_once()
    post = rows(world)["episode:1:post"]
    assert (post.status, post.attempts) == (DeliveryStatus.SENT, 2)


def test_a_thread_reply_waits_for_its_parent_post(world: World) -> None:
    world.notifier.fail_next(DeliveryError("http 500", permanent=False))
    world.log()
    world.services.episodes.record_return(1, caller=as_(LOGGER), returned_at=None)
    world.settle()
    reply = rows(world)["episode:1:returned:1"]
    assert (reply.status, reply.attempts) == (DeliveryStatus.PENDING, 0)
    world.clock.advance(minutes=1)
    world.services.sweeper.run_once()
    post, thread = [r for r in world.notifier.sent if r.key.startswith("episode:1:")][-2:]
    assert post.key == "episode:1:post" and thread.thread_ts == post.ts


def test_a_reminder_for_a_closed_interview_is_cancelled_unsent(world: World) -> None:
    world.log()
    world.services.episodes.record_return(1, caller=as_(LOGGER), returned_at=None)
    world.settle()
    world.notifier.fail_next(DeliveryError("http 500", permanent=False), target=OFFICER)
    world.clock.advance(hours=48)
    world.services.sweeper.run_once()
    assert rows(world)["rhi:1:due_soon"].status == DeliveryStatus.PENDING
    world.services.rhi.set_status(1, RhiStatus.COMPLETED, caller=as_(OFFICER))
    world.clock.advance(minutes=5)
    world.services.sweeper.run_once()
    assert rows(world)["rhi:1:due_soon"].status == DeliveryStatus.CANCELLED
    assert "rhi:1:due_soon" not in world.notifier.keys_sent()


def test_a_message_sent_long_after_it_was_queued_says_so(world: World) -> None:
    world.notifier.fail_next(DeliveryError("http 500", permanent=False), times=1)
    world.log()
    world.clock.advance(minutes=30)
    world.services.sweeper.run_once()
    post = next(r for r in world.notifier.sent if r.key == "episode:1:post")
    assert "Sent late: queued Tue 24/11/2026 12:00" in post.text


def failure_reports(world: World) -> list[Recorded]:
    """What the safeguarding channel was sent, but for the daily digest (and its chart)."""
    return [r for r in world.notifier.to(SAFEGUARDING) if not r.key.startswith("digest:")]


def test_a_message_failing_twenty_times_is_reported_once_and_stops(world: World) -> None:
    world.notifier.fail_next(DeliveryError("http 503", permanent=False), times=1000, target=CONTROL)
    world.log()

    def hourly_passes(hours: int) -> None:
        for _ in range(hours):
            world.clock.advance(hours=1)
            world.services.sweeper.run_once()

    # The waits double from 30 s to 4 h: after 40 hours it is still being tried...
    hourly_passes(40)
    post = rows(world)["episode:1:post"]
    assert post.status == DeliveryStatus.PENDING and 10 < post.attempts < 20
    assert failure_reports(world) == []
    # ...and by the third day it has been given up, reported once, and left alone.
    hourly_passes(30)
    post = rows(world)["episode:1:post"]
    assert (post.status, post.attempts) == (DeliveryStatus.FAILED, 20)
    assert post.error == "http 503 (gave up after 20 attempts)"
    (report,) = failure_reports(world)
    assert "gave up after 20 attempts" in str(report.payload)
