"""Episode references: `M-42`, accepted as `M-42`, `m42`, `m 42` or `42`."""

from __future__ import annotations

import re

from bot.domain.errors import UserError
from bot.domain.text import quoted

# ASCII only: without re.ASCII, \d also takes other scripts' digits (`M-١` read as M-1) and
# \s other spaces; a reference is never typed so.
_REF = re.compile(r"^m?[-\s]?0*(\d{1,9})$", re.IGNORECASE | re.ASCII)


def format_ref(episode_id: int) -> str:
    return f"M-{episode_id}"


def parse_ref(text: str) -> int:
    match = _REF.match(text.strip())
    if not match or int(match[1]) == 0:
        shown = quoted(text, 30) or "(nothing)"
        raise UserError(f"`{shown}` is not an episode reference: use one like `M-42`.")
    return int(match[1])
