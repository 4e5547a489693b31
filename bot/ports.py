"""What the services need from the outside world, as small protocols the wiring fills in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol


@dataclass(frozen=True)
class Sent:
    channel: str
    ts: str


class DeliveryError(Exception):
    """Slack refused or could not be reached.

    `permanent` errors (user_not_found, channel_not_found, ...) are never retried;
    others are retried on a later pass, not before `retry_after` seconds when Slack said so.
    """

    def __init__(self, reason: str, *, permanent: bool, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        self.retry_after = retry_after


class Notifier(Protocol):
    """Renders a template and posts it to Slack; raises DeliveryError."""

    def send(
        self,
        *,
        target: str,
        thread_ts: str | None,
        template: str,
        data: dict[str, Any],
        now: datetime,
    ) -> Sent: ...
