"""The update form: opened by `/missing update <ref>` or a review reminder's button, read and
saved on submission. A form submitted twice (the same view id) saves once."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from slack_bolt import Ack
from slack_sdk import WebClient

from bot.domain.episode_update import Corrections, EpisodeUpdate
from bot.domain.errors import InvalidForm, OutcomeUnknown, StorageUnavailable, UserError
from bot.domain.states import Risk
from bot.services.access import Caller
from bot.services.container import Services
from handlers.blocks.update_modal import fingerprint, update_view
from handlers.callers import view_caller
from handlers.errors import STORAGE_DOWN, UNEXPECTED, open_view
from handlers.new_episode import FORM_OUTCOME_UNKNOWN
from handlers.shapes import dig, items, json_object, obj, text

log = logging.getLogger(__name__)

# Where an answer that is not about one field is shown: the top of the form.
TOP = "risk_level"
MAX_ID = 2**62
# Slack's date-time picker sends whole seconds since 1970; datetime stops at the year 9999.
_LAST = 253_402_300_799
_CORRECTION_OF = {"officer": "officer_id"}


def open_form(
    episode_id: int, caller: Caller, *, trigger_id: object, client: WebClient, services: Services
) -> None:
    """Refused (privately, by the caller's listener) before it opens, if it may not."""
    form = services.updates.form(episode_id, caller)
    open_view(
        client,
        trigger_id,
        update_view(
            form,
            caller_id=caller.user_id,
            channel_id=caller.channel_id,
            now=services.clock.now(),
            tz=services.tz,
        ),
    )


def read_update_form(
    view: dict[str, Any], *, opened: dict[str, str], opened_risk: str
) -> tuple[EpisodeUpdate, dict[str, str]]:
    """The typed update: only what this person changed on the form. Plus errors for values
    Slack's widgets never send (a wrong type, an option the form does not offer): only Slack's
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

    def person(block_id: str) -> str:
        value = element(block_id).get("selected_user")
        if value is None or isinstance(value, str):
            return value or ""
        errors[block_id] = "Choose the person again."
        return ""

    risk: Risk | None = None
    option = element("risk_level").get("selected_option")
    chosen = dig(option, "value")
    if option is not None and chosen not in {r.value for r in Risk}:
        errors["risk_level"] = "Choose a risk level."
    elif option is not None and chosen != opened_risk:
        risk = Risk(chosen)
    seen: datetime | None = None
    raw_seen = element("sighting_at").get("selected_date_time")
    if raw_seen is not None:
        if isinstance(raw_seen, int) and not isinstance(raw_seen, bool) and 0 <= raw_seen <= _LAST:
            seen = datetime.fromtimestamp(raw_seen, tz=UTC)
        else:
            errors["sighting_at"] = "That is not a date and time."
    now_shown: dict[str, object] = {
        "last_seen_place": typed("last_seen_place"),
        "placing_authority": typed("placing_authority"),
        "risk_factors": _options(element("risk_factors").get("selected_options"), errors),
        "description": typed("description"),
        "reported_by": typed("reported_by"),
        "incident_ref": typed("incident_ref"),
        "officer": person("officer"),
    }
    changed: dict[str, Any] = {}
    for block_id, digest in opened.items():
        # An input left out of the state is not answered: the detail stays as it is, not cleared.
        answered = isinstance(dig(values, block_id, block_id), dict)
        if answered and block_id in now_shown and fingerprint(now_shown[block_id]) != digest:
            value = now_shown[block_id]
            changed[_CORRECTION_OF.get(block_id, block_id)] = (
                tuple(value) if isinstance(value, list) else value
            )
    update = EpisodeUpdate(
        risk=risk,
        reason=typed("risk_reason"),
        decided_by=person("decided_by"),
        sighting_at=seen,
        sighting_place=typed("sighting_place"),
        information=typed("information"),
        corrections=Corrections(**changed),
    )
    return update, errors


def _options(raw: object, errors: dict[str, str]) -> list[str]:
    """Checkbox values; an option that is not one of Slack's reads as unknown (refused)."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        errors["risk_factors"] = "Choose risk factors from the list."
        return []
    return [text(dig(option, "value")) or "" for option in raw]


def submit(ack: Ack, body: dict[str, Any], view: dict[str, Any], services: Services) -> None:
    try:
        _submit(ack, body, view, services)
    except UserError as exc:  # a request that did not say who sent it: nothing to log
        if ack.response is None:
            ack(response_action="errors", errors={TOP: exc.message[:150]})
    except Exception:
        log.exception("the update form could not be handled")
        if ack.response is None:  # keep the form open: nothing typed is lost
            ack(response_action="errors", errors={TOP: UNEXPECTED[:150]})


def _submit(ack: Ack, body: dict[str, Any], view: dict[str, Any], services: Services) -> None:
    meta = _metadata(view)
    episode_id = meta.get("episode_id")
    opened = meta.get("opened")
    if isinstance(episode_id, bool) or not isinstance(episode_id, int):
        episode_id = 0
    if not (0 < episode_id < MAX_ID and isinstance(opened, dict)):
        ack(response_action="errors", errors={TOP: "That form is not one of mine."})
        return
    channel = meta.get("channel_id")
    caller = view_caller(body, view, channel if isinstance(channel, str) else None)
    change, errors = read_update_form(
        view,
        opened={str(k): str(v) for k, v in opened.items()},
        opened_risk=str(meta.get("risk") or ""),
    )
    if errors:
        ack(response_action="errors", errors=errors)
        return
    try:
        services.updates.update(episode_id, change, caller)
    except InvalidForm as exc:
        ack(response_action="errors", errors=_on_form(view, exc.errors))
        return
    except OutcomeUnknown:
        log.error("database stopped answering while committing an update")
        ack(response_action="errors", errors={TOP: FORM_OUTCOME_UNKNOWN})
        return
    except StorageUnavailable:
        log.error("database unreachable while saving an update")
        ack(response_action="errors", errors={TOP: STORAGE_DOWN[:150]})
        return
    except UserError as exc:
        ack(response_action="errors", errors=_on_form(view, {exc.field or TOP: exc.message}))
        return
    # Saved (or this very form was already saved): the form closes; the thread is told.
    ack()


def _on_form(view: dict[str, Any], errors: dict[str, str]) -> dict[str, str]:
    """Slack shows an error only under an input the form has: others go to the top."""
    inputs = {dig(b, "block_id") for b in items(view.get("blocks")) if dig(b, "type") == "input"}
    shown: dict[str, str] = {}
    for block_id, message in errors.items():
        where = block_id if block_id in inputs else TOP
        shown[where] = " ".join(filter(None, [shown.get(where), message]))[:150]
    return shown


def _metadata(view: dict[str, Any]) -> dict[str, Any]:
    return json_object(view.get("private_metadata")) or {}
