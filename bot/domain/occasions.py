"""Messages that fall due at local times of day: the daily digest and the shift handovers.

Pure rules: which scheduled moment to post now (if any), what comes next, and what period a
message covers. Every moment is keyed on the local clock (Europe/London), so 08:00 is 08:00 on
both sides of a clock change, and a time the clocks repeat happens once (its first occurrence).

Catch-up: a copy that was down when a message fell due posts the latest one owed when it comes
back, saying it is late, if that is still worth reading: the digest only on its own local
date (a day missed entirely is not posted the next morning as a stale digest), a handover only
before the next handover falls due. Whatever was skipped is covered by the next message posted,
which says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.domain.followup import local_moment, next_local_time

# A message posted this long after its time says it is late (a pass runs every minute or so).
LATE_AFTER = timedelta(minutes=10)
# With no digest before it, a digest covers the day before it.
FIRST_PERIOD = timedelta(hours=24)
# After a long silence (the digest was off, the bot down for weeks) a digest covers at most this
# much, and says so: a month of returns is a report, not a morning's reading.
LONGEST_PERIOD = timedelta(days=7)


def parse_times(value: str) -> tuple[time, ...]:
    """`07:00,19:00` -> (07:00, 19:00), sorted; empty or `off` -> (). ValueError if malformed."""
    text = value.strip().lower()
    if text in ("", "off", "none"):
        return ()
    found: list[time] = []
    for part in (p.strip() for p in text.split(",")):
        try:
            found.append(time.fromisoformat(part))
        except ValueError:
            raise ValueError(
                f"{part[:20]!r} is not a time of day: use times like 07:00,19:00 (or leave empty)"
            ) from None
    if len(set(found)) != len(found):
        raise ValueError("a time is given twice")
    return tuple(sorted(found))


def previous_moment(times: Sequence[time], tz: ZoneInfo, now: datetime) -> datetime:
    """The latest moment (UTC) at or before `now` when the local clock showed one of `times`."""
    local_day = now.astimezone(tz).date()
    candidates = [
        local_moment(local_day - timedelta(days=back), at, tz) for back in range(3) for at in times
    ]
    return max(c for c in candidates if c <= now)


def next_moment(times: Sequence[time], tz: ZoneInfo, now: datetime) -> datetime:
    """The first moment (UTC) strictly after `now` when the local clock shows one of `times`."""
    return min(next_local_time(now, at, tz, strictly_after=True) for at in times)


def moments_between(
    times: Sequence[time], tz: ZoneInfo, after: datetime, before: datetime
) -> list[datetime]:
    """Every scheduled moment strictly after `after` and strictly before `before`, in order."""
    found: list[datetime] = []
    moment = after
    while True:
        moment = next_moment(times, tz, moment)
        if moment >= before:
            return found
        found.append(moment)


@dataclass(frozen=True)
class DueNow:
    """What a scheduler pass does for a message whose follow-up fell due."""

    post: datetime | None  # the scheduled moment to post for now; None: nothing now
    next_at: datetime  # when to look again


def due_now(times: Sequence[time], tz: ZoneInfo, *, now: datetime, same_day_only: bool) -> DueNow:
    """The latest scheduled moment owed at `now`, if still worth posting, and the next one.

    `same_day_only` (the digest): only on the moment's own local date. Otherwise (handovers)
    the latest moment is always still current: the next one has not come yet.
    """
    latest = previous_moment(times, tz, now)
    following = next_moment(times, tz, now)
    if same_day_only and latest.astimezone(tz).date() != now.astimezone(tz).date():
        return DueNow(None, following)
    return DueNow(latest, following)


def first_due(times: Sequence[time], tz: ZoneInfo, now: datetime) -> datetime:
    """Where a new follow-up starts: the next scheduled moment at or after `now`."""
    return min(next_local_time(now, at, tz) for at in times)


def on_schedule(at: datetime | None, times: Sequence[time], tz: ZoneInfo) -> bool:
    """Whether a stored next time is one of `times` (it was not, if the setting changed)."""
    if at is None:
        return False
    local = at.astimezone(tz)
    return any(local_moment(local.date(), t, tz) == at for t in times)


@dataclass(frozen=True)
class Period:
    """What a message covers: from the end of the previous one (or a default) to `until`."""

    start: datetime
    until: datetime
    previous_until: datetime | None  # the end of the previous message's period, if any
    capped: bool  # the previous one was longer ago than LONGEST_PERIOD

    @property
    def length(self) -> timedelta:
        return self.until - self.start


def period_since(
    previous_until: datetime | None, until: datetime, *, default: timedelta = FIRST_PERIOD
) -> Period:
    if previous_until is None or previous_until >= until:
        return Period(until - default, until, previous_until, capped=False)
    if until - previous_until > LONGEST_PERIOD:
        return Period(until - LONGEST_PERIOD, until, previous_until, capped=True)
    return Period(previous_until, until, previous_until, capped=False)


def local_date(moment: datetime, tz: ZoneInfo) -> date:
    return moment.astimezone(tz).date()


def late_by(scheduled: datetime | None, now: datetime) -> timedelta | None:
    """How late a message posted at `now` for `scheduled` is, when that is worth saying."""
    if scheduled is None or now - scheduled < LATE_AFTER:
        return None
    return now - scheduled


def handover_occasion(moment: datetime, tz: ZoneInfo) -> str:
    """A handover's name in the ledger and its outbox key: local date and time."""
    return moment.astimezone(tz).strftime("%Y-%m-%dT%H:%M")
