"""Times typed by people (UK day-first, Europe/London) and times shown to them."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.domain.errors import UserError

ACCEPTED_FORMS = (
    "`14:30`, `yesterday 14:30`, `24/11 14:30`, `24/11/2026 14:30` or `2026-11-24 14:30`"
)

_TIME = r"(?P<h>\d{1,2})[:.](?P<m>\d{2})"
_PATTERNS = [
    re.compile(rf"^(?P<word>today|yesterday)\s+{_TIME}$"),
    re.compile(rf"^{_TIME}$"),
    re.compile(rf"^(?P<d>\d{{1,2}})/(?P<mo>\d{{1,2}})(?:/(?P<y>\d{{2}}|\d{{4}}))?\s+{_TIME}$"),
    re.compile(rf"^(?P<y>\d{{4}})-(?P<mo>\d{{2}})-(?P<d>\d{{2}})(?:[ T]{_TIME}(?::\d{{2}})?)?$"),
]


class UnreadableTime(UserError):
    """The text matched none of the accepted forms (as opposed to an impossible date)."""


def local_to_utc(naive: datetime, tz: ZoneInfo) -> datetime:
    """Attach the local zone; refuse a wall time the clocks skipped.

    An ambiguous time (the hour repeated when clocks go back) is taken as the first one.
    """
    aware = naive.replace(tzinfo=tz, fold=0)
    round_trip = aware.astimezone(UTC).astimezone(tz).replace(tzinfo=None)
    if round_trip != naive:
        raise UserError(
            f"{naive:%H:%M} on {naive:%d/%m/%Y} did not happen in UK time "
            "(the clocks went forward)."
        )
    return aware.astimezone(UTC)


def parse_when(text: str, *, now: datetime, tz: ZoneInfo) -> datetime:
    """A time typed by a person, as aware UTC; UserError naming the accepted forms if unreadable."""
    cleaned = " ".join(text.strip().lower().split())
    local_now = now.astimezone(tz)
    for pattern in _PATTERNS:
        match = pattern.match(cleaned)
        if match:
            return _build(match.groupdict(), local_now=local_now, tz=tz, raw=text)
    raise UserError(
        f"I couldn't read the time `{text.strip()[:40]}`. Use {ACCEPTED_FORMS} (UK time)."
    )


def _build(
    parts: dict[str, str | None], *, local_now: datetime, tz: ZoneInfo, raw: str
) -> datetime:
    try:
        hour = int(parts.get("h") or 0)
        minute = int(parts.get("m") or 0)
        clock = time(hour, minute)
    except ValueError:
        raise UserError(f"`{raw.strip()[:40]}` is not a real time of day.") from None
    word = parts.get("word")
    if parts.get("d") is None:
        day = local_now.date()
        if word == "yesterday":
            day -= timedelta(days=1)
        naive = datetime.combine(day, clock)
        # A bare time still ahead of now means the same time yesterday (a return at 23:50
        # logged at 00:10).
        if word is None and naive > local_now.replace(tzinfo=None):
            naive -= timedelta(days=1)
        return local_to_utc(naive, tz)
    year_text = parts.get("y")
    year = local_now.year if year_text is None else int(year_text)
    if year_text is not None and len(year_text) == 2:
        year += 2000
    try:
        day = date(year, int(parts["mo"] or 0), int(parts["d"] or 0))
    except ValueError:
        raise UserError(f"`{raw.strip()[:40]}` is not a real date (dates are day/month).") from None
    return local_to_utc(datetime.combine(day, clock), tz)


def parse_date(text: str) -> date:
    """A date typed by a person: `24/11/2012` (UK day-first) or ISO `2012-11-24`."""
    cleaned = text.strip()
    match = re.match(r"^(\d{1,2})/(\d{1,2})/(\d{4})$", cleaned)
    try:
        if match:
            return date(int(match[3]), int(match[2]), int(match[1]))
        return date.fromisoformat(cleaned)
    except ValueError:
        raise UserError(
            f"`{cleaned[:40]}` is not a date: use day/month/year, e.g. 24/11/2012."
        ) from None


def fmt_local(when: datetime, tz: ZoneInfo) -> str:
    """`Tue 24/11/2026 14:30` in local time."""
    return when.astimezone(tz).strftime("%a %d/%m/%Y %H:%M")


def fmt_local_short(when: datetime, tz: ZoneInfo, *, now: datetime) -> str:
    """`14:30`, `tomorrow 14:30`, `yesterday 09:00` or `Tue 24/11 14:30` relative to now."""
    local = when.astimezone(tz)
    days = (local.date() - now.astimezone(tz).date()).days
    hhmm = local.strftime("%H:%M")
    if days == 0:
        return f"today {hhmm}"
    if days == 1:
        return f"tomorrow {hhmm}"
    if days == -1:
        return f"yesterday {hhmm}"
    return local.strftime("%a %d/%m %H:%M")


def fmt_duration(delta: timedelta) -> str:
    """`3 d 4 h`, `5 h 20 min`, `12 min`; negative durations read as their size."""
    minutes = int(abs(delta).total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {mins} min"
    return f"{mins} min"
