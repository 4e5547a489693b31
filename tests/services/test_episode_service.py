"""Episode use cases, straight through the services (no Slack, no HTTP)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.domain.errors import NotFound, UserError
from bot.domain.states import AuditAction, EpisodeStatus, RhiStatus
from bot.services.ports import DeliveryError
from storage.models import AuditEvent, ReturnInterview
from tests.services.conftest import CONTROL, LOGGER, OFFICER, World, as_


def test_a_logged_episode_is_posted_then_confirmed_privately(world: World) -> None:
    world.log()
    post, confirmation, assigned = world.notifier.sent
    assert (post.target, post.key) == (CONTROL, "episode:1:post")
    # The officer in the case is not the person logging: they are told it is theirs.
    assert assigned.target == OFFICER and "named you the officer in the case" in str(
        assigned.payload
    )
    assert "Jane" not in str(post.payload) and "Acacia" not in str(post.payload)
    assert confirmation.target == LOGGER and "Logged *M-1*" in confirmation.text
    assert "Posted to the control-room channel" in confirmation.text


def test_the_confirmation_says_when_the_post_has_not_gone_out(world: World) -> None:
    world.notifier.fail_next(DeliveryError("http 500", permanent=False))
    world.log()
    confirmation = world.notifier.to(LOGGER)[0]
    assert "has not gone out yet" in confirmation.text


def test_invalid_episode_names_the_field(world: World) -> None:
    with pytest.raises(UserError) as caught:
        world.services.episodes.log(world.new_episode(child_name="  "), caller=as_(LOGGER))
    assert caught.value.field == "child_name"
    future = world.clock.now() + timedelta(minutes=5)
    with pytest.raises(UserError) as caught:
        world.services.episodes.log(world.new_episode(last_seen_at=future), caller=as_(LOGGER))
    assert caught.value.field == "last_seen_at"
    assert world.notifier.sent == []


def test_the_same_child_is_linked_and_counted(world: World) -> None:
    world.log()
    world.services.episodes.record_return(1, caller=as_(LOGGER), returned_at=None)
    world.clock.advance(days=2)
    logged = world.services.episodes.log(
        world.new_episode(child_name="jane  mary SMITH"), caller=as_(LOGGER)
    )
    assert (logged.card.child_episode_number, logged.card.recent_count) == (2, 2)


def test_return_rules(world: World) -> None:
    world.log()
    episodes = world.services.episodes
    with pytest.raises(UserError, match="future"):
        episodes.record_return(
            1, caller=as_(LOGGER), returned_at=world.clock.now() + timedelta(hours=1)
        )
    with pytest.raises(UserError, match="before the child was last seen"):
        episodes.record_return(
            1, caller=as_(LOGGER), returned_at=world.clock.now() - timedelta(days=1)
        )
    with pytest.raises(NotFound):
        episodes.record_return(99, caller=as_(LOGGER), returned_at=None)
    first = episodes.record_return(1, caller=as_(LOGGER), returned_at=None)
    assert first.rhi_due_at == world.clock.now() + timedelta(hours=72) and not first.already
    again = episodes.record_return(1, caller=as_(LOGGER), returned_at=None)
    assert again.already and again.returned_at == first.returned_at
    world.settle()
    reply = world.notifier.sent[-1]
    assert reply.thread_ts == world.notifier.sent[0].ts and "returned" in reply.text


def test_reopen_cancels_the_interview(world: World) -> None:
    world.log()
    episodes = world.services.episodes
    with pytest.raises(UserError, match="cannot become missing"):
        episodes.reopen(1, caller=as_(LOGGER), reason="test")
    episodes.record_return(1, caller=as_(LOGGER), returned_at=None)
    with pytest.raises(UserError, match="Say why"):
        episodes.reopen(1, caller=as_(LOGGER), reason=" ")
    episodes.reopen(1, caller=as_(LOGGER), reason="logged in error")
    with world.services.db.read() as session:
        (rhi,) = session.scalars(select(ReturnInterview)).all()
        assert rhi.status == RhiStatus.CANCELLED
    assert episodes.show(1, caller=as_(LOGGER)).card.status is EpisodeStatus.MISSING


def test_show_is_audited_and_history_leaves_views_out(world: World) -> None:
    world.log()
    detail = world.services.episodes.show(1, caller=as_(OFFICER))
    world.services.episodes.show(1, caller=as_(OFFICER))
    assert detail.full_name == "Jane Mary Smith" and detail.card.initials == "J.M.S."
    # The control room sees the details; the history needs the safeguarding role.
    assert detail.history is None
    history = world.services.episodes.show(1, caller=as_(LOGGER)).history
    assert history is not None and [h.action for h in history] == [AuditAction.EPISODE_LOGGED]
    with world.services.db.read() as session:
        views = session.scalars(
            select(AuditEvent).where(AuditEvent.action == AuditAction.EPISODE_VIEWED)
        ).all()
    assert [v.actor for v in views] == [OFFICER, OFFICER, LOGGER]


def test_open_list_at_one_risk_is_longest_missing_first(world: World) -> None:
    world.log(last_seen_at=world.clock.now() - timedelta(hours=1))
    world.log(child_name="Ann Other", last_seen_at=world.clock.now() - timedelta(hours=5))
    listing = world.services.lists.open_episodes(caller=as_(LOGGER))
    assert [c.ref for c in listing.cards] == ["M-2", "M-1"] and listing.total == 2
