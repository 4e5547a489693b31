"""Builds the digest and the handover from the database (see storage.digest_queries).

Runs inside the caller's session; reads only. Every figure is counted by the database, at the
digest's moment (`as_of`), so a digest posted late, or for an earlier date, says what was so at
its own moment, and the seven days before it are counted the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.domain import occasions
from bot.domain.followup import local_moment
from bot.domain.people import name_key
from bot.domain.refs import format_ref
from bot.domain.review import ReviewPolicy, overdue_cutoff
from bot.domain.states import Risk, SafeWellStatus
from bot.services.cards import episode_card, rhi_view
from bot.services.summaries import (
    ChildLine,
    DayCount,
    DigestReport,
    Figures,
    HandoverReport,
    Listing,
    PlacedGroup,
    RepeatLine,
    ReturnLine,
    ReviewLine,
    RhiLine,
    Undelivered,
)
from storage import digest_queries as q
from storage.models import Episode, ReturnInterview

# The most rows any list fetches: more than a message can show (Slack's 50 blocks), so the
# renderer chooses how many fit; the totals are always counted in full.
ROWS = 60
AVERAGE_DAYS = 7
CHART_DAYS = 28
DUE_WITHIN = timedelta(hours=24)


@dataclass(frozen=True)
class DigestRules:
    tz: ZoneInfo
    repeat_threshold: int
    repeat_window_days: int
    show_names: bool
    reviews: ReviewPolicy


class DigestBuilder:
    def __init__(self, rules: DigestRules) -> None:
        self.rules = rules

    # -- the digest ----------------------------------------------------------------------

    def digest(
        self,
        session: Session,
        *,
        occasion: date,
        as_of: datetime,
        previous: tuple[date, datetime] | None,
        scheduled_at: datetime | None,
        how: str,
    ) -> DigestReport:
        """`previous`: the occasion and end of the last digest before this one, if any."""
        # The first digest covers the day before it (23 or 25 hours across a clock change).
        period = occasions.period_since(
            previous[1] if previous else None,
            as_of,
            default=as_of - self._days_before(as_of, 1),
        )
        missed: tuple[date, ...] = ()
        if previous is not None:
            gap = (occasion - previous[0]).days
            missed = tuple(previous[0] + timedelta(days=n) for n in range(1, gap))
        return DigestReport(
            occasion=occasion,
            as_of=as_of,
            period=period,
            late_by=occasions.late_by(scheduled_at, as_of),
            missed=missed,
            how=how,
            figures=self._figures(session, period.start, as_of),
            averages=self._averages(session, period.start, as_of),
            missing=self._missing(session, as_of),
            returned=self._returned(session, period.start, as_of),
            rhis_overdue=self._rhis(session, as_of, None, as_of),
            rhis_due=self._rhis(session, as_of, as_of, as_of + DUE_WITHIN),
            repeats=self._repeats(session, period.start, as_of),
            repeat_rule=(self.rules.repeat_threshold, self.rules.repeat_window_days),
            placed=self._placed(session, period.start, as_of),
            lapsed=self._lapsed(session, period.start, as_of),
            reviews_overdue=self._reviews_overdue(session, as_of),
            undelivered=self._undelivered(session, period.start, as_of),
        )

    def _figures(self, session: Session, since: datetime, as_of: datetime) -> Figures:
        by_risk = q.new_by_risk(session, since=since, until=as_of)
        return Figures(
            new_by_risk=tuple((risk, float(by_risk[risk])) for risk in Risk),
            returns=q.returns_count(session, since=since, until=as_of),
            still_missing=q.missing_count(session, at=as_of),
            rhis_overdue=q.rhis_due_count(session, at=as_of, start=None, end=as_of),
            rhis_due=q.rhis_due_count(session, at=as_of, start=as_of, end=as_of + DUE_WITHIN),
        )

    def _averages(self, session: Session, since: datetime, as_of: datetime) -> Figures:
        """The same figures over the seven days before the digest's period, a day's worth:
        counts in those days over seven, and the moment figures at this time of day on each
        of them (local time: a day the clocks change is 23 or 25 hours)."""
        week_start = self._days_before(since, AVERAGE_DAYS)
        by_risk = q.new_by_risk(session, since=week_start, until=since)
        moments = [self._days_before(as_of, n) for n in range(1, AVERAGE_DAYS + 1)]

        def mean(values: Sequence[int]) -> float:
            return sum(values) / AVERAGE_DAYS

        return Figures(
            new_by_risk=tuple((risk, by_risk[risk] / AVERAGE_DAYS) for risk in Risk),
            returns=q.returns_count(session, since=week_start, until=since) / AVERAGE_DAYS,
            still_missing=mean([q.missing_count(session, at=m) for m in moments]),
            rhis_overdue=mean(
                [q.rhis_due_count(session, at=m, start=None, end=m) for m in moments]
            ),
            rhis_due=mean(
                [q.rhis_due_count(session, at=m, start=m, end=m + DUE_WITHIN) for m in moments]
            ),
        )

    def _days_before(self, moment: datetime, days: int) -> datetime:
        local = moment.astimezone(self.rules.tz)
        return local_moment(local.date() - timedelta(days=days), local.time(), self.rules.tz)

    def _missing(self, session: Session, as_of: datetime) -> Listing[ChildLine]:
        episodes, total = q.missing_at(session, at=as_of, limit=ROWS)
        return Listing(tuple(self._child(e) for e in episodes), total)

    def _returned(self, session: Session, since: datetime, as_of: datetime) -> Listing[ReturnLine]:
        episodes, total = q.returned_in(session, since=since, until=as_of, limit=ROWS)
        return Listing(tuple(self._return_line(e) for e in episodes), total)

    def _rhis(
        self, session: Session, at: datetime, start: datetime | None, end: datetime
    ) -> Listing[RhiLine]:
        rhis, total = q.rhis_due(session, at=at, start=start, end=end, limit=ROWS)
        return Listing(tuple(self._rhi_line(r) for r in rhis), total)

    def _lapsed(self, session: Session, since: datetime, as_of: datetime) -> Listing[RhiLine]:
        rhis, total = q.lapsed_in(session, since=since, until=as_of, limit=ROWS)
        return Listing(tuple(self._rhi_line(r) for r in rhis), total)

    def _repeats(self, session: Session, since: datetime, as_of: datetime) -> Listing[RepeatLine]:
        found = q.repeat_children(
            session,
            since=since,
            until=as_of,
            window=timedelta(days=self.rules.repeat_window_days),
            threshold=self.rules.repeat_threshold,
        )
        latest = q.latest_in_period(
            session, child_ids=[child for child, _ in found], since=since, until=as_of
        )
        lines = [
            RepeatLine(self._child(latest[child]), count)
            for child, count in found
            if child in latest
        ]
        # The most episodes first: the children most at risk of another.
        lines.sort(key=lambda line: (-line.count, line.child.card.episode_id))
        return Listing(tuple(lines[:ROWS]), len(lines))

    def _placed(
        self, session: Session, since: datetime, as_of: datetime
    ) -> tuple[PlacedGroup, ...]:
        """Grouped by placing authority as typed, spellings that differ only in case or spaces
        together; the authority with most episodes first."""
        groups: dict[str, tuple[str, list[ChildLine]]] = {}
        for episode in q.placed_in(session, since=since, until=as_of):
            authority = episode.placing_authority or ""
            _, lines = groups.setdefault(name_key(authority), (authority.strip(), []))
            lines.append(self._child(episode))
        ordered = sorted(groups.values(), key=lambda g: (-len(g[1]), g[0].casefold()))
        return tuple(PlacedGroup(name, tuple(lines)) for name, lines in ordered)

    def _reviews_overdue(self, session: Session, as_of: datetime) -> Listing[ReviewLine]:
        cutoff = overdue_cutoff(as_of, self.rules.reviews)
        episodes, total = q.reviews_overdue(session, due_by=cutoff, limit=ROWS)
        return Listing(tuple(self._review_line(e) for e in episodes), total)

    def _undelivered(
        self, session: Session, since: datetime, as_of: datetime
    ) -> Listing[Undelivered]:
        rows, total = q.failed_in(session, since=since, until=as_of, limit=ROWS)
        return Listing(
            tuple(
                Undelivered(
                    what=row.kind,
                    target=row.target,
                    ref=format_ref(row.episode_id) if row.episode_id is not None else None,
                    reason=row.error or "",
                    at=row.failed_at or as_of,
                )
                for row in rows
            ),
            total,
        )

    # -- the chart -----------------------------------------------------------------------

    def chart_days(self, session: Session, *, occasion: date) -> tuple[DayCount, ...]:
        """Episodes logged on each of the 28 local days before `occasion`, looked after or not."""
        tz = self.rules.tz
        days = [occasion - timedelta(days=n) for n in range(CHART_DAYS, 0, -1)]
        bounds = [local_moment(d, time(0), tz) for d in [*days, occasion]]
        counts = {(d, la): n for d, la, n in q.daily_new(session, bounds=bounds)}
        return tuple(
            DayCount(day, counts.get((i, True), 0), counts.get((i, False), 0))
            for i, day in enumerate(days)
        )

    # -- the handover --------------------------------------------------------------------

    def handover(
        self,
        session: Session,
        *,
        moment: datetime,
        as_of: datetime,
        previous_until: datetime | None,
        previous_moment: datetime,
        missed: tuple[datetime, ...],
        next_at: datetime,
    ) -> HandoverReport:
        period = occasions.period_since(
            previous_until, as_of, default=max(as_of - previous_moment, timedelta(hours=1))
        )
        missing, missing_total = q.missing_at(session, at=as_of, limit=ROWS)
        reviews, reviews_total = q.reviews_due_before(session, before=next_at, limit=ROWS)
        returned, returned_total = q.returned_in(
            session, since=period.start, until=as_of, limit=ROWS
        )
        checks, checks_total = q.safe_well_outstanding(session, limit=ROWS)
        return HandoverReport(
            moment=moment,
            as_of=as_of,
            period=period,
            late_by=occasions.late_by(moment, as_of),
            missed=missed,
            next_at=next_at,
            missing=Listing(tuple(self._child(e) for e in missing), missing_total),
            reviews_due=Listing(tuple(self._review_line(e) for e in reviews), reviews_total),
            returned=Listing(tuple(self._return_line(e) for e in returned), returned_total),
            safe_well_outstanding=Listing(
                tuple(self._return_line(e) for e in checks), checks_total
            ),
        )

    # -- rows into lines -----------------------------------------------------------------

    def _child(self, episode: Episode) -> ChildLine:
        card = episode_card(episode, episode.child, tz=self.rules.tz)
        return ChildLine(card, episode.child.full_name if self.rules.show_names else None)

    def _return_line(self, episode: Episode) -> ReturnLine:
        rhi = episode.rhis[-1] if episode.rhis else None
        status = episode.safe_well_status
        return ReturnLine(
            self._child(episode),
            rhi_view(rhi) if rhi is not None else None,
            SafeWellStatus(status) if status is not None else None,
        )

    def _rhi_line(self, rhi: ReturnInterview) -> RhiLine:
        return RhiLine(self._child(rhi.episode), rhi_view(rhi))

    def _review_line(self, episode: Episode) -> ReviewLine:
        assert episode.review_due_at is not None
        return ReviewLine(self._child(episode), episode.review_due_at)
