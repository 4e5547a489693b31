"""The digest's and the handover's figures, straight from the tables.

Every figure starts from counted episodes (never a void one) and is a range scan on an index,
so it costs what the period holds, never the whole history (see docs/digest.md for which query
uses which index):

- new in a period: `ix_episodes_status_created`; returns in a period:
  `ix_episodes_status_returned`;
- missing at a moment: status `missing` (the open episodes, a short list by nature) plus
  `ix_episodes_status_returned` (back after that moment);
- interviews open at a moment: `ix_return_interviews_status_due` (open ones) plus
  `ix_return_interviews_status_updated` (closed after that moment); lapsed in a period: the
  latter;
- repeat missing: `ix_episodes_status_created`, then the episodes in the repeat window
  (`ix_episodes_status_last_seen` or `ix_episodes_child_last_seen`);
- messages given up in a period: `ix_outbox_failed_at`;
- safe-and-well checks outstanding: `ix_episodes_safe_well_returned`.

"At a moment" figures let a digest compare with the seven days before it without keeping
snapshots: missing at T is logged by T and not back by T; an interview is open at T if it
existed by T and was closed (if at all) after T. A return or interview later found to be in
error (reopened, voided, cancelled) never counts.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, func, select
from sqlalchemy.orm import Session, selectinload

from bot.domain.states import (
    OPEN_RHI_STATUSES,
    EpisodeStatus,
    RhiStatus,
    Risk,
    SafeWellStatus,
)
from storage.models import Episode, OutboxMessage, ReturnInterview
from storage.queries import counted_episodes, counts

# Interviews closed with an outcome; a cancelled one was never owed (a return in error).
CLOSED_RHI_STATUSES = frozenset({RhiStatus.COMPLETED, RhiStatus.DECLINED, RhiStatus.NOT_DONE})
LAPSED = "lapsed"
_RISK_ORDER = case({r.value: r.rank for r in Risk}, value=Episode.risk_level, else_=len(Risk))


def _count(session: Session, statement: Select[Any]) -> int:
    return session.scalar(select(func.count()).select_from(statement.subquery())) or 0


# -- periods ------------------------------------------------------------------------------


def new_by_risk(session: Session, *, since: datetime, until: datetime) -> dict[Risk, int]:
    """Episodes logged in [since, until), by their risk now."""
    rows = session.execute(
        select(Episode.risk_level, func.count())
        .where(counts(), Episode.created_at >= since, Episode.created_at < until)
        .group_by(Episode.risk_level)
    )
    found = {Risk(risk): int(n) for risk, n in rows if risk in Risk._value2member_map_}
    return {risk: found.get(risk, 0) for risk in Risk}


def new_count(session: Session, *, since: datetime, until: datetime) -> int:
    return _count(
        session,
        select(Episode.id).where(counts(), Episode.created_at >= since, Episode.created_at < until),
    )


def _returned_in(since: datetime, until: datetime) -> ColumnElement[bool]:
    return and_(
        Episode.status == EpisodeStatus.RETURNED,
        Episode.returned_at >= since,
        Episode.returned_at < until,
    )


def returns_count(session: Session, *, since: datetime, until: datetime) -> int:
    """Children back in [since, until) (a return since undone by a reopen does not count)."""
    return _count(session, select(Episode.id).where(_returned_in(since, until)))


def returned_in(
    session: Session, *, since: datetime, until: datetime, limit: int
) -> tuple[list[Episode], int]:
    """Those returns, earliest first, with their children and interviews; and how many."""
    rows = session.scalars(
        select(Episode)
        .where(_returned_in(since, until))
        .order_by(Episode.returned_at, Episode.id)
        .limit(limit)
        .options(selectinload(Episode.child), selectinload(Episode.rhis))
    )
    return list(rows), returns_count(session, since=since, until=until)


# -- missing at a moment ------------------------------------------------------------------


def _missing_now(at: datetime) -> ColumnElement[bool]:
    return and_(Episode.status == EpisodeStatus.MISSING, Episode.created_at <= at)


def _back_since(at: datetime) -> ColumnElement[bool]:
    # Logged by `at` and back after it: missing at `at`.
    return and_(
        Episode.status == EpisodeStatus.RETURNED,
        Episode.returned_at > at,
        Episode.created_at <= at,
    )


def missing_count(session: Session, *, at: datetime) -> int:
    return _count(session, select(Episode.id).where(_missing_now(at))) + _count(
        session, select(Episode.id).where(_back_since(at))
    )


def missing_at(session: Session, *, at: datetime, limit: int) -> tuple[list[Episode], int]:
    """Missing at `at`: high risk first, then longest missing; and how many in all."""
    found: list[Episode] = []
    for condition in (_missing_now(at), _back_since(at)):
        found += session.scalars(
            select(Episode)
            .where(condition)
            .order_by(_RISK_ORDER, Episode.last_seen_at, Episode.id)
            .limit(limit)
            .options(selectinload(Episode.child))
        )
    found.sort(key=lambda e: (_rank(e.risk_level), e.last_seen_at, e.id))
    return found[:limit], missing_count(session, at=at)


def _rank(risk: str) -> int:
    return Risk(risk).rank if risk in Risk._value2member_map_ else len(Risk)


def reviews_overdue(session: Session, *, due_by: datetime, limit: int) -> tuple[list[Episode], int]:
    """Still missing with a risk review due at or before `due_by`: longest overdue first."""
    condition = and_(Episode.status == EpisodeStatus.MISSING, Episode.review_due_at <= due_by)
    rows = session.scalars(
        select(Episode)
        .where(condition)
        .order_by(Episode.review_due_at, Episode.id)
        .limit(limit)
        .options(selectinload(Episode.child))
    )
    return list(rows), _count(session, select(Episode.id).where(condition))


def reviews_due_before(
    session: Session, *, before: datetime, limit: int
) -> tuple[list[Episode], int]:
    """Still missing with a risk review due before `before` (overdue ones included)."""
    condition = and_(Episode.status == EpisodeStatus.MISSING, Episode.review_due_at < before)
    rows = session.scalars(
        select(Episode)
        .where(condition)
        .order_by(Episode.review_due_at, Episode.id)
        .limit(limit)
        .options(selectinload(Episode.child))
    )
    return list(rows), _count(session, select(Episode.id).where(condition))


# -- interviews open at a moment ----------------------------------------------------------


def _rhi_conditions(at: datetime) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    """(open now and existing by `at`, closed after `at`): together, open at `at`."""
    open_now = and_(
        ReturnInterview.status.in_(OPEN_RHI_STATUSES),
        Episode.status == EpisodeStatus.RETURNED,
        ReturnInterview.created_at <= at,
    )
    closed_after = and_(
        ReturnInterview.status.in_(CLOSED_RHI_STATUSES),
        ReturnInterview.updated_at > at,
        ReturnInterview.created_at <= at,
        counts(),
    )
    return open_now, closed_after


def _rhis(*conditions: ColumnElement[bool]) -> Select[ReturnInterview]:
    return (
        select(ReturnInterview)
        .join(Episode, Episode.id == ReturnInterview.episode_id)
        .where(*conditions)
    )


def rhis_due_count(session: Session, *, at: datetime, start: datetime | None, end: datetime) -> int:
    """Interviews open at `at` falling due in [start, end) (`start` None: any time before)."""
    window = [ReturnInterview.due_at < end]
    if start is not None:
        window.append(ReturnInterview.due_at >= start)
    return sum(_count(session, _rhis(c, *window)) for c in _rhi_conditions(at))


def rhis_due(
    session: Session, *, at: datetime, start: datetime | None, end: datetime, limit: int
) -> tuple[list[ReturnInterview], int]:
    """Those interviews, soonest due first, with their episodes and children."""
    window = [ReturnInterview.due_at < end]
    if start is not None:
        window.append(ReturnInterview.due_at >= start)
    found: list[ReturnInterview] = []
    for condition in _rhi_conditions(at):
        found += session.scalars(
            _rhis(condition, *window)
            .order_by(ReturnInterview.due_at, ReturnInterview.id)
            .limit(limit)
            .options(selectinload(ReturnInterview.episode).selectinload(Episode.child))
        )
    found.sort(key=lambda r: (r.due_at, r.id))
    return found[:limit], rhis_due_count(session, at=at, start=start, end=end)


def lapsed_in(
    session: Session, *, since: datetime, until: datetime, limit: int
) -> tuple[list[ReturnInterview], int]:
    """Interviews recorded as not done (lapsed) by the scheduler in [since, until)."""
    condition = and_(
        ReturnInterview.status == RhiStatus.NOT_DONE,
        ReturnInterview.updated_at >= since,
        ReturnInterview.updated_at < until,
        ReturnInterview.status_reason == LAPSED,
        counts(),
    )
    rows = session.scalars(
        _rhis(condition)
        .order_by(ReturnInterview.updated_at, ReturnInterview.id)
        .limit(limit)
        .options(selectinload(ReturnInterview.episode).selectinload(Episode.child))
    )
    return list(rows), _count(session, _rhis(condition))


# -- children ------------------------------------------------------------------------------


def repeat_children(
    session: Session,
    *,
    since: datetime,
    until: datetime,
    window: timedelta,
    threshold: int,
) -> list[tuple[int, int]]:
    """(child id, episodes in the window ending at `until`) for each child with an episode
    logged in [since, until) who has at least `threshold` episodes in that window."""
    in_period = (
        select(Episode.child_id)
        .where(counts(), Episode.created_at >= since, Episode.created_at < until)
        .distinct()
    )
    rows = session.execute(
        select(Episode.child_id, func.count())
        .where(
            counts(),
            Episode.child_id.in_(in_period),
            Episode.last_seen_at >= until - window,
            Episode.last_seen_at <= until,
        )
        .group_by(Episode.child_id)
        .having(func.count() >= threshold)
    )
    return [(int(child), int(n)) for child, n in rows]


def latest_in_period(
    session: Session, *, child_ids: Sequence[int], since: datetime, until: datetime
) -> dict[int, Episode]:
    """Each child's latest episode logged in [since, until), with the child."""
    if not child_ids:
        return {}
    rows = session.scalars(
        counted_episodes()
        .where(
            Episode.child_id.in_(child_ids),
            Episode.created_at >= since,
            Episode.created_at < until,
        )
        .order_by(Episode.created_at, Episode.id)
        .options(selectinload(Episode.child))
    )
    return {e.child_id: e for e in rows}  # the latest wins


