"""Times typed by people (UK day-first, Europe/London) and times shown to them.

`parse_when` reads one time as a person types it; `take_time` reads the time at the start of a
command's words. Both are pure: `now` is an argument and the clock is never read. dateutil does
the reading of numbers; the code here decides which words may reach it and what a time means
(which day, which side of a clock change, whether it is in the future).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

from dateutil import parser as dateutil_parser

from bot.domain.errors import UserError
from bot.domain.text import quoted as quote_typed

ACCEPTED_FORMS = (
    "`14:30`, `2:30pm`, `now`, `yesterday 23:10`, `24/11 14:30`, `24/11/2026 14:30` "
    "or `2026-11-24 14:30`"
)

# A bare time up to this far ahead of the clock is a slip and is refused; further ahead it
# means yesterday (a return at 23:50 logged at 00:10).
FUTURE_GRACE = timedelta(minutes=15)


class UnreadableTime(UserError):
    """The text matched none of the accepted forms (as opposed to an impossible date)."""


class ImpossibleTime(UserError):
    """A recognised form naming no real moment: 31/02, 25:99, `BST` in winter, a wrong day name."""


class FutureTime(UserError):
    """A time after `now`."""


class AmbiguousTime(UserError):
    """A UK wall time that happened twice (the clocks went back). `readings`: both, as UTC."""

    def __init__(self, message: str, readings: tuple[datetime, datetime]) -> None:
        super().__init__(message)
        self.readings = readings


class SkippedTime(UserError):
    """A UK wall time that never happened (the clocks went forward)."""


# --- Words -------------------------------------------------------------------------------------
# dateutil, even without fuzzy=True, turns far too much into a time: `14:30 45` is 14:30 in 2045,
# `14:30 12:34` is 12:34, `3 hours` is 03:00, `sat` is next Saturday, `may` is May. So each word
# must have one of these few shapes before dateutil sees it; dateutil then reads the numbers.
_ZONE = r"(?:z|[+-]\d{2}(?::?\d{2})?)"
_CLOCK = re.compile(rf"^\d{{1,2}}(?::\d{{2}}(?::\d{{2}})?(?:am|pm)?|am|pm){_ZONE}?$")
_DATE = re.compile(r"^(?:\d{1,2}/\d{1,2}(?:/\d{2}|/\d{4})?|\d{4}-\d{2}-\d{2})$")
_ISO_DATETIME = re.compile(
    rf"^\d{{4}}-\d{{2}}-\d{{2}}t\d{{2}}(?::?\d{{2}}(?::?\d{{2}}(?:\.\d+)?)?)?{_ZONE}?$"
)
_OFFSET = re.compile(r"^[+-]\d{2}(?::?\d{2})?$")
# Something a person meant as a time, even if mistyped (`14:3`, `24/11`, `1430`, `2pm`).
_TIMEISH = re.compile(r"^(?:\d+[:./-]\d|\d{4}$|\d{1,2}(?:am|pm))")

_DAY_WORDS = ("today", "yesterday")
_ZONE_WORDS = ("bst", "gmt", "utc")
_WEEKDAYS = {
    name: number
    for number, names in enumerate(
        (
            ("mon", "monday"),
            ("tue", "tues", "tuesday"),
            ("wed", "weds", "wednesday"),
            ("thu", "thur", "thurs", "thursday"),
            ("fri", "friday"),
            ("sat", "saturday"),
            ("sun", "sunday"),
        )
    )
    for name in names
}
_WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass
class _Typed:
    """What the words said, before any rule about days or clock changes is applied."""

    quoted: str  # what was typed, as quoted back in messages
    core: list[str] = field(default_factory=list)  # the words dateutil reads
    is_now: bool = False
    day_word: str | None = None  # today | yesterday
    zone: str | None = None  # bst | gmt | utc
    weekday: int | None = None
    date_word: str | None = None
    has_clock: bool = False
    has_offset: bool = False


def _quote(text: str) -> str:
    """What was typed, as messages quote it back: escaped, so it cannot act as markup."""
    return quote_typed(text, 40)


def _unreadable(quoted: str) -> UnreadableTime:
    if not quoted:
        return UnreadableTime(f"Give a time: {ACCEPTED_FORMS} (UK time).")
    return UnreadableTime(f"I couldn't read the time `{quoted}`. Use {ACCEPTED_FORMS} (UK time).")


def _lex(text: str) -> list[str]:
    """Lower-case words with the small rewrites dateutil does not do the way people mean."""
    words: list[str] = []
    spelled = text.lower().replace(",", " ").replace("a.m.", "am").replace("p.m.", "pm")
    for raw in spelled.split():
        # `01:30bst`: the zone glued on.
        glued = re.match(r"^(\d\S*?)(bst|gmt|utc)$", raw)
        parts = [glued[1], glued[2]] if glued else [raw]
        for word in parts:
            if word in ("am", "pm") and words and re.match(r"^\d{1,2}(?::\d{2})?$", words[-1]):
                words[-1] += word  # `2 pm`
            elif re.match(r"^\d{1,2}\.\d{2}(?:am|pm)?$", word):
                words.append(word.replace(".", ":"))  # `14.30`: dateutil reads a decimal day
            elif re.match(r"^\d{4}$", word):
                words.append(f"{word[:2]}:{word[2:]}")  # `1430`: dateutil reads a year
            else:
                words.append(word)
    return words


def _read(text: str) -> _Typed:
    """Sort the words into date, clock, day word, zone; refuse any other word or order."""
    typed = _Typed(_quote(text))
    words = _lex(text)
    if words[:1] == ["at"]:
        words = words[1:]  # `at 14:30`, as typed after a command
    if words == ["now"]:
        typed.is_now = True
        return typed
    for i, word in enumerate(words):
        after = words[i + 1] if i + 1 < len(words) else ""
        before = words[i - 1] if i else ""
        if word == "at" and (_CLOCK.match(after) or _ISO_DATETIME.match(after)):
            continue  # `yesterday at 23:10`
        if word == "on" and _DATE.match(after):
            continue  # `14:30 on 24/11`
        if word in _DAY_WORDS and typed.day_word is None:
            typed.day_word = word
        elif word in _ZONE_WORDS and typed.zone is None and typed.has_clock:
            typed.zone = word
        elif word in _WEEKDAYS and i == 0:
            typed.weekday = _WEEKDAYS[word]  # `Tue 24/11/2026 14:30`, as the bot shows times
        elif (
            _DATE.match(word)
            and typed.date_word is None
            # A date after the clock only with `on`: `at 14:30 24/7 supervision` is a note.
            and (not typed.has_clock or before == "on")
        ):
            typed.date_word = word
            typed.core.append(word)
        elif _CLOCK.match(word) and not typed.has_clock:
            # dateutil reads `13pm` as 13:00 and `0pm` as 12:00: a 12-hour clock has 1 to 12.
            twelve_hour = re.match(r"^(\d{1,2})[:\d]*(?:am|pm)", word)
            if twelve_hour and not 1 <= int(twelve_hour[1]) <= 12:
                raise _not_a_time(typed.quoted)
            typed.has_clock = True
            typed.core.append(word)
        elif _ISO_DATETIME.match(word) and not typed.has_clock and typed.date_word is None:
            typed.has_clock = True
            typed.date_word = word
            typed.core.append(word)
        elif _OFFSET.match(word) and typed.has_clock and not typed.has_offset:
            typed.has_offset = True
            typed.core.append(word)
        else:
            raise _unreadable(typed.quoted)
    quoted = typed.quoted
    if not typed.has_clock:
        if typed.day_word or typed.date_word or typed.weekday is not None:
            raise UnreadableTime(f"`{quoted}` needs a time of day too, e.g. `{quoted} 14:30`.")
        raise _unreadable(quoted)
    if typed.day_word and typed.date_word:
        raise UnreadableTime(f"`{quoted}`: give `{typed.day_word}` or a date, not both.")
    if typed.weekday is not None and not typed.date_word:
        raise UnreadableTime(f"`{quoted}`: a day name needs a date, e.g. `Tue 24/11 14:30`.")
    return typed


# --- dateutil ----------------------------------------------------------------------------------


class _NumbersOnly(dateutil_parser.parserinfo):
    """dateutil's vocabulary cut down to numbers: no weekday or month names, units or fillers.

    `_read` has already taken out the words people use; anything else must fail, not be skipped.
    """

    # Tuples: parserinfo only iterates these and tests membership.
    JUMP = (" ", "t")  # `t`: the ISO 8601 date/time separator
    WEEKDAYS = ()
    MONTHS = ()
    HMS = ()
    AMPM = (("am",), ("pm",))  # not `a`/`p`: `at 2 a friend's`
    UTCZONE = ("z",)  # BST, GMT and UTC are handled by the rules below
    PERTAIN = ()

    def convertyear(self, year: int, century_specified: bool = False) -> int:
        # dateutil picks the century of `26` from the machine's clock; rules never read it.
        return year + 2000 if year < 100 and not century_specified else year


_PARSER = dateutil_parser.parser(_NumbersOnly())
# A leap year, so that a yearless 29/02 parses; the day itself comes from the rules.
_DEFAULT = datetime(2000, 1, 1)


def _fixed_zone(name: str | None, offset: int | None) -> tzinfo | None:
    """tzinfos for dateutil: only `Z` and numeric offsets get this far."""
    if offset is None:
        return None
    return UTC if offset == 0 else timezone(timedelta(seconds=offset))


def _dateutil(typed: _Typed) -> datetime:
    """The typed numbers as a datetime (naive, or fixed-offset for ISO `Z`/`+01:00`)."""
    try:
        parsed: datetime = _PARSER.parse(
            " ".join(typed.core),
            default=_DEFAULT,
            # Day first for people's dates; with it dateutil would read ISO 2026-11-03 as
            # year-day-month, so not for ISO ones.
            dayfirst=not _is_iso(typed.date_word),
            tzinfos=_fixed_zone,
        )
    except (dateutil_parser.ParserError, OverflowError) as exc:
        # dateutil chains the ValueError of building an impossible datetime (day 31 of
        # February, hour 25); an unknown format has no cause.
        cause = exc.__cause__
        if isinstance(cause, ValueError):
            if any(unit in str(cause) for unit in ("hour", "minute", "second")):
                raise _not_a_time(typed.quoted) from None
            raise _not_a_date(typed.quoted) from None
        raise _unreadable(typed.quoted) from None
    # dayfirst is only a preference: dateutil reads `11/24` as 24 November. Dates are day/month.
    if typed.date_word and parsed.day != _typed_day(typed.date_word):
        raise _not_a_date(typed.quoted)
    return parsed


def _is_iso(date_word: str | None) -> bool:
    return date_word is not None and "/" not in date_word


def _typed_day(date_word: str) -> int:
    if _is_iso(date_word):
        return int(date_word[8:10])  # yyyy-mm-dd...
    return int(date_word.split("/")[0])


def _not_a_date(quoted: str) -> ImpossibleTime:
    return ImpossibleTime(
        f"`{quoted}` is not a real date: dates are day/month, e.g. `24/11 14:30`."
    )


def _not_a_time(quoted: str) -> ImpossibleTime:
    return ImpossibleTime(f"`{quoted}` is not a real time of day: use e.g. `14:30` or `2:30pm`.")


# --- Rules -------------------------------------------------------------------------------------


def parse_when(text: str, *, now: datetime, tz: ZoneInfo) -> datetime:
    """A time typed by a person, as aware UTC.

    Day-first UK dates in `tz` (Europe/London): `14:30`, `14.30`, `1430`, `2:30pm`, `now`,
    `yesterday 23:10`, `yesterday at 23:10`, `today 09:00`, `24/11 14:30`, `24/11/26 14:30`,
    `24/11/2026 14:30`, ISO 8601 with or without `Z`/an offset, and `BST`/`GMT`/`UTC` after the
    time. A date without a year is the latest such date not in the future. A bare time up to 15
    minutes ahead is refused (FutureTime); further ahead it means yesterday. Any other time after
    `now` is refused. A wall time the clocks went back over is refused unless `BST`/`GMT` says
    which (AmbiguousTime); one they skipped is refused (SkippedTime).

    Raises UnreadableTime, ImpossibleTime, FutureTime, AmbiguousTime or SkippedTime (UserErrors).
    """
    typed = _read(text)
    if typed.is_now:
        return now.astimezone(UTC)
    parsed = _dateutil(typed)
    if typed.zone and parsed.tzinfo is not None:
        raise UnreadableTime(
            f"`{typed.quoted}`: give `{typed.zone.upper()}` or an offset, not both."
        )
    fixed = parsed.tzinfo or (UTC if typed.zone == "utc" else None)
    clock = parsed.time()
    today = now.astimezone(tz).date()
    if typed.date_word:
        has_year = _is_iso(typed.date_word) or typed.date_word.count("/") == 2
        day = parsed.date() if has_year else _latest_not_future(parsed.date(), today)
        if typed.weekday is not None and typed.weekday != day.weekday():
            raise ImpossibleTime(
                f"`{typed.quoted}`: {day:%d/%m/%Y} is a {_WEEKDAY_NAMES[day.weekday()]}. "
                "Check the date."
            )
    elif typed.day_word:
        day = today - timedelta(days=1 if typed.day_word == "yesterday" else 0)
    else:
        # A bare time: today, unless that is well ahead of the clock (then it was yesterday's).
        probe = _earliest(datetime.combine(today, clock), fixed, tz)
        day = today if probe - now <= FUTURE_GRACE else today - timedelta(days=1)
    when = _resolve(datetime.combine(day, clock), typed=typed, fixed=fixed, tz=tz)
    if when > now:
        raise _future(typed, when=when, now=now, tz=tz)
    return when


def _latest_not_future(typed: date, today: date) -> date:
    """This year's day/month, or the latest earlier year's that exists (29/02) and has passed."""
    for year in range(today.year, today.year - 9, -1):
        try:
            candidate = typed.replace(year=year)
        except ValueError:  # 29/02 in a common year
            continue
        if candidate <= today:
            return candidate
    raise AssertionError("every 8 years hold a leap year")  # pragma: no cover


def _readings(naive: datetime, tz: ZoneInfo) -> list[datetime]:
    """Every UTC instant at which clocks in `tz` showed `naive`: none, one, or two."""
    found: list[datetime] = []
    for fold in (0, 1):
        instant = naive.replace(tzinfo=tz, fold=fold).astimezone(UTC)
        # zoneinfo maps a skipped wall time to an instant whose wall time differs: drop those.
        if instant.astimezone(tz).replace(tzinfo=None) == naive and instant not in found:
            found.append(instant)
    return sorted(found)


def _earliest(naive: datetime, fixed: tzinfo | None, tz: ZoneInfo) -> datetime:
    """One instant for `naive`, good enough to tell today from yesterday near a clock change."""
    if fixed is not None:
        return naive.replace(tzinfo=fixed).astimezone(UTC)
    readings = _readings(naive, tz)
    return readings[0] if readings else naive.replace(tzinfo=tz, fold=0).astimezone(UTC)


def _resolve(naive: datetime, *, typed: _Typed, fixed: tzinfo | None, tz: ZoneInfo) -> datetime:
    """The instant a local wall time names, refusing skipped, doubled and mislabelled times."""
    if fixed is not None:
        return naive.replace(tzinfo=fixed).astimezone(UTC)
    readings = _readings(naive, tz)
    if not readings:
        raise _skipped(naive, tz)
    if typed.zone:  # BST or GMT: picks one of the two readings, and must match one.
        wanted = typed.zone.upper()
        matching = [r for r in readings if r.astimezone(tz).tzname() == wanted]
        if not matching:
            shown = readings[0].astimezone(tz).tzname()
            raise ImpossibleTime(
                f"`{typed.quoted}` doesn't fit: UK clocks were on {shown} at {naive:%H:%M} on "
                f"{_day(naive)}. Leave out `{wanted}`."
            )
        return matching[0]
    if len(readings) > 1:
        raise _ambiguous(naive, (readings[0], readings[1]), typed=typed, tz=tz)
    return readings[0]


def _day(naive: datetime) -> str:
    return naive.strftime("%a %d/%m/%Y")


def _skipped(naive: datetime, tz: ZoneInfo) -> SkippedTime:
    # In a gap, fold=0 reads the wall time with the offset from before the change: say which
    # moment that would be, in case the time came from a clock not yet put forward.
    before = naive.replace(tzinfo=tz, fold=0)
    shown = before.astimezone(UTC).astimezone(tz)
    return SkippedTime(
        f"{naive:%H:%M} on {_day(naive)} did not happen in UK time: the clocks went forward "
        f"({naive:%H:%M} {before.tzname()} was {shown:%H:%M} {shown.tzname()}). "
        "Check the time and type it as UK clocks showed it."
    )


def _ambiguous(
    naive: datetime, readings: tuple[datetime, datetime], *, typed: _Typed, tz: ZoneInfo
) -> AmbiguousTime:
    first, second = readings
    # The suggestions are what was typed plus a zone word, which parse_when accepts as typed.
    return AmbiguousTime(
        f"{naive:%H:%M} on {_day(naive)} happened twice (the clocks went back). "
        f"Say `{typed.quoted} {first.astimezone(tz).tzname()}` (the first, {first:%H:%M} UTC) "
        f"or `{typed.quoted} {second.astimezone(tz).tzname()}` (the second, {second:%H:%M} UTC).",
        readings,
    )


def _future(typed: _Typed, *, when: datetime, now: datetime, tz: ZoneInfo) -> FutureTime:
    minutes = math.ceil((when - now) / timedelta(minutes=1))
    if minutes < 60:
        size = f"{minutes} minute" if minutes == 1 else f"{minutes} minutes"
    else:
        size = fmt_duration(timedelta(minutes=minutes))
    # With a date, show how it was read: `24/11/27` may not be the year the person meant.
    reading = f" ({fmt_local(when, tz)})" if typed.date_word else ""
    return FutureTime(
        f"`{typed.quoted}`{reading} is {size} in the future: give the time it happened, or `now`."
    )


# --- Commands ----------------------------------------------------------------------------------

_MAX_RUN = 6  # the longest form, `Tue 24/11/2026 at 01:30 BST`, is 5 words


def take_time(words: list[str], *, now: datetime, tz: ZoneInfo) -> tuple[datetime | None, int]:
    """The time at the start of a command's words, and how many words it used.

    The rule: skip one leading `at`; the time is the longest run of the next words (up to 6)
    that `parse_when` reads. If that longest recognisable run is refused (in the future,
    ambiguous, skipped, `31/02`, `BST` in winter), its error is raised, rather than reading a
    shorter run and leaving the rest as a note. If no run reads at all, the words are a note,
    (None, 0) - unless they start like a time, which raises UnreadableTime: a day word
    (`yesterday evening`), a time-like shape (`14:3`, `24/11`, `25:99`), or, after `at`,
    anything starting with a digit (`at 2`).

        `yesterday 23:50 found at a friend's` -> yesterday 23:50, 2 words used
        `at 14:30 found at school`            -> 14:30, 2 words used
        `found at 14:30`, `at school`         -> (None, 0): all note
        `at`                                  -> UnreadableTime
    """
    start = 1 if words[:1] and words[0].lower() == "at" else 0
    rest = words[start:]
    if start and not rest:
        raise UnreadableTime(f"`at` needs a time: {ACCEPTED_FORMS}.")
    unreadable: UnreadableTime | None = None
    for size in range(min(len(rest), _MAX_RUN), 0, -1):
        try:
            return parse_when(" ".join(rest[:size]), now=now, tz=tz), start + size
        except UnreadableTime as exc:
            unreadable = exc  # the last is the first word's alone: the clearest to quote
    if unreadable is not None and _starts_like_time(rest, after_at=bool(start)):
        raise unreadable
    return None, 0


def _starts_like_time(words: list[str], *, after_at: bool) -> bool:
    first = words[0].lower()
    if first in _DAY_WORDS or (after_at and first[:1].isdigit()):
        return True
    if first in _WEEKDAYS and len(words) > 1:
        first = words[1].lower()
    return bool(_TIMEISH.match(first))


# --- Showing times -----------------------------------------------------------------------------


def local_to_utc(naive: datetime, tz: ZoneInfo) -> datetime:
    """Attach the local zone; refuse a wall time the clocks skipped.

    An ambiguous time (the hour repeated when clocks go back) is taken as the first one.
    """
    readings = _readings(naive, tz)
    if not readings:
        raise _skipped(naive, tz)
    return readings[0]


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
            f"`{quote_typed(cleaned)}` is not a date: use day/month/year, e.g. 24/11/2012."
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
