"""The scheduler's one shape for every follow-up: claim what is due, decide, record, in batches.

A pass works in small batches, each in three steps:
1. claim: one short write transaction leases up to `batch_size` due rows (on PostgreSQL with
   `FOR UPDATE SKIP LOCKED`, so copies of the bot take different rows without waiting);
2. prepare: each kind's handler reads what it needs and renders the messages, holding no lock;
3. apply: one short write transaction stores each row's next action, only if nobody changed the
   row meanwhile (its `revision`), together with its outbox rows and any record changes.
It loops until nothing is due. Nothing is capped: what one pass leaves, the next one takes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import ColumnElement, func, or_, select, update
from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.domain.followup import NextAction
from bot.domain.states import FollowupKind
from bot.services.outbox import Outbox, Pending
from storage import queries
from storage.db import Database
from storage.models import Followup

log = logging.getLogger(__name__)

# A claimed row not applied within this time is free for another pass (its copy died).
LEASE = timedelta(minutes=2)
# A row whose handler failed is looked at again after this, not in a tight loop.
RETRY_AFTER_ERROR = timedelta(minutes=5)
_KINDS = frozenset(k.value for k in FollowupKind)


@dataclass(frozen=True)
class Claimed:
    id: int
    kind: FollowupKind
    subject: str
    step: str | None
    next_at: datetime
    revision: int


@dataclass
class Decision:
    """What a handler decided for one claimed row."""

    row: Claimed
    next: NextAction | tuple[datetime, str] | None
    messages: list[Pending] = field(default_factory=list)
    # Record changes to make in the same transaction (e.g. closing a lapsed interview).
    changes: Callable[[Session, datetime], None] | None = None


class Handler(Protocol):
    kind: FollowupKind

    def prepare(self, rows: Sequence[Claimed], now: datetime) -> list[Decision]: ...


@dataclass(frozen=True)
class RunResult:
    claimed: int
    applied: int
    messages: int


class FollowupRunner:
    def __init__(
        self,
        *,
        db: Database,
        clock: Clock,
        outbox: Outbox,
        instance_id: str,
        handlers: Sequence[Handler],
        batch_size: int = 100,
    ) -> None:
        self.db = db
        self.clock = clock
        self.outbox = outbox
        self.instance_id = instance_id
        self.handlers = {h.kind: h for h in handlers}
        self.batch_size = batch_size

    def run_due(self) -> RunResult:
        """Work through everything due now, a batch at a time."""
        claimed = applied = messages = 0
        while True:
            now = self.clock.now()
            rows = self._claim(now)
            if not rows:
                return RunResult(claimed, applied, messages)
            claimed += len(rows)
            decisions = self._prepare(rows, now)
            done, sent = self._apply(decisions, now)
            applied += done
            messages += sent

    # -- 1. claim ------------------------------------------------------------------------

    def _claim(self, now: datetime) -> list[Claimed]:
        due = (
            select(Followup.id)
            .where(
                Followup.next_at <= now,
                or_(Followup.leased_until.is_(None), Followup.leased_until < now),
            )
            .order_by(Followup.next_at)
            .limit(self.batch_size)
        )
        # Most passes find nothing due: a read says so without taking SQLite's write lock.
        with self.db.read() as session:
            if session.scalar(due.limit(1)) is None:
                return []
        claimed_ids: ColumnElement[bool] = Followup.id.in_(due.scalar_subquery())
        if self.db.dialect == "postgresql":
            # `= ANY(ARRAY(...))` runs the locking subquery once, then finds each claimed row by
            # its key. With `IN (...)` the planner may hash-join the batch against a scan of
            # every follow-up row (bench/explain.py caught it reading all 20,001 at 1M episodes).
            locked = due.with_for_update(skip_locked=True).scalar_subquery()
            claimed_ids = Followup.id == func.any(func.array(locked))
        with self.db.transaction() as session:
            rows = session.execute(
                update(Followup)
                .where(claimed_ids)
                .values(leased_by=self.instance_id, leased_until=now + LEASE)
                .returning(
                    Followup.id,
                    Followup.kind,
                    Followup.subject,
                    Followup.step,
                    Followup.next_at,
                    Followup.revision,
                )
            ).all()
        claimed = [
            Claimed(r.id, FollowupKind(r.kind), r.subject, r.step, r.next_at, r.revision)
            for r in rows
            if r.kind in _KINDS
        ]
        return sorted(claimed, key=lambda c: (c.next_at, c.id))

    # -- 2. prepare (no lock held) -------------------------------------------------------

    def _prepare(self, rows: list[Claimed], now: datetime) -> list[Decision]:
        decisions: list[Decision] = []
        by_kind: dict[FollowupKind, list[Claimed]] = {}
        for row in rows:
            by_kind.setdefault(row.kind, []).append(row)
        for kind, group in by_kind.items():
            handler = self.handlers.get(kind)
            try:
                if handler is None:
                    raise LookupError(f"no handler for follow-ups of kind {kind}")
                decisions.extend(handler.prepare(group, now))
            except Exception:
                # One kind's bug must not stop the others; its rows come back later.
                log.exception("follow-ups of kind %s failed; retrying later", kind)
                decisions.extend(
                    Decision(row, (now + RETRY_AFTER_ERROR, row.step or "")) for row in group
                )
        return decisions

    # -- 3. apply ------------------------------------------------------------------------

    def _apply(self, decisions: list[Decision], now: datetime) -> tuple[int, int]:
        """One short write transaction for the whole batch, in a handful of statements."""
        if not decisions:
            return 0, 0
        with self.db.transaction() as session:
            current = select(Followup.id, Followup.revision).where(
                Followup.id.in_([d.row.id for d in decisions]),
                Followup.leased_by == self.instance_id,
            )
            if self.db.dialect == "postgresql":
                current = current.with_for_update()
            revisions = {row_id: revision for row_id, revision in session.execute(current)}
            # Changed meanwhile (an outcome, a snooze): that change's recomputation stands.
            kept = [d for d in decisions if revisions.get(d.row.id) == d.row.revision]
            if not kept:
                return 0, 0
            updates = []
            for decision in kept:
                at, step = _as_pair(decision.next)
                updates.append(
                    {
                        "id": decision.row.id,
                        "next_at": at,
                        "step": step,
                        "revision": decision.row.revision + 1,
                        "leased_by": None,
                        "leased_until": None,
                        "updated_at": now,
                    }
                )
            session.execute(update(Followup), updates)
            for decision in kept:
                if decision.changes is not None:
                    decision.changes(session, now)
            messages = [m for d in kept for m in d.messages]
            self.outbox.enqueue_many(session, messages, now=now)
        return len(kept), len(messages)


def _as_pair(
    action: NextAction | tuple[datetime, str] | None,
) -> tuple[datetime | None, str | None]:
    if isinstance(action, NextAction):
        return action.at, action.step.value
    if action is None:
        return None, None
    return action


def set_next(
    session: Session,
    *,
    kind: FollowupKind,
    subject: str,
    action: NextAction | tuple[datetime, str] | None,
    now: datetime,
) -> None:
    """Store what comes next for a subject, in the caller's transaction (a change to the
    subject recomputes it at once). A pass that prepared the old action finds the revision
    moved and drops what it prepared."""
    at, step = _as_pair(action)
    statement = (
        queries.upsert(session)(Followup)
        .values(
            kind=kind.value,
            subject=subject,
            next_at=at,
            step=step,
            revision=0,
            updated_at=now,
        )
        .on_conflict_do_update(
            index_elements=["kind", "subject"],
            set_={
                "next_at": at,
                "step": step,
                "revision": Followup.revision + 1,
                "leased_by": None,
                "leased_until": None,
                "updated_at": now,
            },
        )
    )
    session.execute(statement)


def pending_step(session: Session, *, kind: FollowupKind, subject: str) -> str | None:
    return session.scalar(
        select(Followup.step).where(Followup.kind == kind.value, Followup.subject == subject)
    )


def remember(
    session: Session, *, kind: FollowupKind, subject: str, value: str, now: datetime
) -> None:
    """Keep a small fact with the follow-ups (never due): e.g. the policy they were made with."""
    statement = (
        queries.upsert(session)(Followup)
        .values(
            kind=kind.value, subject=subject, next_at=None, step=value, revision=0, updated_at=now
        )
        .on_conflict_do_update(
            index_elements=["kind", "subject"], set_={"step": value, "updated_at": now}
        )
    )
    session.execute(statement)
