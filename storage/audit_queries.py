"""Reading the audit trail: one episode's rows, and every row in a time range, streamed."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import AuditEvent

# Rows fetched per round trip when streaming: on PostgreSQL a server-side cursor, so only this
# many rows are ever in memory however long the range.
STREAM_CHUNK = 1_000


@dataclass(frozen=True)
class AuditRow:
    id: int
    at: datetime
    actor: str
    action: str
    episode_id: int | None
    child_id: int | None
    channel: str | None
    detail: dict[str, Any]


_COLUMNS = (
    AuditEvent.id,
    AuditEvent.at,
    AuditEvent.actor,
    AuditEvent.action,
    AuditEvent.episode_id,
    AuditEvent.child_id,
    AuditEvent.channel,
    AuditEvent.detail,
)


def _row(values: Any) -> AuditRow:
    row_id, at, actor, action, episode_id, child_id, channel, detail = values
    return AuditRow(row_id, at, actor, action, episode_id, child_id, channel, dict(detail or {}))


def for_episode(session: Session, *, episode_id: int, limit: int) -> list[AuditRow]:
    """Newest first. The episode itself may be gone (purged): its trail is not."""
    statement = (
        select(*_COLUMNS)
        .where(AuditEvent.episode_id == episode_id)
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .limit(limit)
    )
    return [_row(values) for values in session.execute(statement)]


def between(session: Session, *, start: datetime, end: datetime) -> Iterator[AuditRow]:
    """Rows with start <= at < end, oldest first, fetched `STREAM_CHUNK` at a time."""
    statement = (
        select(*_COLUMNS)
        .where(AuditEvent.at >= start, AuditEvent.at < end)
        .order_by(AuditEvent.at, AuditEvent.id)
        .execution_options(yield_per=STREAM_CHUNK)
    )
    for values in session.execute(statement):
        yield _row(values)
