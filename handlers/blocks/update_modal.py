"""The `/missing update <ref>` form: re-grade the risk, add a sighting or information, correct
the details. It opens filled in with the episode as it stands.

Its private metadata keeps a short fingerprint of each detail as it opened, so the submission
sends only what this person changed: a correction someone else saved meanwhile is not put back
by the untouched, older value still showing on this form.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import (
    CheckboxesElement,
    DateTimePickerElement,
    Option,
    PlainTextInputElement,
    StaticSelectElement,
    UserSelectElement,
)
from slack_sdk.models.views import View

from bot.domain.episode import RISK_FACTORS
from bot.domain.episode_update import MAX_REASON
from bot.domain.states import Risk
from bot.domain.timetext import fmt_duration, fmt_local
from bot.services.results import UpdateForm
from handlers.blocks.common import context, risk_badge, section
from handlers.blocks.new_episode_modal import input_block

CALLBACK_ID = "episode_update"
# The details offered for correction, by block id, as the form opens with them.
DETAILS = (
    "last_seen_place",
    "placing_authority",
    "risk_factors",
    "description",
    "reported_by",
    "incident_ref",
    "officer",
)


def fingerprint(value: object) -> str:
    """A short digest of a detail's value: compared on submission, never shown."""
    if isinstance(value, list | tuple):
        value = sorted(str(v) for v in value)
    return hashlib.sha256(json.dumps(value).encode()).hexdigest()[:12]


def opened_values(form: UpdateForm) -> dict[str, object]:
    """Each detail as the form shows it (empty text for none), by block id."""
    return {
        "last_seen_place": form.last_seen_place,
        "placing_authority": form.placing_authority or "",
        "risk_factors": list(form.risk_factors),
        "description": form.description,
        "reported_by": form.reported_by,
        "incident_ref": form.incident_ref or "",
        "officer": form.officer_id,
    }


def update_view(
    form: UpdateForm, *, caller_id: str, channel_id: str | None, now: datetime, tz: ZoneInfo
) -> dict[str, Any]:
    card = form.card
    values = opened_values(form)
    shown = [d for d in DETAILS if d != "placing_authority" or card.looked_after]
    metadata = {
        "episode_id": card.episode_id,
        "channel_id": channel_id,
        "risk": card.risk.value,
        "opened": {d: fingerprint(values[d]) for d in shown},
    }
    review = (
        f" · next risk review due {fmt_local(form.review_due_at, tz)}" if form.review_due_at else ""
    )
    risks = {r: Option(value=r.value, text=r.label) for r in Risk}
    factors = {k: Option(value=k, text=v) for k, v in RISK_FACTORS.items()}
    chosen = [factors[f] for f in form.risk_factors if f in factors]
    blocks = [
        section(
            f"*{card.ref}* · {card.initials}, age {card.age} · {risk_badge(card.risk)} · missing "
            f"{fmt_duration(now - card.last_seen_at)}{review}"
        ),
        section("*Risk*: re-grade it, or give a reason to record a review keeping it."),
        input_block(
            "risk_level",
            "Risk",
            StaticSelectElement(options=list(risks.values()), initial_option=risks[card.risk]),
        ),
        input_block(
            "risk_reason",
            "Reason for the grade",
            PlainTextInputElement(multiline=True, max_length=MAX_REASON),
            optional=True,
            hint="Required when the risk changes. Kept in the risk history, never posted.",
        ),
        input_block("decided_by", "Decided by", UserSelectElement(initial_user=caller_id)),
        section("*Sighting or information*"),
        input_block("sighting_at", "Seen at", DateTimePickerElement(), optional=True),
        input_block(
            "sighting_place", "Seen where", PlainTextInputElement(max_length=400), optional=True
        ),
        input_block(
            "information",
            "Information to add",
            PlainTextInputElement(multiline=True, max_length=2000),
            optional=True,
        ),
        section("*Corrections*: change only what was recorded wrong."),
        input_block(
            "last_seen_place",
            "Last seen where",
            PlainTextInputElement(initial_value=_text(form.last_seen_place), max_length=400),
        ),
    ]
    if card.looked_after:
        blocks.append(
            input_block(
                "placing_authority",
                "Placing authority",
                PlainTextInputElement(initial_value=_text(form.placing_authority), max_length=200),
                optional=True,
            )
        )
    blocks += [
        input_block(
            "risk_factors",
            "Risk factors",
            CheckboxesElement(options=list(factors.values()), initial_options=chosen or None),
            optional=True,
        ),
        input_block(
            "description",
            "Description and clothing",
            PlainTextInputElement(
                initial_value=_text(form.description), multiline=True, max_length=2000
            ),
            optional=True,
        ),
        input_block(
            "reported_by",
            "Reported by (name and how to reach them)",
            PlainTextInputElement(
                initial_value=_text(form.reported_by), multiline=True, max_length=2000
            ),
            optional=True,
        ),
        input_block(
            "incident_ref",
            "Force incident / log number",
            PlainTextInputElement(initial_value=_text(form.incident_ref), max_length=60),
            optional=True,
        ),
        input_block(
            "officer", "Officer in the case", UserSelectElement(initial_user=form.officer_id)
        ),
        context("Saved to the record; the episode's thread is told what changed, not the text."),
    ]
    return View(
        type="modal",
        callback_id=CALLBACK_ID,
        title=f"Update {card.ref}"[:24],
        submit="Save update",
        close="Cancel",
        private_metadata=json.dumps(metadata),
        blocks=blocks,
    ).to_dict()


def _text(value: str | None) -> str | None:
    """Slack refuses an empty initial value: none at all instead."""
    return value or None
