"""The scheduler's runner: only what is due, changes made meanwhile win, settings changes replan."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.domain.returns import ReturnDetails
from bot.domain.states import FollowupKind, RhiStatus, SafeWellStatus
from storage.models import Followup, ReturnInterview
from tests.services.conftest import LOGGER, OFFICER, START, World, as_, make_world


def followup(world: World, kind: FollowupKind = FollowupKind.RHI) -> Followup:
    with world.services.db.read() as session:
        return session.scalars(select(Followup).where(Followup.kind == kind)).one()


def returned(world: World) -> None:
    """Returned with the safe-and-well check done: only the RHI's follow-up is left."""
    world.log()
    done = ReturnDetails(safe_well=SafeWellStatus.DONE)
    world.services.episodes.record_return(1, as_(LOGGER), returned_at=None, details=done)
    world.settle()


def test_a_pass_touches_only_what_is_due(world: World) -> None:
    returned(world)
    row = followup(world)
    assert (row.step, row.next_at) == ("due_soon", world.clock.now() + timedelta(hours=48))
    world.clock.advance(hours=47)
    assert world.services.sweeper.runner.run_due().claimed == 0
    world.clock.advance(hours=1)
    result = world.services.sweeper.runner.run_due()
    assert (result.claimed, result.messages) == (1, 1)
    row = followup(world)
    assert (row.step, row.next_at, row.leased_by) == (
        "due_now",
        world.clock.now() + timedelta(hours=24),
        None,
    )


def test_a_change_made_while_a_pass_decides_wins(world: World) -> None:
    returned(world)
    world.clock.advance(hours=48)
    runner = world.services.sweeper.runner
    now = world.clock.now()
    claimed = runner._claim(now)
    decisions = runner._prepare(claimed, now)
    # Meanwhile the officer records the outcome: the prepared reminder must not be queued.
    world.services.rhi.set_status(1, RhiStatus.COMPLETED, as_(OFFICER))
    assert runner._apply(decisions, now) == (0, 0)
    assert followup(world).next_at is None
    world.services.sweeper.run_once()
    assert "rhi:1:due_soon" not in world.notifier.keys_sent()


def test_a_failing_handler_is_retried_later_not_in_a_loop(world: World) -> None:
    returned(world)
    world.clock.advance(hours=48)
    ladder = world.services.sweeper.runner.handlers[FollowupKind.RHI]

    def broken(rows: object, now: object) -> list[object]:
        raise RuntimeError("a bug")

    ladder.prepare = broken  # type: ignore[method-assign]
    result = world.services.sweeper.runner.run_due()
    assert result.claimed == 1
    assert followup(world).next_at == world.clock.now() + timedelta(minutes=5)


def test_changed_settings_replan_every_open_interview(world: World, sqlite_url: str) -> None:
    # `world` ran on its own database; this test needs two copies of the bot on one.
    first = make_world(sqlite_url)
    try:
        first.log()
        first.services.episodes.record_return(1, as_(LOGGER), returned_at=None)
        for hours in (0, 48, 72, 96):  # reminded and escalated: next, the lapse at 14 days
            first.clock.set(START + timedelta(hours=hours))
            first.services.sweeper.run_once()
        assert followup(first).step == "lapse"
    finally:
        first.services.close()
    # Restarted with RHI_LAPSE_DAYS=7: the lapse comes after a week, not a fortnight.
    second = make_world(sqlite_url, rhi_lapse_days=7)
    try:
        second.clock.set(first.clock.now())
        second.services.sweeper.run_once()
        second.clock.advance(days=7, minutes=1)
        second.services.sweeper.run_once()
        with second.services.db.read() as session:
            rhi = session.scalars(select(ReturnInterview)).one()
        assert (rhi.status, rhi.status_reason) == (RhiStatus.NOT_DONE, "lapsed")
    finally:
        second.services.close()
