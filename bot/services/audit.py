"""The audit trail: every change and every view of a child's details writes a row, in the same
transaction as what it records."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from bot.domain.states import AuditAction
from storage.models import AuditEvent


def record(
    session: Session,
    *,
    at: datetime,
    actor: str,
    action: AuditAction,
    episode_id: int | None = None,
    child_id: int | None = None,
    channel: str | None = None,
    **detail: Any,
) -> None:
    session.add(
        AuditEvent(
            at=at,
            actor=actor,
            action=action.value,
            episode_id=episode_id,
            child_id=child_id,
            channel=channel,
            detail=detail,
        )
    )
