"""Return home interview use cases: transitions, permissions, stale buttons, snoozes."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.domain.access import Role
from bot.domain.errors import UserError
from bot.domain.states import RhiStatus
from bot.services.access import Refused
from bot.services.messages import MessageRef
from tests.services.conftest import LOGGER, OFFICER, World, as_

STRANGER = "USTRANGER"


def returned(world: World) -> None:
    world.log()
    world.services.episodes.record_return(1, caller=as_(LOGGER), returned_at=None)
    world.settle()


def test_allowed_and_refused_transitions(world: World) -> None:
    returned(world)
    rhi = world.services.rhi
    assert rhi.set_status(1, RhiStatus.OFFERED, caller=as_(OFFICER)).status is RhiStatus.OFFERED
    with pytest.raises(UserError, match="Say why"):
        rhi.set_status(1, RhiStatus.NOT_DONE, caller=as_(OFFICER))
    with pytest.raises(UserError, match="in the future"):
        rhi.set_status(
            1, RhiStatus.COMPLETED, caller=as_(OFFICER), when=world.clock.now() + timedelta(hours=1)
        )
    with pytest.raises(UserError, match="before the child returned"):
        rhi.set_status(
            1, RhiStatus.COMPLETED, caller=as_(OFFICER), when=world.clock.now() - timedelta(hours=1)
        )
    done = rhi.set_status(1, RhiStatus.COMPLETED, caller=as_(OFFICER), organisation="Catch22")
    assert done.completed_by_org == "Catch22"
    with pytest.raises(UserError, match="already closed"):
        rhi.set_status(1, RhiStatus.DECLINED, caller=as_(OFFICER))


def test_one_permission_rule_for_commands_and_buttons(world: World) -> None:
    returned(world)
    rhi = world.services.rhi
    with pytest.raises(Refused, match="You need the \\*safeguarding\\* role"):
        rhi.set_status(1, RhiStatus.COMPLETED, caller=as_(STRANGER))
    with pytest.raises(Refused):
        rhi.set_status(1, RhiStatus.COMPLETED, caller=as_(STRANGER), rhi_id=1)
    with pytest.raises(Refused):
        rhi.snooze(1, hours=2, caller=as_(STRANGER))
    with pytest.raises(Refused):
        rhi.assign(1, to=STRANGER, caller=as_(STRANGER))
    # Nobody can hand it to a person without a role.
    with pytest.raises(UserError, match="has no missing-bot role"):
        rhi.assign(1, to="USOCIAL", caller=as_(OFFICER))
    # The officer in the case hands it over; the new person may then act.
    world.services.access.grant(as_(LOGGER), user_id="USOCIAL", role=Role.CONTROL_ROOM)
    rhi.assign(1, to="USOCIAL", caller=as_(OFFICER))
    assert rhi.snooze(1, hours=2, caller=as_("USOCIAL")).snoozed_until is not None


def test_a_stale_or_forged_button_changes_nothing(world: World) -> None:
    returned(world)
    episodes, rhi = world.services.episodes, world.services.rhi
    world.log(child_name="Ann Other")
    with pytest.raises(UserError, match="not one of mine"):
        rhi.set_status(2, RhiStatus.COMPLETED, caller=as_(OFFICER), rhi_id=1)
    episodes.reopen(1, caller=as_(OFFICER), reason="error")
    world.clock.advance(minutes=5)
    episodes.record_return(1, caller=as_(OFFICER), returned_at=None)
    with pytest.raises(UserError, match="no longer open \\(cancelled\\)"):
        rhi.set_status(1, RhiStatus.COMPLETED, caller=as_(OFFICER), rhi_id=1)
    assert rhi.set_status(1, RhiStatus.COMPLETED, caller=as_(OFFICER), rhi_id=2).rhi_id == 2


def test_snooze_stops_at_the_due_time(world: World) -> None:
    returned(world)
    rhi = world.services.rhi
    world.clock.advance(hours=70)
    snoozed = rhi.snooze(1, hours=10, caller=as_(OFFICER))
    assert snoozed.snoozed_until == snoozed.due_at
    world.clock.advance(hours=5)
    assert rhi.snooze(
        1, hours=10, caller=as_(OFFICER)
    ).snoozed_until == world.clock.now() + timedelta(hours=10)
    with pytest.raises(UserError, match="at most 72"):
        rhi.snooze(1, hours=73, caller=as_(OFFICER))


def test_only_a_reminder_about_that_interview_is_edited(world: World) -> None:
    returned(world)
    world.clock.advance(hours=48)
    world.services.sweeper.run_once()
    (reminder,) = [r for r in world.notifier.sent if r.key == "rhi:1:due_soon"]
    post = world.notifier.sent[0]  # the episode's channel post: not a reminder
    forged = MessageRef(post.target, post.ts)
    edits = len(world.notifier.updates)  # the post itself was edited when the child came back
    world.services.rhi.snooze(1, hours=1, caller=as_(OFFICER), rhi_id=1, message=forged)
    world.settle()
    assert len(world.notifier.updates) == edits
    real = MessageRef(f"D{reminder.target}", reminder.ts)
    world.services.rhi.set_status(
        1, RhiStatus.COMPLETED, caller=as_(OFFICER), rhi_id=1, message=real
    )
    world.settle()
    ((channel, ts, payload),) = world.notifier.updates[edits:]
    assert (channel, ts) == (real.channel, real.ts)
    assert "Marked completed by <@UOFFICER>" in str(payload["blocks"])
    assert "actions" not in [b["type"] for b in payload["blocks"]]
