"""Facts about a child that may be shown in a channel: initials and age, never the name."""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from typing import TypeGuard

# Staff are named by their Slack user id: `U` (or `W` on Enterprise Grid) then capitals and
# digits. The columns that hold one (officer, assignee, actor) take 32 characters.
_STAFF_ID = re.compile(r"[UW][A-Z0-9]{1,31}")


def initials(full_name: str) -> str:
    """`Jane Mary Smith` -> `J.M.S.`; only letters count, so markup cannot leak through."""
    letters = []
    for word in full_name.split():
        word = word.lstrip("\"'(")
        # Only words that start with a letter: `<!channel>` or `@here` give no initial.
        if word and word[0].isalpha():
            letters.append(word[0].upper())
    return "".join(f"{ch}." for ch in letters[:4]) or "?"


def age_on(date_of_birth: date, day: date) -> int:
    years = day.year - date_of_birth.year
    if (day.month, day.day) < (date_of_birth.month, date_of_birth.day):
        years -= 1
    return years


def name_key(full_name: str) -> str:
    """How two spellings of one name are matched: case, accents' composition and spaces folded."""
    composed = unicodedata.normalize("NFKC", full_name)
    return " ".join(composed.casefold().split())


def is_staff_id(value: object) -> TypeGuard[str]:
    """A Slack user id the records can hold; anything else never names a person here."""
    return isinstance(value, str) and _STAFF_ID.fullmatch(value) is not None
