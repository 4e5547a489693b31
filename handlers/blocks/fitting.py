"""Long lists in one Slack message: as many rows as Slack's limits allow, and how many more.

Slack takes at most 50 blocks a message, 3,000 characters a section, and has been seen
refusing about 13,000 characters of block text in all. A summary (the digest, the handover)
is a few fixed blocks and several lists; `fit` shortens the longest lists until the whole
fits, so a summary always posts, with the most urgent rows of each list first.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from slack_sdk.models.blocks import Block

from handlers.blocks.common import SECTION_LIMIT, section

MAX_BLOCKS = 50
# Under the ~13,000 characters Slack has refused, with room for notes added when sending.
MAX_TEXT = 11_000
# A section's text, with room for the escaping `section` may add.
_SECTION_TEXT = SECTION_LIMIT - 200


@dataclass
class Part:
    """One list: a title line, its rows (most urgent first), how many there are in all."""

    title: str
    lines: Sequence[str]
    total: int
    more: str  # where the rest can be seen, e.g. "`/missing list`"
    shown: int  # how many rows to show (lowered by `fit`)

    def text_blocks(self) -> list[str]:
        rows = list(self.lines[: self.shown])
        rest = self.total - len(rows)
        if rest > 0:
            rows.append(f"…and {rest} more{': ' + self.more if self.more else ''}")
        chunks: list[str] = []
        current = self.title
        for row in rows:
            if len(current) + 1 + len(row) > _SECTION_TEXT:
                chunks.append(current)
                current = row
            else:
                current = f"{current}\n{row}"
        chunks.append(current)
        return chunks


def fit(
    build: Callable[[list[Part]], list[Block]], parts: list[Part], *, budget: int = MAX_TEXT
) -> list[Block]:
    """`build(parts)` with the lists shortened, longest first, until the message fits."""
    while True:
        blocks = build(parts)
        if len(blocks) <= MAX_BLOCKS - 2 and text_size(blocks) <= budget:
            return blocks
        longest = max(parts, key=lambda p: min(p.shown, len(p.lines)), default=None)
        if longest is None or min(longest.shown, len(longest.lines)) == 0:
            return blocks[: MAX_BLOCKS - 2]  # nothing left to shorten (cannot happen in practice)
        longest.shown = min(longest.shown, len(longest.lines)) * 3 // 4


def part_sections(parts: Sequence[Part]) -> list[Block]:
    return [section(text) for part in parts if part.total for text in part.text_blocks()]


def text_size(blocks: Sequence[Block]) -> int:
    return sum(len(t) for t in _texts(b.to_dict() for b in blocks))


def _texts(node: object) -> list[str]:
    found: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "text" and isinstance(value, str):
                found.append(value)
            else:
                found += _texts(value)
    elif isinstance(node, list | tuple) or hasattr(node, "__next__"):
        for item in node:  # type: ignore[attr-defined]
            found += _texts(item)
    return found