def placed_in(session: Session, *, since: datetime, until: datetime) -> list[Episode]:
    """Episodes logged in [since, until) of children placed here by another authority."""
    return list(
        session.scalars(
            counted_episodes()
            .where(
                Episode.created_at >= since,
                Episode.created_at < until,
                Episode.looked_after.is_(True),
                Episode.placing_authority.is_not(None),
                Episode.placing_authority != "",
            )
            .order_by(Episode.created_at, Episode.id)
            .options(selectinload(Episode.child))
        )
    )


def daily_new(session: Session, *, bounds: Sequence[datetime]) -> list[tuple[int, bool, int]]:
    """(day index, looked after, episodes) for the days between consecutive `bounds` (local
    midnights as UTC, so a day the clocks change is 23 or 25 hours): one grouped range scan."""
    if len(bounds) < 2:
        return []
    day = case(
        *[(Episode.created_at < end, index) for index, end in enumerate(bounds[1:])],
        else_=len(bounds) - 1,
    )
    rows = session.execute(
        select(day.label("day"), Episode.looked_after, func.count())
        .where(counts(), Episode.created_at >= bounds[0], Episode.created_at < bounds[-1])
        .group_by(day, Episode.looked_after)
    )
    return [(int(d), bool(la), int(n)) for d, la, n in rows]


