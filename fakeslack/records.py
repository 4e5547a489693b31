"""What the fake Slack records, and the Slack limits and identity it answers with."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Slack's own limits that the fake enforces because Slack rejects the whole call over them.
MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_TEXT_CHARS = 40_000
# A response_url accepts five posts (within 30 minutes; the fake does not expire them by time).
RESPONSE_URL_MAX_USES = 5
MAX_BODY_BYTES = 10 * 1024 * 1024
# Fixed epoch for message timestamps: tests must not depend on the wall clock.
TS_EPOCH = 1_700_000_000
APP_ID = "A0MISSING"
BOT_ID = "B0MISSING"
TEAM_DOMAIN = "missing-test"


@dataclass(frozen=True)
class Call:
    """One request the fake received. ``args`` and ``response`` are shared: treat as read-only."""

    method: str
    args: dict[str, Any]
    response: dict[str, Any] | None
    status: int
    at: float
    token: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == 200 and bool(self.response and self.response.get("ok"))

    @property
    def error(self) -> str | None:
        return None if self.response is None else self.response.get("error")


@dataclass(frozen=True)
class Posted:
    """Something that became visible to a Slack user: a message, DM, ephemeral, update or respond.

    ``kind`` is one of "message", "dm", "ephemeral", "update", "response",
    "response_in_channel". ``user`` is the recipient for "dm" and "ephemeral" (and for responses
    when the response URL knows it). ``raw`` is the request as received.
    """

    kind: str
    channel: str | None
    user: str | None
    ts: str | None
    thread_ts: str | None
    text: str | None
    blocks: list[dict[str, Any]]
    raw: dict[str, Any]


@dataclass(frozen=True)
class ViewRecord:
    """A view the bot opened, updated, pushed or published, as Slack stored it (with its id)."""

    method: str
    id: str
    view: dict[str, Any]
    trigger_id: str | None = None
    user_id: str | None = None

    @property
    def callback_id(self) -> str:
        return str(self.view.get("callback_id") or "")


@dataclass
class ResponseUrl:
    """A response_url the fake handed out: where its posts land, and how often it was used."""

    channel: str | None
    user: str | None
    message_ts: str | None
    uses: int = 0


@dataclass(frozen=True)
class Upload:
    """A file the bot shared with files.completeUploadExternal, bytes as they arrived.

    ``channels`` are where it was shared (empty: a private file); ``ts`` is the message that
    shows it in the first of them.
    """

    id: str
    filename: str
    title: str
    content: bytes
    channels: tuple[str, ...]
    thread_ts: str | None
    initial_comment: str | None
    ts: str | None
    alt_txt: str | None = None
    snippet_type: str | None = None

    @property
    def channel(self) -> str | None:
        return self.channels[0] if self.channels else None


@dataclass
class PendingUpload:
    """A file id from files.getUploadURLExternal, waiting for its bytes and its completion."""

    filename: str
    alt_txt: str | None
    snippet_type: str | None
    content: bytes | None = None
