"""The return form's submission: read it, record the return, show the answer in the form."""

from __future__ import annotations

import json
import logging
from typing import Any

from slack_bolt import Ack

from bot.domain.errors import StorageUnavailable, UserError
from bot.domain.refs import parse_ref
from bot.domain.returns import ReturnDetails
from bot.domain.states import ReturnHow, SafeWellStatus
from bot.domain.timetext import parse_when
from bot.services.access import Replayed
from bot.services.container import Services
from handlers.blocks.return_modal import recorded_view
from handlers.callers import view_caller
from handlers.errors import STORAGE_DOWN, answer_for, log_error
from handlers.return_answer import returned_text

log = logging.getLogger(__name__)


def _element(values: dict[str, Any], block_id: str) -> dict[str, Any]:
    block = values.get(block_id)
    element = block.get(block_id) if isinstance(block, dict) else None
    return element if isinstance(element, dict) else {}


def _text(values: dict[str, Any], block_id: str) -> str:
    value = _element(values, block_id).get("value")
    return value if isinstance(value, str) else ""


def _choice(values: dict[str, Any], block_id: str) -> str | None:
    option = _element(values, block_id).get("selected_option")
    value = option.get("value") if isinstance(option, dict) else None
    return value if isinstance(value, str) else None


def submit(ack: Ack, body: dict[str, Any], view: dict[str, Any], services: Services) -> None:
    try:
        _submit(ack, body, view, services)
    except Exception as error:
        log_error(error, what="the return form")
        if ack.response is None:  # keep the form open: nothing typed is lost
            ack(response_action="errors", errors={"returned_at": answer_for(error)[:150]})


def _submit(ack: Ack, body: dict[str, Any], view: dict[str, Any], services: Services) -> None:
    meta = json.loads(view.get("private_metadata") or "{}")
    if not isinstance(meta, dict):
        raise UserError("That form is not one of mine; nothing was changed.")
    episode_id = parse_ref(str(meta.get("episode_id") or ""))
    channel = meta.get("channel_id")
    caller = view_caller(body, view, channel if isinstance(channel, str) else None)
    values = (view.get("state") or {}).get("values") or {}
    now, tz = services.clock.now(), services.tz
    try:
        when = parse_when(_text(values, "returned_at") or "now", now=now, tz=tz)
    except UserError as exc:
        ack(response_action="errors", errors={"returned_at": exc.message[:150]})
        return
    how = _choice(values, "return_how")
    safe_well = _choice(values, "safe_well")
    by = _element(values, "safe_well_by").get("selected_user")
    details = ReturnDetails(
        found_place=_text(values, "found_place"),
        how=ReturnHow(how) if how in {h.value for h in ReturnHow} else None,
        safe_well=(
            SafeWellStatus(safe_well)
            if safe_well in {s.value for s in SafeWellStatus}
            else SafeWellStatus.TO_BE_DONE
        ),
        safe_well_by=by if isinstance(by, str) else "",
        disclosure=_text(values, "disclosure"),
    )
    try:
        result = services.episodes.record_return(
            episode_id, caller, returned_at=when, details=details
        )
    except Replayed:
        ack(response_action="update", view=recorded_view("This return was already recorded."))
        return
    except StorageUnavailable:
        ack(response_action="errors", errors={"returned_at": STORAGE_DOWN[:150]})
        return
    except UserError as exc:
        ack(response_action="errors", errors={exc.field or "returned_at": exc.message[:150]})
        return
    ack(response_action="update", view=recorded_view(returned_text(result, tz=tz)))
