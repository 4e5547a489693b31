"""Return home interview follow-ups: the ladder of each interview, and the daily overdue lists.

`RhiFollowups.schedule` is called by every change to an interview, in its transaction; the
handlers are called by the scheduler for what has fallen due (see bot.services.followups).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import update
from sqlalchemy.orm import Session

from bot.domain import followup as rules
from bot.domain.states import (
    OPEN_RHI_STATUSES,
    AuditAction,
    EpisodeStatus,
    FollowupKind,
    RhiStatus,
    RhiStep,
    Risk,
)
from bot.services import audit
from bot.services.cards import episode_card, rhi_view
from bot.services.followups import Claimed, Decision, pending_step, remember, set_next
from bot.services.messages import OverdueList, RhiEscalation, RhiLapsed, RhiReminder
from bot.services.outbox import Outbox, Pending
from storage import queries
from storage.db import Database
from storage.models import Followup, ReturnInterview

log = logging.getLogger(__name__)

SCHEDULER = "missing-bot"  # who the audit trail names for what the scheduler does itself
# The daily list names this many interviews, then says how many more (Slack's block limit).
LIST_LIMIT = 20
DAILY = "daily"
# A daily list that could not go within this long after its time is not sent that day.
LATE_LIST_LIMIT = timedelta(hours=3)
_STEPS = frozenset(s.value for s in RhiStep)


@dataclass(frozen=True)
class Channels:
    control_room: str
    safeguarding: str


def facts_of(rhi: ReturnInterview) -> rules.RhiFacts:
    return rules.RhiFacts(
        returned_at=rhi.returned_at,
        due_at=rhi.due_at,
        snoozed_until=rhi.snoozed_until,
        high_risk=rhi.episode.risk_level == Risk.HIGH,
    )


def is_open(rhi: ReturnInterview) -> bool:
    return rhi.status in OPEN_RHI_STATUSES and rhi.episode.status == EpisodeStatus.RETURNED


class RhiFollowups:
    """The policy, and what every change to an interview does to its follow-up."""

    def __init__(self, *, policy: rules.RhiPolicy) -> None:
        self.policy = policy

    def schedule(self, session: Session, rhi: ReturnInterview, now: datetime) -> None:
        """Recompute the interview's next action after any change to it."""
        subject = str(rhi.id)
        if not is_open(rhi):
            set_next(session, kind=FollowupKind.RHI, subject=subject, action=None, now=now)
            return
        facts = facts_of(rhi)
        step = pending_step(session, kind=FollowupKind.RHI, subject=subject)
        action = (
            rules.action_for(facts, self.policy, RhiStep(step))
            if step
            else rules.first_action(facts, self.policy)
        )
        set_next(session, kind=FollowupKind.RHI, subject=subject, action=action, now=now)

    def quiet_until(self, now: datetime, *, high_risk: bool) -> datetime | None:
        """When a direct message that is not urgent may go (None: now)."""
        return rules.quiet_until(self.policy.quiet, now, high_risk=high_risk)

    def ensure_current(self, session: Session, now: datetime) -> None:
        """At start-up: the daily overdue-lists follow-up exists, and if the settings the
        stored next actions were computed with have changed (RHI_LAPSE_DAYS, say), every open
        interview's next action falls due now, to be recomputed by the next pass."""
        fingerprint = self.policy.fingerprint()
        known = pending_step(session, kind=FollowupKind.POLICY, subject="rhi")
        daily = pending_step(session, kind=FollowupKind.OVERDUE_LISTS, subject=DAILY)
        if known == fingerprint and daily is not None:
            return
        if known is not None and known != fingerprint:
            replanned = session.execute(
                update(Followup)
                .where(Followup.kind == FollowupKind.RHI, Followup.next_at.is_not(None))
                .values(next_at=now, revision=Followup.revision + 1, updated_at=now)
                .returning(Followup.id)
            ).all()
            log.info("RHI settings changed: %d open interviews to replan", len(replanned))
        at = rules.next_local_time(now, self.policy.overdue_list_time, self.policy.tz)
        set_next(
            session, kind=FollowupKind.OVERDUE_LISTS, subject=DAILY, action=(at, DAILY), now=now
        )
        remember(session, kind=FollowupKind.POLICY, subject="rhi", value=fingerprint, now=now)


