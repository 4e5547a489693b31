"""What the services need from the outside world, as small protocols the wiring fills in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from bot.services.messages import Outbound, ReminderActed


@dataclass(frozen=True)
class Sent:
    channel: str
    ts: str


class DeliveryError(Exception):
    """Slack refused or could not be reached.

    `permanent` errors (user_not_found, channel_not_found, ...) are never retried; others are
    retried on a later pass, not before `retry_after` seconds when Slack said so. `app_wide`
    errors (a revoked token, a missing scope) are nobody's fault in particular: delivery pauses
    for everyone until the token works again.
    """

    def __init__(
        self,
        reason: str,
        *,
        permanent: bool,
        retry_after: float | None = None,
        app_wide: bool = False,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        self.retry_after = retry_after
        self.app_wide = app_wide


class Renderer(Protocol):
    """Turns what the bot has to say into a Slack message payload (text and blocks)."""

    def render(self, message: Outbound, *, now: datetime) -> dict[str, Any]: ...

    def acted(
        self, original: dict[str, Any], rhi_id: int, acted: ReminderActed
    ) -> dict[str, Any]: ...

    def acted_note(self, acted: ReminderActed) -> str: ...

    def noted(self, original: dict[str, Any], note: str) -> dict[str, Any]:
        """A message as posted, with a note added at its end (a digest's missing chart)."""
        ...


class Notifier(Protocol):
    """Posts a rendered message to Slack; raises DeliveryError."""

    def send(
        self,
        *,
        target: str,
        thread_ts: str | None,
        payload: dict[str, Any],
        key: str,
        look_first_since: datetime | None = None,
    ) -> Sent: ...

    def upload(
        self,
        *,
        target: str,
        thread_ts: str | None,
        payload: dict[str, Any],
        key: str,
        look_first_since: datetime | None = None,
    ) -> Sent:
        """Upload a rendered file (a chart) into a conversation, or its thread. After an
        attempt whose outcome is unknown, look for it first."""
        ...

    def update(self, *, channel: str, ts: str, payload: dict[str, Any]) -> None: ...

    def tell(self, response_url: str, text: str) -> None: ...


class Directory(Protocol):
    """Who is in a Slack user group (usergroups.users.list); raises on any failure."""

    def usergroup_members(self, usergroup_id: str) -> list[str]: ...
