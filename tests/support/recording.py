"""A notifier that records what the outbox sends instead of calling Slack: for service tests."""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.services.ports import DeliveryError, Sent


@dataclass(frozen=True)
class Recorded:
    target: str
    thread_ts: str | None
    payload: dict[str, Any]
    key: str
    ts: str

    @property
    def text(self) -> str:
        return str(self.payload.get("text") or "")


@dataclass
class RecordingNotifier:
    """Posts land in `sent`; `fail_next(...)` makes the next sends raise a DeliveryError."""

    sent: list[Recorded] = field(default_factory=list)
    updates: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    told: list[tuple[str, str]] = field(default_factory=list)
    _failures: list[tuple[DeliveryError, str | None]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _ts: itertools.count = field(default_factory=lambda: itertools.count(1))

    def fail_next(self, error: DeliveryError, times: int = 1, *, target: str | None = None) -> None:
        """The next `times` sends (to `target` only, if given) raise `error`."""
        with self._lock:
            self._failures.extend([(error, target)] * times)

    def send(
        self,
        *,
        target: str,
        thread_ts: str | None,
        payload: dict[str, Any],
        key: str,
        look_first_since: datetime | None = None,
    ) -> Sent:
        with self._lock:
            for index, (error, only) in enumerate(self._failures):
                if only is None or only == target:
                    del self._failures[index]
                    raise error
            ts = f"1700000000.{next(self._ts):06d}"
            self.sent.append(Recorded(target, thread_ts, payload, key, ts))
        channel = f"D{target}" if target.startswith("U") else target
        return Sent(channel=channel, ts=ts)

    def upload(
        self,
        *,
        target: str,
        thread_ts: str | None,
        payload: dict[str, Any],
        key: str,
        look_first_since: datetime | None = None,
    ) -> Sent:
        """A file (a digest's chart): recorded like a post, its payload as rendered."""
        return self.send(target=target, thread_ts=thread_ts, payload=payload, key=key)

    def update(self, *, channel: str, ts: str, payload: dict[str, Any]) -> None:
        with self._lock:
            self.updates.append((channel, ts, payload))

    def tell(self, response_url: str, text: str) -> None:
        with self._lock:
            self.told.append((response_url, text))

    def to(self, target: str) -> list[Recorded]:
        return [r for r in self.sent if r.target == target]

    def keys_sent(self) -> list[str]:
        return [r.key for r in self.sent]