class RhiLadder:
    """Handler for FollowupKind.RHI: reminders, the escalation, the lapse."""

    kind = FollowupKind.RHI

    def __init__(
        self,
        *,
        db: Database,
        outbox: Outbox,
        followups: RhiFollowups,
        channels: Channels,
        tz: ZoneInfo,
    ) -> None:
        self.db = db
        self.outbox = outbox
        self.followups = followups
        self.channels = channels
        self.tz = tz

    def prepare(self, rows: Sequence[Claimed], now: datetime) -> list[Decision]:
        ids = [int(r.subject) for r in rows if r.subject.isdigit()]
        with self.db.read() as session:
            rhis = {r.id: r for r in queries.rhis_with_episodes(session, ids)}
            unreachable = queries.unreachable_among(session, ids)
            return [self._decide(row, rhis, unreachable, now) for row in rows]

    def _decide(
        self,
        row: Claimed,
        rhis: dict[int, ReturnInterview],
        unreachable: set[tuple[int, str]],
        now: datetime,
    ) -> Decision:
        rhi = rhis.get(int(row.subject)) if row.subject.isdigit() else None
        if rhi is None or not is_open(rhi):
            return Decision(row, None)  # closed meanwhile (or gone): nothing more to follow
        pending = RhiStep(row.step) if row.step in _STEPS else None
        plan = rules.plan(
            facts_of(rhi), self.followups.policy, pending=pending or RhiStep.DUE_SOON, now=now
        )
        view = rhi_view(rhi)
        card = episode_card(rhi.episode, rhi.episode.child, tz=self.tz)
        messages: list[Pending] = []
        if plan.lapse:
            lapsed = RhiLapsed(view, card, self.followups.policy.lapse_days)
            messages += self._to_safeguarding_and_thread(rhi, "lapsed", lapsed, now)
            return Decision(row, None, messages, changes=_lapse(rhi.id, rhi.episode_id))
        if plan.escalate:
            escalation = RhiEscalation(view, card)
            messages += self._to_safeguarding_and_thread(rhi, "escalation", escalation, now)
        if plan.remind is not None and (rhi.id, rhi.assignee_id) not in unreachable:
            # Slack said this person cannot be reached (user_not_found, ...) and safeguarding
            # was told: reassigning the interview resumes reminders.
            messages.append(
                Pending(
                    key=f"rhi:{rhi.id}:{plan.remind.value}",
                    kind=RhiReminder.kind,
                    payload=self.outbox.render(RhiReminder(view, card), now=now),
                    target=rhi.assignee_id,
                    episode_id=rhi.episode_id,
                    rhi_id=rhi.id,
                )
            )
        return Decision(row, plan.next, messages)

    def _to_safeguarding_and_thread(
        self, rhi: ReturnInterview, name: str, message: RhiEscalation | RhiLapsed, now: datetime
    ) -> list[Pending]:
        payload = self.outbox.render(message, now=now)
        found = []
        if self.channels.safeguarding:
            found.append(
                Pending(
                    key=f"rhi:{rhi.id}:{name}",
                    kind=message.kind,
                    payload=payload,
                    target=self.channels.safeguarding,
                    episode_id=rhi.episode_id,
                    rhi_id=rhi.id,
                )
            )
        found.append(
            Pending(
                key=f"rhi:{rhi.id}:{name}:thread",
                kind=message.kind,
                payload=payload,
                target=self.channels.control_room,
                episode_id=rhi.episode_id,
                rhi_id=rhi.id,
                in_thread=True,
            )
        )
        return found


