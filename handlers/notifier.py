"""The one outbound notifier: posts a rendered outbox message with the Web API."""

from __future__ import annotations

import logging
from typing import Any
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.services.ports import DeliveryError, Sent

log = logging.getLogger(__name__)

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


# Outbox keys ride along in each message's metadata, so a sender that timed out can look for
# its message before sending it again.
METADATA_EVENT = "missing_bot_outbox"


class SlackNotifier:
    def __init__(self, client: WebClient) -> None:
        self.client = client

    def send(
        self, *, target: str, thread_ts: str | None, payload: dict[str, Any], key: str
    ) -> Sent:
        try:
            response = self.client.chat_postMessage(
                channel=target,
                thread_ts=thread_ts,
                unfurl_links=False,
                unfurl_media=False,
                metadata={"event_type": METADATA_EVENT, "event_payload": {"key": key}},
                **payload,
            )
        except SlackApiError as exc:
            raise as_delivery_error(exc) from exc
        except (SlackClientError, URLError, OSError, TimeoutError) as exc:
            raise DeliveryError(f"connection: {type(exc).__name__}", permanent=False) from exc
        return Sent(channel=str(response["channel"]), ts=str(response["ts"]))

    def update(self, *, channel: str, ts: str, payload: dict[str, Any]) -> None:
        try:
            self.client.chat_update(channel=channel, ts=ts, **payload)
        except SlackApiError as exc:
            raise as_delivery_error(exc) from exc
        except (SlackClientError, URLError, OSError, TimeoutError) as exc:
            raise DeliveryError(f"connection: {type(exc).__name__}", permanent=False) from exc


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
