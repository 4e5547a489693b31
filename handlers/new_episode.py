"""The `/missing new` form: validate in the modal, save; the outbox posts and confirms."""

from __future__ import annotations

import json
import logging
from datetime import UTC, date, datetime
from typing import Any

from slack_bolt import Ack
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.domain.episode import NewEpisode
from bot.domain.errors import OutcomeUnknown, StorageUnavailable, UserError
from bot.services.container import Services
from handlers.blocks.new_episode_modal import YES, new_episode_view
from handlers.callers import view_caller
from handlers.errors import STORAGE_DOWN, UNEXPECTED

# Shown on the form (150 characters at most). The form's view id makes a second submission of
# the same form log nothing twice, so submitting again is the way to find out.
FORM_OUTCOME_UNKNOWN = (
    "The database stopped answering while saving, so this may have been saved. "
    "Submit again: it will never be logged twice."
)

log = logging.getLogger(__name__)


def read_form(view: dict[str, Any], *, user: str) -> tuple[NewEpisode, dict[str, str]]:
    """The typed form, plus errors for values Slack's widgets should never send."""
    values = view.get("state", {}).get("values", {})
    errors: dict[str, str] = {}

    def element(block_id: str) -> dict[str, Any]:
        return values.get(block_id, {}).get(block_id) or {}

    def text(block_id: str) -> str:
        return str(element(block_id).get("value") or "")

    dob: date | None = None
    raw_dob = element("date_of_birth").get("selected_date")
    if raw_dob:
        try:
            dob = date.fromisoformat(raw_dob)
        except (TypeError, ValueError):
            errors["date_of_birth"] = "That is not a date."
    seen: datetime | None = None
    raw_seen = element("last_seen_at").get("selected_date_time")
    if raw_seen is not None:
        try:
            seen = datetime.fromtimestamp(int(raw_seen), tz=UTC)
        except (TypeError, ValueError, OverflowError, OSError):
            errors["last_seen_at"] = "That is not a date and time."
    risk = (element("risk_level").get("selected_option") or {}).get("value")
    looked_after = (element("looked_after").get("selected_option") or {}).get("value") == YES
    factors = [o.get("value", "") for o in element("risk_factors").get("selected_options") or []]
    new = NewEpisode(
        child_name=text("child_name"),
        date_of_birth=dob,
        last_seen_at=seen,
        last_seen_place=text("last_seen_place"),
        risk_level=risk,
        looked_after=looked_after,
        placing_authority=text("placing_authority"),
        risk_factors=factors,
        description=text("description"),
        reported_by=text("reported_by"),
        incident_ref=text("incident_ref"),
        officer_id=str(element("officer").get("selected_user") or ""),
    )
    return new, errors


def submit(ack: Ack, body: dict[str, Any], view: dict[str, Any], services: Services) -> None:
    try:
        _submit(ack, body, view, services)
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


def _metadata(view: dict[str, Any]) -> dict[str, Any]:
    try:
        data = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def care_changed(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
    """'Looked after' was answered: show the placing authority only for a child in care."""
    ack()
    view = body.get("view") or {}
    if not view.get("id"):
        return
    values = (view.get("state") or {}).get("values") or {}
    name = ((values.get("child_name") or {}).get("child_name") or {}).get("value") or ""
    officer = ((values.get("officer") or {}).get("officer") or {}).get("selected_user")
    chosen = (action.get("selected_option") or {}).get("value")
    try:
        client.views_update(
            view_id=view["id"],
            hash=view.get("hash"),
            view=new_episode_view(
                name=name,
                officer_id=officer or body["user"]["id"],
                channel_id=_metadata(view).get("channel_id"),
                looked_after=chosen == YES,
            ),
        )
    except SlackApiError as exc:
        # hash_conflict: the person changed the form again meanwhile; that change wins.
        log.warning("could not update the new-episode form: %s", exc.response.get("error"))
