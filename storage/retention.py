"""Queries for the retention purge: which episodes are closed for long enough, and removing
them with everything that hangs off them (never the audit trail)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, and_, delete, exists, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.domain.states import OPEN_RHI_STATUSES, EpisodeStatus
from storage.models import (
    Child,
    Episode,
    EpisodeNote,
    OutboxMessage,
    ReturnInterview,
    Review,
    RiskChange,
)

# Bulk deletes on rows the session never loaded: nothing to keep in step.
_BULK = {"synchronize_session": False}


@dataclass(frozen=True)
class Removed:
    """What one batch removed (or, in a dry run, would remove)."""

    outbox: int
    rhis: int
    episodes: int
    children: int


def closed_before(cutoff: datetime) -> ColumnElement[bool]:
    """An episode closed before the cut-off: returned (or voided) before it, and every
    interview closed (none pending or offered) and last changed before it. A void episode is
    kept no longer than a real one: what was typed into it is about a child all the same."""
    recent_or_open_rhi = exists().where(
        ReturnInterview.episode_id == Episode.id,
        or_(
            ReturnInterview.status.in_(OPEN_RHI_STATUSES),
            ReturnInterview.updated_at >= cutoff,
        ),
    )
    returned = and_(
        Episode.status == EpisodeStatus.RETURNED,
        Episode.returned_at.is_not(None),
        Episode.returned_at < cutoff,
    )
    voided = and_(
        Episode.status == EpisodeStatus.VOID,
        Episode.voided_at.is_not(None),
        Episode.voided_at < cutoff,
    )
    return and_(or_(returned, voided), ~recent_or_open_rhi)


def purgeable_batch(
    session: Session, *, cutoff: datetime, after_id: int, limit: int, lock: bool
) -> list[tuple[int, int]]:
    """(episode id, child id) of the next `limit` purgeable episodes after `after_id`.

    Paged by id, so a run over a million rows reads each once. With `lock`, the rows are
    locked for the batch's transaction and rows someone is changing right now are skipped
    (they are not "closed for years" at this moment; a later run will see them again).
    """
    statement = (
        select(Episode.id, Episode.child_id)
        .where(Episode.id > after_id, closed_before(cutoff))
        .order_by(Episode.id)
        .limit(limit)
    )
    if lock:
        statement = statement.with_for_update(of=Episode, skip_locked=True)
    return [(int(e), int(c)) for e, c in session.execute(statement)]


def _of_episodes(episode_ids: Collection[int]) -> ColumnElement[bool]:
    rhis = select(ReturnInterview.id).where(ReturnInterview.episode_id.in_(episode_ids))
    return or_(OutboxMessage.episode_id.in_(episode_ids), OutboxMessage.rhi_id.in_(rhis))


def count_dependants(session: Session, episode_ids: Collection[int]) -> tuple[int, int]:
    """(outbox rows, interviews) that removing these episodes would remove with them."""
    outbox = session.scalar(select(func.count()).where(_of_episodes(episode_ids))) or 0
    rhis = (
        session.scalar(select(func.count()).where(ReturnInterview.episode_id.in_(episode_ids))) or 0
    )
    return outbox, rhis


def children_left_without_episodes(
    session: Session, *, child_ids: Collection[int], cutoff: datetime
) -> set[int]:
    """Of these children, those whose every episode is purgeable: a purge removes them too."""
    kept_episode = exists().where(Episode.child_id == Child.id, ~closed_before(cutoff))
    return {
        int(i)
        for i in session.scalars(select(Child.id).where(Child.id.in_(child_ids), ~kept_episode))
    }


def remove(
    session: Session, *, episode_ids: Collection[int], child_ids: Collection[int]
) -> Removed:
    """Delete the episodes, their interviews and outbox rows, then the children among
    `child_ids` left with no episode. Order follows the foreign keys: outbox -> interviews ->
    episodes -> children; what was recorded while missing (risk changes, reviews, notes) goes
    before its episode too. The audit trail has no foreign keys to any of them (migration 0003)
    and is not touched."""
    outbox = _delete(session, delete(OutboxMessage).where(_of_episodes(episode_ids)))
    for record in (RiskChange, Review, EpisodeNote):
        _delete(session, delete(record).where(record.episode_id.in_(episode_ids)))
    rhis = _delete(
        session, delete(ReturnInterview).where(ReturnInterview.episode_id.in_(episode_ids))
    )
    episodes = _delete(session, delete(Episode).where(Episode.id.in_(episode_ids)))
    orphaned = and_(Child.id.in_(child_ids), ~exists().where(Episode.child_id == Child.id))
    try:
        with session.begin_nested():
            children = _delete(session, delete(Child).where(orphaned))
    except IntegrityError:
        # A child went missing again at this very moment: a new episode (not yet visible to
        # this transaction) now refers to them. They stay; the episodes still go.
        children = 0
    return Removed(outbox=outbox, rhis=rhis, episodes=episodes, children=children)


def _delete(session: Session, statement: Any) -> int:
    result = cast(CursorResult[Any], session.execute(statement, execution_options=_BULK))
    return int(result.rowcount)
