"""Reading the audit trail: local-day ranges for exports, and one-line summaries of a row."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.domain.errors import UserError

_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
SUMMARY_WIDTH = 120
_VALUE_WIDTH = 40
# A list longer than this (a purge's references) is summarised by its length.
_LIST_SHOWN = 3


def parse_day(text: str) -> date:
    """Exactly `YYYY-MM-DD`: an export's range is typed by an operator and must not be guessed."""
    cleaned = text.strip()
    try:
        if _ISO_DAY.match(cleaned):
            return date.fromisoformat(cleaned)
    except ValueError:
        pass
    raise UserError(f"`{cleaned[:20]}` is not a date: use YYYY-MM-DD, e.g. 2026-11-24.")


def local_days(first: date, last: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The UTC instants [start, end) covering local days `first` to `last`, both included.

    Local midnights, not UTC ones: an export "for 1 July" means the control room's 1 July.
    A day the clocks change on is 23 or 25 hours long, and is covered whole.
    """
    if last < first:
        raise UserError(f"the range ends ({last}) before it starts ({first}).")
    start = datetime.combine(first, time(0), tzinfo=tz)
    end = datetime.combine(last + timedelta(days=1), time(0), tzinfo=tz)
    return start.astimezone(ZoneInfo("UTC")), end.astimezone(ZoneInfo("UTC"))


def summarise_detail(detail: Mapping[str, object], *, width: int = SUMMARY_WIDTH) -> str:
    """`risk=high, officer=U1` from a row's detail, short enough for one line of a message.

    Empty values are left out; long text is cut, long lists are counted, nested data elided.
    """
    parts = [
        f"{key}={_short(value)}"
        for key, value in sorted(detail.items())
        if value not in (None, "", [], {})
    ]
    text = ", ".join(parts)
    return text if len(text) <= width else text[: width - 1] + "…"


def _short(value: object) -> str:
    if isinstance(value, list | tuple):
        if len(value) > _LIST_SHOWN:
            return f"[{len(value)} items]"
        return "[" + ", ".join(_short(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{…}"
    text = " ".join(str(value).split())
    return text if len(text) <= _VALUE_WIDTH else text[: _VALUE_WIDTH - 1] + "…"
