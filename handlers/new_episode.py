"""The `/missing new` form: validate in the modal, save; the outbox posts and confirms."""

from __future__ import annotations

import logging
import re
from datetime import UTC, date, datetime
from typing import Any

from slack_bolt import Ack
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.domain.episode import NewEpisode
from bot.domain.errors import OutcomeUnknown, StorageUnavailable, UserError
from bot.domain.people import is_staff_id
from bot.services.container import Services
from handlers.blocks.new_episode_modal import CALLBACK_ID, YES, new_episode_view
from handlers.callers import view_caller
from handlers.errors import STORAGE_DOWN, UNEXPECTED
from handlers.shapes import channel_id, dig, json_object, obj, request_id, text

# Shown on the form (150 characters at most). The form's view id makes a second submission of
# the same form log nothing twice, so submitting again is the way to find out.
FORM_OUTCOME_UNKNOWN = (
    "The database stopped answering while saving, so this may have been saved. "
    "Submit again: it will never be logged twice."
)

log = logging.getLogger(__name__)


# Slack's date-time picker sends whole seconds since 1970; datetime stops at the year 9999.
_LAST_SECOND = 253_402_300_799
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def read_form(view: dict[str, Any], *, user: str) -> tuple[NewEpisode, dict[str, str]]:
    """The typed form, plus errors for values Slack's widgets never send (a wrong type, a
    date in another format): only Slack's shapes are judged here, the rules in the domain."""
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

    new = NewEpisode(
        child_name=typed("child_name"),
        date_of_birth=_date(element("date_of_birth").get("selected_date"), errors),
        last_seen_at=_moment(element("last_seen_at").get("selected_date_time"), errors),
        last_seen_place=typed("last_seen_place"),
        risk_level=text(dig(element("risk_level"), "selected_option", "value")),
        looked_after=dig(element("looked_after"), "selected_option", "value") == YES,
        placing_authority=typed("placing_authority"),
        risk_factors=_options(element("risk_factors").get("selected_options"), errors),
        description=typed("description"),
        reported_by=typed("reported_by"),
        incident_ref=typed("incident_ref"),
        officer_id=text(element("officer").get("selected_user")) or "",
    )
    return new, errors


def _date(raw: object, errors: dict[str, str]) -> date | None:
    """A date picker's `YYYY-MM-DD` (not the other forms `date.fromisoformat` also reads)."""
    if raw is None or raw == "":
        return None
    if isinstance(raw, str) and _ISO_DATE.fullmatch(raw):
        try:
            return date.fromisoformat(raw)
        except ValueError:
            pass
    errors["date_of_birth"] = "That is not a date."
    return None


def _moment(raw: object, errors: dict[str, str]) -> datetime | None:
    """A date-time picker's whole seconds since 1970 (a number, never text or a boolean)."""
    if raw is None:
        return None
    if isinstance(raw, int) and not isinstance(raw, bool) and 0 <= raw <= _LAST_SECOND:
        return datetime.fromtimestamp(raw, tz=UTC)
    errors["last_seen_at"] = "That is not a date and time."
    return None


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
            ack(response_action="errors", errors={exc.field or "child_name": exc.message[:150]})
    except Exception:
        log.exception("the new-episode form could not be handled")
        if ack.response is None:  # keep the form open: nothing typed is lost
            ack(response_action="errors", errors={"child_name": UNEXPECTED[:150]})


def _submit(ack: Ack, body: dict[str, Any], view: dict[str, Any], services: Services) -> None:
    caller = view_caller(body, view, _metadata(view).get("channel_id"))
    new, errors = read_form(view, user=caller.user_id)
    errors = {**services.episodes.validate(new), **errors}
    if errors:
        ack(response_action="errors", errors=errors)
        return
    try:
        services.episodes.log(new, caller)
    except OutcomeUnknown:
        log.error("database stopped answering while committing an episode")
        ack(response_action="errors", errors={"child_name": FORM_OUTCOME_UNKNOWN})
        return
    except StorageUnavailable:
        log.error("database unreachable while logging an episode")
        # Keep the form open with everything typed, so nothing is lost by trying again.
        ack(response_action="errors", errors={"child_name": STORAGE_DOWN[:150]})
        return
    except UserError as exc:
        ack(response_action="errors", errors={exc.field or "child_name": exc.message[:150]})
        return
    # Saved (or this very form was already saved): the form closes. The channel post and the
    # private confirmation go out from the outbox, off this thread.
    ack()


def _metadata(view: object) -> dict[str, Any]:
    return json_object(dig(view, "private_metadata")) or {}


def care_changed(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
    """'Looked after' was answered: show the placing authority only for a child in care."""
    ack()
    view = obj(body.get("view"))
    view_id = request_id(view.get("id"))
    if view_id is None or view.get("callback_id") != CALLBACK_ID:
        return  # not this bot's form: nothing to update
    values = dig(view, "state", "values")
    name = dig(values, "child_name", "child_name", "value")
    officer = dig(values, "officer", "officer", "selected_user")
    user = dig(body, "user", "id")
    try:
        client.views_update(
            view_id=view_id,
            hash=text(view.get("hash")),
            view=new_episode_view(
                name=name if isinstance(name, str) else "",
                officer_id=next((u for u in (officer, user) if is_staff_id(u)), None),
                channel_id=channel_id(_metadata(view).get("channel_id")),
                looked_after=dig(action, "selected_option", "value") == YES,
            ),
        )
    except SlackApiError as exc:
        # hash_conflict: the person changed the form again meanwhile; that change wins.
        log.warning("could not update the new-episode form: %s", exc.response.get("error"))
