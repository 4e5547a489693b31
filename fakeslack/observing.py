"""Reading back what the fake recorded, and waiting for the bot's requests to arrive."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Iterable
from typing import Any, Self, TypeVar

from fakeslack.records import Call, Posted, Upload, ViewRecord
from fakeslack.state import FakeSlackState, conversation

T = TypeVar("T")


class Observing(FakeSlackState):
    """The recorded calls, posts, views and messages, and waits on them."""

    # ---- recorded state --------------------------------------------------------------------

    @property
    def calls(self) -> list[Call]:
        with self._cond:
            return list(self._calls)

    def calls_to(self, method: str) -> list[Call]:
        with self._cond:
            return [c for c in self._calls if c.method == method]

    @property
    def posted(self) -> list[Posted]:
        with self._cond:
            return list(self._posted)

    @property
    def views(self) -> list[ViewRecord]:
        """Views opened, updated, pushed or published, oldest first."""
        with self._cond:
            return list(self._views)

    @property
    def uploads(self) -> list[Upload]:
        """Files shared with files.completeUploadExternal, with their bytes, oldest first."""
        with self._cond:
            return list(self._uploads)

    def view(self, view_id: str) -> dict[str, Any] | None:
        """The current state of a view by id (after updates)."""
        with self._cond:
            current = self._current_views.get(view_id)
            return copy.deepcopy(current) if current is not None else None

    def message(self, channel: str, ts: str) -> dict[str, Any] | None:
        """The message as it stands now (after chat.update / replace_original), or None."""
        channel_id, _, _ = conversation(channel)
        with self._cond:
            stored = self._messages.get((channel_id, ts))
            return copy.deepcopy(stored) if stored is not None else None

    def messages_in(self, channel: str, *, kinds: Iterable[str] | None = None) -> list[Posted]:
        """Everything posted to ``channel`` (all kinds unless ``kinds`` narrows it), in order.

        A user id means the DM with that user.
        """
        channel_id, _, _ = conversation(channel)
        wanted = set(kinds) if kinds is not None else None
        return [
            p
            for p in self.posted
            if p.channel == channel_id and (wanted is None or p.kind in wanted)
        ]

    def thread(self, channel: str, ts: str) -> list[Posted]:
        """The parent message and its replies (kinds "message"/"dm", not updates), in order."""
        return [
            p
            for p in self.messages_in(channel, kinds=("message", "dm"))
            if p.ts == ts or p.thread_ts == ts
        ]

    def dms_to(self, user_id: str) -> list[Posted]:
        return [p for p in self.posted if p.kind == "dm" and p.user == user_id]

    def mark(self) -> int:
        """How many things were posted so far: pass as ``since=`` to wait for newer ones."""
        with self._cond:
            return len(self._posted)

    # ---- waiting ---------------------------------------------------------------------------

    def wait_for(self, predicate: Callable[[Self], T | bool | None], timeout: float = 5.0) -> T:
        """Re-evaluate ``predicate(self)`` as requests arrive until it is truthy; return that.

        Bolt acks first and runs listeners on worker threads, so whatever the bot posts arrives
        after ``dispatch()`` or the HTTP request has returned. Raises AssertionError listing the
        recent calls on timeout. The predicate runs without the fake's lock held.
        """
        deadline = time.monotonic() + timeout
        while True:
            with self._cond:
                version = self._version
            result = predicate(self)
            if result:
                return result  # type: ignore[return-value]
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(self._timeout_report(predicate, timeout))
            with self._cond:
                # Woken by every request; the 50 ms cap also re-checks predicates that look at
                # state outside the fake (a database the bot writes, say).
                if self._version == version:
                    self._cond.wait(min(remaining, 0.05))

    def wait_for_call(self, method: str, count: int = 1, timeout: float = 5.0) -> list[Call]:
        """Wait until ``method`` was called at least ``count`` times; return all those calls."""

        def enough(fake: Observing) -> list[Call] | None:
            found = fake.calls_to(method)
            return found if len(found) >= count else None

        return self.wait_for(enough, timeout)

    def wait_for_posted(
        self, kind: str | None = None, count: int = 1, timeout: float = 5.0, since: int = 0
    ) -> list[Posted]:
        """Wait for ``count`` Posted (of ``kind``, if given) after index ``since``; return them."""

        def enough(fake: Observing) -> list[Posted] | None:
            found = [p for p in fake.posted[since:] if kind is None or p.kind == kind]
            return found if len(found) >= count else None

        return self.wait_for(enough, timeout)

    def wait_for_view(
        self, callback_id: str | None = None, *, since: int = 0, timeout: float = 5.0
    ) -> ViewRecord:
        """Wait for a view (with ``callback_id``, if given) at index ``since`` or later in
        ``views``; return the latest such."""

        def found(fake: Observing) -> ViewRecord | None:
            matching = [
                v for v in fake.views[since:] if callback_id is None or v.callback_id == callback_id
            ]
            return matching[-1] if matching else None

        return self.wait_for(found, timeout)

    def wait_idle(self, quiet: float = 0.3, timeout: float = 5.0) -> None:
        """Return once no request is in flight and none arrived for ``quiet`` seconds."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                now = time.monotonic()
                idle_for = now - self._last_activity
                if self._inflight == 0 and idle_for >= quiet:
                    return
                if now >= deadline:
                    raise AssertionError(
                        f"FakeSlack not idle after {timeout}s ({self._inflight} in flight)\n"
                        + self._recent_calls_locked()
                    )
                pause = quiet - idle_for if self._inflight == 0 else quiet
                self._cond.wait(min(max(pause, 0.001), deadline - now))

    def _timeout_report(self, predicate: Callable[..., object], timeout: float) -> str:
        name = getattr(predicate, "__qualname__", repr(predicate))
        with self._cond:
            return f"FakeSlack.wait_for({name}) timed out after {timeout}s\n" + (
                self._recent_calls_locked()
            )

    def _recent_calls_locked(self, limit: int = 20) -> str:
        recent = self._calls[-limit:]
        if not recent:
            return "no calls received"
        skipped = len(self._calls) - len(recent)
        head = f"last {len(recent)} of {len(self._calls)} calls:" if skipped else "calls:"
        return "\n".join([head, *(f"  {_brief(c)}" for c in recent)])


def _brief(call: Call) -> str:
    """One line per call for timeout reports: enough to see what the bot did instead."""
    parts = [f"{call.method} -> {call.status}"]
    if call.response is not None and not call.response.get("ok", True):
        parts.append(f"error={call.response.get('error')}")
    for key in ("channel", "user", "user_id", "ts", "trigger_id", "view_id"):
        if key in call.args:
            parts.append(f"{key}={call.args[key]!r}")
    view = call.args.get("view")
    if isinstance(view, dict) and view.get("callback_id"):
        parts.append(f"callback_id={view['callback_id']!r}")
    text = call.args.get("text")
    if isinstance(text, str):
        parts.append(f"text={text[:60]!r}")
    return " ".join(parts)
