"""Block Kit checks for every payload the bot sends.

slack-sdk only checks limits when a model object is serialised, ``Block.parse`` drops unknown
block types with a mere warning, and plain dicts are never checked at all. Slack, on the other
hand, rejects the whole call (``invalid_blocks``, ``msg_blocks_too_long``). These helpers parse
each block back through the SDK models so tests fail where Slack would.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from fakeslack import Call, FakeSlack

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
# Slack has been seen rejecting ~13,000 characters of block text; keep a margin.
MAX_MESSAGE_BLOCK_TEXT = 12_000
MAX_VIEW_LABEL = 24
MAX_PRIVATE_METADATA = 3_000

MESSAGE_METHODS = frozenset({"chat.postMessage", "chat.update", "chat.postEphemeral"})
VIEW_METHODS = frozenset({"views.open", "views.update", "views.push", "views.publish"})


def assert_valid_message(payload: dict[str, Any]) -> None:
    """A chat message or respond() body: text fallback, block count, block limits, text size."""
    text = payload.get("text")
    assert isinstance(text, str) and text.strip(), "message has no `text` fallback"
    blocks = _blocks(payload, "message")
    assert len(blocks) <= MAX_MESSAGE_BLOCKS, (
        f"message has {len(blocks)} blocks; Slack allows {MAX_MESSAGE_BLOCKS}"
    )
    for index, block in enumerate(blocks):
        assert_valid_block(block, where=f"block {index}")
    total = sum(len(t) for t in _texts(blocks))
    assert total < MAX_MESSAGE_BLOCK_TEXT, (
        f"blocks hold {total} characters of text; keep under {MAX_MESSAGE_BLOCK_TEXT}"
    )


def assert_valid_view(view: dict[str, Any]) -> None:
    """A modal or Home tab: SDK validation plus the limits the SDK does not check."""
    assert isinstance(view, dict), f"view is {type(view).__name__}, not an object"
    assert view.get("type") in ("modal", "home"), f"view type {view.get('type')!r}"
    try:
        View(**view).validate_json()
    except SlackObjectFormationError as err:
        raise AssertionError(f"view rejected by slack_sdk: {err}") from err
    blocks = _blocks(view, "view")
    assert len(blocks) <= MAX_VIEW_BLOCKS, (
        f"view has {len(blocks)} blocks; Slack allows {MAX_VIEW_BLOCKS}"
    )
    for index, block in enumerate(blocks):
        assert_valid_block(block, where=f"view block {index}")
    for key in ("title", "submit", "close"):
        label = _plain_text(view.get(key))
        assert len(label) <= MAX_VIEW_LABEL, (
            f"view {key} is {len(label)} characters; Slack allows {MAX_VIEW_LABEL}: {label!r}"
        )
    metadata = view.get("private_metadata") or ""
    assert len(metadata) <= MAX_PRIVATE_METADATA, (
        f"private_metadata is {len(metadata)} characters; Slack allows {MAX_PRIVATE_METADATA}"
    )


def assert_valid_block(block: dict[str, Any], *, where: str = "block") -> None:
    """Parse one block through the SDK: known type, within limits, no field silently dropped."""
    assert isinstance(block, dict), f"{where} is {type(block).__name__}, not an object"
    parsed = Block.parse(block)
    assert parsed is not None, f"{where}: slack_sdk does not know block type {block.get('type')!r}"
    assert parsed.type == block.get("type"), (
        f"{where}: parsed as {parsed.type!r}, sent as {block.get('type')!r}"
    )
    try:
        parsed.validate_json()
        serialised = parsed.to_dict()
    except SlackObjectFormationError as err:
        raise AssertionError(f"{where} ({block.get('type')}): {err}") from err
    dropped = set(block) - set(serialised)
    assert not dropped, f"{where} ({block.get('type')}): fields Slack would not accept: {dropped}"


def assert_all_valid(fake: FakeSlack) -> None:
    """Check every message, view and response_url post the fake received; report all failures."""
    failures: list[str] = []
    for index, call in enumerate(fake.calls):
        try:
            _check_call(call)
        except AssertionError as err:
            failures.append(f"call {index} {call.method}: {err}")
    assert not failures, "invalid Block Kit payloads:\n" + "\n".join(failures)


def _check_call(call: Call) -> None:
    if call.method in MESSAGE_METHODS:
        assert_valid_message(call.args)
    elif call.method in VIEW_METHODS:
        view = call.args.get("view")
        assert isinstance(view, dict), f"view is {type(view).__name__}, not an object"
        assert_valid_view(view)
    elif call.method == "response_url" and not call.args.get("delete_original"):
        # respond() may send text alone; deletions carry an empty text by design.
        assert_valid_message(call.args)


def _blocks(payload: dict[str, Any], what: str) -> list[Any]:
    blocks = payload.get("blocks") or []
    assert isinstance(blocks, list), f"{what} blocks is {type(blocks).__name__}, not a list"
    return blocks


def _plain_text(value: Any) -> str:
    if isinstance(value, dict):
        return str(value.get("text") or "")
    return str(value or "")


def _texts(node: Any) -> Iterator[str]:
    """Every string under a "text" key, at any depth: what Slack counts as block text."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "text" and isinstance(value, str):
                yield value
            else:
                yield from _texts(value)
    elif isinstance(node, list):
        for item in node:
            yield from _texts(item)
