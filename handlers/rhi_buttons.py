"""Buttons on RHI reminders: Done, Declined, Snooze, Reassign.

Each button carries "<rhi_id>:<episode_id>"; the service checks both against the database and
acts on that interview only. The reminder is then edited (from what the bot posted, not from
the click payload) to show who did what.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from slack_bolt import Ack, Respond
from slack_sdk import WebClient
from slack_sdk.models.blocks import InputBlock, UserSelectElement
from slack_sdk.models.views import View

from bot.domain.errors import UserError
from bot.domain.states import RhiStatus
from bot.services.container import Services
from bot.services.messages import MessageRef
from handlers.blocks import rhi_messages
from handlers.callers import action_caller, view_caller
from handlers.errors import answer_for, log_error, report

log = logging.getLogger(__name__)

REASSIGN_CALLBACK = "rhi_reassign"
MAX_ID = 2**62  # ids are BIGINT: anything larger is not ours
SNOOZE_HOURS = 4


def parse_ids(value: object) -> tuple[int, int]:
    """(rhi id, episode id) from a button value or form metadata; UserError if not ours."""
    try:
        rhi_text, episode_text = str(value).split(":")
        rhi_id, episode_id = int(rhi_text), int(episode_text)
    except ValueError:
        rhi_id = episode_id = 0
    if not (0 < rhi_id < MAX_ID and 0 < episode_id < MAX_ID):
        raise UserError("That button is not one of mine; nothing was changed.")
    return rhi_id, episode_id


def _clicked_message(body: dict[str, Any]) -> MessageRef | None:
    container = body.get("container")
    if not isinstance(container, dict):
        return None
    channel, ts = container.get("channel_id"), container.get("message_ts")
    url = body.get("response_url")
    if isinstance(channel, str) and isinstance(ts, str) and channel and ts:
        return MessageRef(channel, ts, url if isinstance(url, str) and url else None)
    return None


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
    except Exception as error:  # answered privately, after ack
        report(error, respond, what=f"button {action.get('action_id')}")


def _act(
    body: dict[str, Any], action: dict[str, Any], client: WebClient, services: Services
) -> None:
    caller = action_caller(body)
    rhi_id, episode_id = parse_ids(action.get("value"))
    action_id = action.get("action_id")
    message = _clicked_message(body)
    if action_id == rhi_messages.REASSIGN:
        services.rhi.check_may_act(episode_id, caller, rhi_id=rhi_id)
        client.views_open(
            trigger_id=body["trigger_id"],
            view=reassign_view(rhi_id=rhi_id, episode_id=episode_id, message=message),
        )
    elif action_id == rhi_messages.SNOOZE:
        services.rhi.snooze(episode_id, caller, hours=SNOOZE_HOURS, rhi_id=rhi_id, message=message)
    else:
        status = RhiStatus.COMPLETED if action_id == rhi_messages.DONE else RhiStatus.DECLINED
        services.rhi.set_status(episode_id, status, caller, rhi_id=rhi_id, message=message)


def reassign_view(*, rhi_id: int, episode_id: int, message: MessageRef | None) -> dict[str, Any]:
    return View(
        type="modal",
        callback_id=REASSIGN_CALLBACK,
        title="Reassign the RHI",
        submit="Reassign",
        close="Cancel",
        private_metadata=json.dumps(
            {
                "ids": f"{rhi_id}:{episode_id}",
                "channel": message.channel if message else None,
                "ts": message.ts if message else None,
            }
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
    ack: Ack, body: dict[str, Any], view: dict[str, Any], services: Services
) -> None:
    try:
        _submit_reassign(ack, body, view, services)
    except Exception as error:
        log_error(error, what="the reassign form")
        if ack.response is None:
            ack(response_action="errors", errors={"assignee": answer_for(error)[:150]})


def _submit_reassign(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], services: Services
) -> None:
    meta = json.loads(view.get("private_metadata") or "{}")
    if not isinstance(meta, dict):
        raise UserError("That form is not one of mine; nothing was changed.")
    chosen = (view["state"]["values"].get("assignee", {}).get("assignee") or {}).get(
        "selected_user"
    )
    if not chosen:
        ack(response_action="errors", errors={"assignee": "Choose a person."})
        return
    rhi_id, episode_id = parse_ids(meta.get("ids"))
    channel, ts = meta.get("channel"), meta.get("ts")
    message = MessageRef(channel, ts) if isinstance(channel, str) and isinstance(ts, str) else None
    caller = view_caller(body, view, channel)
    try:
        services.rhi.assign(episode_id, caller, to=chosen, rhi_id=rhi_id, message=message)
    except UserError as exc:
        ack(response_action="errors", errors={"assignee": exc.message[:150]})
        return
    ack()
