"""The return form's submission: read it, record the return, show the answer in the form."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack

from bot.domain.errors import StorageUnavailable, UserError
from bot.domain.returns import ReturnDetails
from bot.domain.states import ReturnHow, SafeWellStatus
from bot.domain.timetext import parse_when
from bot.services.access import Replayed
from bot.services.container import Services
from handlers.blocks.return_modal import recorded_view
from handlers.callers import view_caller
from handlers.errors import STORAGE_DOWN, answer_for, log_error
from handlers.return_answer import returned_text
from handlers.shapes import dig, json_object, obj

MAX_ID = 2**62  # ids are BIGINT: anything larger is not ours

log = logging.getLogger(__name__)


def read_return_form(view: dict[str, Any]) -> tuple[str, ReturnDetails, dict[str, str]]:
    """The time as typed, the details, and errors for values Slack's widgets never send (a
    wrong type, an option the form does not offer, a required input left out): only Slack's
    shapes are judged here, the rules in the domain."""
    values = obj(dig(view, "state", "values"))
    errors: dict[str, str] = {}

    def element(block_id: str) -> dict[str, Any]:
        return obj(dig(values, block_id, block_id))

    def typed(block_id: str) -> str:
        value = element(block_id).get("value")
        if value is None or isinstance(value, str):
            return value or ""
        errors[block_id] = "That is not text: type it again."
        return ""

    def choice(block_id: str, offered: set[str]) -> str | None:
        option = element(block_id).get("selected_option")
        if option is None:
            return None
        chosen = dig(option, "value")
        if isinstance(chosen, str) and chosen in offered:
            return chosen
        errors[block_id] = "Choose one of the options."
        return None

    how = choice("return_how", {h.value for h in ReturnHow})
    safe_well = choice("safe_well", {s.value for s in SafeWellStatus})
    by = element("safe_well_by").get("selected_user")
    if by is not None and not isinstance(by, str):
        errors["safe_well_by"] = "Choose the person again."
        by = None
    when = typed("returned_at")
    # The inputs the form requires (Slack never sends them empty): left out, not answered.
    for block_id, answered, missing in (
        ("returned_at", when.strip(), "Say when the child came back."),
        ("safe_well", safe_well, "Choose one of the options."),
        ("safe_well_by", by, "Choose who did the check, or will do it."),
    ):
        if not answered:
            errors.setdefault(block_id, missing)
    details = ReturnDetails(
        found_place=typed("found_place"),
        how=ReturnHow(how) if how else None,
        safe_well=SafeWellStatus(safe_well) if safe_well else SafeWellStatus.TO_BE_DONE,
        safe_well_by=by or "",
        disclosure=typed("disclosure"),
    )
    return when, details, errors


def submit(ack: Ack, body: dict[str, Any], view: dict[str, Any], services: Services) -> None:
    try:
        _submit(ack, body, view, services)
    except Exception as error:
        log_error(error, what="the return form")
        if ack.response is None:  # keep the form open: nothing typed is lost
            ack(response_action="errors", errors={"returned_at": answer_for(error)[:150]})


def _submit(ack: Ack, body: dict[str, Any], view: dict[str, Any], services: Services) -> None:
    meta = json_object(view.get("private_metadata")) or {}
    episode_id = meta.get("episode_id")
    if isinstance(episode_id, bool) or not isinstance(episode_id, int):
        raise UserError("That form is not one of mine; nothing was changed.")
    if not 0 < episode_id < MAX_ID:
        raise UserError("That form is not one of mine; nothing was changed.")
    caller = view_caller(body, view, meta.get("channel_id"))
    typed_when, details, errors = read_return_form(view)
    if errors:
        ack(response_action="errors", errors=errors)
        return
    now, tz = services.clock.now(), services.tz
    try:
        when = parse_when(typed_when, now=now, tz=tz)
    except UserError as exc:
        ack(response_action="errors", errors={"returned_at": exc.message[:150]})
        return
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
