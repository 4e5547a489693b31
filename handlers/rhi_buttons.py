"""Buttons on RHI reminders: Done, Declined, Snooze, Reassign. The message then shows who acted."""

from __future__ import annotations

import json
import logging
from typing import Any

from slack_bolt import Ack, Respond
from slack_sdk import WebClient
from slack_sdk.models.blocks import InputBlock, UserSelectElement
from slack_sdk.models.views import View

from bot.domain.errors import UserError
from bot.domain.rhi import RhiStatus
from bot.domain.timetext import fmt_local
from bot.services.container import Services
from handlers.blocks import rhi_messages
from handlers.errors import UNEXPECTED, report
from handlers.notifier import SlackNotifier
from storage.queries import delivery_by_message

log = logging.getLogger(__name__)

REASSIGN_CALLBACK = "rhi_reassign"
MAX_ID = 2**62  # ids are BIGINT: anything larger is not ours
SNOOZE_HOURS = 4


def _ids(value: str) -> tuple[int, int]:
    try:
        rhi_id, episode_id = (int(part) for part in value.split(":"))
    except (ValueError, AttributeError):
        rhi_id = episode_id = 0
    if not (0 < rhi_id < MAX_ID and 0 < episode_id < MAX_ID):
        raise UserError("That button is not one of mine; nothing was changed.")
    return rhi_id, episode_id


def clicked(
    ack: Ack,
    body: dict[str, Any],
    action: dict[str, Any],
    client: WebClient,
    respond: Respond,
    services: Services,
) -> None:
    ack()
    try:
        _act(body, action, client, services)
    except Exception as error:  # answered here, after ack: see handlers.errors.on_error
        report(error, respond, what=f"button {action.get('action_id')}")


def _act(
    body: dict[str, Any], action: dict[str, Any], client: WebClient, services: Services
) -> None:
    user = body["user"]["id"]
    rhi_id, episode_id = _ids(action.get("value", ""))
    services.rhi.check_may_act(rhi_id, user=user)
    action_id = action["action_id"]
    tz, now = services.tz, services.clock.now()
    if action_id == rhi_messages.REASSIGN:
        container = body.get("container", {})
        client.views_open(
            trigger_id=body["trigger_id"],
            view=reassign_view(
                rhi_id=rhi_id,
                episode_id=episode_id,
                channel=container.get("channel_id"),
                ts=container.get("message_ts"),
            ),
        )
        return
    if action_id == rhi_messages.SNOOZE:
        change = services.rhi.snooze(episode_id, hours=SNOOZE_HOURS, actor=user)
        assert change.snoozed_until is not None
        note = f":zzz: Snoozed by <@{user}> until {fmt_local(change.snoozed_until, tz)}."
        _update_message(client, body, note, still_open=True)
        return
    status = RhiStatus.COMPLETED if action_id == rhi_messages.DONE else RhiStatus.DECLINED
    change = services.rhi.set_status(episode_id, status, actor=user, expected_rhi_id=rhi_id)
    services.worker.deliver(change.delivery_ids)
    note = f":white_check_mark: Marked {status.label} by <@{user}> at {fmt_local(now, tz)}."
    _update_message(client, body, note)


def _update_message(
    client: WebClient, body: dict[str, Any], note: str, *, still_open: bool = False
) -> None:
    container = body.get("container", {})
    message = body.get("message") or {}
    if container.get("channel_id") and container.get("message_ts"):
        client.chat_update(
            channel=container["channel_id"],
            ts=container["message_ts"],
            **rhi_messages.rhi_acted(message, note=note, still_open=still_open),
        )


def reassign_view(
    *, rhi_id: int, episode_id: int, channel: str | None, ts: str | None
) -> dict[str, Any]:
    return View(
        type="modal",
        callback_id=REASSIGN_CALLBACK,
        title="Reassign the RHI",
        submit="Reassign",
        close="Cancel",
        private_metadata=json.dumps(
            {"rhi_id": rhi_id, "episode_id": episode_id, "channel": channel, "ts": ts}
        ),
        blocks=[
            InputBlock(
                block_id="assignee",
                label="Who chases it now?",
                element=UserSelectElement(action_id="assignee"),
            )
        ],
    ).to_dict()


def submit_reassign(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, services: Services
) -> None:
    try:
        _submit_reassign(ack, body, view, client, services)
    except Exception:
        log.exception("the reassign form could not be handled")
        if ack.response is None:
            ack(response_action="errors", errors={"assignee": UNEXPECTED[:150]})


def _submit_reassign(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, services: Services
) -> None:
    user = body["user"]["id"]
    meta = json.loads(view.get("private_metadata") or "{}")
    chosen = (view["state"]["values"].get("assignee", {}).get("assignee") or {}).get(
        "selected_user"
    )
    if not chosen:
        ack(response_action="errors", errors={"assignee": "Choose a person."})
        return
    try:
        services.rhi.check_may_act(int(meta["rhi_id"]), user=user)
        change = services.rhi.assign(int(meta["episode_id"]), to=chosen, actor=user)
    except UserError as exc:
        ack(response_action="errors", errors={"assignee": exc.message[:150]})
        return
    ack()
    if meta.get("channel") and meta.get("ts"):
        note = f":arrows_counterclockwise: Reassigned to <@{change.assignee_id}> by <@{user}>."
        original = _original_reminder(services, meta["channel"], meta["ts"])
        client.chat_update(
            channel=meta["channel"], ts=meta["ts"], **rhi_messages.rhi_acted(original, note=note)
        )


def _original_reminder(services: Services, channel: str, ts: str) -> dict[str, Any]:
    """Re-render the reminder from its outbox row: the modal does not carry the message."""
    with services.db.transaction() as session:
        delivery = delivery_by_message(session, channel=channel, ts=ts)
    if delivery is None:
        return {"text": "Return home interview reminder", "blocks": []}
    notifier = services.worker.notifier
    assert isinstance(notifier, SlackNotifier)
    return notifier.render(delivery.kind, delivery.payload, now=services.clock.now())
