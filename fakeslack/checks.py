"""Argument checks the Web API method handlers share: Slack refuses the whole call over these.

Each raises ``SlackError`` with the code Slack answers, so a bot that sends what Slack would
refuse fails here too instead of passing its tests.
"""

from __future__ import annotations

from typing import Any

from fakeslack.records import MAX_MESSAGE_BLOCKS, MAX_TEXT_CHARS
from fakeslack.replies import SlackError


def require(args: dict[str, Any], *names: str) -> None:
    """Every name present and non-empty, or ``invalid_arguments`` listing the missing ones."""
    missing = [n for n in names if not args.get(n)]
    if missing:
        messages = (f"[ERROR] missing required field: {n}" for n in missing)
        raise SlackError("invalid_arguments", *messages)


def truthy(value: Any) -> bool:
    """A boolean argument: JSON sends true, forms send "true" or (slack-sdk) "1"."""
    return value is True or (isinstance(value, str) and value.lower() in ("true", "1"))


def whole_number(args: dict[str, Any], name: str) -> int | None:
    """An integer argument (forms carry it as text); None when absent."""
    value = args.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise SlackError("invalid_arguments", f"[ERROR] {name} must be an integer")
    if isinstance(value, int):
        return value
    try:
        return int(str(value).strip())
    except ValueError:
        raise SlackError("invalid_arguments", f"[ERROR] {name} must be an integer") from None


def check_blocks(args: dict[str, Any], limit: int = MAX_MESSAGE_BLOCKS) -> list[dict[str, Any]]:
    blocks = args.get("blocks")
    if blocks is None:
        return []
    if isinstance(blocks, str):
        raise SlackError("invalid_blocks_format")
    well_formed = isinstance(blocks, list) and all(
        isinstance(b, dict) and b.get("type") for b in blocks
    )
    if not well_formed:
        raise SlackError("invalid_blocks", "[ERROR] every block must be an object with a type")
    if len(blocks) > limit:
        raise SlackError("invalid_blocks", f"[ERROR] no more than {limit} items allowed")
    return blocks


def check_text_and_blocks(args: dict[str, Any]) -> list[dict[str, Any]]:
    blocks = check_blocks(args)
    if not args.get("text") and not blocks and not args.get("attachments"):
        raise SlackError("no_text")
    if len(str(args.get("text", ""))) > MAX_TEXT_CHARS:
        raise SlackError("msg_too_long")
    return blocks


def check_metadata(args: dict[str, Any]) -> None:
    """Message metadata: ``{"event_type": str, "event_payload": object}``.

    slack-sdk sends it as an object in a JSON body; form callers send a JSON string, which the
    decoder has already parsed when it could. A string left over was not JSON.
    """
    if "metadata" not in args:
        return
    metadata = args["metadata"]
    if not isinstance(metadata, dict):
        raise SlackError("invalid_metadata_format", "[ERROR] metadata must be a JSON object")
    event_type = metadata.get("event_type")
    if not isinstance(event_type, str) or not event_type:
        raise SlackError("invalid_metadata_schema", "[ERROR] metadata needs an event_type")
    if not isinstance(metadata.get("event_payload"), dict):
        raise SlackError("invalid_metadata_schema", "[ERROR] event_payload must be an object")


def require_view_type(view: Any, expected: str) -> None:
    if isinstance(view, str):
        raise SlackError("invalid_arguments", "[ERROR] view is not valid JSON")
    if not isinstance(view, dict) or view.get("type") != expected:
        raise SlackError("invalid_arguments", f"[ERROR] view type must be {expected!r}")