def _lapse(rhi_id: int, episode_id: int) -> Callable[[Session, datetime], None]:
    def close(session: Session, now: datetime) -> None:
        closed = session.execute(
            update(ReturnInterview)
            .where(
                ReturnInterview.id == rhi_id,
                ReturnInterview.status.in_(OPEN_RHI_STATUSES),
            )
            .values(
                status=RhiStatus.NOT_DONE,
                status_reason="lapsed",
                updated_at=now,
                updated_by=SCHEDULER,
            )
            .returning(ReturnInterview.id)
        ).first()
        if closed is not None:
            audit.record(
                session,
                at=now,
                actor=SCHEDULER,
                action=AuditAction.RHI_LAPSED,
                episode_id=episode_id,
                rhi_id=rhi_id,
            )

    return close


class OverdueFanout:
    """Handler for FollowupKind.OVERDUE_LISTS: at the daily list time, one follow-up per person
    with overdue interviews (their list is then made and sent like any other follow-up)."""

    kind = FollowupKind.OVERDUE_LISTS

    def __init__(self, *, db: Database, followups: RhiFollowups) -> None:
        self.db = db
        self.followups = followups

    def prepare(self, rows: Sequence[Claimed], now: datetime) -> list[Decision]:
        cutoff = rules.overdue_cutoff(now, self.followups.policy)
        # Back after downtime well past the list time: today's lists are skipped (each
        # interview's own ladder has just sent one current reminder); tomorrow's go as usual.
        on_time = all(now - row.next_at <= LATE_LIST_LIMIT for row in rows)
        people: list[str] = []
        if on_time:
            with self.db.read() as session:
                people = sorted(queries.overdue_assignees(session, due_before=cutoff))

        def fan_out(session: Session, at: datetime) -> None:
            for person in people:
                set_next(
                    session,
                    kind=FollowupKind.OVERDUE_LIST,
                    subject=person,
                    action=(at, "list"),
                    now=at,
                )

        tomorrow = rules.next_local_time(
            now,
            self.followups.policy.overdue_list_time,
            self.followups.policy.tz,
            strictly_after=True,
        )
        return [
            Decision(row, (tomorrow, DAILY), changes=fan_out if i == 0 else None)
            for i, row in enumerate(rows)
        ]


class OverdueListHandler:
    """Handler for FollowupKind.OVERDUE_LIST: one message listing a person's overdue RHIs."""

    kind = FollowupKind.OVERDUE_LIST

    def __init__(
        self, *, db: Database, outbox: Outbox, followups: RhiFollowups, tz: ZoneInfo
    ) -> None:
        self.db = db
        self.outbox = outbox
        self.followups = followups
        self.tz = tz

    def prepare(self, rows: Sequence[Claimed], now: datetime) -> list[Decision]:
        policy = self.followups.policy
        cutoff = rules.overdue_cutoff(now, policy)
        today = now.astimezone(self.tz).date().isoformat()
        decisions = []
        with self.db.read() as session:
            for row in rows:
                rhis = [
                    r
                    for r in queries.overdue_for(
                        session, assignee_id=row.subject, due_before=cutoff
                    )
                    if rules.on_overdue_list(facts_of(r), policy, now)
                ]
                if not rhis:
                    decisions.append(Decision(row, None))
                    continue
                items = tuple(
                    (rhi_view(r), episode_card(r.episode, r.episode.child, tz=self.tz))
                    for r in rhis[:LIST_LIMIT]
                )
                high_risk = any(r.episode.risk_level == Risk.HIGH for r in rhis)
                message = OverdueList(items, len(rhis))
                pending = Pending(
                    key=f"overdue:{row.subject}:{today}",
                    kind=message.kind,
                    payload=self.outbox.render(message, now=now),
                    target=row.subject,
                    not_before=self.followups.quiet_until(now, high_risk=high_risk),
                )
                decisions.append(Decision(row, None, [pending]))
        return decisions
