"""Slack's request envelope, checked on verified bytes before Bolt parses them.

Bolt 1.30 reads a request's context (who, which workspace, which channel) from fields it assumes
have the types Slack sends. A signed body with another type there (`"user": true`, `"team": 5`,
`"actions": {}`) makes Bolt raise while it builds the request, before any listener or error
handler runs, so the request would end as a traceback in the log. Slack itself never sends such a
body; the check below refuses one with a 400 and a one-line reason instead.

It also undoes a Bolt quirk: Bolt takes any form body containing the letters "payload" for an
interaction, looks for a `payload` field, finds none, and answers 404. So `/missing returned M-1
payload found` failed. Such a command is handed on with those letters percent-encoded (the same
form fields, read the same way), re-signed, since Bolt checks the signature again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import parse_qsl

# Top-level fields Slack sends as objects (or null), and as lists of objects. Bolt indexes into
# these while building its context and choosing a listener.
OBJECT_FIELDS = (
    "user",
    "team",
    "enterprise",
    "channel",
    "container",
    "view",
    "message",
    "state",
    "event",
    "item",
    "previous_message",
    "assistant_thread",
    "function_data",
    "workflow_step",
)
LIST_FIELDS = ("actions", "authorizations")
# Read by Bolt as text: `type` to choose listeners, the others to build `respond`/`say`.
TEXT_FIELDS = ("type", "response_url", "trigger_id", "channel_id", "user_id", "team_id")


@dataclass(frozen=True)
class Envelope:
    """The body to hand Bolt (maybe re-encoded), or why the request is refused."""

    body: bytes
    problem: str | None = None
    reencoded: bool = False


def check_envelope(body: bytes, content_type: str | None) -> Envelope:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return Envelope(body, "body is not UTF-8")
    if not text:
        return Envelope(body)
    if content_type == "application/json" or text.startswith("{"):
        return Envelope(body, _problem(_decode(text)))
    fields = parse_qsl(text, keep_blank_values=True)
    payload = [value for key, value in fields if key == "payload"]
    if payload:
        return Envelope(body, _problem(_decode(payload[0])))
    if "payload" in text:
        # The letters are only ever in a value (no field Slack sends is called so); "%70" reads
        # back as "p", so the fields are unchanged and Bolt stops mistaking them.
        return Envelope(text.replace("payload", "%70ayload").encode(), reencoded=True)
    return Envelope(body)


def _decode(text: str) -> object:
    try:
        return json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: nested thousands deep
        return _NOT_JSON


_NOT_JSON = object()


def _problem(payload: object) -> str | None:
    if payload is _NOT_JSON:
        return "payload is not JSON"
    if not isinstance(payload, dict):
        return "payload is not a JSON object"
    for name in OBJECT_FIELDS:
        value = payload.get(name)
        if value is not None and not isinstance(value, dict):
            return f"`{name}` is not an object"
    for name in LIST_FIELDS:
        value = payload.get(name)
        if value is not None and not (
            isinstance(value, list) and value and all(isinstance(v, dict) for v in value)
        ):
            return f"`{name}` is not a list of objects"
    for name in TEXT_FIELDS:
        value = payload.get(name)
        if value is not None and not isinstance(value, str):
            return f"`{name}` is not text"
    url = payload.get("response_url")
    if url and not url.startswith(("https://", "http://")):
        # Where `respond()` would post: slack_sdk logs an error for anything else.
        return "`response_url` is not a web address"
    return None
