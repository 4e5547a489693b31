"""Free text people type (names, places, notes, reasons, organisations): what may be stored, and
how a piece of it is quoted back in a message.

Text is stored exactly as typed, or refused with a reason: never silently altered, so what the
record says is what the person wrote. Refused are:

- control characters (U+0000-U+001F and U+007F-U+009F) other than tab, line feed and carriage
  return. No keyboard types them: they come from pasted binary or a forged request. PostgreSQL
  cannot store U+0000 at all (SQLite can, so the two databases would disagree), and the others
  corrupt what reads the record later: an escape sequence in an audit export or a terminal.
- lone surrogates (U+D800-U+DFFF). They are not characters and have no UTF-8 form, so no
  database can store them; only a hand-made JSON payload (`"\\ud800"`) can carry one.
- more characters than the limit, counted as the database columns count them (code points).
"""

from __future__ import annotations

import re

from bot.domain.errors import UserError

# A note on a return, a reason for reopening or for an interview not done.
NOTE_LIMIT = 1000
# An organisation that did a return home interview (its column holds 200).
ORGANISATION_LIMIT = 200

_UNSTORABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def unstorable(text: str) -> str | None:
    """The first character that is refused, as `U+XXXX`, or None."""
    found = _UNSTORABLE.search(text)
    return f"U+{ord(found.group()):04X}" if found else None


def text_problem(text: str, *, limit: int, what: str = "this") -> str | None:
    """Why `text` cannot be stored as typed, in words for the person who typed it; or None.

    `what` names the text in the message ("the note"); a form's field error says "this".
    """
    bad = unstorable(text)
    if bad is not None:
        return (
            f"{what[:1].upper()}{what[1:]} contains a control character ({bad}) that cannot "
            "be stored: retype it without."
        )
    if len(text) > limit:
        return f"Keep {what} under {limit} characters."
    return None


def check_text(text: str, *, limit: int, what: str) -> None:
    """UserError unless `text` can be stored as typed (see `text_problem`)."""
    problem = text_problem(text, limit=limit, what=what)
    if problem:
        raise UserError(problem)


def quoted(text: str, limit: int = 40) -> str:
    """A piece of what someone typed, quoted back in a message (`... is not a reference`).

    Messages are written in chat markup (they use backticks and bold) and are shown as they are,
    so the quote must not act as markup: `&`, `<` and `>` become entities, and `<!channel>`
    quoted back stays text instead of notifying a channel. Runs of white space become one space,
    refused characters are dropped, and the quote is clipped to `limit` characters first.
    """
    clipped = " ".join(_UNSTORABLE.sub("", text).split())[:limit]
    return clipped.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
