"""The one outbound notifier: renders an outbox template and posts it with the Web API."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.error import URLError
from zoneinfo import ZoneInfo

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.ports import DeliveryError, Sent
from handlers.blocks import channel_posts, rhi_messages

log = logging.getLogger(__name__)

Renderer = Callable[..., dict[str, Any]]

TEMPLATES: dict[str, Renderer] = {
    "episode_posted": channel_posts.episode_posted,
    "episode_returned": channel_posts.episode_returned,
    "episode_reopened": channel_posts.episode_reopened,
    "rhi_status_changed": channel_posts.rhi_status_changed,
    "rhi_reminder": rhi_messages.rhi_reminder,
    "rhi_escalation": rhi_messages.rhi_escalation,
    "delivery_failed": rhi_messages.delivery_failed,
}

# Slack errors that no retry can mend: a person has to act.
PERMANENT = frozenset(
    {
        "user_not_found",
        "channel_not_found",
        "not_in_channel",
        "account_inactive",
        "is_archived",
        "invalid_auth",
        "not_authed",
        "token_revoked",
        "missing_scope",
        "cannot_dm_bot",
        "user_disabled",
        "invalid_blocks",
        "msg_too_long",
        "no_text",
        "restricted_action",
        "team_access_not_granted",
    }
)


class SlackNotifier:
    def __init__(self, client: WebClient, tz: ZoneInfo) -> None:
        self.client = client
        self.tz = tz

    def render(self, template: str, data: dict[str, Any], *, now: datetime) -> dict[str, Any]:
        return TEMPLATES[template](data, now=now, tz=self.tz)

    def send(
        self,
        *,
        target: str,
        thread_ts: str | None,
        template: str,
        data: dict[str, Any],
        now: datetime,
    ) -> Sent:
        payload = self.render(template, data, now=now)
        try:
            response = self.client.chat_postMessage(
                channel=target,
                thread_ts=thread_ts,
                unfurl_links=False,
                unfurl_media=False,
                **payload,
            )
        except SlackApiError as exc:
            raise as_delivery_error(exc) from exc
        except (SlackClientError, URLError, OSError, TimeoutError) as exc:
            raise DeliveryError(f"connection: {exc}", permanent=False) from exc
        return Sent(channel=str(response["channel"]), ts=str(response["ts"]))


def as_delivery_error(exc: SlackApiError) -> DeliveryError:
    status = exc.response.status_code
    error = str(exc.response.get("error", "")) if isinstance(exc.response.data, dict) else ""
    if status == 429:
        retry_after = _retry_after(exc.response.headers)
        return DeliveryError("ratelimited", permanent=False, retry_after=retry_after)
    if status >= 500:
        return DeliveryError(f"http {status}", permanent=False)
    if error in PERMANENT:
        return DeliveryError(error, permanent=True)
    return DeliveryError(error or f"http {status}", permanent=False)


def _retry_after(headers: dict[str, Any]) -> float:
    for name in ("Retry-After", "retry-after"):
        value = headers.get(name)
        if value:
            if isinstance(value, list):
                value = value[0]
            try:
                return float(value)
            except ValueError:
                break
    return 1.0
