"""One scheduler pass: act on the follow-ups that fell due, send what the outbox holds, and
record that the pass ran (for /healthz)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol, cast

from sqlalchemy import CursorResult, update
from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.domain.states import DeliveryStatus
from bot.services.access import AccessService
from bot.services.followups import FollowupRunner
from bot.services.outbox import Outbox, Outcome
from bot.services.ports import Directory
from bot.services.reviews import ReviewSchedule
from bot.services.rhi_followups import RhiFollowups
from storage.db import Database
from storage.models import SchedulerPass

log = logging.getLogger(__name__)

_REQUEST_KEYS_KEPT = timedelta(days=1)
# Old request keys are deleted this often, not at every pass: a write fewer per pass.
_FORGET_EVERY = timedelta(hours=1)


class Scheduled(Protocol):
    """Something with a follow-up row that must exist (and fit the settings) from start-up."""

    def ensure_current(self, session: Session, now: datetime) -> None: ...


@dataclass(frozen=True)
class PassResult:
    planned: int
    outcomes: list[Outcome]

    @property
    def sent(self) -> int:
        return sum(1 for o in self.outcomes if o.status is DeliveryStatus.SENT)


class Sweeper:
    def __init__(
        self,
        *,
        db: Database,
        clock: Clock,
        runner: FollowupRunner,
        rhi_followups: RhiFollowups,
        reviews: ReviewSchedule,
        outbox: Outbox,
        access: AccessService,
        directory: Directory,
        instance_id: str,
        schedules: Sequence[Scheduled] = (),
    ) -> None:
        self.db = db
        self.clock = clock
        self.runner = runner
        self.rhi_followups = rhi_followups
        self.reviews = reviews
        self.created_at = clock.now()
        self._daily_ensured = False
        self.outbox = outbox
        self.access = access
        self.directory = directory
        self.instance_id = instance_id
        self.schedules = tuple(schedules)
        # When this copy last started and completed a pass, as recorded in the database:
        # /healthz reads them from here, so that answering never waits on the database twice.
        self.last_started: datetime | None = None
        self.last_completed: datetime | None = None
        self._forgotten_at: datetime | None = None

    def run_once(self) -> PassResult:
        started = self.clock.now()
        self.last_started = started
        self._beat(started=started)
        self._housekeeping(started)
        followed = self.runner.run_due()
        outcomes = self.outbox.deliver_due()
        self._beat(completed=self.clock.now())
        if followed.claimed or outcomes:
            log.info(
                "scheduler pass: %d follow-ups due, %d messages queued, %d handled",
                followed.claimed,
                followed.messages,
                len(outcomes),
            )
        return PassResult(followed.messages, outcomes)

    def _housekeeping(self, now: datetime) -> None:
        """Roles that follow Slack user groups are re-read every few minutes; request keys
        only need to outlive Slack's five-minute replay window."""
        try:
            if not self._daily_ensured:
                with self.db.transaction() as session:
                    self.rhi_followups.ensure_current(session, now)
                    self.reviews.ensure_current(session, now)
                    for schedule in self.schedules:
                        schedule.ensure_current(session, now)
                self._daily_ensured = True
            self.access.refresh_usergroups(self.directory)
            # Due an hour after the last time, or at once if the clock has gone back since.
            if self._forgotten_at is None or not now - _FORGET_EVERY < self._forgotten_at <= now:
                self.access.forget_requests_before(now - _REQUEST_KEYS_KEPT)
                self._forgotten_at = now
        except Exception:
            log.exception("housekeeping failed; the next pass tries again")

    def _beat(self, *, started: datetime | None = None, completed: datetime | None = None) -> None:
        """One UPDATE of this copy's row (the first pass of a new copy inserts it)."""
        values: dict[str, object] = {}
        if started is not None:
            values["last_started_at"] = started
        if completed is not None:
            values["last_completed_at"] = completed
            values["passes"] = SchedulerPass.passes + 1
        with self.db.transaction() as session:
            result = session.execute(
                update(SchedulerPass)
                .where(SchedulerPass.instance_id == self.instance_id)
                .values(values)
                .execution_options(synchronize_session=False)
            )
            if cast(CursorResult[object], result).rowcount == 0:
                session.add(
                    SchedulerPass(
                        instance_id=self.instance_id,
                        last_started_at=started,
                        last_completed_at=completed,
                        passes=0 if completed is None else 1,
                    )
                )
        if completed is not None:
            self.last_completed = completed

    def health(self, *, stale_after: timedelta) -> tuple[bool, str]:
        """Healthy while passes keep finishing: the last one within `stale_after`, or one still
        running that started within it, or this copy started less than `stale_after` ago.
        A pass still running is not a failure; one that has not finished in time is."""
        now = self.clock.now()
        # This copy's own passes, remembered here: /healthz needs no database read for them.
        started, completed = self.last_started, self.last_completed
        if completed is not None and now - completed <= stale_after:
            return True, f"last scheduler pass completed {_seconds(now - completed)} s ago"
        if started is not None and (completed is None or started > completed):
            running = now - started
            if running <= stale_after:
                return True, f"a scheduler pass is running (for {_seconds(running)} s)"
            return False, f"a scheduler pass has been running for {_seconds(running)} s"
        if now - self.created_at <= stale_after:
            return True, "starting: no scheduler pass has completed yet"
        if completed is None:
            return False, "no scheduler pass has completed"
        return False, f"last scheduler pass completed {_seconds(now - completed)} s ago"


def _seconds(delta: timedelta) -> int:
    return int(delta.total_seconds())
