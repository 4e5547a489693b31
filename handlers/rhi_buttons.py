"""Buttons on RHI reminders: Done, Declined, Snooze, Reassign.

Each button carries "<rhi_id>:<episode_id>"; the service checks both against the database and
acts on that interview only. The reminder is then edited (from what the bot posted, not from
the click payload) to show who did what.
"""

from __future__ import annotations

import json
import logging
import re
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
from handlers.errors import answer_for, log_error, open_view, report
from handlers.shapes import channel_id, dig, json_object, message_ts, obj, text

log = logging.getLogger(__name__)

REASSIGN_CALLBACK = "rhi_reassign"
SNOOZE_HOURS = 4
# Exactly what `rhi_buttons` writes: two ids in ASCII digits. `int()` alone would also take
# " 1", "+1", "1_0" or "١" (an Arabic-Indic one), so a forged value could name a record in a
# way the bot never does. Ids are BIGINT: 18 digits stay below 2**63.
_IDS = re.compile(r"([1-9][0-9]{0,17}):([1-9][0-9]{0,17})")


def parse_ids(value: object) -> tuple[int, int]:
    """(rhi id, episode id) from a button value or form metadata; UserError if not ours. The
    service then checks the pair against the database: the interview of that episode."""
    match = _IDS.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise UserError("That button is not one of mine; nothing was changed.")
    return int(match[1]), int(match[2])


def _message_ref(channel: object, ts: object, response_url: str | None = None) -> MessageRef | None:
    """Where a button was clicked, if shaped as Slack's; only ever used to find the bot's own
    message in the outbox, which is then re-rendered from there."""
    found_channel, found_ts = channel_id(channel), message_ts(ts)
    if not (found_channel and found_ts):
        return None
    return MessageRef(found_channel, found_ts, response_url)


def _clicked_message(body: dict[str, Any]) -> MessageRef | None:
    url = dig(body, "response_url")
    return _message_ref(
        dig(body, "container", "channel_id"),
        dig(body, "container", "message_ts"),
        url if isinstance(url, str) and url else None,
    )


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
        _act(body, obj(action), client, services)
    except Exception as error:  # answered privately, after ack
        report(error, respond, what=f"button {text(obj(action).get('action_id'))}")


def _act(
    body: dict[str, Any], action: dict[str, Any], client: WebClient, services: Services
) -> None:
    caller = action_caller(body)
    rhi_id, episode_id = parse_ids(action.get("value"))
    action_id = action.get("action_id")
    message = _clicked_message(body)
    if action_id == rhi_messages.REASSIGN:
        services.rhi.check_may_act(episode_id, caller, rhi_id=rhi_id)
        open_view(
            client,
            body.get("trigger_id"),
            reassign_view(rhi_id=rhi_id, episode_id=episode_id, message=message),
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
    meta = json_object(view.get("private_metadata"))
    if meta is None:
        raise UserError("That form is not one of mine; nothing was changed.")
    chosen = text(dig(view, "state", "values", "assignee", "assignee", "selected_user"))
    if not chosen:
        ack(response_action="errors", errors={"assignee": "Choose a person."})
        return
    rhi_id, episode_id = parse_ids(meta.get("ids"))
    message = _message_ref(meta.get("channel"), meta.get("ts"))
    caller = view_caller(body, view, meta.get("channel"))
    try:
        services.rhi.assign(episode_id, caller, to=chosen, rhi_id=rhi_id, message=message)
    except UserError as exc:
        ack(response_action="errors", errors={"assignee": exc.message[:150]})
        return
    ack()
