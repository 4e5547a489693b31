"""Queries the services share. Each takes the session as a keyword argument."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, case, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, selectinload

from bot.domain.episode import COUNTED_STATUSES
from bot.domain.states import (
    CHASING_KINDS,
    OPEN_RHI_STATUSES,
    AuditAction,
    DeliveryStatus,
    EpisodeStatus,
    MessageKind,
    Risk,
    SafeWellStatus,
)
from storage.models import AuditEvent, Child, Episode, OutboxMessage, ReturnInterview


def episode_by_id(session: Session, episode_id: int, *, for_update: bool = False) -> Episode | None:
    # The child comes along (cards and details need it); the interviews are asked for on
    # their own (`open_rhi`, `latest_rhi`), so loading them all here was a query wasted.
    statement = select(Episode).where(Episode.id == episode_id).options(selectinload(Episode.child))
    if for_update:
        statement = statement.with_for_update(of=Episode)
    return session.scalar(statement)


def child_by_identity(session: Session, *, name_key: str, date_of_birth: object) -> Child | None:
    return session.scalar(
        select(Child).where(Child.name_key == name_key, Child.date_of_birth == date_of_birth)
    )


def counts() -> ColumnElement[bool]:
    """An episode that counts in figures: never a void one (see bot.domain.episode)."""
    return Episode.status.in_(COUNTED_STATUSES)


def counted_episodes() -> Select[Episode]:
    """The episodes every figure starts from (statistics, digests, repeat counts): add filters
    to this rather than selecting from Episode, and a void episode is never counted."""
    return select(Episode).where(counts())


def child_episode_counts(session: Session, *, child_id: int, since: datetime) -> tuple[int, int]:
    """(the child's episodes, those last seen since `since`), void ones left out."""
    mine = counted_episodes().where(Episode.child_id == child_id).subquery()
    total = session.scalar(select(func.count()).select_from(mine)) or 0
    recent = (
        session.scalar(select(func.count()).select_from(mine).where(mine.c.last_seen_at >= since))
        or 0
    )
    return total, recent


# Most urgent first: sorting on this puts high risk before medium, low, no apparent risk.
_RISK_ORDER = case({r.value: r.rank for r in Risk}, value=Episode.risk_level, else_=len(Risk))


def open_episodes(session: Session, *, limit: int) -> tuple[list[Episode], int]:
    """Still-missing episodes, high risk first and then longest missing, and how many there
    are in all. Only status `missing`: nothing else is open."""
    rows = session.scalars(
        select(Episode)
        .where(Episode.status == EpisodeStatus.MISSING)
        .order_by(_RISK_ORDER, Episode.last_seen_at, Episode.id)
        .limit(limit)
        .options(selectinload(Episode.child))
    )
    total = session.scalar(select(func.count()).where(Episode.status == EpisodeStatus.MISSING)) or 0
    return list(rows), total


def reviews_overdue(session: Session, *, due_by: datetime) -> int:
    """How many still-missing episodes have a review due at or before this (overdue)."""
    return (
        session.scalar(
            select(func.count()).where(
                Episode.status == EpisodeStatus.MISSING, Episode.review_due_at <= due_by
            )
        )
        or 0
    )


def returned_since(session: Session, *, since: datetime, limit: int) -> tuple[list[Episode], int]:
    """Episodes whose child came back at or after `since`, latest first, and how many."""
    recent = (Episode.status == EpisodeStatus.RETURNED, Episode.returned_at >= since)
    rows = session.scalars(
        select(Episode)
        .where(*recent)
        .order_by(Episode.returned_at.desc(), Episode.id.desc())
        .limit(limit)
        .options(selectinload(Episode.child), selectinload(Episode.rhis))
    )
    total = session.scalar(select(func.count()).where(*recent)) or 0
    return list(rows), total


# Who looked is in the trail, but it is not the episode's history.
_VIEWS = (AuditAction.EPISODE_VIEWED, AuditAction.AUDIT_VIEWED)


def episode_history(session: Session, *, episode_id: int, limit: int = 30) -> list[AuditEvent]:
    return list(
        session.scalars(
            select(AuditEvent)
            .where(AuditEvent.episode_id == episode_id, AuditEvent.action.not_in(_VIEWS))
            .order_by(AuditEvent.at, AuditEvent.id)
            .limit(limit)
        )
    )


def open_rhi(
    session: Session, *, episode_id: int, for_update: bool = False
) -> ReturnInterview | None:
    statement = select(ReturnInterview).where(
        ReturnInterview.episode_id == episode_id, ReturnInterview.status.in_(OPEN_RHI_STATUSES)
    )
    if for_update:
        statement = statement.with_for_update()
    return session.scalar(statement.order_by(ReturnInterview.id.desc()).limit(1))


def latest_rhi(session: Session, *, episode_id: int) -> ReturnInterview | None:
    return session.scalar(
        select(ReturnInterview)
        .where(ReturnInterview.episode_id == episode_id)
        .order_by(ReturnInterview.id.desc())
        .limit(1)
    )


def rhi_reminder_state(session: Session, rhi_id: int) -> tuple[bool, datetime | None]:
    """(still open, snoozed until): reminders stop once the interview is closed or its
    episode reopened, and wait while it is snoozed."""
    row = session.execute(
        select(ReturnInterview.status, Episode.status, ReturnInterview.snoozed_until)
        .join(Episode, Episode.id == ReturnInterview.episode_id)
        .where(ReturnInterview.id == rhi_id)
    ).first()
    if row is None:
        return False, None
    return row[0] in OPEN_RHI_STATUSES and row[1] == EpisodeStatus.RETURNED, row[2]


def open_rhis(
    session: Session, *, assignee_id: str | None = None, limit: int = 500
) -> list[ReturnInterview]:
    statement = (
        select(ReturnInterview)
        .join(Episode, Episode.id == ReturnInterview.episode_id)
        .where(
            ReturnInterview.status.in_(OPEN_RHI_STATUSES), Episode.status == EpisodeStatus.RETURNED
        )
        .options(selectinload(ReturnInterview.episode).selectinload(Episode.child))
        .order_by(ReturnInterview.due_at, ReturnInterview.id)
        .limit(limit)
    )
    if assignee_id is not None:
        statement = statement.where(ReturnInterview.assignee_id == assignee_id)
    return list(session.scalars(statement))


def unreachable_reminder_targets(session: Session) -> set[tuple[int, str]]:
    """(rhi id, user) pairs whose reminder failed for good: not worth another try."""
    rows = session.execute(
        select(OutboxMessage.rhi_id, OutboxMessage.target).where(
            OutboxMessage.status == DeliveryStatus.FAILED,
            OutboxMessage.kind == MessageKind.RHI_REMINDER,
        )
    )
    return {(int(rhi_id), target) for rhi_id, target in rows if rhi_id is not None}


def outbox_by_message(session: Session, *, channel: str, ts: str) -> OutboxMessage | None:
    """The outbox row behind a message Slack shows (indexed on channel and ts)."""
    return session.scalar(
        select(OutboxMessage).where(OutboxMessage.channel == channel, OutboxMessage.ts == ts)
    )


def outbox_by_key(session: Session, key: str) -> OutboxMessage | None:
    return session.scalar(select(OutboxMessage).where(OutboxMessage.key == key))


def rhi_by_id(session: Session, rhi_id: int, *, for_update: bool = False) -> ReturnInterview | None:
    statement = select(ReturnInterview).where(ReturnInterview.id == rhi_id)
    if for_update:
        statement = statement.with_for_update()
    return session.scalar(statement)


def upsert(session: Session) -> Any:
    """The dialect's INSERT that knows ON CONFLICT (SQLite and PostgreSQL both do)."""
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


def rhis_with_episodes(session: Session, ids: list[int]) -> list[ReturnInterview]:
    """These interviews with their episodes and children, in one round trip each."""
    if not ids:
        return []
    return list(
        session.scalars(
            select(ReturnInterview)
            .where(ReturnInterview.id.in_(ids))
            .options(selectinload(ReturnInterview.episode).selectinload(Episode.child))
        )
    )


def unreachable_among(session: Session, rhi_ids: list[int]) -> set[tuple[int, str]]:
    """(rhi id, person) pairs among these interviews whose reminder Slack refused for good."""
    if not rhi_ids:
        return set()
    rows = session.execute(
        select(OutboxMessage.rhi_id, OutboxMessage.target).where(
            OutboxMessage.rhi_id.in_(rhi_ids),
            OutboxMessage.status == DeliveryStatus.FAILED,
            OutboxMessage.kind == MessageKind.RHI_REMINDER,
        )
    )
    return {(int(r), t) for r, t in rows if r is not None}


def overdue_assignees(session: Session, *, due_before: datetime) -> list[str]:
    """Everyone chasing an open interview due before this (the (status, due_at) index)."""
    return list(
        session.scalars(
            select(ReturnInterview.assignee_id)
            .join(Episode, Episode.id == ReturnInterview.episode_id)
            .where(
                ReturnInterview.status.in_(OPEN_RHI_STATUSES),
                ReturnInterview.due_at < due_before,
                Episode.status == EpisodeStatus.RETURNED,
            )
            .distinct()
        )
    )


def overdue_for(
    session: Session, *, assignee_id: str, due_before: datetime
) -> list[ReturnInterview]:
    """One person's open interviews due before this, oldest due first, with their episodes."""
    return list(
        session.scalars(
            select(ReturnInterview)
            .join(Episode, Episode.id == ReturnInterview.episode_id)
            .where(
                ReturnInterview.assignee_id == assignee_id,
                ReturnInterview.status.in_(OPEN_RHI_STATUSES),
                ReturnInterview.due_at < due_before,
                Episode.status == EpisodeStatus.RETURNED,
            )
            .order_by(ReturnInterview.due_at, ReturnInterview.id)
            .options(selectinload(ReturnInterview.episode).selectinload(Episode.child))
        )
    )


def cancel_chasing_messages(session: Session, *, episode_id: int) -> int:
    """Drop the queued, unsent messages that chase this episode or its interview (reminders,
    "it is yours now"); how many. One already claimed is being sent and goes."""
    dropped = session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.episode_id == episode_id,
            OutboxMessage.status == DeliveryStatus.PENDING,
            OutboxMessage.kind.in_(CHASING_KINDS),
        )
        .values(status=DeliveryStatus.CANCELLED, error="episode voided")
        .returning(OutboxMessage.id)
    )
    return len(dropped.all())


def pending_outbox_count(session: Session) -> int:
    return (
        session.scalar(select(func.count()).where(OutboxMessage.status == DeliveryStatus.PENDING))
        or 0
    )


def safe_well_pending(session: Session, episode_id: int) -> bool:
    """Whether the episode's safe-and-well check is still to be done (reminders stop then)."""
    row = session.execute(
        select(Episode.status, Episode.safe_well_status).where(Episode.id == episode_id)
    ).first()
    return (
        row is not None and row[0] == EpisodeStatus.RETURNED and row[1] == SafeWellStatus.TO_BE_DONE
    )
