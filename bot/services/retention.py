"""Retention and erasure: remove episodes closed for longer than the retention period, with
their interviews, outbox rows and (when nothing else remains of them) their children.

Open episodes and episodes with an open interview are never touched, and neither is the audit
trail: the purge adds one row to it, with counts and references only, never a name or any text
a person typed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from bot.clock import Clock
from bot.domain import retention as rules
from bot.domain.refs import format_ref
from bot.domain.states import AuditAction
from bot.services import audit
from storage import retention as queries
from storage.db import Database

log = logging.getLogger(__name__)

# Episodes per transaction: each batch holds its locks for well under a second, so a purge
# over a million rows never stalls the bot that is logging episodes at the same time.
BATCH_SIZE = 500


@dataclass(frozen=True)
class PurgeReport:
    years: float
    cutoff: datetime
    dry_run: bool
    episodes: int
    children: int
    rhis: int
    outbox: int
    refs: tuple[str, ...] = field(repr=False)


@dataclass
class _Tally:
    episode_ids: list[int] = field(default_factory=list)
    children: int = 0
    rhis: int = 0
    outbox: int = 0

    def report(self, *, years: float, cutoff: datetime, dry_run: bool) -> PurgeReport:
        return PurgeReport(
            years=years,
            cutoff=cutoff,
            dry_run=dry_run,
            episodes=len(self.episode_ids),
            children=self.children,
            rhis=self.rhis,
            outbox=self.outbox,
            refs=tuple(format_ref(i) for i in self.episode_ids),
        )


class RetentionService:
    def __init__(self, *, db: Database, clock: Clock, batch_size: int = BATCH_SIZE) -> None:
        self.db = db
        self.clock = clock
        self.batch_size = batch_size

    def purge(self, *, older_than_years: float, actor: str, dry_run: bool = False) -> PurgeReport:
        """Remove (or with `dry_run`, only count) what was closed before the cut-off."""
        now = self.clock.now()
        cutoff = rules.cutoff(now, older_than_years)
        if dry_run:
            return self._count(cutoff).report(years=older_than_years, cutoff=cutoff, dry_run=True)
        tally = _Tally()
        try:
            self._remove(cutoff, tally)
        except BaseException:
            # Batches already committed stay removed: the trail must still say so.
            try:
                self._record(tally, years=older_than_years, cutoff=cutoff, actor=actor, done=False)
            except Exception:
                log.exception(
                    "purge interrupted and not recorded: %d episodes already removed (%s)",
                    len(tally.episode_ids),
                    ", ".join(format_ref(i) for i in tally.episode_ids),
                )
            raise
        self._record(tally, years=older_than_years, cutoff=cutoff, actor=actor, done=True)
        return tally.report(years=older_than_years, cutoff=cutoff, dry_run=False)

    def _remove(self, cutoff: datetime, tally: _Tally) -> None:
        after = 0
        while True:
            with self.db.transaction() as session:
                batch = queries.purgeable_batch(
                    session, cutoff=cutoff, after_id=after, limit=self.batch_size, lock=True
                )
                if not batch:
                    return
                removed = queries.remove(
                    session,
                    episode_ids=[e for e, _ in batch],
                    child_ids={c for _, c in batch},
                )
            # Counted only once the batch is committed.
            tally.episode_ids.extend(e for e, _ in batch)
            tally.children += removed.children
            tally.rhis += removed.rhis
            tally.outbox += removed.outbox
            after = batch[-1][0]

    def _count(self, cutoff: datetime) -> _Tally:
        tally = _Tally()
        # A child's episodes may span batches: count each child once.
        children: set[int] = set()
        after = 0
        while True:
            with self.db.read() as session:
                batch = queries.purgeable_batch(
                    session, cutoff=cutoff, after_id=after, limit=self.batch_size, lock=False
                )
                if not batch:
                    tally.children = len(children)
                    return tally
                ids = [e for e, _ in batch]
                outbox, rhis = queries.count_dependants(session, ids)
                children |= queries.children_left_without_episodes(
                    session, child_ids={c for _, c in batch}, cutoff=cutoff
                )
            tally.episode_ids.extend(ids)
            tally.rhis += rhis
            tally.outbox += outbox
            after = ids[-1]

    def _record(
        self, tally: _Tally, *, years: float, cutoff: datetime, actor: str, done: bool
    ) -> None:
        report = tally.report(years=years, cutoff=cutoff, dry_run=False)
        with self.db.transaction() as session:
            audit.record(
                session,
                at=self.clock.now(),
                actor=actor,
                action=AuditAction.RECORDS_PURGED,
                older_than_years=years,
                cutoff=cutoff.isoformat(),
                complete=done,
                episodes=report.episodes,
                children=report.children,
                rhis=report.rhis,
                outbox=report.outbox,
                refs=list(report.refs),
            )
