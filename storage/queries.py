"""Queries the services share. Each takes the session as a keyword argument."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, selectinload

from bot.domain.states import (
    OPEN_RHI_STATUSES,
    AuditAction,
    DeliveryStatus,
    EpisodeStatus,
    MessageKind,
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


def child_episode_counts(session: Session, *, child_id: int, since: datetime) -> tuple[int, int]:
    """(all episodes of the child, episodes last seen since `since`)."""
    total = session.scalar(select(func.count()).where(Episode.child_id == child_id)) or 0
    recent = (
        session.scalar(
            select(func.count()).where(Episode.child_id == child_id, Episode.last_seen_at >= since)
        )
        or 0
    )
    return total, recent


def open_episodes(session: Session, *, limit: int) -> tuple[list[Episode], int]:
    """Still-missing episodes, longest missing first, and how many there are in all."""
    rows = session.scalars(
        select(Episode)
        .where(Episode.status == EpisodeStatus.MISSING)
        .order_by(Episode.last_seen_at, Episode.id)
        .limit(limit)
        .options(selectinload(Episode.child))
    )
    total = session.scalar(select(func.count()).where(Episode.status == EpisodeStatus.MISSING)) or 0
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


def rhi_open_for_reminders(session: Session, rhi_id: int) -> bool:
    """Reminders stop once the interview is closed or the episode was reopened."""
    row = session.execute(
        select(ReturnInterview.status, Episode.status)
        .join(Episode, Episode.id == ReturnInterview.episode_id)
        .where(ReturnInterview.id == rhi_id)
    ).first()
    return row is not None and row[0] in OPEN_RHI_STATUSES and row[1] == EpisodeStatus.RETURNED


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
