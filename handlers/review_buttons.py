"""Buttons on a risk review reminder: "Review: risk stays" records the review; "Re-grade /
update" opens the update form.

Each button carries "<episode_id>:<due>", the review it asks for: the service checks both
against the database, so a reminder about a review since recorded changes nothing.
"""

from __future__ import annotations

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

MAX_ID = 2**62  # ids are BIGINT: anything larger is not ours
# Unix seconds from 2000 to 2100: a due time outside is not one the bot wrote.
_SECONDS = (946_684_800, 4_102_444_800)


def parse_review(value: object) -> tuple[int, datetime]:
    """(episode id, due time) from a button value; UserError if not ours."""
    try:
        episode_text, due_text = str(value).split(":")
        episode_id, seconds = int(episode_text), int(due_text)
    except ValueError:
        episode_id = seconds = 0
    if not (0 < episode_id < MAX_ID and _SECONDS[0] < seconds < _SECONDS[1]):
        raise UserError("That button is not one of mine; nothing was changed.")
    return episode_id, datetime.fromtimestamp(seconds, tz=UTC)


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
    # The reminder is replaced by who recorded it: its buttons go, so it is not pressed again.
    respond(
        replace_original=True,
        **review_messages.review_recorded(result, actor=caller.user_id, tz=services.tz),
    )
