"""The one error handler: a clear private answer for what a person can act on, a log for the rest."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.context.respond import Respond

from bot.errors import StorageUnavailable, UserError

log = logging.getLogger(__name__)

STORAGE_DOWN = (
    ":warning: The database could not be reached, so *nothing was saved*. "
    "Please try again in a minute; if it keeps failing, tell the duty supervisor."
)
UNEXPECTED = (
    ":warning: Something went wrong and nothing was changed. The error has been "
    "logged; please try again."
)


def answer_for(error: Exception) -> str:
    if isinstance(error, UserError):
        return error.message
    if isinstance(error, StorageUnavailable):
        return STORAGE_DOWN
    return UNEXPECTED


def on_error(error: Exception, body: dict[str, Any], respond: Respond | None) -> None:
    if isinstance(error, StorageUnavailable):
        log.error("database unreachable: %s", error)
    elif not isinstance(error, UserError):
        log.error("unhandled error for %s", body.get("type") or body.get("command"), exc_info=error)
    if respond is not None and (body.get("response_url") or _action_response_url(body)):
        try:
            respond(text=answer_for(error), response_type="ephemeral", replace_original=False)
        except Exception:
            log.exception("could not tell the user about an error")


def _action_response_url(body: dict[str, Any]) -> str | None:
    return body.get("response_url")
