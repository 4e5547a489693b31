"""The shift handover: a short summary in the control-room channel at each HANDOVER_TIMES.

The same shape and guarantees as the digest (bot.services.digests): one follow-up row (kind
`handover`, subject the channel), the `digests` ledger (kind `handover`, occasion the local
date and time) and outbox keys `handover:<channel>:<date>T<time>`, so each handover goes once.
A copy that was down posts the handover owed when it comes back, late, if the next one has not
fallen due yet; skipped ones are named in the next.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.domain import occasions
from bot.domain.states import FollowupKind
from bot.services.digest_report import DigestBuilder
from bot.services.followups import Claimed, Decision, set_next
from bot.services.messages import Handover
from bot.services.outbox import Outbox, Pending
from storage import digest_ledger as ledger
from storage.db import Database
from storage.models import Followup

KIND = "handover"
STEP = "shift"


@dataclass(frozen=True)
class HandoverSchedule:
    channel: str  # CONTROL_ROOM_CHANNEL
    times: tuple[time, ...]  # HANDOVER_TIMES; empty: no handovers
    tz: ZoneInfo


def handover_key(channel: str, occasion: str) -> str:
    return f"handover:{channel}:{occasion}"


class HandoverHandler:
    """Handler for FollowupKind.HANDOVER."""

    kind = FollowupKind.HANDOVER

    def __init__(
        self,
        *,
        db: Database,
        outbox: Outbox,
        builder: DigestBuilder,
        schedule: HandoverSchedule,
    ) -> None:
        self.db = db
        self.outbox = outbox
        self.builder = builder
        self.schedule = schedule

    def ensure_current(self, session: Session, now: datetime) -> None:
        """At start-up: the follow-up exists and falls due at one of HANDOVER_TIMES, or is
        stopped when they are empty (a row another copy made is kept as it is)."""
        schedule = self.schedule
        if not schedule.channel:
            return
        stored = session.execute(
            select(Followup.next_at).where(
                Followup.kind == FollowupKind.HANDOVER, Followup.subject == schedule.channel
            )
        ).first()
        if not schedule.times:
            if stored is not None and stored.next_at is not None:
                set_next(
                    session,
                    kind=FollowupKind.HANDOVER,
                    subject=schedule.channel,
                    action=None,
                    now=now,
                )
            return
        if stored is not None and occasions.on_schedule(
            stored.next_at, schedule.times, schedule.tz
        ):
            return
        first = occasions.first_due(schedule.times, schedule.tz, now)
        set_next(
            session,
            kind=FollowupKind.HANDOVER,
            subject=schedule.channel,
            action=(first, STEP),
            now=now,
        )

    def prepare(self, rows: Sequence[Claimed], now: datetime) -> list[Decision]:
        return [self._decide(row, now) for row in rows]

    def _decide(self, row: Claimed, now: datetime) -> Decision:
        schedule = self.schedule
        if row.subject != schedule.channel or not schedule.times:
            return Decision(row, None)
        due = occasions.due_now(schedule.times, schedule.tz, now=now, same_day_only=False)
        following = (due.next_at, STEP)
        assert due.post is not None  # a handover is always current until the next one
        moment = due.post
        occasion = occasions.handover_occasion(moment, schedule.tz)
        key = handover_key(row.subject, occasion)
        with self.db.read() as session:
            if ledger.posted(session, kind=KIND, channel=row.subject, occasion=occasion):
                return Decision(row, following)
            previous = ledger.previous(session, kind=KIND, channel=row.subject, before=occasion)
            before_this = occasions.previous_moment(
                schedule.times, schedule.tz, moment - timedelta(seconds=1)
            )
            missed: tuple[datetime, ...] = ()
            if previous is not None:
                last = occasions.previous_moment(schedule.times, schedule.tz, previous.period_end)
                missed = tuple(occasions.moments_between(schedule.times, schedule.tz, last, moment))
            report = self.builder.handover(
                session,
                moment=moment,
                as_of=now,
                previous_until=previous.period_end if previous is not None else None,
                previous_moment=before_this,
                missed=missed,
                next_at=due.next_at,
            )
        message = Handover(report)
        pending = Pending(
            key=key,
            kind=message.kind,
            payload=self.outbox.render(message, now=now),
            target=row.subject,
        )

        def claim(session: Session, at: datetime) -> None:
            ledger.claim(
                session,
                kind=KIND,
                channel=row.subject,
                occasion=occasion,
                period_start=report.period.start,
                period_end=report.period.until,
                posted_key=key,
                now=at,
            )

        return Decision(row, following, [pending], changes=claim)
