"""The update form: opened by `/missing update <ref>` or a review reminder's button, read and
saved on submission. A form submitted twice (the same view id) saves once."""

from __future__ import annotations

import json
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

log = logging.getLogger(__name__)

# Where an answer that is not about one field is shown: the top of the form.
TOP = "risk_level"
MAX_ID = 2**62
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
    Slack's widgets should never send."""
    values = view.get("state", {}).get("values", {})
    errors: dict[str, str] = {}

    def element(block_id: str) -> dict[str, Any]:
        found = values.get(block_id, {}).get(block_id)
        return found if isinstance(found, dict) else {}

    def text(block_id: str) -> str:
        return str(element(block_id).get("value") or "")

    chosen = (element("risk_level").get("selected_option") or {}).get("value")
    risk: Risk | None = None
    if chosen and chosen != opened_risk:
        try:
            risk = Risk(chosen)
        except ValueError:
            errors["risk_level"] = "Choose a risk level."
    seen: datetime | None = None
    raw_seen = element("sighting_at").get("selected_date_time")
    if raw_seen is not None:
        try:
            seen = datetime.fromtimestamp(int(raw_seen), tz=UTC)
        except (TypeError, ValueError, OverflowError, OSError):
            errors["sighting_at"] = "That is not a date and time."
    now_shown: dict[str, object] = {
        "last_seen_place": text("last_seen_place"),
        "placing_authority": text("placing_authority"),
        "risk_factors": [
            str(o.get("value", "")) for o in element("risk_factors").get("selected_options") or []
        ],
        "description": text("description"),
        "reported_by": text("reported_by"),
        "incident_ref": text("incident_ref"),
        "officer": str(element("officer").get("selected_user") or ""),
    }
    changed: dict[str, Any] = {}
    for block_id, digest in opened.items():
        if block_id in now_shown and fingerprint(now_shown[block_id]) != digest:
            value = now_shown[block_id]
            changed[_CORRECTION_OF.get(block_id, block_id)] = (
                tuple(value) if isinstance(value, list) else value
            )
    update = EpisodeUpdate(
        risk=risk,
        reason=text("risk_reason"),
        decided_by=str(element("decided_by").get("selected_user") or ""),
        sighting_at=seen,
        sighting_place=text("sighting_place"),
        information=text("information"),
        corrections=Corrections(**changed),
    )
    return update, errors


def submit(ack: Ack, body: dict[str, Any], view: dict[str, Any], services: Services) -> None:
    try:
        _submit(ack, body, view, services)
    except Exception:
        log.exception("the update form could not be handled")
        if ack.response is None:  # keep the form open: nothing typed is lost
            ack(response_action="errors", errors={TOP: UNEXPECTED[:150]})


def _submit(ack: Ack, body: dict[str, Any], view: dict[str, Any], services: Services) -> None:
    meta = _metadata(view)
    episode_id = meta.get("episode_id")
    opened = meta.get("opened")
    if not (isinstance(episode_id, int) and 0 < episode_id < MAX_ID and isinstance(opened, dict)):
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
    inputs = {b.get("block_id") for b in view.get("blocks") or [] if b.get("type") == "input"}
    shown: dict[str, str] = {}
    for block_id, message in errors.items():
        where = block_id if block_id in inputs else TOP
        shown[where] = " ".join(filter(None, [shown.get(where), message]))[:150]
    return shown


def _metadata(view: dict[str, Any]) -> dict[str, Any]:
    try:
        data = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}
