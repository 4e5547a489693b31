"""Slack's requests toward the bot, built in its wire format: slash commands and interactions.

Pure builders: the sender decides who acts, the one-use trigger id, the response URL and the
clock. Interactions (``block_actions`` for a click or a choice in a modal, ``view_submission``
for a submitted modal) travel as one form field ``payload`` holding JSON; slash commands as
plain form fields.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fakeslack.modal_state import option_with_value, values_for
from fakeslack.records import APP_ID, TEAM_DOMAIN

# Slack still sends the legacy verification token in every payload; Bolt ignores it.
VERIFICATION_TOKEN = "fake-verification-token"
FORM = "application/x-www-form-urlencoded"


@dataclass(frozen=True)
class Actor:
    """The user acting and their workspace, as every payload names them."""

    team_id: str
    user_id: str
    user_name: str

    @property
    def user(self) -> dict[str, str]:
        name = self.user_name
        return {"id": self.user_id, "username": name, "name": name, "team_id": self.team_id}

    @property
    def team(self) -> dict[str, str]:
        return {"id": self.team_id, "domain": TEAM_DOMAIN}


def slash_command_fields(
    actor: Actor,
    *,
    command: str,
    text: str,
    channel_id: str,
    response_url: str,
    trigger_id: str,
) -> dict[str, str]:
    """The form fields of a slash command, in the order Slack sends them."""
    return {
        "token": VERIFICATION_TOKEN,
        "team_id": actor.team_id,
        "team_domain": TEAM_DOMAIN,
        "channel_id": channel_id,
        "channel_name": channel_name(channel_id),
        "user_id": actor.user_id,
        "user_name": actor.user_name,
        "command": command,
        "text": text,
        "api_app_id": APP_ID,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger_id,
    }


def view_submission_payload(
    actor: Actor,
    view: Mapping[str, Any],
    values: dict[str, dict[str, dict[str, Any]]],
    *,
    trigger_id: str,
) -> dict[str, Any]:
    """A ``view_submission``: the view as Slack stored it, with ``state.values`` filled in."""
    submitted = copy.deepcopy(dict(view))
    # A view built by hand (not opened through the fake) still needs what Slack always adds.
    submitted.setdefault("id", "V0LOCAL")
    submitted.setdefault("team_id", actor.team_id)
    submitted.setdefault("app_id", APP_ID)
    submitted["state"] = {"values": copy.deepcopy(values)}
    return {
        "type": "view_submission",
        "team": actor.team,
        "user": actor.user,
        "api_app_id": APP_ID,
        "token": VERIFICATION_TOKEN,
        "trigger_id": trigger_id,
        "view": submitted,
        "response_urls": [],
        "is_enterprise_install": False,
        "enterprise": None,
    }


def view_choice_payload(
    actor: Actor,
    view: Mapping[str, Any],
    block_id: str,
    value: str,
    *,
    trigger_id: str,
    now: float,
) -> dict[str, Any]:
    """A choice in a modal input with ``dispatch_action``: Slack sends ``block_actions``
    carrying the view (and its state so far) before the form is submitted."""
    plain = dict(view)
    block = next((b for b in plain.get("blocks") or [] if b.get("block_id") == block_id), None)
    if block is None or not isinstance(block.get("element"), dict):
        raise ValueError(f"the view has no input {block_id!r}")
    element = block["element"]
    option = option_with_value(element, value, block_id)
    current = copy.deepcopy(plain)
    current.setdefault("id", "V0LOCAL")
    current["state"] = {"values": values_for(plain, {block_id: value})}
    return {
        "type": "block_actions",
        "team": actor.team,
        "user": actor.user,
        "api_app_id": APP_ID,
        "token": VERIFICATION_TOKEN,
        "container": {"type": "view", "view_id": current["id"]},
        "trigger_id": trigger_id,
        "view": current,
        "actions": [
            {
                "type": element.get("type"),
                "action_id": element.get("action_id"),
                "block_id": block_id,
                "selected_option": option,
                "action_ts": f"{now:.6f}",
            }
        ],
        "is_enterprise_install": False,
        "enterprise": None,
    }


def message_click_payload(
    actor: Actor,
    message: dict[str, Any],
    action: dict[str, Any],
    *,
    channel_id: str,
    ephemeral: bool,
    trigger_id: str,
    response_url: str,
) -> dict[str, Any]:
    """A ``block_actions`` click on ``message`` (which carries its ``ts``)."""
    return {
        "type": "block_actions",
        "user": actor.user,
        "api_app_id": APP_ID,
        "token": VERIFICATION_TOKEN,
        "container": {
            "type": "message",
            "message_ts": message["ts"],
            "channel_id": channel_id,
            "is_ephemeral": ephemeral,
        },
        "trigger_id": trigger_id,
        "team": actor.team,
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": channel_id, "name": channel_name(channel_id)},
        "message": message,
        "state": {"values": {}},
        "response_url": response_url,
        "actions": [action],
    }


def click_action(
    action_id: str,
    *,
    value: str | None,
    block_id: str | None,
    blocks: list[dict[str, Any]],
    now: float,
) -> dict[str, Any]:
    """The ``actions[0]`` of a click, completed from the element with ``action_id`` in
    ``blocks`` (its block_id, value, type), so tests say what the user clicked, not how
    Slack wires it. Arguments given win over what the element says."""
    found_block, element = _find_element(blocks, action_id) or (None, {})
    kind = element.get("type", "button")
    action: dict[str, Any] = {
        "action_id": action_id,
        "block_id": block_id or found_block or "b",
        "type": kind,
        "action_ts": f"{now:.6f}",
    }
    chosen = value if value is not None else str(element.get("value", ""))
    if kind == "button":
        action["value"] = chosen
        if "text" in element:
            action["text"] = element["text"]
        if "style" in element:
            action["style"] = element["style"]
    elif kind in ("static_select", "overflow", "radio_buttons"):
        action["selected_option"] = option_with_value(element, chosen, action_id)
    else:
        action["value"] = chosen
    return action


def payload_form(payload: dict[str, Any]) -> bytes:
    """An interaction as Slack posts it: one form field ``payload`` holding the JSON."""
    return urlencode({"payload": json.dumps(payload)}).encode()


def channel_name(channel_id: str) -> str:
    # Slack reports "directmessage" for DMs; any stable name will do for channels.
    return "directmessage" if channel_id.startswith("D") else channel_id.lower()


def _iter_elements(blocks: list[dict[str, Any]]) -> Iterator[tuple[str | None, dict[str, Any]]]:
    for block in blocks:
        block_id = block.get("block_id")
        for element in block.get("elements") or []:
            if isinstance(element, dict):
                yield block_id, element
        for key in ("accessory", "element"):
            if isinstance(block.get(key), dict):
                yield block_id, block[key]


def _find_element(
    blocks: list[dict[str, Any]], action_id: str
) -> tuple[str | None, dict[str, Any]] | None:
    matches = ((b, e) for b, e in _iter_elements(blocks) if e.get("action_id") == action_id)
    return next(matches, None)
