"""The ledger of digests and handovers posted: one row per (kind, channel, occasion).

The unique key is the claim: the first copy to insert the row posts, every other copy (and a
restart, and the operator's command) finds it there. Occasions are `YYYY-MM-DD` for digests and
`YYYY-MM-DDTHH:MM` for handovers, so their order as text is their order in time.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import DigestRecord
from storage.queries import upsert


def previous(session: Session, *, kind: str, channel: str, before: str) -> DigestRecord | None:
    """The latest one posted for an occasion before `before` (the unique index, backwards)."""
    return session.scalar(
        select(DigestRecord)
        .where(
            DigestRecord.kind == kind,
            DigestRecord.channel == channel,
            DigestRecord.occasion < before,
        )
        .order_by(DigestRecord.occasion.desc())
        .limit(1)
    )


def posted(session: Session, *, kind: str, channel: str, occasion: str) -> DigestRecord | None:
    return session.scalar(
        select(DigestRecord).where(
            DigestRecord.kind == kind,
            DigestRecord.channel == channel,
            DigestRecord.occasion == occasion,
        )
    )


def claim(
    session: Session,
    *,
    kind: str,
    channel: str,
    occasion: str,
    period_start: datetime,
    period_end: datetime,
    posted_key: str,
    now: datetime,
) -> bool:
    """Record this occasion as posted; False if it already was (by anyone)."""
    row = session.execute(
        upsert(session)(DigestRecord)
        .values(
            kind=kind,
            channel=channel,
            occasion=occasion,
            period_start=period_start,
            period_end=period_end,
            posted_key=posted_key,
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["kind", "channel", "occasion"])
        .returning(DigestRecord.id)
    ).first()
    # Check the returned row, not rowcount: PostgreSQL reports -1 for this statement.
    return row is not None
