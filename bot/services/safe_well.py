"""The police safe-and-well check after a return: recorded, and chased until it is done.

It is the police's own duty (the prevention interview), apart from the local authority's
return home interview, and is followed up the same way: a reminder to the officer before it
falls due and when it does, then a word in the control room if it is still not done.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.domain.access import Action
from bot.domain.errors import NotFound, UserError
from bot.domain.people import is_staff_id
from bot.domain.refs import format_ref
from bot.domain.returns import (
    SafeWellPolicy,
    first_safe_well_action,
    safe_well_due,
    safe_well_plan,
)
from bot.domain.states import AuditAction, EpisodeStatus, FollowupKind, Risk, SafeWellStatus
from bot.services import audit
from bot.services.access import AccessService, Caller
from bot.services.cards import episode_card
from bot.services.followups import Claimed, Decision, set_next
from bot.services.messages import SafeWellDone, SafeWellOverdue, SafeWellReminder
from bot.services.outbox import Outbox, Pending
from bot.services.rhi_followups import RhiFollowups
from storage import queries
from storage.db import Database
from storage.models import Episode


def check_safe_well_person(
    access: AccessService, session: Session, who: str, caller: Caller
) -> None:
    """The person a safe-and-well check is recorded as done (or to be done) by, when it is not
    the caller: someone with a missing-bot role, who can see the episode and act on its
    reminders. One rule for `/missing safewell ... done by`, and the return form."""
    if who != caller.user_id and not (is_staff_id(who) and access.roles_of(session, who)):
        raise UserError(
            f"<@{who}> has no missing-bot role, so I cannot record the check as theirs; "
            "nothing was changed. Ask an admin to grant them one first.",
            field="safe_well_by",
        )


def returned_key(episode: Episode) -> str:
    """Names one return of an episode: a button made for it goes stale if it is reopened."""
    assert episode.returned_at is not None
    return f"{episode.id}:{int(episode.returned_at.timestamp())}"


def is_pending(episode: Episode) -> bool:
    return (
        episode.status == EpisodeStatus.RETURNED
        and episode.returned_at is not None
        and episode.safe_well_status == SafeWellStatus.TO_BE_DONE
    )


class SafeWellFollowups:
    def __init__(self, *, policy: SafeWellPolicy) -> None:
        self.policy = policy

    def schedule(self, session: Session, episode: Episode, now: datetime) -> None:
        """After a return, a reopen or a check recorded: chase it, or stop."""
        action = None
        if is_pending(episode):
            assert episode.returned_at is not None
            action = first_safe_well_action(episode.returned_at, self.policy)
        set_next(
            session, kind=FollowupKind.SAFE_WELL, subject=str(episode.id), action=action, now=now
        )


class SafeWellService:
    def __init__(
        self,
        *,
        db: Database,
        clock: Clock,
        outbox: Outbox,
        access: AccessService,
        followups: SafeWellFollowups,
        control_room_channel: str,
    ) -> None:
        self.db = db
        self.clock = clock
        self.outbox = outbox
        self.access = access
        self.followups = followups
        self.control_room_channel = control_room_channel

    def record_done(
        self,
        episode_id: int,
        caller: Caller,
        *,
        when: datetime | None = None,
        by: str | None = None,
        returned_key_seen: str | None = None,
    ) -> tuple[str, datetime, str]:
        """The check was done (now, or `when`, by `by` or the caller): (ref, when, by)."""
        now = self.clock.now()
        done_at = when or now
        ref = format_ref(episode_id)
        with self.access.refusals_audited(caller), self.db.transaction() as session:
            self.access.require(session, caller, Action.RETURN)
            episode = queries.episode_by_id(session, episode_id, for_update=True)
            if episode is None:
                raise NotFound(f"There is no episode {ref}.")
            if episode.status != EpisodeStatus.RETURNED or episode.returned_at is None:
                raise UserError(f"{ref} has no return recorded: there is no check to record.")
            if returned_key_seen is not None and returned_key_seen != returned_key(episode):
                raise UserError(
                    f"That message was about an earlier return of {ref}; nothing was changed."
                )
            if episode.safe_well_status == SafeWellStatus.DONE:
                raise UserError(f"The safe-and-well check for {ref} is already recorded.")
            if done_at > now:
                raise UserError("The time of the check is in the future.")
            if done_at < episode.returned_at:
                raise UserError("The time of the check is before the child returned.")
            who = by or caller.user_id
            check_safe_well_person(self.access, session, who, caller)
            episode.safe_well_status = SafeWellStatus.DONE
            episode.safe_well_by = who
            episode.safe_well_done_at = done_at
            self.followups.schedule(session, episode, now)
            audit.record(
                session,
                at=now,
                actor=caller.user_id,
                action=AuditAction.SAFE_WELL_DONE,
                episode_id=episode.id,
                child_id=episode.child_id,
                channel=caller.channel_id,
                done_at=done_at.isoformat(),
                by=who,
            )
            delivery = self.outbox.enqueue(
                session,
                key=f"safewell:{returned_key(episode)}:done",
                message=SafeWellDone(ref=ref, by=who, at=done_at, actor=caller.user_id),
                target=self.control_room_channel,
                now=now,
                episode_id=episode.id,
                in_thread=True,
            )
        self.outbox.deliver_soon([delivery] if delivery else [])
        return ref, done_at, who


class SafeWellLadder:
    """Handler for FollowupKind.SAFE_WELL: reminders to the officer, then the control room."""

    kind = FollowupKind.SAFE_WELL

    def __init__(
        self,
        *,
        db: Database,
        outbox: Outbox,
        followups: SafeWellFollowups,
        quiet: RhiFollowups,
        control_room_channel: str,
        tz: ZoneInfo,
    ) -> None:
        self.db = db
        self.outbox = outbox
        self.followups = followups
        self.quiet = quiet
        self.control_room_channel = control_room_channel
        self.tz = tz

    def prepare(self, rows: Sequence[Claimed], now: datetime) -> list[Decision]:
        decisions = []
        with self.db.read() as session:
            for row in rows:
                episode = (
                    queries.episode_by_id(session, int(row.subject))
                    if row.subject.isdigit()
                    else None
                )
                if episode is None or not is_pending(episode):
                    decisions.append(Decision(row, None))
                    continue
                decisions.append(self._decide(row, episode, now))
        return decisions

    def _decide(self, row: Claimed, episode: Episode, now: datetime) -> Decision:
        assert episode.returned_at is not None
        policy = self.followups.policy
        plan = safe_well_plan(episode.returned_at, policy, pending=row.step or "", now=now)
        card = episode_card(episode, episode.child, tz=self.tz)
        officer = episode.safe_well_by or episode.officer_id
        due = safe_well_due(episode.returned_at, policy)
        key = returned_key(episode)
        messages: list[Pending] = []
        if plan.remind is not None:
            reminder = SafeWellReminder(card, episode.returned_at, due, key)
            messages.append(
                Pending(
                    key=f"safewell:{key}:{plan.remind}",
                    kind=reminder.kind,
                    payload=self.outbox.render(reminder, now=now),
                    target=officer,
                    episode_id=episode.id,
                    not_before=self.quiet.quiet_until(now, high_risk=card.risk is Risk.HIGH),
                )
            )
        if plan.escalate:
            overdue = SafeWellOverdue(card, due, officer)
            payload = self.outbox.render(overdue, now=now)
            for suffix, in_thread in (("", False), (":thread", True)):
                messages.append(
                    Pending(
                        key=f"safewell:{key}:escalate{suffix}",
                        kind=overdue.kind,
                        payload=payload,
                        target=self.control_room_channel,
                        episode_id=episode.id,
                        in_thread=in_thread,
                    )
                )
        return Decision(row, plan.next, messages)
