"""Return home interview use cases: record the outcome, reassign, snooze, list."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.domain import rhi as rules
from bot.domain.errors import NotFound, UserError
from bot.domain.refs import format_ref
from bot.services import audit
from bot.services.episodes import episode_card
from bot.services.outbox import enqueue
from storage import queries
from storage.db import Database
from storage.models import ReturnInterview


@dataclass(frozen=True)
class RhiChange:
    ref: str
    rhi_id: int
    status: str
    due_at: datetime
    assignee_id: str
    snoozed_until: datetime | None
    completed_at: datetime | None
    completed_by_org: str | None
    delivery_ids: list[int]


def _change(rhi: ReturnInterview, delivery_ids: list[int] | None = None) -> RhiChange:
    return RhiChange(
        ref=format_ref(rhi.episode_id),
        rhi_id=rhi.id,
        status=rhi.status,
        due_at=rhi.due_at,
        assignee_id=rhi.assignee_id,
        snoozed_until=rhi.snoozed_until,
        completed_at=rhi.completed_at,
        completed_by_org=rhi.completed_by_org,
        delivery_ids=delivery_ids or [],
    )


class RhiService:
    def __init__(
        self, *, db: Database, clock: Clock, control_room_channel: str, tz: ZoneInfo
    ) -> None:
        self.db = db
        self.clock = clock
        self.control_room_channel = control_room_channel
        self.tz = tz

    def _open(self, session: Session, episode_id: int) -> ReturnInterview:
        episode = queries.episode_by_id(session, episode_id)
        ref = format_ref(episode_id)
        if episode is None:
            raise NotFound(f"There is no episode {ref}.")
        if episode.status != "returned":
            raise UserError(
                f"{ref} has no return recorded yet: use `/missing returned {ref}` first."
            )
        rhi = queries.open_rhi(session, episode_id=episode_id, for_update=True)
        if rhi is None:
            latest = queries.latest_rhi(session, episode_id=episode_id)
            status = rules.RhiStatus(latest.status).label if latest else "closed"
            raise UserError(f"The return home interview for {ref} is already closed ({status}).")
        return rhi

    def set_status(
        self,
        episode_id: int,
        status: rules.RhiStatus,
        *,
        actor: str,
        when: datetime | None = None,
        organisation: str = "",
        reason: str = "",
        expected_rhi_id: int | None = None,
    ) -> RhiChange:
        now = self.clock.now()
        with self.db.transaction() as session:
            rhi = self._open(session, episode_id)
            if expected_rhi_id is not None and rhi.id != expected_rhi_id:
                raise UserError("That reminder is for an earlier return; nothing was changed.")
            rules.check_transition(rules.RhiStatus(rhi.status), status)
            if status is rules.RhiStatus.COMPLETED:
                done_at = when or now
                if done_at > now:
                    raise UserError("The interview time is in the future.")
                if done_at < rhi.returned_at:
                    raise UserError("The interview time is before the child returned.")
                rhi.completed_at = done_at
                rhi.completed_by_org = organisation.strip() or None
            if status is rules.RhiStatus.NOT_DONE:
                if not reason.strip():
                    raise UserError(
                        "Say why it was not done: `/missing rhi M-42 notdone <reason>`."
                    )
                rhi.status_reason = reason.strip()
            rhi.status = status.value
            rhi.updated_at, rhi.updated_by = now, actor
            audit.record(
                session,
                at=now,
                actor=actor,
                action=f"rhi.{status.value}",
                episode_id=episode_id,
                rhi_id=rhi.id,
                organisation=rhi.completed_by_org,
                completed_at=rhi.completed_at.isoformat() if rhi.completed_at else None,
                reason=rhi.status_reason,
            )
            delivery = enqueue(
                session,
                key=f"rhi:{rhi.id}:status:{status.value}",
                template="rhi_status_changed",
                target=self.control_room_channel,
                data={
                    "ref": format_ref(episode_id),
                    "status": status.value,
                    "actor": actor,
                    "organisation": rhi.completed_by_org,
                    "reason": rhi.status_reason,
                },
                now=now,
                episode_id=episode_id,
                in_thread=True,
            )
            return _change(rhi, [d for d in [delivery] if d])

    def assign(self, episode_id: int, *, to: str, actor: str) -> RhiChange:
        now = self.clock.now()
        with self.db.transaction() as session:
            rhi = self._open(session, episode_id)
            previous = rhi.assignee_id
            rhi.assignee_id = to
            rhi.updated_at, rhi.updated_by = now, actor
            audit.record(
                session,
                at=now,
                actor=actor,
                action="rhi.assigned",
                episode_id=episode_id,
                rhi_id=rhi.id,
                previous=previous,
                to=to,
            )
            return _change(rhi)

    def snooze(self, episode_id: int, *, hours: float, actor: str) -> RhiChange:
        now = self.clock.now()
        with self.db.transaction() as session:
            rhi = self._open(session, episode_id)
            rhi.snoozed_until = rules.snooze_until(now=now, hours=hours, due=rhi.due_at)
            rhi.updated_at, rhi.updated_by = now, actor
            audit.record(
                session,
                at=now,
                actor=actor,
                action="rhi.snoozed",
                episode_id=episode_id,
                rhi_id=rhi.id,
                until=rhi.snoozed_until.isoformat(),
            )
            return _change(rhi)

    def list_for(self, user_id: str, *, actor: str) -> list[tuple[RhiChange, dict[str, object]]]:
        now = self.clock.now()
        with self.db.transaction() as session:
            rows = queries.open_rhis(session, assignee_id=user_id, limit=50)
            audit.record(session, at=now, actor=actor, action="rhi.listed", count=len(rows))
            return [
                (_change(r), episode_card(r.episode, r.episode.child, tz=self.tz)) for r in rows
            ]

    def check_may_act(self, rhi_id: int, *, user: str) -> None:
        """Reminder buttons are for the person chasing the interview or the officer in the case."""
        with self.db.transaction() as session:
            rhi = session.get(ReturnInterview, rhi_id)
            if rhi is None:
                raise NotFound("That return home interview no longer exists.")
            if user not in (rhi.assignee_id, rhi.episode.officer_id):
                raise UserError(
                    f"Only <@{rhi.assignee_id}> (chasing it) or the officer in the case can act on "
                    f"the return home interview for {format_ref(rhi.episode_id)}; nothing was "
                    "changed."
                )
