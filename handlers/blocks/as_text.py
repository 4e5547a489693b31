"""A Slack message payload as plain text: for `missing-bot digest --dry-run` and the docs."""

from __future__ import annotations

from typing import Any


def as_text(payload: dict[str, Any]) -> str:
    """Headers, sections (and their fields), context lines and dividers, in order; the chat
    markup (`*bold*`, `<@U123>`, `&lt;`) left as Slack would receive it."""
    lines: list[str] = []
    for block in payload.get("blocks") or []:
        kind = block.get("type")
        if kind == "header":
            title = _text(block.get("text"))
            lines += [title, "=" * len(title)]
        elif kind == "section":
            if block.get("text"):
                lines.append(_text(block["text"]))
            for field in block.get("fields") or []:
                lines.append("  " + _text(field).replace("\n", ": ", 1))
        elif kind == "context":
            lines.append("> " + " ".join(_text(e) for e in block.get("elements") or []))
        elif kind == "divider":
            lines.append("-" * 40)
    if not lines:
        lines.append(str(payload.get("text") or ""))
    return "\n".join(lines)


def _text(obj: Any) -> str:
    return str(obj.get("text") or "") if isinstance(obj, dict) else str(obj or "")
