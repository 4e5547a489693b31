"""Return home interview use cases: record the outcome, reassign, snooze, list.

Buttons and commands alike resolve to one interview and go through the same permission rule
(`AccessService.require_rhi`) before anything changes.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.domain import episode as episode_rules
from bot.domain import rhi as rules
from bot.domain.access import Action
from bot.domain.errors import NotFound, UserError
from bot.domain.people import is_staff_id
from bot.domain.refs import format_ref
from bot.domain.states import OPEN_RHI_STATUSES, AuditAction, EpisodeStatus, RhiStatus, Risk
from bot.domain.text import NOTE_LIMIT, ORGANISATION_LIMIT, check_text
from bot.services import audit
from bot.services.access import AccessService, Caller
from bot.services.cards import episode_card, rhi_view
from bot.services.messages import MessageRef, ReminderActed, RhiAssigned, RhiStatusChanged
from bot.services.outbox import Outbox
from bot.services.results import RhiListing, RhiView
from bot.services.rhi_followups import RhiFollowups
from storage import queries
from storage.db import Database
from storage.models import ReturnInterview


class RhiService:
    def __init__(
        self,
        *,
        db: Database,
        clock: Clock,
        outbox: Outbox,
        access: AccessService,
        followups: RhiFollowups,
        control_room_channel: str,
        tz: ZoneInfo,
    ) -> None:
        self.db = db
        self.clock = clock
        self.outbox = outbox
        self.access = access
        self.followups = followups
        self.control_room_channel = control_room_channel
        self.tz = tz

    def _open(
        self, session: Session, episode_id: int, *, rhi_id: int | None, caller: Caller
    ) -> ReturnInterview:
        """The open interview a command or button is about, locked, after the permission check.

        A button names its interview (`rhi_id`): if that one was since closed or cancelled (a
        reopen, a new return) the button is stale and nothing changes.
        """
        ref = format_ref(episode_id)
        episode = queries.episode_by_id(session, episode_id)
        if episode is None:
            raise NotFound(f"There is no episode {ref}.")
        duplicate_of = format_ref(episode.duplicate_of) if episode.duplicate_of else None
        episode_rules.check_not_void(EpisodeStatus(episode.status), ref, duplicate_of=duplicate_of)
        if rhi_id is not None:
            rhi = queries.rhi_by_id(session, rhi_id, for_update=True)
            if rhi is None or rhi.episode_id != episode_id:
                raise UserError("That button is not one of mine; nothing was changed.")
            if rhi.status not in OPEN_RHI_STATUSES or episode.status != EpisodeStatus.RETURNED:
                raise UserError(
                    f"That message is about a return home interview for {ref} that is no longer "
                    f"open ({RhiStatus(rhi.status).label}); nothing was changed. "
                    f"`/missing show {ref}` shows where it stands."
                )
        else:
            if episode.status != EpisodeStatus.RETURNED:
                raise UserError(
                    f"{ref} has no return recorded yet: use `/missing returned {ref}` first."
                )
            found = queries.open_rhi(session, episode_id=episode_id, for_update=True)
            if found is None:
                latest = queries.latest_rhi(session, episode_id=episode_id)
                status = RhiStatus(latest.status).label if latest else "closed"
                raise UserError(
                    f"The return home interview for {ref} is already closed ({status})."
                )
            rhi = found
        self.access.require_rhi(
            session, caller, assignee_id=rhi.assignee_id, officer_id=episode.officer_id, ref=ref
        )
        return rhi

    def set_status(
        self,
        episode_id: int,
        status: RhiStatus,
        caller: Caller,
        *,
        rhi_id: int | None = None,
        when: datetime | None = None,
        organisation: str = "",
        reason: str = "",
        message: MessageRef | None = None,
    ) -> RhiView:
        check_text(organisation, limit=ORGANISATION_LIMIT, what="the organisation")
        check_text(reason, limit=NOTE_LIMIT, what="the reason")
        now = self.clock.now()
        actor = caller.user_id
        with self.access.refusals_audited(caller), self.db.transaction() as session:
            rhi = self._open(session, episode_id, rhi_id=rhi_id, caller=caller)
            rules.check_transition(RhiStatus(rhi.status), status)
            if status is RhiStatus.COMPLETED:
                done_at = when or now
                if done_at > now:
                    raise UserError("The interview time is in the future.")
                if done_at < rhi.returned_at:
                    raise UserError("The interview time is before the child returned.")
                rhi.completed_at = done_at
                rhi.completed_by_org = organisation.strip() or None
            if status is RhiStatus.NOT_DONE:
                if not reason.strip():
                    raise UserError(
                        "Say why it was not done: `/missing rhi M-42 notdone <reason>`."
                    )
                rhi.status_reason = reason.strip()
            rhi.status = status
            rhi.updated_at, rhi.updated_by = now, actor
            self.followups.schedule(session, rhi, now)
            audit.record(
                session,
                at=now,
                actor=actor,
                action=AuditAction.for_rhi_status(status),
                episode_id=episode_id,
                channel=caller.channel_id,
                rhi_id=rhi.id,
                organisation=rhi.completed_by_org,
                completed_at=rhi.completed_at.isoformat() if rhi.completed_at else None,
            )
            delivery = self.outbox.enqueue(
                session,
                key=f"rhi:{rhi.id}:status:{status.value}",
                message=RhiStatusChanged(
                    ref=format_ref(episode_id),
                    status=status,
                    actor=actor,
                ),
                target=self.control_room_channel,
                now=now,
                episode_id=episode_id,
                in_thread=True,
            )
            view = rhi_view(rhi)
        self.outbox.deliver_soon([delivery] if delivery else [])
        action = "done" if status is RhiStatus.COMPLETED else status.value
        self._show_on(message, view, ReminderActed(action, actor, now))
        return view

    def assign(
        self,
        episode_id: int,
        caller: Caller,
        *,
        to: str,
        rhi_id: int | None = None,
        message: MessageRef | None = None,
    ) -> RhiView:
        if not is_staff_id(to):
            raise UserError("Choose one person to chase it; nothing was changed.")
        now = self.clock.now()
        actor = caller.user_id
        with self.access.refusals_audited(caller), self.db.transaction() as session:
            rhi = self._open(session, episode_id, rhi_id=rhi_id, caller=caller)
            if not self.access.roles_of(session, to):
                raise UserError(
                    f"<@{to}> has no missing-bot role, so could not see or act on it; nothing "
                    "was changed. Ask an admin to grant them one first."
                )
            previous = rhi.assignee_id
            rhi.assignee_id = to
            rhi.updated_at, rhi.updated_by = now, actor
            self.followups.schedule(session, rhi, now)
            audit.record(
                session,
                at=now,
                actor=actor,
                action=AuditAction.RHI_ASSIGNED,
                episode_id=episode_id,
                channel=caller.channel_id,
                rhi_id=rhi.id,
                previous=previous,
                to=to,
            )
            view = rhi_view(rhi)
            told = None
            if to != previous:
                # The new person is told at once, with the state and the buttons (quiet
                # hours apply, except for high risk).
                card = episode_card(rhi.episode, rhi.episode.child, tz=self.tz)
                told = self.outbox.enqueue(
                    session,
                    key=f"rhi:{rhi.id}:assigned:{to}:{now.isoformat()}",
                    message=RhiAssigned(view, card, by=actor),
                    target=to,
                    now=now,
                    episode_id=rhi.episode_id,
                    rhi_id=rhi.id,
                    not_before=self.followups.quiet_until(now, high_risk=card.risk is Risk.HIGH),
                )
        self.outbox.deliver_soon([told] if told else [])
        self._show_on(message, view, ReminderActed("reassigned", actor, now, assignee=to))
        return view

    def snooze(
        self,
        episode_id: int,
        caller: Caller,
        *,
        hours: float,
        rhi_id: int | None = None,
        message: MessageRef | None = None,
    ) -> RhiView:
        now = self.clock.now()
        actor = caller.user_id
        with self.access.refusals_audited(caller), self.db.transaction() as session:
            rhi = self._open(session, episode_id, rhi_id=rhi_id, caller=caller)
            rhi.snoozed_until = rules.snooze_until(now=now, hours=hours, due=rhi.due_at)
            rhi.updated_at, rhi.updated_by = now, actor
            self.followups.schedule(session, rhi, now)
            audit.record(
                session,
                at=now,
                actor=actor,
                action=AuditAction.RHI_SNOOZED,
                episode_id=episode_id,
                channel=caller.channel_id,
                rhi_id=rhi.id,
                until=rhi.snoozed_until.isoformat(),
            )
            view = rhi_view(rhi)
        acted = ReminderActed("snoozed", actor, now, until=view.snoozed_until)
        self._show_on(message, view, acted)
        return view

    def _show_on(self, message: MessageRef | None, rhi: RhiView, acted: ReminderActed) -> None:
        if message is not None:
            self.outbox.edit_reminder_soon(message, rhi_id=rhi.rhi_id, acted=acted)

    def check_may_act(self, episode_id: int, caller: Caller, *, rhi_id: int) -> RhiView:
        """For a button that opens a form first (Reassign): refuse before the form opens.

        The form's own submission is a new request and is checked again."""
        with self.access.refusals_audited(caller), self.db.transaction() as session:
            unkeyed = Caller(caller.user_id, caller.team_id, caller.channel_id)
            return rhi_view(self._open(session, episode_id, rhi_id=rhi_id, caller=unkeyed))

    def list_for(self, caller: Caller) -> RhiListing:
        """The caller's own open interviews, soonest due first."""
        now = self.clock.now()
        with self.access.refusals_audited(caller), self.db.transaction() as session:
            self.access.require(session, caller, Action.OWN_RHIS)
            rows = queries.open_rhis(session, assignee_id=caller.user_id, limit=50)
            audit.record(
                session,
                at=now,
                actor=caller.user_id,
                action=AuditAction.RHI_LISTED,
                channel=caller.channel_id,
                count=len(rows),
            )
            return RhiListing(
                tuple(
                    (rhi_view(r), episode_card(r.episode, r.episode.child, tz=self.tz))
                    for r in rows
                )
            )
