"""Risk reviews through the services: settings changed between runs, and reminders queued but
not yet sent when the review is recorded or the child comes back."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.services.ports import DeliveryError
from storage.models import Episode, OutboxMessage
from tests.services.conftest import LOGGER, OFFICER, START, World, as_, make_world


def review_rows(world: World) -> list[tuple[str, str]]:
    with world.services.db.read() as session:
        rows = session.scalars(select(OutboxMessage).where(OutboxMessage.key.like("review:%")))
        return [(o.key, o.status) for o in rows]


def dues(world: World) -> dict[int, object]:
    with world.services.db.read() as session:
        return {e.id: e.review_due_at for e in session.scalars(select(Episode))}


def test_changed_review_hours_replan_open_episodes_at_start_up(sqlite_url: str) -> None:
    first = make_world(sqlite_url)
    try:
        first.log()  # high: due 14:00
        first.log(child_name="Ann Other", risk_level="medium")  # due 18:00
        first.services.sweeper.run_once()  # remembers the settings it ran with
    finally:
        first.services.close()
    again = make_world(sqlite_url)
    try:
        again.services.sweeper.run_once()  # the same settings: nothing moves
        assert dues(again) == {1: START + timedelta(hours=2), 2: START + timedelta(hours=6)}
    finally:
        again.services.close()
    changed = make_world(sqlite_url, review_hours="high=4")
    try:
        changed.services.sweeper.run_once()
        assert dues(changed) == {1: START + timedelta(hours=4), 2: START + timedelta(hours=6)}
        changed.clock.advance(hours=4)
        changed.services.sweeper.run_once()
        assert review_rows(changed) == [("review:1:20261124T160000Z:due", "sent")]
    finally:
        changed.services.close()


def test_a_reminder_not_yet_sent_is_dropped_once_the_child_is_back(world: World) -> None:
    world.log()
    world.notifier.fail_next(DeliveryError("http 500", permanent=False), target=OFFICER)
    world.clock.advance(hours=2)
    world.services.sweeper.run_once()
    assert review_rows(world) == [("review:1:20261124T140000Z:due", "pending")]
    world.services.episodes.record_return(1, as_(LOGGER), returned_at=None)
    world.clock.advance(minutes=5)
    world.services.sweeper.run_once()
    assert review_rows(world) == [("review:1:20261124T140000Z:due", "cancelled")]
    assert not [s for s in world.notifier.sent if s.key.startswith("review:")]


def test_a_reminder_not_yet_sent_is_dropped_once_the_review_is_recorded(world: World) -> None:
    world.log()
    world.notifier.fail_next(DeliveryError("http 500", permanent=False), target=OFFICER)
    world.clock.advance(hours=2)
    world.services.sweeper.run_once()
    due = START + timedelta(hours=2)
    world.clock.advance(minutes=1)
    reviewed = world.services.updates.review(1, as_(OFFICER), due_at=due)
    assert reviewed.next_review == START + timedelta(hours=4, minutes=1)
    world.clock.advance(minutes=5)
    world.services.sweeper.run_once()
    assert review_rows(world) == [("review:1:20261124T140000Z:due", "cancelled")]
