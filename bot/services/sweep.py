"""One scheduler pass: plan what is owed, deliver what is due, record that the pass ran."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.clock import Clock
from bot.domain.states import DeliveryStatus
from bot.services.access import AccessService
from bot.services.outbox import Outbox, Outcome
from bot.services.ports import Directory
from bot.services.reminders import ReminderPlanner
from storage.db import Database
from storage.models import SchedulerPass

log = logging.getLogger(__name__)

_REQUEST_KEYS_KEPT = timedelta(days=1)


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
        planner: ReminderPlanner,
        outbox: Outbox,
        access: AccessService,
        directory: Directory,
        instance_id: str,
    ) -> None:
        self.db = db
        self.clock = clock
        self.planner = planner
        self.outbox = outbox
        self.access = access
        self.directory = directory
        self.instance_id = instance_id
        # When this copy last completed a pass, as recorded in the database: /healthz reads it
        # from here, so that answering never waits on the database a second time.
        self.last_completed: datetime | None = None

    def run_once(self) -> PassResult:
        started = self.clock.now()
        self._beat(started=started)
        self._housekeeping(started)
        planned = self.planner.plan()
        outcomes = self.outbox.deliver_due()
        self._beat(completed=self.clock.now())
        if planned or outcomes:
            log.info("scheduler pass: %d planned, %d handled", len(planned), len(outcomes))
        return PassResult(len(planned), outcomes)

    def _housekeeping(self, now: datetime) -> None:
        """Roles that follow Slack user groups are re-read every few minutes; request keys
        only need to outlive Slack's five-minute replay window."""
        try:
            self.access.refresh_usergroups(self.directory)
            self.access.forget_requests_before(now - _REQUEST_KEYS_KEPT)
        except Exception:
            log.exception("housekeeping failed; the next pass tries again")

    def _beat(self, *, started: datetime | None = None, completed: datetime | None = None) -> None:
        with self.db.transaction() as session:
            row = session.get(SchedulerPass, self.instance_id)
            if row is None:
                row = SchedulerPass(instance_id=self.instance_id, passes=0)
                session.add(row)
            if started is not None:
                row.last_started_at = started
            if completed is not None:
                row.last_completed_at = completed
                row.passes = (row.passes or 0) + 1
        if completed is not None:
            self.last_completed = completed

    def health(self, *, stale_after: timedelta) -> tuple[bool, str]:
        """Healthy when this copy finished a pass within `stale_after`."""
        now = self.clock.now()
        last = self.last_completed
        if last is None:
            return False, "no scheduler pass has completed yet"
        age = now - last
        if age > stale_after:
            return False, f"last scheduler pass completed {int(age.total_seconds())} s ago"
        return True, f"last scheduler pass completed {int(age.total_seconds())} s ago"
