"""Errors: a clear private answer for what a person can act on, a logged line for the rest."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.context.respond import Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.domain.errors import OutcomeUnknown, StorageUnavailable, UserError
from bot.domain.text import quoted
from handlers.escape import placeholders
from handlers.shapes import request_id

log = logging.getLogger(__name__)

STORAGE_DOWN = (
    ":warning: The database could not be reached, so *nothing was saved*. "
    "Please try again in a minute; if it keeps failing, tell the duty supervisor."
)
# The database stopped answering after it was asked to commit: "nothing was saved" could be a
# lie. Every change refuses to be made twice and says so, which makes trying again the check.
OUTCOME_UNKNOWN = (
    ":warning: The database stopped answering while saving, so I cannot tell whether this "
    "was saved. Please try again: if it was saved, I will tell you it already was."
)
UNEXPECTED = (
    ":warning: Something went wrong and nothing was changed. The error has been "
    "logged; please try again."
)


def answer_for(error: Exception) -> str:
    if isinstance(error, UserError):
        return error.message
    if isinstance(error, OutcomeUnknown):
        return OUTCOME_UNKNOWN
    if isinstance(error, StorageUnavailable):
        return STORAGE_DOWN
    return UNEXPECTED


def log_error(error: Exception, *, what: object) -> None:
    """A person's mistake is not logged; an outage is one line; a bug gets its traceback."""
    if isinstance(error, OutcomeUnknown):
        log.error("database stopped answering during COMMIT of %s (may be saved): %s", what, error)
    elif isinstance(error, StorageUnavailable):
        log.error("database unreachable during %s: %s", what, error)
    elif isinstance(error, SlackApiError):
        log.error("Slack refused a call during %s: %s", what, error.response.get("error"))
    elif not isinstance(error, UserError):
        log.error("unhandled error for %s", what, exc_info=error)


def report(error: Exception, respond: Respond | None, *, what: object = "request") -> None:
    """Log what needs logging and answer the person privately through the response URL."""
    log_error(error, what=what)
    if respond is None:
        return
    status: int | str
    try:
        answered = respond(
            text=placeholders(answer_for(error)), response_type="ephemeral", replace_original=False
        )
        status = answered.status_code
    except Exception as exc:  # an unusable response_url: Slack's problem, not a bug here
        status = type(exc).__name__
    if status != 200:
        # One line: the URL is the request's, and the answer may hold a person's details.
        log.warning("could not tell the user about an error (%s): %s", what, status)


def open_view(client: WebClient, trigger_id: object, view: dict[str, Any]) -> None:
    """Open a form for the person who clicked or typed; UserError if Slack would not.

    A trigger id works once and for 3 seconds: an expired or missing one is a clear answer
    ("try again"), not an error to log with a traceback.
    """
    trigger = request_id(trigger_id)
    if trigger is None:
        raise UserError("Slack did not send what I need to open the form; please try again.")
    try:
        client.views_open(trigger_id=trigger, view=view)
    except SlackApiError as exc:
        reason = str(exc.response.get("error") or exc.response.status_code)
        log.warning("views.open refused: %s", reason)
        raise UserError(
            f"Slack would not open the form (`{quoted(reason, 40)}`); please try again."
        ) from None


def on_error(error: Exception, body: dict[str, Any], respond: Respond | None) -> None:
    """Errors Bolt caught outside a listener's own handling.

    Only verified requests reach Bolt (see bot.web), so answering the response URL here does
    not post anywhere an outsider chose.
    """
    has_url = bool(body.get("response_url"))
    report(error, respond if has_url else None, what=body.get("type") or body.get("command"))
