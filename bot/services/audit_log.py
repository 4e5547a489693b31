"""Reading the audit trail: one episode's trail for `/missing audit <ref>`, and a CSV export of
a date range for auditors. Reading the trail is itself audited."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol, TextIO
from zoneinfo import ZoneInfo

from bot.clock import Clock
from bot.domain.access import Action
from bot.domain.audit_trail import local_days, summarise_detail
from bot.domain.errors import NotFound
from bot.domain.refs import format_ref
from bot.domain.states import AuditAction
from bot.services import audit
from bot.services.access import AccessService, Caller
from storage import audit_queries
from storage.audit_queries import AuditRow
from storage.db import Database
from storage.models import Episode

MAX_ENTRIES = 1_000
CSV_HEADER = (
    "id",
    "at_utc",
    "at_local",
    "actor",
    "action",
    "reference",
    "child_id",
    "channel",
    "detail",
)


@dataclass(frozen=True)
class AuditEntry:
    at: datetime
    actor: str
    action: str
    summary: str


@dataclass(frozen=True)
class Exported:
    first_day: date
    last_day: date
    rows: int
    destination: str


class ExportTarget(Protocol):
    """Where an export goes. Nothing is visible at `name` until `publish`; `discard` removes
    whatever was written, published or not."""

    @property
    def name(self) -> str: ...

    @property
    def stream(self) -> TextIO: ...

    def publish(self) -> None: ...

    def discard(self) -> None: ...


class AuditLog:
    def __init__(
        self, *, db: Database, clock: Clock, tz: ZoneInfo, access: AccessService | None = None
    ) -> None:
        self.db = db
        self.clock = clock
        self.tz = tz
        # None for operator commands on the command line, which Slack roles do not govern.
        self.access = access

    def episode_trail(
        self, episode_id: int, caller: Caller, *, limit: int = 40
    ) -> tuple[AuditEntry, ...]:
        """`/missing audit <ref>`: the episode's trail, for admins; looking is recorded too."""
        if self.access is None:
            raise RuntimeError("the audit log has no access policy here")
        access = self.access
        with access.refusals_audited(caller), self.db.transaction() as session:
            access.require(session, caller, Action.AUDIT)
            if session.get(Episode, episode_id) is None and not audit_queries.for_episode(
                session, episode_id=episode_id, limit=1
            ):
                raise NotFound(f"There is no episode {format_ref(episode_id)}.")
            rows = audit_queries.for_episode(session, episode_id=episode_id, limit=limit)
            audit.record(
                session,
                at=self.clock.now(),
                actor=caller.user_id,
                action=AuditAction.AUDIT_VIEWED,
                episode_id=episode_id,
                channel=caller.channel_id,
                rows=len(rows),
            )
        return tuple(
            AuditEntry(r.at, r.actor, r.action, summarise_detail(_with_channel(r))) for r in rows
        )

    def for_episode(
        self, episode_id: int, *, actor: str, limit: int = 100
    ) -> tuple[AuditEntry, ...]:
        """The episode's trail, newest first; looking at it adds a row to it."""
        if not 1 <= limit <= MAX_ENTRIES:
            raise ValueError(f"limit must be between 1 and {MAX_ENTRIES}")
        with self.db.transaction() as session:
            rows = audit_queries.for_episode(session, episode_id=episode_id, limit=limit)
            audit.record(
                session,
                at=self.clock.now(),
                actor=actor,
                action=AuditAction.AUDIT_VIEWED,
                episode_id=episode_id,
                rows=len(rows),
            )
        return tuple(
            AuditEntry(r.at, r.actor, r.action, summarise_detail(_with_channel(r))) for r in rows
        )

    def export(
        self, first_day: date, last_day: date, target: ExportTarget, *, actor: str
    ) -> Exported:
        """Every row of the local days `first_day`..`last_day` as CSV, streamed to `target`.

        The file is published only once complete, and kept only if the export is recorded in
        the trail: a copy of the trail that the trail does not know about never exists.
        """
        try:
            start, end = local_days(first_day, last_day, self.tz)
            count = self._write(target.stream, start=start, end=end)
            target.publish()
            with self.db.transaction() as session:
                audit.record(
                    session,
                    at=self.clock.now(),
                    actor=actor,
                    action=AuditAction.AUDIT_EXPORTED,
                    first_day=first_day.isoformat(),
                    last_day=last_day.isoformat(),
                    rows=count,
                    file=target.name,
                )
        except BaseException:
            target.discard()
            raise
        return Exported(first_day, last_day, count, target.name)

    def _write(self, out: TextIO, *, start: datetime, end: datetime) -> int:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(CSV_HEADER)
        count = 0
        # A read-only transaction: on SQLite it takes no write lock, so the bot keeps working.
        with self.db.read() as session:
            for row in audit_queries.between(session, start=start, end=end):
                writer.writerow(self._csv_row(row))
                count += 1
        return count

    def _csv_row(self, row: AuditRow) -> tuple[object, ...]:
        # Since the channel has its own column; older rows kept it in the detail.
        channel = row.channel or row.detail.get("channel")
        return (
            row.id,
            row.at.isoformat(timespec="seconds"),
            row.at.astimezone(self.tz).isoformat(timespec="seconds"),
            row.actor,
            row.action,
            format_ref(row.episode_id) if row.episode_id is not None else "",
            row.child_id if row.child_id is not None else "",
            channel if isinstance(channel, str) else "",
            json.dumps(row.detail, separators=(",", ":"), sort_keys=True, ensure_ascii=False),
        )


def _with_channel(row: AuditRow) -> dict[str, object]:
    """The detail, with the channel (its own column since migration 0003) summarised too."""
    return {**row.detail, "channel": row.channel} if row.channel else dict(row.detail)
