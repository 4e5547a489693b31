"""Buttons on a risk review reminder: "Review: risk stays" records the review; "Re-grade /
update" opens the update form.

Each button carries "<episode_id>:<due>", the review it asks for: the service checks both
against the database, so a reminder about a review since recorded changes nothing.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from slack_bolt import Ack, Respond
from slack_sdk import WebClient

from bot.domain.errors import UserError
from bot.services.container import Services
from handlers.blocks import review_messages
from handlers.callers import action_caller
from handlers.episode_update import open_form
from handlers.errors import report
from handlers.shapes import text

# Exactly what `review_buttons` writes: an episode id and whole seconds, in ASCII digits with
# no sign, space, underscore or leading zero (`int()` alone would take " 1", "+1", "1_0",
# "01" or "١", naming a record in a way the bot never does). Ids are BIGINT: 18 digits stay
# below 2**63; ten digits of seconds cover 2001 to 2286.
_VALUE = re.compile(r"([1-9][0-9]{0,17}):([1-9][0-9]{9})")


def parse_review(value: object) -> tuple[int, datetime]:
    """(episode id, due time) from a button value; UserError if not ours."""
    match = _VALUE.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise UserError("That button is not one of mine; nothing was changed.")
    return int(match[1]), datetime.fromtimestamp(int(match[2]), tz=UTC)


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
        _act(body, action, client, respond, services)
    except Exception as error:  # answered privately, after ack
        report(error, respond, what=f"button {action.get('action_id')}")


def _act(
    body: dict[str, Any],
    action: dict[str, Any],
    client: WebClient,
    respond: Respond,
    services: Services,
) -> None:
    caller = action_caller(body)
    episode_id, due = parse_review(action.get("value"))
    if action.get("action_id") == review_messages.UPDATE:
        open_form(
            episode_id, caller, trigger_id=body.get("trigger_id"), client=client, services=services
        )
        return
    result = services.updates.review(episode_id, caller, due_at=due)
    if not text(body.get("response_url")):  # no response URL in the click: nothing to replace
        return
    # The reminder is replaced by who recorded it: its buttons go, so it is not pressed again.
    respond(
        replace_original=True,
        **review_messages.review_recorded(result, actor=caller.user_id, tz=services.tz),
    )
