"""Slack mrkdwn and Block Kit as terminal text: what a person would read in the Slack client."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from demo.terminal import Style

UserName = Callable[[str], str]

# Single-width symbols: wide emoji break tmux's line layout in some set-ups. Unknown codes are
# left as typed, which is also how Slack shows a code it does not know.
EMOJI = {
    "rotating_light": "‼",
    "white_check_mark": "✔",
    "heavy_check_mark": "✔",
    "warning": "⚠",
    "alarm_clock": "⏲",
    "red_circle": "●",
    "large_orange_circle": "◉",
    "large_yellow_circle": "○",
    "white_circle": "◌",
    "repeat": "↻",
    "zzz": "z",
    "arrows_counterclockwise": "⟳",
    "no_entry": "⊘",
    "x": "✘",
    # The digest and the handover.
    "round_pushpin": "⌖",
    "mag": "⌕",
    "house": "⌂",
    "mailbox_with_no_mail": "✉",
    "eyes": "◎",
    "hourglass": "⧗",
    "calendar": "▦",
    "police_car": "⚑",
}

_ENTITY = re.compile(r"<([^<>\n]+)>")
_CODE = re.compile(r"(`[^`\n]*`)")
_EMOJI = re.compile(r":([a-z0-9_+\-]+):")
_BOLD = re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])")
_ITALIC = re.compile(r"(?<![\w_])_(?=\S)([^_\n]+?)(?<=\S)_(?![\w_])")
_STRIKE = re.compile(r"(?<![\w~])~(?=\S)([^~\n]+?)(?<=\S)~(?![\w~])")


@dataclass(frozen=True)
class Button:
    action_id: str
    label: str


def mrkdwn(text: str, *, user_name: UserName, style: Style) -> str:
    """Mentions, links and emoji resolved; bold shown as bold (or plain); entities unescaped."""
    text = _ENTITY.sub(lambda m: _entity(m[1], user_name), text)
    parts = _CODE.split(text)
    for i in range(0, len(parts), 2):  # even parts are outside `code spans`
        part = _EMOJI.sub(lambda m: EMOJI.get(m[1], m[0]), parts[i])
        part = _BOLD.sub(lambda m: style.bold(m[1]), part)
        part = _ITALIC.sub(lambda m: m[1], part)
        parts[i] = _STRIKE.sub(lambda m: m[1], part)
    return "".join(parts).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _entity(body: str, user_name: UserName) -> str:
    target, _, label = body.partition("|")
    if target.startswith("@"):
        return "@" + (label or user_name(target[1:]))
    if target.startswith("#"):
        return "#" + (label or target[1:].lower())
    if target.startswith("!"):
        special = target[1:].split("^")[0]
        if special in ("here", "channel", "everyone"):
            return "@" + special
        return label or special
    if "://" in target or target.startswith("mailto:"):
        return f"{label} ({target})" if label else target
    # Not a Slack entity: text someone wrote with angle brackets (`<ref>` in usage lines).
    return f"<{body}>"


def _text_of(obj: Any, *, user_name: UserName, style: Style) -> str:
    if not isinstance(obj, dict):
        return ""
    text = str(obj.get("text") or "")
    if obj.get("type") == "mrkdwn":
        return mrkdwn(text, user_name=user_name, style=style)
    return text


def buttons_in(blocks: Iterable[dict[str, Any]]) -> list[Button]:
    found = []
    for block in blocks:
        elements = list(block.get("elements") or []) if block.get("type") == "actions" else []
        if isinstance(block.get("accessory"), dict):
            elements.append(block["accessory"])
        for element in elements:
            if isinstance(element, dict) and element.get("type") == "button":
                label = str((element.get("text") or {}).get("text") or element.get("action_id"))
                found.append(Button(str(element.get("action_id") or ""), label))
    return found


def block_lines(
    blocks: list[dict[str, Any]], fallback: str, *, user_name: UserName, style: Style
) -> list[str]:
    """A message's lines as the Slack client shows them; the fallback text when no blocks."""
    lines: list[str] = []
    for block in blocks:
        kind = block.get("type")
        if kind == "section":
            text = _text_of(block.get("text"), user_name=user_name, style=style)
            lines.extend(text.splitlines() if text else [])
            for field in block.get("fields") or []:
                lines.extend(_text_of(field, user_name=user_name, style=style).splitlines())
        elif kind == "header":
            lines.append(style.bold(_text_of(block.get("text"), user_name=user_name, style=style)))
        elif kind == "context":
            parts = [
                _text_of(e, user_name=user_name, style=style)
                for e in block.get("elements") or []
                if isinstance(e, dict) and e.get("type") in ("mrkdwn", "plain_text")
            ]
            if parts:
                lines.extend(style.dim(" · ".join(parts)).splitlines())
        elif kind == "divider":
            lines.append(style.dim("─" * 24))
        elif kind == "image":
            lines.append(f"[image: {block.get('alt_text', '')}]")
        # actions blocks are shown by the caller, which numbers them for :click
    if not lines:
        lines = mrkdwn(fallback, user_name=user_name, style=style).splitlines() or [""]
    return lines


def button_line(buttons: list[Button], number: int, style: Style) -> str:
    shown = " ".join(style.bold(f"[{b.label}]") for b in buttons)
    example = buttons[0].label
    return f"{shown}   {style.dim(f'(to click: :click {number} {example})')}"
