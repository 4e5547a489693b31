"""The Done button on a safe-and-well reminder: records the check, now, by whoever clicked."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, Respond

from bot.domain.errors import UserError
from bot.domain.timetext import fmt_local
from bot.services.container import Services
from handlers.callers import action_caller
from handlers.errors import report
from handlers.rhi_buttons import MAX_ID


def clicked(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, services: Services
) -> None:
    ack()
    try:
        key = str(action.get("value") or "")
        episode_text, _, stamp = key.partition(":")
        if not (episode_text.isdigit() and stamp.isdigit() and 0 < int(episode_text) < MAX_ID):
            raise UserError("That button is not one of mine; nothing was changed.")
        ref, when, by = services.safe_well.record_done(
            int(episode_text), action_caller(body), returned_key_seen=key
        )
        respond(
            text=(
                f":white_check_mark: Safe-and-well check for {ref} recorded: done "
                f"{fmt_local(when, services.tz)} by <@{by}>."
            ),
            response_type="ephemeral",
            replace_original=False,
        )
    except Exception as error:  # answered privately, after ack
        report(error, respond, what="button safe_well_done")
