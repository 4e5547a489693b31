"""Errors: a clear private answer for what a person can act on, a logged traceback for the rest."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.context.respond import Respond

from bot.domain.errors import StorageUnavailable, UserError
from handlers.escape import placeholders

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


def report(error: Exception, respond: Respond | None, *, what: object = "request") -> None:
    """Log what needs logging and answer the person privately."""
    if isinstance(error, StorageUnavailable):
        log.error("database unreachable: %s", error)
    elif not isinstance(error, UserError):
        log.error("unhandled error for %s", what, exc_info=error)
    if respond is None:
        return
    try:
        respond(
            text=placeholders(answer_for(error)), response_type="ephemeral", replace_original=False
        )
    except Exception:
        log.exception("could not tell the user about an error")


def on_error(error: Exception, body: dict[str, Any], respond: Respond | None) -> None:
    """Errors raised before a listener acknowledged (listeners report their own after ack).

    Listeners catch their errors after `ack()` themselves because slack-bolt 1.30 resets the
    acknowledgement when a listener raises after acking: Slack would then get a 404 instead
    of the 200 it was already owed.
    """
    has_url = bool(body.get("response_url"))
    report(error, respond if has_url else None, what=body.get("type") or body.get("command"))
