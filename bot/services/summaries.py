"""What the digest and the handover say, as plain data (rendered by the Slack side).

Each list carries the rows worth showing and how many there are in all: the renderer shows as
many as Slack's limits allow, most urgent first, and says how many more there are.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Generic, TypeVar

from bot.domain.occasions import Period
from bot.domain.states import Risk, SafeWellStatus
from bot.services.results import EpisodeCard, RhiView

T = TypeVar("T")


@dataclass(frozen=True)
class Listing(Generic[T]):
    rows: tuple[T, ...]
    total: int


@dataclass(frozen=True)
class ChildLine:
    """One episode as a channel may show it; the name only where DIGEST_SHOW_NAMES allows."""

    card: EpisodeCard
    name: str | None = None


@dataclass(frozen=True)
class ReturnLine:
    child: ChildLine
    rhi: RhiView | None
    safe_well: SafeWellStatus | None = None


@dataclass(frozen=True)
class RhiLine:
    child: ChildLine
    rhi: RhiView


@dataclass(frozen=True)
class ReviewLine:
    child: ChildLine
    due_at: datetime


@dataclass(frozen=True)
class RepeatLine:
    child: ChildLine  # the child's latest episode in the period
    count: int  # episodes in the repeat window


@dataclass(frozen=True)
class PlacedGroup:
    authority: str  # as typed on the first of its episodes
    children: tuple[ChildLine, ...]


@dataclass(frozen=True)
class Undelivered:
    what: str  # the message kind
    target: str
    ref: str | None
    reason: str
    at: datetime


@dataclass(frozen=True)
class Figures:
    """The headline: counts for the digest, daily averages for the seven days before it."""

    new_by_risk: tuple[tuple[Risk, float], ...]
    returns: float
    still_missing: float
    rhis_overdue: float
    rhis_due: float

    @property
    def new(self) -> float:
        return sum(n for _, n in self.new_by_risk)


@dataclass(frozen=True)
class DigestReport:
    occasion: date  # the local date it is the digest of
    as_of: datetime
    period: Period
    # When it fell due, for a scheduled digest posted late; None if on time or not scheduled.
    late_by: timedelta | None
    missed: tuple[date, ...]  # local dates with no digest since the previous one
    how: str  # "scheduled", "preview", "operator" or "again" (posted again with --force)
    figures: Figures
    averages: Figures
    missing: Listing[ChildLine]
    returned: Listing[ReturnLine]
    rhis_overdue: Listing[RhiLine]
    rhis_due: Listing[RhiLine]
    repeats: Listing[RepeatLine]
    repeat_rule: tuple[int, int]  # (threshold, window days)
    placed: tuple[PlacedGroup, ...]
    lapsed: Listing[RhiLine]
    reviews_overdue: Listing[ReviewLine]
    undelivered: Listing[Undelivered]

    @property
    def nothing_to_report(self) -> bool:
        lists = (
            self.missing,
            self.returned,
            self.rhis_overdue,
            self.rhis_due,
            self.repeats,
            self.lapsed,
            self.reviews_overdue,
            self.undelivered,
        )
        return not self.placed and all(listing.total == 0 for listing in lists)


@dataclass(frozen=True)
class DayCount:
    day: date
    looked_after: int
    other: int


@dataclass(frozen=True)
class HandoverReport:
    moment: datetime  # the handover time it is for
    as_of: datetime
    period: Period  # since the previous handover
    late_by: timedelta | None
    missed: tuple[datetime, ...]  # handover times with no handover since the previous one
    next_at: datetime  # the next handover: reviews due before it are listed
    missing: Listing[ChildLine]
    reviews_due: Listing[ReviewLine]
    returned: Listing[ReturnLine]
    safe_well_outstanding: Listing[ReturnLine]