# -- the handover -------------------------------------------------------------------------


def safe_well_outstanding(session: Session, *, limit: int) -> tuple[list[Episode], int]:
    """Children back whose police safe-and-well check is still to be done, oldest first."""
    condition = and_(
        Episode.safe_well_status == SafeWellStatus.TO_BE_DONE,
        Episode.status == EpisodeStatus.RETURNED,
    )
    rows = session.scalars(
        select(Episode)
        .where(condition)
        .order_by(Episode.returned_at, Episode.id)
        .limit(limit)
        .options(selectinload(Episode.child), selectinload(Episode.rhis))
    )
    return list(rows), _count(session, select(Episode.id).where(condition))


# -- delivery ------------------------------------------------------------------------------


def failed_in(
    session: Session, *, since: datetime, until: datetime, limit: int
) -> tuple[list[OutboxMessage], int]:
    """Messages Slack refused for good (or that were given up) in [since, until)."""
    condition = and_(OutboxMessage.failed_at >= since, OutboxMessage.failed_at < until)
    rows = session.scalars(
        select(OutboxMessage)
        .where(condition)
        .order_by(OutboxMessage.failed_at, OutboxMessage.id)
        .limit(limit)
    )
    return list(rows), _count(session, select(OutboxMessage.id).where(condition))
