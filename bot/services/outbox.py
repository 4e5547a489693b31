"""The outbox: messages owed to Slack, claimed once across every copy of the bot, then sent.

Delivery is at-least-once. A copy that claims a message and dies before marking it sent leaves a
claim that another pass takes over after `claim_timeout` (default 5 minutes): in that one case
the message may go out twice. Otherwise every message goes out exactly once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.ports import DeliveryError, Notifier
from storage.db import Database
from storage.models import Delivery, Episode
from storage.queries import rhi_open_for_reminders

log = logging.getLogger(__name__)

PENDING, CLAIMED, SENT, FAILED, CANCELLED = "pending", "claimed", "sent", "failed", "cancelled"
# A thread reply waits this long for its parent post before looking again.
_PARENT_WAIT = timedelta(seconds=30)
_MAX_BACKOFF = timedelta(minutes=15)
# Messages that chase an open RHI: dropped once it is closed or its episode reopened.
REMINDER_KINDS = frozenset({"rhi_reminder", "rhi_escalation"})


def enqueue(
    session: Session,
    *,
    key: str,
    template: str,
    target: str,
    data: dict[str, Any],
    now: datetime,
    episode_id: int | None = None,
    rhi_id: int | None = None,
    in_thread: bool = False,
) -> int | None:
    """Add a message to the outbox; returns its id, or None if that key already exists."""
    values = {
        "key": key,
        "kind": template,
        "target": target,
        "episode_id": episode_id,
        "rhi_id": rhi_id,
        "in_thread": in_thread,
        "payload": data,
        "status": PENDING,
        "attempts": 0,
        "not_before": now,
        "created_at": now,
    }
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(Delivery).values(**values).on_conflict_do_nothing(index_elements=["key"])
    ).returning(Delivery.id)
    # Check the returned row, not rowcount: PostgreSQL reports -1 for this statement.
    return session.execute(statement).scalar_one_or_none()


@dataclass(frozen=True)
class Outcome:
    delivery_id: int
    status: str
    ts: str | None = None
    error: str | None = None


class OutboxWorker:
    def __init__(
        self,
        *,
        db: Database,
        clock: Clock,
        notifier: Notifier,
        instance_id: str,
        control_room_channel: str,
        safeguarding_channel: str,
        claim_timeout: timedelta = timedelta(minutes=5),
    ) -> None:
        self.db = db
        self.clock = clock
        self.notifier = notifier
        self.instance_id = instance_id
        self.control_room_channel = control_room_channel
        self.safeguarding_channel = safeguarding_channel
        self.claim_timeout = claim_timeout

    # -- finding and claiming ------------------------------------------------------------

    def _claimable(self, now: datetime) -> Any:
        stale = now - self.claim_timeout
        return or_(
            and_(Delivery.status == PENDING, Delivery.not_before <= now),
            and_(Delivery.status == CLAIMED, Delivery.claimed_at < stale),
        )

    def due_ids(self, limit: int = 200) -> list[int]:
        now = self.clock.now()
        with self.db.transaction() as session:
            rows = session.execute(
                select(Delivery.id).where(self._claimable(now)).order_by(Delivery.id).limit(limit)
            )
            return list(rows.scalars())

    def claim(self, delivery_id: int) -> Delivery | None:
        """Take one message for this copy; None if another copy has it or it is not due."""
        now = self.clock.now()
        with self.db.transaction() as session:
            claimed = session.execute(
                update(Delivery)
                .where(Delivery.id == delivery_id, self._claimable(now))
                .values(
                    status=CLAIMED,
                    claimed_at=now,
                    claimed_by=self.instance_id,
                    attempts=Delivery.attempts + 1,
                )
                .returning(Delivery.id)
            ).scalar_one_or_none()
            if claimed is None:
                return None
            delivery = session.get(Delivery, delivery_id)
            assert delivery is not None
            session.expunge(delivery)
            return delivery

    # -- sending -------------------------------------------------------------------------

    def deliver(self, ids: list[int]) -> list[Outcome]:
        outcomes = []
        for delivery_id in ids:
            delivery = self.claim(delivery_id)
            if delivery is not None:
                outcomes.append(self._send(delivery))
        return outcomes

    def deliver_due(self) -> list[Outcome]:
        return self.deliver(self.due_ids())

    def _send(self, delivery: Delivery) -> Outcome:
        now = self.clock.now()
        if not self._still_wanted(delivery):
            self._finish(delivery.id, status=CANCELLED)
            return Outcome(delivery.id, CANCELLED)
        target, thread_ts, wait = self._where(delivery)
        if wait:
            self._release(delivery.id, not_before=now + _PARENT_WAIT, count_attempt=False)
            return Outcome(delivery.id, PENDING, error="waiting for the episode's channel post")
        try:
            sent = self.notifier.send(
                target=target,
                thread_ts=thread_ts,
                template=delivery.kind,
                data=delivery.payload,
                now=now,
            )
        except DeliveryError as exc:
            return self._failed(delivery, exc, now)
        except Exception as exc:  # a bug in rendering must not stop the other messages
            log.exception("delivery %s (%s) crashed", delivery.id, delivery.key)
            return self._failed(delivery, DeliveryError(repr(exc), permanent=False), now)
        self._finish(
            delivery.id,
            status=SENT,
            sent=sent.ts,
            channel=sent.channel,
            now=now,
            episode_post_of=delivery.episode_id if delivery.kind == "episode_posted" else None,
        )
        return Outcome(delivery.id, SENT, ts=sent.ts)

    def _still_wanted(self, delivery: Delivery) -> bool:
        if delivery.rhi_id is None or delivery.kind not in REMINDER_KINDS:
            return True
        with self.db.transaction() as session:
            return rhi_open_for_reminders(session, delivery.rhi_id)

    def _where(self, delivery: Delivery) -> tuple[str, str | None, bool]:
        """Target channel and thread; `wait` when the parent post has not gone out yet."""
        if not delivery.in_thread or delivery.episode_id is None:
            return delivery.target, None, False
        with self.db.transaction() as session:
            parent = delivery_state(session, f"episode:{delivery.episode_id}:post")
        if parent is None or parent.status in (FAILED, CANCELLED):
            # The parent post will never exist: better a message outside the thread than none.
            return delivery.target, None, False
        if parent.status == SENT and parent.channel and parent.ts:
            return parent.channel, parent.ts, False
        return delivery.target, None, True

    def _failed(self, delivery: Delivery, exc: DeliveryError, now: datetime) -> Outcome:
        if exc.permanent:
            log.error("delivery %s to %s failed for good: %s", delivery.key, delivery.target, exc)
            self._finish(delivery.id, status=FAILED, error=exc.reason, now=now)
            self._report_failure(delivery, exc.reason, now)
            return Outcome(delivery.id, FAILED, error=exc.reason)
        backoff = min(timedelta(seconds=30) * (2 ** max(delivery.attempts - 1, 0)), _MAX_BACKOFF)
        if exc.retry_after is not None:
            backoff = max(backoff, timedelta(seconds=exc.retry_after))
        log.warning(
            "delivery %s to %s failed (%s); retrying after %s",
            delivery.key,
            delivery.target,
            exc.reason,
            backoff,
        )
        self._release(delivery.id, not_before=now + backoff, error=exc.reason)
        return Outcome(delivery.id, PENDING, error=exc.reason)

    def _report_failure(self, delivery: Delivery, reason: str, now: datetime) -> None:
        """Tell people when Slack will never take a message, so someone can act on it."""
        if delivery.kind == "delivery_failed" or not self.safeguarding_channel:
            return  # never report a failed report: that could loop
        with self.db.transaction() as session:
            new_id = enqueue(
                session,
                key=f"failure:{delivery.id}",
                template="delivery_failed",
                target=self.safeguarding_channel,
                data={
                    "what": delivery.kind,
                    "key": delivery.key,
                    "target": delivery.target,
                    "reason": reason,
                    "ref": delivery.payload.get("ref"),
                },
                now=now,
                episode_id=delivery.episode_id,
            )
        if new_id is not None:
            self.deliver([new_id])

    # -- recording -----------------------------------------------------------------------

    def _finish(
        self,
        delivery_id: int,
        *,
        status: str,
        sent: str | None = None,
        channel: str | None = None,
        error: str | None = None,
        now: datetime | None = None,
        episode_post_of: int | None = None,
    ) -> None:
        """Record the outcome; an episode's channel post is remembered on the episode in the
        same transaction, so the two can never disagree."""
        values: dict[str, Any] = {"status": status, "error": error}
        if status == SENT:
            values.update(ts=sent, channel=channel, sent_at=now)
        with self.db.transaction() as session:
            session.execute(
                update(Delivery)
                .where(Delivery.id == delivery_id, Delivery.claimed_by == self.instance_id)
                .values(**values)
            )
            if episode_post_of is not None:
                session.execute(
                    update(Episode)
                    .where(Episode.id == episode_post_of)
                    .values(channel_id=channel, channel_ts=sent)
                )

    def _release(
        self,
        delivery_id: int,
        *,
        not_before: datetime,
        error: str | None = None,
        count_attempt: bool = True,
    ) -> None:
        values: dict[str, Any] = {"status": PENDING, "not_before": not_before, "error": error}
        if not count_attempt:
            values["attempts"] = Delivery.attempts - 1
        with self.db.transaction() as session:
            session.execute(
                update(Delivery)
                .where(Delivery.id == delivery_id, Delivery.claimed_by == self.instance_id)
                .values(**values)
            )


def delivery_state(session: Session, key: str) -> Delivery | None:
    return session.scalar(select(Delivery).where(Delivery.key == key))
