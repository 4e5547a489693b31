"""The return form (`/missing returned M-4` with no time): when, where found, how, the police
safe-and-well check, and anything disclosed that needs a referral. Block ids are a contract."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import (
    InputBlock,
    Option,
    PlainTextInputElement,
    RadioButtonsElement,
    UserSelectElement,
)
from slack_sdk.models.views import View

from bot.domain.returns import MAX_DISCLOSURE, MAX_PLACE
from bot.domain.states import ReturnHow, SafeWellStatus
from bot.domain.timetext import fmt_duration, fmt_local
from bot.services.results import EpisodeCard
from handlers.blocks.common import risk_badge, section

CALLBACK_ID = "record_return"
SAFE_WELL_LABELS = {
    SafeWellStatus.DONE: "Done now",
    SafeWellStatus.TO_BE_DONE: "To be done",
}


def _input(
    block_id: str, label: str, element: Any, *, optional: bool = False, hint: str = ""
) -> InputBlock:
    element.action_id = block_id
    return InputBlock(
        block_id=block_id, label=label, element=element, optional=optional, hint=hint or None
    )


def return_view(
    card: EpisodeCard, *, officer_id: str, channel_id: str | None, now: datetime, tz: ZoneInfo
) -> dict[str, Any]:
    missing = fmt_duration(now - card.last_seen_at)
    blocks = [
        section(
            f"*{card.ref}*: {card.initials}, age {card.age}, {risk_badge(card.risk)}, missing "
            f"since {fmt_local(card.last_seen_at, tz)} ({missing})."
        ),
        _input(
            "returned_at",
            "When did the child come back?",
            PlainTextInputElement(initial_value="now", max_length=60),
            hint="UK time: now, 14:30, 2:30pm, yesterday 23:10, 24/11 14:30",
        ),
        _input(
            "found_place",
            "Where were they found? (private)",
            PlainTextInputElement(max_length=MAX_PLACE),
            optional=True,
        ),
        _input(
            "return_how",
            "How did they come back?",
            RadioButtonsElement(
                options=[Option(value=h.value, text=h.label.capitalize()) for h in ReturnHow]
            ),
            optional=True,
        ),
        _input(
            "safe_well",
            "Police safe-and-well check",
            RadioButtonsElement(
                options=[Option(value=s.value, text=t) for s, t in SAFE_WELL_LABELS.items()],
                initial_option=Option(
                    value=SafeWellStatus.TO_BE_DONE.value,
                    text=SAFE_WELL_LABELS[SafeWellStatus.TO_BE_DONE],
                ),
            ),
        ),
        _input(
            "safe_well_by",
            "Done by, or to be done by",
            UserSelectElement(initial_user=officer_id),
        ),
        _input(
            "disclosure",
            "Anything disclosed that needs a referral (private)",
            PlainTextInputElement(multiline=True, max_length=MAX_DISCLOSURE),
            optional=True,
        ),
    ]
    return View(
        type="modal",
        callback_id=CALLBACK_ID,
        title="Record the return",
        submit="Record return",
        close="Cancel",
        private_metadata=json.dumps({"episode_id": card.episode_id, "channel_id": channel_id}),
        blocks=blocks,
    ).to_dict()


def recorded_view(text: str) -> dict[str, Any]:
    """What the form turns into once the return is saved: the same answer a command gets."""
    return View(
        type="modal", title="Return recorded", close="Close", blocks=[section(text)]
    ).to_dict()
