"""The `/missing new` form. Its block ids are a contract: integrations and tests fill it by them."""

from __future__ import annotations

import json
from typing import Any

from slack_sdk.models.blocks import (
    CheckboxesElement,
    DatePickerElement,
    DateTimePickerElement,
    InputBlock,
    Option,
    PlainTextInputElement,
    RadioButtonsElement,
    StaticSelectElement,
    UserSelectElement,
)
from slack_sdk.models.views import View

from bot.domain.episode import RISK_FACTORS, Risk

CALLBACK_ID = "new_episode"
YES, NO = "yes", "no"


def input_block(
    block_id: str,
    label: str,
    element: Any,
    *,
    optional: bool = False,
    hint: str | None = None,
    dispatch: bool = False,
) -> InputBlock:
    element.action_id = block_id
    return InputBlock(
        block_id=block_id,
        label=label,
        element=element,
        optional=optional,
        hint=hint,
        dispatch_action=dispatch or None,
    )


def new_episode_view(
    *, name: str, officer_id: str | None, channel_id: str | None, looked_after: bool = False
) -> dict[str, Any]:
    """The form; the placing authority is asked for only once 'looked after' is Yes.

    Choosing Yes or No sends an action (`dispatch_action`) and the bot updates the form with
    this function; Slack keeps what was already typed in inputs whose ids stay the same.
    """
    risk_options = [Option(value=r.value, text=r.label) for r in Risk]
    care = Option(value=YES, text="Yes") if looked_after else Option(value=NO, text="No")
    placing = [
        input_block(
            "placing_authority",
            "Placing authority",
            PlainTextInputElement(max_length=200),
            optional=True,
            hint="The local authority that placed the child, if not this area's own.",
        )
    ]
    blocks = [
        input_block(
            "child_name",
            "Child's full name",
            PlainTextInputElement(initial_value=name[:200] or None, max_length=200),
        ),
        input_block("date_of_birth", "Date of birth", DatePickerElement()),
        input_block("last_seen_at", "Last seen (date and time)", DateTimePickerElement()),
        input_block("last_seen_place", "Last seen where", PlainTextInputElement(max_length=400)),
        input_block(
            "risk_level",
            "Risk",
            StaticSelectElement(placeholder="Grade the risk", options=risk_options),
        ),
        input_block(
            "looked_after",
            "Looked after (in care)?",
            RadioButtonsElement(
                options=[Option(value=YES, text="Yes"), Option(value=NO, text="No")],
                initial_option=care,
            ),
            dispatch=True,
        ),
        *(placing if looked_after else []),
        input_block(
            "risk_factors",
            "Risk factors",
            CheckboxesElement(options=[Option(value=k, text=v) for k, v in RISK_FACTORS.items()]),
            optional=True,
        ),
        input_block(
            "description",
            "Description and clothing",
            PlainTextInputElement(multiline=True, max_length=2000),
            optional=True,
        ),
        input_block(
            "reported_by",
            "Reported by (name and how to reach them)",
            PlainTextInputElement(multiline=True, max_length=2000),
            optional=True,
        ),
        input_block(
            "incident_ref",
            "Force incident / log number",
            PlainTextInputElement(max_length=60),
            optional=True,
        ),
        input_block("officer", "Officer in the case", UserSelectElement(initial_user=officer_id)),
    ]
    view = View(
        type="modal",
        callback_id=CALLBACK_ID,
        title="Log missing child",
        submit="Log episode",
        close="Cancel",
        private_metadata=json.dumps({"channel_id": channel_id}),
        blocks=blocks,
    )
    return view.to_dict()
