"""The daily safeguarding digest: posted once per local date, previewed privately, or posted by
an operator.

Scheduling is the follow-up shape (bot.services.followups): one row (kind `digest`, subject the
channel) holds when the next digest falls due. A pass that finds it due works out which digest
is owed (bot.domain.occasions), builds it from the database without a lock, and in one short
transaction claims the date in the `digests` ledger, queues the message and its chart in the
outbox (keys `digest:<channel>:<date>` and `...:chart`) and stores the next due time. The ledger
and the outbox keys both make it once per date, across copies, restarts and the operator's
command; the outbox then delivers at least once, looking first after a copy died mid-send.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.domain import occasions
from bot.domain.access import Action
from bot.domain.errors import UserError
from bot.domain.followup import local_moment
from bot.domain.states import AuditAction, FollowupKind
from bot.services import audit
from bot.services.access import AccessService, Caller
from bot.services.digest_report import DigestBuilder
from bot.services.followups import Claimed, Decision, set_next
from bot.services.messages import Digest, DigestChart
from bot.services.outbox import Outbox, Pending
from bot.services.summaries import DigestReport
from storage import digest_ledger as ledger
from storage.db import Database
from storage.models import Followup

log = logging.getLogger(__name__)

KIND = "digest"
STEP = "daily"


@dataclass(frozen=True)
class DigestSchedule:
    channel: str  # SAFEGUARDING_CHANNEL; empty: no digest
    at: time  # DIGEST_TIME, local
    tz: ZoneInfo

    @property
    def times(self) -> tuple[time, ...]:
        return (self.at,)


def digest_key(channel: str, occasion: date) -> str:
    return f"digest:{channel}:{occasion.isoformat()}"


@dataclass(frozen=True)
class Posted:
    key: str
    report: DigestReport
    ids: tuple[int, ...]  # outbox rows queued (the digest and its chart)


class DigestService:
    def __init__(
        self,
        *,
        db: Database,
        clock: Clock,
        outbox: Outbox,
        access: AccessService,
        builder: DigestBuilder,
        schedule: DigestSchedule,
        chart: bool = True,
    ) -> None:
        self.db = db
        self.clock = clock
        self.outbox = outbox
        self.access = access
        self.builder = builder
        self.schedule = schedule
        self.chart = chart

    # -- scheduling ----------------------------------------------------------------------

    def ensure_current(self, session: Session, now: datetime) -> None:
        """At start-up: the digest's follow-up exists and falls due at DIGEST_TIME. A row made
        by another copy, or before a restart, is kept as it is (a digest owed since is then
        caught up); one left at an old DIGEST_TIME moves to the new one."""
        channel = self.schedule.channel
        if not channel:
            log.warning("SAFEGUARDING_CHANNEL is not set: no daily digest will be posted")
            return
        stored = session.execute(
            select(Followup.next_at).where(
                Followup.kind == FollowupKind.DIGEST, Followup.subject == channel
            )
        ).first()
        if stored is not None and occasions.on_schedule(
            stored.next_at, self.schedule.times, self.schedule.tz
        ):
            return
        first = occasions.first_due(self.schedule.times, self.schedule.tz, now)
        set_next(session, kind=FollowupKind.DIGEST, subject=channel, action=(first, STEP), now=now)

    # -- the occasion's report -----------------------------------------------------------

    def report(
        self,
        session: Session,
        *,
        occasion: date,
        as_of: datetime,
        scheduled_at: datetime | None,
        how: str,
        include_occasion: bool = False,
    ) -> DigestReport:
        """The digest of `occasion` at `as_of`, covering the time since the previous digest
        (with `include_occasion`, since one already posted for this very date)."""
        before = occasion.toordinal() + (1 if include_occasion else 0)
        previous = ledger.previous(
            session,
            kind=KIND,
            channel=self.schedule.channel,
            before=date.fromordinal(before).isoformat(),
        )
        return self.builder.digest(
            session,
            occasion=occasion,
            as_of=as_of,
            previous=(
                (date.fromisoformat(previous.occasion), previous.period_end)
                if previous is not None
                else None
            ),
            scheduled_at=scheduled_at,
            how=how,
        )

    def messages(
        self, session: Session, report: DigestReport, *, key: str, now: datetime
    ) -> list[Pending]:
        """The digest and its chart (unless DIGEST_CHART is off), rendered, for the outbox."""
        channel = self.schedule.channel
        digest = Pending(
            key=key,
            kind=Digest.kind,
            payload=self.outbox.render(Digest(report, with_chart=self.chart), now=now),
            target=channel,
        )
        if not self.chart:
            return [digest]
        chart = DigestChart(
            report.occasion,
            self.builder.chart_days(session, occasion=report.occasion),
            filename=f"{key.replace(':', '-')}-chart.png",
        )
        return [
            digest,
            Pending(
                key=f"{key}:chart",
                kind=chart.kind,
                payload=self.outbox.render(chart, now=now),
                target=channel,
                parent_key=key,
            ),
        ]

    # -- /missing digest -----------------------------------------------------------------

    def preview(self, caller: Caller) -> DigestReport:
        """What a digest posted now would say (since the last one), for the caller only."""
        now = self.clock.now()
        with self.access.refusals_audited(caller), self.db.transaction() as session:
            self.access.require(session, caller, Action.DIGEST)
            report = self.report(
                session,
                occasion=occasions.local_date(now, self.schedule.tz),
                as_of=now,
                scheduled_at=None,
                how="preview",
                include_occasion=True,
            )
            _audit_view(session, report, actor=caller.user_id, channel=caller.channel_id, now=now)
        return report

    # -- `missing-bot digest` ------------------------------------------------------------

    def as_of_for(self, occasion: date, now: datetime) -> datetime:
        """Today's digest is as of now; an earlier date's, as of its DIGEST_TIME."""
        today = occasions.local_date(now, self.schedule.tz)
        if occasion > today:
            raise UserError(f"{occasion.isoformat()} has not come yet: no digest for it.")
        if occasion == today:
            return now
        return local_moment(occasion, self.schedule.at, self.schedule.tz)

    def dry_run(self, occasion: date, *, actor: str) -> DigestReport:
        now = self.clock.now()
        with self.db.transaction() as session:
            report = self.report(
                session,
                occasion=occasion,
                as_of=self.as_of_for(occasion, now),
                scheduled_at=None,
                how="operator",
            )
            _audit_view(session, report, actor=actor, channel=None, now=now)
        return report

    def post(self, occasion: date, *, force: bool, actor: str) -> Posted:
        """Queue the digest of `occasion` now. Refused if that date's digest was posted,
        unless `force`: then it goes again (under its own key; the ledger keeps the first)."""
        channel = self.schedule.channel
        if not channel:
            raise UserError("SAFEGUARDING_CHANNEL is not set: there is nowhere to post it.")
        now = self.clock.now()
        as_of = self.as_of_for(occasion, now)
        with self.db.transaction() as session:
            done = ledger.posted(session, kind=KIND, channel=channel, occasion=occasion.isoformat())
            if done is not None and not force:
                raise UserError(
                    f"The digest for {occasion.isoformat()} was already posted "
                    f"({done.posted_key}); --force posts it again."
                )
            report = self.report(
                session,
                occasion=occasion,
                as_of=as_of,
                scheduled_at=None,
                how="again" if done is not None else "operator",
            )
            key = digest_key(channel, occasion)
            if done is not None:
                key = f"{key}:again:{now.strftime('%Y%m%dT%H%M%SZ')}"
            else:
                ledger.claim(
                    session,
                    kind=KIND,
                    channel=channel,
                    occasion=occasion.isoformat(),
                    period_start=report.period.start,
                    period_end=report.period.until,
                    posted_key=key,
                    now=now,
                )
            ids = [
                self.outbox.enqueue_rendered(session, pending, now=now)
                for pending in self.messages(session, report, key=key, now=now)
            ]
            audit.record(
                session,
                at=now,
                actor=actor,
                action=AuditAction.DIGEST_POSTED,
                occasion=occasion.isoformat(),
                key=key,
                forced=done is not None,
            )
        return Posted(key, report, tuple(i for i in ids if i is not None))


def _audit_view(
    session: Session, report: DigestReport, *, actor: str, channel: str | None, now: datetime
) -> None:
    """A digest names children by reference: seeing it is a view, and the trail says so."""
    audit.record(
        session,
        at=now,
        actor=actor,
        action=AuditAction.DIGEST_VIEWED,
        channel=channel,
        occasion=report.occasion.isoformat(),
        still_missing=int(report.figures.still_missing),
    )


class DigestHandler:
    """Handler for FollowupKind.DIGEST: the digest owed now, if any, and the next due time."""

    kind = FollowupKind.DIGEST

    def __init__(self, *, db: Database, service: DigestService) -> None:
        self.db = db
        self.service = service

    def prepare(self, rows: Sequence[Claimed], now: datetime) -> list[Decision]:
        return [self._decide(row, now) for row in rows]

    def _decide(self, row: Claimed, now: datetime) -> Decision:
        schedule = self.service.schedule
        if row.subject != schedule.channel:
            return Decision(row, None)  # SAFEGUARDING_CHANNEL changed: that digest stops
        due = occasions.due_now(schedule.times, schedule.tz, now=now, same_day_only=True)
        following = (due.next_at, STEP)
        if due.post is None:
            return Decision(row, following)  # a day missed entirely: the next one covers it
        occasion = occasions.local_date(due.post, schedule.tz)
        key = digest_key(row.subject, occasion)
        with self.db.read() as session:
            if ledger.posted(
                session, kind=KIND, channel=row.subject, occasion=occasion.isoformat()
            ):
                return Decision(row, following)  # posted already (an operator, another copy)
            report = self.service.report(
                session, occasion=occasion, as_of=now, scheduled_at=due.post, how="scheduled"
            )
            messages = self.service.messages(session, report, key=key, now=now)

        def claim(session: Session, at: datetime) -> None:
            ledger.claim(
                session,
                kind=KIND,
                channel=row.subject,
                occasion=occasion.isoformat(),
                period_start=report.period.start,
                period_end=report.period.until,
                posted_key=key,
                now=at,
            )

        return Decision(row, following, messages, changes=claim)
