"""The one outbound notifier: posts a rendered outbox message with the Web API."""

from __future__ import annotations

import base64
import binascii
import logging
from datetime import datetime
from typing import Any
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.webhook import WebhookClient

from bot.services.ports import DeliveryError, Sent

log = logging.getLogger(__name__)

# Slack errors that no retry can mend: a person has to act.
PERMANENT = frozenset(
    {
        "user_not_found",
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "cannot_dm_bot",
        "user_disabled",
        "invalid_blocks",
        "msg_too_long",
        "no_text",
        "restricted_action",
        # An edit of a message that is gone, or can no longer be edited: no retry mends it.
        "message_not_found",
        "cant_update_message",
        "edit_window_closed",
    }
)
# Slack refusing the bot itself, not one message: nobody is at fault but the set-up, and every
# message would fail the same way. Delivery pauses until the token works again.
APP_WIDE = frozenset(
    {
        "invalid_auth",
        "not_authed",
        "token_revoked",
        "token_expired",
        "account_inactive",
        "missing_scope",
        "team_access_not_granted",
        "no_permission",
        "ekm_access_denied",
    }
)


# How many of a conversation's latest messages are searched for one that may have gone out.
LOOK_BACK = 200
# Outbox keys ride along in each message's metadata, so a sender that timed out can look for
# its message before sending it again.
METADATA_EVENT = "missing_bot_outbox"


class SlackNotifier:
    def __init__(self, client: WebClient) -> None:
        self.client = client

    def send(
        self,
        *,
        target: str,
        thread_ts: str | None,
        payload: dict[str, Any],
        key: str,
        look_first_since: datetime | None = None,
    ) -> Sent:
        """Post the message. After an attempt whose outcome is unknown (Slack took longer than
        the client waits, or the connection broke), look for it first: it may have gone out."""
        try:
            if look_first_since is not None:
                found = self._find(target, thread_ts, key)
                if found is not None:
                    log.info("message %s had gone out after all: not sent again", key)
                    return found
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

    def _find(self, target: str, thread_ts: str | None, key: str) -> Sent | None:
        """The message with this outbox key among the conversation's latest (or the thread's)
        messages. Slack's own clock stamps them, so the search goes by recency, not time."""
        channel = target
        if target.startswith(("U", "W")):  # a direct message: its conversation's id
            channel = str(self.client.conversations_open(users=target)["channel"]["id"])
        if thread_ts:
            page = self.client.conversations_replies(
                channel=channel, ts=thread_ts, include_all_metadata=True, limit=200
            )
        else:
            page = self.client.conversations_history(
                channel=channel, include_all_metadata=True, limit=LOOK_BACK
            )
        for message in page.get("messages") or []:
            metadata = message.get("metadata") or {}
            if (
                metadata.get("event_type") == METADATA_EVENT
                and (metadata.get("event_payload") or {}).get("key") == key
            ):
                return Sent(channel=channel, ts=str(message["ts"]))
        return None

    def upload(
        self,
        *,
        target: str,
        thread_ts: str | None,
        payload: dict[str, Any],
        key: str,
        look_first_since: datetime | None = None,
    ) -> Sent:
        """Upload a file with files_upload_v2 (three calls: an upload URL, the bytes, then
        the share). Its filename carries the outbox key (files take no metadata), so a sender
        that does not know whether an earlier try went out looks for that name first.

        Slack's `missing_scope` here means the app lacks files:write: only files are
        refused, so it fails this file for good instead of pausing all delivery."""
        filename = str(payload["filename"])
        try:
            content = base64.b64decode(str(payload["file_b64"]), validate=True)
        except (KeyError, binascii.Error) as exc:
            raise DeliveryError("unreadable file payload", permanent=True) from exc
        try:
            if look_first_since is not None:
                found = self._find_file(target, thread_ts, filename)
                if found is not None:
                    log.info("file %s had gone out after all: not uploaded again", key)
                    return found
            response = self.client.files_upload_v2(
                channel=target,
                thread_ts=thread_ts,
                file=content,
                filename=filename,
                title=str(payload.get("title") or filename),
                alt_txt=str(payload.get("alt_txt") or "")[:1000] or None,
                initial_comment=str(payload.get("initial_comment") or "") or None,
                request_file_info=False,
            )
        except SlackApiError as exc:
            error = as_delivery_error(exc)
            if error.reason == "missing_scope":
                raise DeliveryError("missing_scope", permanent=True) from exc
            raise error from exc
        except (SlackClientError, URLError, OSError, TimeoutError) as exc:
            raise DeliveryError(f"connection: {type(exc).__name__}", permanent=False) from exc
        return _shared_at(response.get("files") or [response.get("file") or {}], target)

    def _find_file(self, target: str, thread_ts: str | None, filename: str) -> Sent | None:
        channel = target
        if thread_ts:
            page = self.client.conversations_replies(channel=channel, ts=thread_ts, limit=200)
        else:
            page = self.client.conversations_history(channel=channel, limit=LOOK_BACK)
        for message in page.get("messages") or []:
            if any(f.get("name") == filename for f in message.get("files") or []):
                return Sent(channel=channel, ts=str(message["ts"]))
        return None

    def update(self, *, channel: str, ts: str, payload: dict[str, Any]) -> None:
        try:
            self.client.chat_update(channel=channel, ts=ts, **payload)
        except SlackApiError as exc:
            raise as_delivery_error(exc) from exc
        except (SlackClientError, URLError, OSError, TimeoutError) as exc:
            raise DeliveryError(f"connection: {type(exc).__name__}", permanent=False) from exc

    def tell(self, response_url: str, text: str) -> None:
        """A private answer to the person who clicked, through the click's response URL."""
        try:
            WebhookClient(response_url, timeout=5).send(
                text=text, response_type="ephemeral", replace_original=False
            )
        except (SlackClientError, URLError, OSError, TimeoutError) as exc:
            raise DeliveryError(f"connection: {type(exc).__name__}", permanent=False) from exc


def _shared_at(files: list[dict[str, Any]], target: str) -> Sent:
    """Where Slack shows an uploaded file: the message that shares it in `target`."""
    for file in files:
        for shares in (file.get("shares") or {}).values():
            for channel, places in (shares or {}).items():
                if places:
                    return Sent(channel=str(channel), ts=str(places[0].get("ts")))
    # Slack may share a file a moment after answering: the file's id stands in for the ts.
    file_id = next((str(f["id"]) for f in files if f.get("id")), "unknown")
    return Sent(channel=target, ts=f"file:{file_id}")


def as_delivery_error(exc: SlackApiError) -> DeliveryError:
    status = exc.response.status_code
    error = str(exc.response.get("error", "")) if isinstance(exc.response.data, dict) else ""
    if status == 429:
        retry_after = _retry_after(exc.response.headers)
        return DeliveryError("ratelimited", permanent=False, retry_after=retry_after)
    if status >= 500:
        return DeliveryError(f"http {status}", permanent=False)
    if error in APP_WIDE:
        return DeliveryError(error, permanent=False, app_wide=True)
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
