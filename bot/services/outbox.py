"""The outbox: messages owed to Slack, claimed once across every copy of the bot, then sent.

A use case enqueues its messages in its own transaction (rendered there and then), and after
commit hands their ids to `deliver_soon`, which sends them on the outbox's own thread: Slack's
slowness, 429 waits and retries never hold a Slack request's listener thread. What is not sent
then (Slack down, a copy killed) is sent by a later scheduler pass.

Delivery is at-least-once. A copy that claims a message and dies before marking it sent leaves a
claim that another pass takes over after `claim_timeout` (default 5 minutes): in that one case
the message may go out twice. Otherwise every message goes out exactly once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.domain.refs import format_ref
from bot.domain.states import (
    EDIT_KINDS,
    FILE_KINDS,
    REMINDER_KINDS,
    REVIEW_KINDS,
    SAFE_WELL_KINDS,
    SUMMARY_KINDS,
    DeliveryStatus,
    MessageKind,
)
from bot.domain.timetext import fmt_local
from bot.services.messages import (
    DeliveryFailed,
    DeliveryResumed,
    MessageRef,
    Outbound,
    ReminderActed,
)
from bot.services.ports import DeliveryError, Notifier, Renderer
from storage import episode_records, queries
from storage.db import Database
from storage.models import DeliveryPause, Episode, OutboxMessage

log = logging.getLogger(__name__)

# A thread reply waits this long for its parent post before looking again.
_PARENT_WAIT = timedelta(seconds=30)
# Retries double from 30 s up to this; with 20 attempts a message is tried for about two days.
_MAX_BACKOFF = timedelta(hours=4)
PAUSE_NAME = "slack"
# While paused, one message a minute tries whether Slack accepts the bot again.
_PROBE_EVERY = timedelta(minutes=1)
# Errors after which it is unknown whether Slack posted the message.
_UNKNOWN_OUTCOME = ("connection:", "http 5")
# Messages whose buttons act on interviews: they are edited to show who acted.
_EDITABLE = frozenset(
    {MessageKind.RHI_REMINDER, MessageKind.RHI_ASSIGNED, MessageKind.OVERDUE_LIST}
)
# A message that goes out this long after it was queued says so.
_LATE_AFTER = timedelta(minutes=10)


@dataclass(frozen=True)
class Outcome:
    delivery_id: int
    status: DeliveryStatus
    ts: str | None = None
    error: str | None = None
    app_wide: bool = False


@dataclass(frozen=True)
class Pending:
    """A message to enqueue, already rendered."""

    key: str
    kind: MessageKind
    payload: dict[str, Any]
    target: str
    episode_id: int | None = None
    rhi_id: int | None = None
    in_thread: bool = False
    # Not before (quiet hours); None: at once.
    not_before: datetime | None = None
    # The message this one belongs to (its thread, or the message it edits), by outbox key.
    parent_key: str | None = None


@dataclass(frozen=True)
class Claimed:
    """A claimed outbox row, detached from its session."""

    id: int
    key: str
    kind: MessageKind
    target: str
    episode_id: int | None
    rhi_id: int | None
    in_thread: bool
    payload: dict[str, Any]
    attempts: int
    created_at: datetime
    # Why the last attempt failed, if one did: a timeout leaves it unknown whether it went out.
    error: str | None = None
    parent_key: str | None = None

    @property
    def taken_over(self) -> bool:
        """An earlier claim ended with no outcome recorded: its copy died, perhaps after
        Slack took the message."""
        return self.attempts > 1 and self.error is None


@dataclass(frozen=True)
class Pause:
    reason: str
    since: datetime
    probe_at: datetime


class Outbox:
    def __init__(
        self,
        *,
        db: Database,
        clock: Clock,
        renderer: Renderer,
        notifier: Notifier,
        instance_id: str,
        safeguarding_channel: str,
        tz: ZoneInfo,
        claim_timeout: timedelta = timedelta(minutes=5),
        channel_pace: float = 1.0,
        max_attempts: int = 20,
    ) -> None:
        self.db = db
        self.clock = clock
        self.renderer = renderer
        self.notifier = notifier
        self.instance_id = instance_id
        self.safeguarding_channel = safeguarding_channel
        self.tz = tz
        self.claim_timeout = claim_timeout
        # Slack takes about one message a second per channel; pacing here avoids 429s.
        self.channel_pace = channel_pace
        self.max_attempts = max_attempts
        self._last_post: dict[str, float] = {}
        self._pace_lock = threading.Lock()
        # The delivery pause as this copy last saw it: /healthz reads it without the database.
        self.known_pause: Pause | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._executor_lock = threading.Lock()

    # -- enqueueing (inside the caller's transaction) -----------------------------------

    def render(self, message: Outbound, *, now: datetime) -> dict[str, Any]:
        """The message as it will be posted (rendered once, when it is enqueued)."""
        return self.renderer.render(message, now=now)

    def enqueue(
        self,
        session: Session,
        *,
        key: str,
        message: Outbound,
        target: str,
        now: datetime,
        episode_id: int | None = None,
        rhi_id: int | None = None,
        in_thread: bool = False,
        not_before: datetime | None = None,
    ) -> int | None:
        """Add a message, rendered now; its id, or None if that key was already enqueued."""
        return self.enqueue_rendered(
            session,
            Pending(
                key=key,
                kind=message.kind,
                payload=self.render(message, now=now),
                target=target,
                episode_id=episode_id,
                rhi_id=rhi_id,
                in_thread=in_thread,
                not_before=not_before,
            ),
            now=now,
        )

    def enqueue_many(self, session: Session, pending: list[Pending], *, now: datetime) -> None:
        """Add many rendered messages in one statement; keys already there are skipped."""
        if not pending:
            return
        session.execute(
            queries.upsert(session)(OutboxMessage).on_conflict_do_nothing(index_elements=["key"]),
            [self._row(p, now) for p in pending],
        )

    def enqueue_rendered(self, session: Session, pending: Pending, *, now: datetime) -> int | None:
        """Add a message rendered earlier; its id, or None if that key was already enqueued."""
        statement = (
            queries.upsert(session)(OutboxMessage)
            .values(**self._row(pending, now))
            .on_conflict_do_nothing(index_elements=["key"])
        ).returning(OutboxMessage.id)
        # Check the returned row, not rowcount: PostgreSQL reports -1 for this statement.
        return session.execute(statement).scalar_one_or_none()

    @staticmethod
    def _row(pending: Pending, now: datetime) -> dict[str, Any]:
        return {
            "key": pending.key,
            "kind": pending.kind.value,
            "target": pending.target,
            "episode_id": pending.episode_id,
            "rhi_id": pending.rhi_id,
            "in_thread": pending.in_thread,
            "payload": pending.payload,
            "status": DeliveryStatus.PENDING.value,
            "attempts": 0,
            "not_before": max(pending.not_before or now, now),
            "created_at": now,
            "parent_key": pending.parent_key,
        }

    # -- reading ------------------------------------------------------------------------

    def message_at(self, channel: str, ts: str) -> dict[str, Any] | None:
        """The message the bot posted at (channel, ts), as it was posted."""
        with self.db.read() as session:
            row = queries.outbox_by_message(session, channel=channel, ts=ts)
            return dict(row.payload) if row is not None else None

    # -- finding and claiming -----------------------------------------------------------

    def _claimable(self, now: datetime) -> Any:
        stale = now - self.claim_timeout
        return or_(
            and_(OutboxMessage.status == DeliveryStatus.PENDING, OutboxMessage.not_before <= now),
            and_(OutboxMessage.status == DeliveryStatus.CLAIMED, OutboxMessage.claimed_at < stale),
        )

    def due_ids(self, limit: int = 200) -> list[int]:
        now = self.clock.now()
        with self.db.read() as session:
            rows = session.execute(
                select(OutboxMessage.id)
                .where(self._claimable(now))
                .order_by(OutboxMessage.id)
                .limit(limit)
            )
            return list(rows.scalars())

    def claim(self, delivery_id: int) -> Claimed | None:
        """Take one message for this copy; None if another copy has it or it is not due."""
        now = self.clock.now()
        with self.db.transaction() as session:
            row = session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == delivery_id, self._claimable(now))
                .values(
                    status=DeliveryStatus.CLAIMED,
                    claimed_at=now,
                    claimed_by=self.instance_id,
                    attempts=OutboxMessage.attempts + 1,
                )
                .returning(
                    OutboxMessage.id,
                    OutboxMessage.key,
                    OutboxMessage.kind,
                    OutboxMessage.target,
                    OutboxMessage.episode_id,
                    OutboxMessage.rhi_id,
                    OutboxMessage.in_thread,
                    OutboxMessage.payload,
                    OutboxMessage.attempts,
                    OutboxMessage.created_at,
                    OutboxMessage.error,
                    OutboxMessage.parent_key,
                )
            ).first()
            if row is None:
                return None
            return Claimed(
                id=row.id,
                key=row.key,
                kind=MessageKind(row.kind),
                target=row.target,
                episode_id=row.episode_id,
                rhi_id=row.rhi_id,
                in_thread=row.in_thread,
                payload=dict(row.payload),
                attempts=row.attempts,
                created_at=row.created_at,
                error=row.error,
                parent_key=row.parent_key,
            )

    # -- sending ------------------------------------------------------------------------

    def deliver(self, ids: Iterable[int]) -> list[Outcome]:
        """Send these now, on this thread, each if still unclaimed and due.

        While Slack refuses the bot itself (a revoked token, say), nothing is sent but one
        probe a minute; the rest waits, unharmed, and goes out once a probe gets through.
        """
        outcomes: list[Outcome] = []
        pause = self.pause()
        if pause is not None and self.clock.now() < pause.probe_at:
            return outcomes
        for delivery_id in ids:
            delivery = self.claim(delivery_id)
            if delivery is None:
                continue
            outcome = self._send(delivery)
            outcomes.append(outcome)
            if outcome.app_wide:
                break  # the others would fail the same way: they wait for the next probe
            if pause is not None and outcome.status is DeliveryStatus.SENT:
                self._resume(pause)
                pause = None
        return outcomes

    def deliver_soon(self, ids: Iterable[int]) -> None:
        """Send these on the outbox's own thread, in order; what fails waits for a pass."""
        wanted = [i for i in ids if i is not None]
        if wanted:
            self._background().submit(self._deliver_logged, wanted)

    def _background(self) -> ThreadPoolExecutor:
        # One thread: messages go out in the order they were enqueued (a post before its
        # thread replies), and Slack's pace is kept in one place.
        with self._executor_lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(1, thread_name_prefix="outbox")
            return self._executor

    def _deliver_logged(self, ids: list[int]) -> None:
        try:
            self.deliver(ids)
        except Exception:
            # The rows stay in the outbox: the next scheduler pass sends them.
            log.exception("background delivery failed; a later pass retries")

    def edit_reminder_soon(self, where: MessageRef, *, rhi_id: int, acted: ReminderActed) -> None:
        """Show on a reminder who acted on it, on the outbox's thread.

        Only a reminder this bot posted about this very interview is edited: the message is
        found in the outbox by (channel, ts) and re-rendered from what was posted, never from
        what the click payload claims the message said.
        """
        self._background().submit(self._edit_reminder, where, rhi_id, acted)

    def _edit_reminder(self, where: MessageRef, rhi_id: int, acted: ReminderActed) -> None:
        with self.db.read() as session:
            row = queries.outbox_by_message(session, channel=where.channel, ts=where.ts)
            shown = (
                (row.id, dict(row.payload))
                if row is not None
                and row.kind in _EDITABLE
                and _has_buttons_for(row.payload, rhi_id)
                else None
            )
        if shown is None:
            log.warning(
                "not editing %s/%s: no buttons there for RHI %s", where.channel, where.ts, rhi_id
            )
            return
        row_id, original = shown
        edited = self.renderer.acted(original, rhi_id, acted)
        try:
            self.notifier.update(channel=where.channel, ts=where.ts, payload=edited)
        except Exception as exc:
            # The outcome is recorded; only the message's look is stale: say so to the person.
            log.warning("could not edit the message at %s/%s: %s", where.channel, where.ts, exc)
            if where.response_url:
                try:
                    self.notifier.tell(
                        where.response_url,
                        f"{self.renderer.acted_note(acted)} It is recorded; the message above "
                        "could not be updated to show it.",
                    )
                except Exception:
                    log.warning("could not tell the person either; the record stands")
            return
        # What Slack now shows: the next edit (another interview on a list) starts from it.
        with self.db.transaction() as session:
            session.execute(
                update(OutboxMessage).where(OutboxMessage.id == row_id).values(payload=edited)
            )

    def deliver_due(self, *, budget: timedelta = timedelta(seconds=45)) -> list[Outcome]:
        """Send what is due, batch after batch, at Slack's pace, until nothing is due or the
        time budget is spent (the next pass goes on: nothing is dropped)."""
        outcomes: list[Outcome] = []
        deadline = time.monotonic() + budget.total_seconds()
        tried: set[int] = set()
        while time.monotonic() < deadline:
            batch = [i for i in self.due_ids() if i not in tried]
            if not batch:
                break
            tried.update(batch)
            for delivery_id in batch:
                outcomes.extend(self.deliver([delivery_id]))
                if time.monotonic() >= deadline:
                    log.info("outbox: time budget spent; the next pass sends the rest")
                    break
        return outcomes

    def flush(self, timeout: float = 10.0) -> None:
        """Wait until what was handed to `deliver_soon` so far has been tried."""
        with self._executor_lock:
            executor = self._executor
        if executor is not None:
            executor.submit(lambda: None).result(timeout=timeout)

    def close(self, *, wait: bool = True) -> None:
        with self._executor_lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=wait)

    def _send(self, delivery: Claimed) -> Outcome:
        now = self.clock.now()
        if not self._still_wanted(delivery, now):
            self._finish(delivery.id, status=DeliveryStatus.CANCELLED)
            return Outcome(delivery.id, DeliveryStatus.CANCELLED)
        if delivery.kind in EDIT_KINDS:
            return self._edit_post(delivery, now)
        target, thread_ts, wait = self._where(delivery)
        if wait:
            self._release(delivery.id, not_before=now + _PARENT_WAIT, count_attempt=False)
            return Outcome(
                delivery.id, DeliveryStatus.PENDING, error="waiting for the message it follows"
            )
        if thread_ts is None and delivery.kind in FILE_KINDS and delivery.parent_key:
            # The message it belongs to will never be posted: a chart alone means nothing.
            self._finish(delivery.id, status=DeliveryStatus.CANCELLED, error="no parent")
            return Outcome(delivery.id, DeliveryStatus.CANCELLED)
        payload = self._with_notes(delivery, now)
        self._pace(target)
        # After an attempt whose outcome is unknown, the message may be in Slack already; a
        # summary (one a day) is looked for after a claim taken over from a copy that died.
        unknown = delivery.error is not None and delivery.error.startswith(_UNKNOWN_OUTCOME)
        unknown = unknown or (delivery.kind in SUMMARY_KINDS and delivery.taken_over)
        look_first_since = delivery.created_at if unknown else None
        try:
            if delivery.kind in FILE_KINDS:
                sent = self.notifier.upload(
                    target=target,
                    thread_ts=thread_ts,
                    payload=payload,
                    key=delivery.key,
                    look_first_since=look_first_since,
                )
            else:
                sent = self.notifier.send(
                    target=target,
                    thread_ts=thread_ts,
                    payload=payload,
                    key=delivery.key,
                    look_first_since=look_first_since,
                )
        except DeliveryError as exc:
            return self._failed(delivery, exc, now)
        except Exception as exc:  # a bug in one message must not stop the others
            log.exception("delivery %s (%s) crashed", delivery.id, delivery.key)
            return self._failed(delivery, DeliveryError(type(exc).__name__, permanent=False), now)
        self._finish(
            delivery.id,
            status=DeliveryStatus.SENT,
            sent=sent.ts,
            channel=sent.channel,
            now=now,
            episode_post_of=(
                delivery.episode_id if delivery.kind is MessageKind.EPISODE_POSTED else None
            ),
            # What Slack shows, notes included: an edit later starts from it.
            payload=payload if payload is not delivery.payload else None,
        )
        return Outcome(delivery.id, DeliveryStatus.SENT, ts=sent.ts)

    def _edit_post(self, delivery: Claimed, now: datetime) -> Outcome:
        """An edit of a message posted earlier (an episode's channel post, a digest): once the
        message is out, `chat.update` it. A note (a digest's missing chart) is added to the
        message as Slack shows it, so nothing said since is lost."""
        parent_key = delivery.parent_key
        if parent_key is None:
            assert delivery.episode_id is not None
            parent_key = post_key(delivery.episode_id)
        with self.db.read() as session:
            parent = queries.outbox_by_key(session, parent_key)
            state = (
                (parent.id, parent.status, parent.channel, parent.ts, dict(parent.payload))
                if parent is not None
                else None
            )
        if state is None or state[1] in (DeliveryStatus.FAILED, DeliveryStatus.CANCELLED):
            self._finish(delivery.id, status=DeliveryStatus.CANCELLED)  # no post to edit
            return Outcome(delivery.id, DeliveryStatus.CANCELLED)
        parent_id, status, channel, ts, shown = state
        if status != DeliveryStatus.SENT or not channel or not ts:
            self._release(delivery.id, not_before=now + _PARENT_WAIT, count_attempt=False)
            return Outcome(delivery.id, DeliveryStatus.PENDING, error="waiting for the post")
        note = delivery.payload.get("note")
        payload = self.renderer.noted(shown, str(note)) if note else delivery.payload
        self._pace(channel)
        try:
            self.notifier.update(channel=channel, ts=ts, payload=payload)
        except DeliveryError as exc:
            return self._failed(delivery, exc, now)
        except Exception as exc:  # a bug in one message must not stop the others
            log.exception("edit %s (%s) crashed", delivery.id, delivery.key)
            return self._failed(delivery, DeliveryError(type(exc).__name__, permanent=False), now)
        self._finish(delivery.id, status=DeliveryStatus.SENT, sent=ts, channel=channel, now=now)
        if note:
            with self.db.transaction() as session:
                session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.id == parent_id)
                    .values(payload=payload)
                )
        return Outcome(delivery.id, DeliveryStatus.SENT, ts=ts)

    def _pace(self, target: str) -> None:
        if self.channel_pace <= 0:
            return
        with self._pace_lock:
            last = self._last_post.get(target)
            now = time.monotonic()
            wait = 0.0 if last is None else max(0.0, last + self.channel_pace - now)
            self._last_post[target] = now + wait
        if wait:
            time.sleep(wait)

    def _with_notes(self, delivery: Claimed, now: datetime) -> dict[str, Any]:
        """What only the moment of sending can say: that it is late, or that the channel post
        it confirms has not gone out yet."""
        if delivery.kind in FILE_KINDS:
            return delivery.payload  # a file, not a message: nothing to add to it
        notes = []
        if delivery.kind is MessageKind.EPISODE_CONFIRMED and delivery.episode_id is not None:
            with self.db.read() as session:
                post = queries.outbox_by_key(session, post_key(delivery.episode_id))
                posted = post is not None and post.status == DeliveryStatus.SENT
            if posted:
                notes.append("Posted to the control-room channel; updates go in its thread.")
            else:
                notes.append(
                    ":warning: The post to the control-room channel has not gone out yet "
                    "(Slack did not accept it). The episode is saved and the post will be "
                    "retried automatically."
                )
        if now - delivery.created_at >= _LATE_AFTER:
            notes.append(
                f":hourglass: Sent late: queued {fmt_local(delivery.created_at, self.tz)}, "
                "when Slack could not take it."
            )
        if not notes:
            return delivery.payload
        blocks = list(delivery.payload.get("blocks") or [])[: 50 - len(notes)]
        for note in notes:
            blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": note}]})
        text = "\n".join([str(delivery.payload.get("text") or ""), *notes])
        return {**delivery.payload, "text": text[:3000], "blocks": blocks}

    def _still_wanted(self, delivery: Claimed, now: datetime) -> bool:
        """An outcome or a snooze recorded after a reminder was queued stops it; so do a
        review or a return recorded after a review reminder was queued, and a safe-and-well
        check recorded after its reminder was queued."""
        if delivery.kind in SAFE_WELL_KINDS and delivery.episode_id is not None:
            with self.db.read() as session:
                return queries.safe_well_pending(session, delivery.episode_id)
        if delivery.kind in REVIEW_KINDS and delivery.episode_id is not None:
            with self.db.read() as session:
                missing, due = episode_records.review_state(session, delivery.episode_id)
            # Queued once its review fell due: a later review moved the due time past it.
            return missing and due is not None and due <= delivery.created_at
        if delivery.rhi_id is None or delivery.kind not in REMINDER_KINDS:
            return True
        with self.db.read() as session:
            open_, snoozed_until = queries.rhi_reminder_state(session, delivery.rhi_id)
        if not open_:
            return False
        snoozed = snoozed_until is not None and now < snoozed_until
        return not (delivery.kind is MessageKind.RHI_REMINDER and snoozed)

    def _where(self, delivery: Claimed) -> tuple[str, str | None, bool]:
        """Target channel and thread; `wait` when the parent post has not gone out yet."""
        if delivery.parent_key is not None:
            parent_key = delivery.parent_key
        elif delivery.in_thread and delivery.episode_id is not None:
            parent_key = post_key(delivery.episode_id)
        else:
            return delivery.target, None, False
        with self.db.read() as session:
            parent = queries.outbox_by_key(session, parent_key)
            state = (parent.status, parent.channel, parent.ts) if parent is not None else None
        if state is None or state[0] in (DeliveryStatus.FAILED, DeliveryStatus.CANCELLED):
            # The parent post will never exist: better a message outside the thread than none.
            return delivery.target, None, False
        status, channel, ts = state
        if status == DeliveryStatus.SENT and channel and ts:
            return channel, ts, False
        return delivery.target, None, True

    def _failed(self, delivery: Claimed, exc: DeliveryError, now: datetime) -> Outcome:
        if exc.app_wide:
            self._pause_for(exc.reason, now)
            # Not this message's fault: its attempt does not count, and it goes with the probe.
            self._release(delivery.id, not_before=now, error=exc.reason, count_attempt=False)
            return Outcome(delivery.id, DeliveryStatus.PENDING, error=exc.reason, app_wide=True)
        if exc.permanent:
            log.error("delivery %s to %s failed for good: %s", delivery.key, delivery.target, exc)
            self._finish(delivery.id, status=DeliveryStatus.FAILED, error=exc.reason, now=now)
            self._report_failure(delivery, exc.reason, now)
            return Outcome(delivery.id, DeliveryStatus.FAILED, error=exc.reason)
        if delivery.attempts >= self.max_attempts:
            log.error(
                "delivery %s to %s gave up after %d attempts: %s",
                delivery.key,
                delivery.target,
                delivery.attempts,
                exc.reason,
            )
            reason = f"{exc.reason} (gave up after {delivery.attempts} attempts)"
            self._finish(delivery.id, status=DeliveryStatus.FAILED, error=reason, now=now)
            self._report_failure(delivery, reason, now)
            return Outcome(delivery.id, DeliveryStatus.FAILED, error=reason)
        exponent = min(max(delivery.attempts - 1, 0), 20)
        backoff = min(timedelta(seconds=30) * (2**exponent), _MAX_BACKOFF)
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
        return Outcome(delivery.id, DeliveryStatus.PENDING, error=exc.reason)

    def _report_failure(self, delivery: Claimed, reason: str, now: datetime) -> None:
        """Tell people when Slack will never take a message, so someone can act on it."""
        if delivery.kind in FILE_KINDS and delivery.parent_key:
            self._say_not_attached(delivery, reason, now)
            return
        if delivery.kind is MessageKind.DELIVERY_FAILED or not self.safeguarding_channel:
            return  # never report a failed report: that could loop
        ref = format_ref(delivery.episode_id) if delivery.episode_id is not None else None
        with self.db.transaction() as session:
            new_id = self.enqueue(
                session,
                key=f"failure:{delivery.id}",
                message=DeliveryFailed(
                    what=delivery.kind.value, target=delivery.target, reason=reason, ref=ref
                ),
                target=self.safeguarding_channel,
                now=now,
                episode_id=delivery.episode_id,
            )
        if new_id is not None:
            self.deliver([new_id])

    def _say_not_attached(self, delivery: Claimed, reason: str, now: datetime) -> None:
        """A chart Slack will not take (no files:write scope, say): the message it belongs to
        is edited to say so, where the people who read it will see it."""
        assert delivery.parent_key is not None
        if reason == "missing_scope":
            why = "the Slack app lacks the `files:write` scope; an admin can add it"
        else:
            why = f"Slack said `{reason}`"
        note = f":warning: The chart could not be attached ({why})."
        with self.db.transaction() as session:
            new_id = self.enqueue_rendered(
                session,
                Pending(
                    key=f"{delivery.key}:not-attached",
                    kind=MessageKind.DIGEST_NOTE,
                    payload={"note": note},
                    target=delivery.target,
                    parent_key=delivery.parent_key,
                ),
                now=now,
            )
        if new_id is not None:
            self.deliver([new_id])

    # -- pausing when Slack refuses the bot itself -----------------------------------------

    def pause(self) -> Pause | None:
        """The pause all copies share (in the database); remembered for /healthz too."""
        with self.db.read() as session:
            row = session.get(DeliveryPause, PAUSE_NAME)
            found = Pause(row.reason, row.since, row.probe_at) if row is not None else None
        self.known_pause = found
        return found

    def _pause_for(self, reason: str, now: datetime) -> None:
        with self.db.transaction() as session:
            row = session.get(DeliveryPause, PAUSE_NAME)
            if row is None:
                log.error(
                    "Slack refuses the bot itself (%s): delivery paused for everyone; "
                    "fix the token or scopes, it resumes by itself",
                    reason,
                )
                session.add(
                    DeliveryPause(
                        name=PAUSE_NAME,
                        reason=reason[:80],
                        since=now,
                        probe_at=now + _PROBE_EVERY,
                        held=0,
                    )
                )
            else:
                row.reason, row.probe_at = reason[:80], now + _PROBE_EVERY
            since = row.since if row is not None else now
        self.known_pause = Pause(reason[:80], since, now + _PROBE_EVERY)

    def _resume(self, pause: Pause) -> None:
        """A probe got through: delivery resumes, and the safeguarding channel is told what
        was held up, so nobody wonders about messages that arrive late."""
        now = self.clock.now()
        notice = None
        with self.db.transaction() as session:
            gone = session.execute(
                delete(DeliveryPause)
                .where(DeliveryPause.name == PAUSE_NAME)
                .returning(DeliveryPause.name)
            ).first()
            self.known_pause = None
            if gone is None:
                return  # another copy resumed first and told them
            held = queries.pending_outbox_count(session)
            log.info("Slack accepts the bot again: %d held messages going out", held)
            if self.safeguarding_channel:
                notice = self.enqueue(
                    session,
                    key=f"resumed:{pause.since.isoformat()}",
                    message=DeliveryResumed(
                        reason=pause.reason, since=pause.since, until=now, held=held
                    ),
                    target=self.safeguarding_channel,
                    now=now,
                )
        if notice is not None:
            self.deliver_soon([notice])

    # -- recording ----------------------------------------------------------------------

    def _finish(
        self,
        delivery_id: int,
        *,
        status: DeliveryStatus,
        sent: str | None = None,
        channel: str | None = None,
        error: str | None = None,
        now: datetime | None = None,
        episode_post_of: int | None = None,
        payload: dict[str, Any] | None = None,
    ) -> None:
        """Record the outcome; an episode's channel post is remembered on the episode in the
        same transaction, so the two can never disagree."""
        values: dict[str, Any] = {"status": status, "error": error}
        if status is DeliveryStatus.SENT:
            values.update(ts=sent, channel=channel, sent_at=now)
        if status is DeliveryStatus.FAILED:
            values.update(failed_at=now)
        if payload is not None:
            values.update(payload=payload)
        with self.db.transaction() as session:
            session.execute(
                update(OutboxMessage)
                .where(
                    OutboxMessage.id == delivery_id, OutboxMessage.claimed_by == self.instance_id
                )
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
        values: dict[str, Any] = {
            "status": DeliveryStatus.PENDING,
            "not_before": not_before,
            "error": error,
        }
        if not count_attempt:
            values["attempts"] = OutboxMessage.attempts - 1
        with self.db.transaction() as session:
            session.execute(
                update(OutboxMessage)
                .where(
                    OutboxMessage.id == delivery_id, OutboxMessage.claimed_by == self.instance_id
                )
                .values(**values)
            )


def post_key(episode_id: int) -> str:
    """The outbox key of an episode's control-room post: its thread holds every update."""
    return f"episode:{episode_id}:post"


def _has_buttons_for(payload: dict[str, Any], rhi_id: int) -> bool:
    wanted = f"rhi_actions:{rhi_id}"
    return any(
        isinstance(b, dict) and b.get("block_id") == wanted for b in payload.get("blocks") or []
    )
