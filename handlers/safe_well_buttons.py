"""The Done button on a safe-and-well reminder: records the check, now, by whoever clicked."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import Ack, Respond

from bot.domain.errors import UserError
from bot.domain.timetext import fmt_local
from bot.services.container import Services
from handlers.callers import action_caller
from handlers.errors import report
from handlers.shapes import text

# `<episode id>:<return stamp>`, ASCII digits only (str.isdigit also takes "²", which int()
# refuses); 18 digits keeps the id inside BIGINT.
_VALUE = re.compile(r"([1-9][0-9]{0,17}):([1-9][0-9]{0,17})")


def clicked(
    ack: Ack,
    body: dict[str, Any],
    action: dict[str, Any],
    respond: Respond,
    services: Services,
) -> None:
    ack()
    try:
        key = action.get("value")
        match = _VALUE.fullmatch(key) if isinstance(key, str) else None
        if match is None:
            raise UserError("That button is not one of mine; nothing was changed.")
        ref, when, by = services.safe_well.record_done(
            int(match[1]), action_caller(body), returned_key_seen=key
        )
        if not text(body.get("response_url")):  # no response URL in the click: nowhere to say
            return
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
