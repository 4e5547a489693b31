"""Reading Slack's payloads: each field as the type Slack sends it, or as absent.

A request is only verified as signed; its fields are as well-formed as its sender made them.
Listeners read them through these helpers, so a missing field, or one of another type, reads as
absent (and is then refused with a clear answer), never as an exception. Ids are checked against
the shapes Slack uses, so nothing else reaches the database, a log line or a Slack API call.
"""

from __future__ import annotations

import json
import re
from typing import Any

# Conversations (C public, G private, D direct message), workspaces (T, or E for an Enterprise
# Grid organisation) and message timestamps, as Slack writes them. The columns that keep a
# channel id hold 32 characters.
_CHANNEL = re.compile(r"[CDG][A-Z0-9]{1,31}")
_TEAM = re.compile(r"[TE][A-Z0-9]{1,31}")
_TS = re.compile(r"[0-9]{1,12}\.[0-9]{1,8}")
# Trigger ids ("12345.98765.abcd2358fdea") and view ids ("V0123ABC"): one-use request keys.
_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,150}")


def obj(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def items(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def text(value: object) -> str | None:
    """A non-empty string, or None."""
    return value if isinstance(value, str) and value else None


def dig(value: object, *keys: str) -> Any:
    """`value[k1][k2]...` through objects only; None where a level is missing or not one."""
    for key in keys:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def channel_id(value: object) -> str | None:
    return value if isinstance(value, str) and _CHANNEL.fullmatch(value) else None


def team_id(value: object) -> str | None:
    return value if isinstance(value, str) and _TEAM.fullmatch(value) else None


def message_ts(value: object) -> str | None:
    return value if isinstance(value, str) and _TS.fullmatch(value) else None


def request_id(value: object) -> str | None:
    return value if isinstance(value, str) and _REQUEST_ID.fullmatch(value) else None


def json_object(value: object) -> dict[str, Any] | None:
    """A view's `private_metadata`: the JSON object the bot wrote there, or None."""
    if not isinstance(value, str):
        return None
    try:
        decoded = json.loads(value)
    except (ValueError, RecursionError):  # RecursionError: nested thousands deep
        return None
    return decoded if isinstance(decoded, dict) else None
