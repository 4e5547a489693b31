"""conversations.history: a channel's messages, newest first, paged like Slack pages them.

Only what Slack keeps in the channel: messages posted or shared there (as they stand after
updates and deletions), not ephemeral messages and not thread replies, which stay in their
thread. Message ``metadata`` comes back only with ``include_all_metadata``.
"""

from __future__ import annotations

import base64
import binascii
import copy
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from fakeslack.checks import truthy, whole_number
from fakeslack.replies import Outcome, SlackError
from fakeslack.state import FakeSlackState

DEFAULT_LIMIT = 100
MAX_LIMIT = 999


class History(FakeSlackState):
    def _api_conversations_history(self, args: dict[str, Any], token: str) -> Outcome:
        channel = str(args.get("channel") or "")
        # A user id is not a conversation id here (only the chat methods map it to the DM).
        if not channel or channel[:1] in ("U", "W"):
            raise SlackError("channel_not_found")
        limit = whole_number(args, "limit")
        if limit is not None and limit < 1:
            raise SlackError("invalid_arguments", "[ERROR] limit must be at least 1")
        limit = min(limit or DEFAULT_LIMIT, MAX_LIMIT)
        oldest = _ts_arg(args, "oldest", "invalid_ts_oldest")
        latest = _ts_arg(args, "latest", "invalid_ts_latest")
        before = _cursor_ts(args.get("cursor"))
        inclusive = truthy(args.get("inclusive"))

        in_channel = [m for (c, _), m in self._messages.items() if c == channel]
        newest_first = sorted((m for m in in_channel if _is_top_level(m)), key=_ts_of, reverse=True)
        window = [
            m
            for m in newest_first
            if _within(_ts_of(m), oldest, latest, inclusive)
            and (before is None or _ts_of(m) < before)
        ]
        page = window[:limit]
        with_metadata = truthy(args.get("include_all_metadata"))
        data: dict[str, Any] = {
            "ok": True,
            "messages": [_as_listed(m, in_channel, with_metadata) for m in page],
            "has_more": len(window) > limit,
            "pin_count": 0,
            "channel_actions_ts": None,
            "channel_actions_count": 0,
        }
        if len(window) > limit:
            data["response_metadata"] = {"next_cursor": _cursor_for(page[-1]["ts"])}
        return data, []

    def _api_conversations_replies(self, args: dict[str, Any], token: str) -> Outcome:
        """A thread: its parent, then its replies, oldest first (one page: threads are short)."""
        channel = str(args.get("channel") or "")
        if not channel or channel[:1] in ("U", "W"):
            raise SlackError("channel_not_found")
        parent_ts = str(args.get("ts") or "")
        parent = self._messages.get((channel, parent_ts))
        if parent is None:
            raise SlackError("thread_not_found")
        oldest = _ts_arg(args, "oldest", "invalid_ts_oldest")
        with_metadata = truthy(args.get("include_all_metadata"))
        thread = [
            m
            for (c, _), m in self._messages.items()
            if c == channel and (m is parent or m.get("thread_ts") == parent_ts)
        ]
        thread.sort(key=_ts_of)
        listed = []
        for message in thread:
            if message is not parent and oldest is not None and _ts_of(message) < oldest:
                continue
            shown = copy.deepcopy(message)
            if not with_metadata:
                shown.pop("metadata", None)
            listed.append(shown)
        return {"ok": True, "messages": listed, "has_more": False}, []


def _is_top_level(message: dict[str, Any]) -> bool:
    return message.get("thread_ts") in (None, message["ts"])


def _as_listed(
    message: dict[str, Any], in_channel: list[dict[str, Any]], with_metadata: bool
) -> dict[str, Any]:
    """A message as history lists it: thread parents carry their reply summary."""
    listed = copy.deepcopy(message)
    if not with_metadata:
        listed.pop("metadata", None)
    replies = [m for m in in_channel if m.get("thread_ts") == message["ts"] and m is not message]
    if replies:
        users = list(dict.fromkeys(str(r.get("user")) for r in replies))
        listed.update(
            thread_ts=message["ts"],
            reply_count=len(replies),
            reply_users=users,
            reply_users_count=len(users),
            latest_reply=max((r["ts"] for r in replies), key=Decimal),
        )
    return listed


def _ts_of(message: dict[str, Any]) -> Decimal:
    # Decimal, not float: "1700000000.000100" has more digits than a float keeps exactly.
    return Decimal(message["ts"])


def _ts_arg(args: dict[str, Any], name: str, error: str) -> Decimal | None:
    value = args.get(name)
    if value is None or value == "":
        return None
    try:
        ts = Decimal(str(value))
    except InvalidOperation:
        raise SlackError(error) from None
    if not ts.is_finite():
        raise SlackError(error)
    return ts


def _within(ts: Decimal, oldest: Decimal | None, latest: Decimal | None, inclusive: bool) -> bool:
    if oldest is not None and (ts < oldest or (ts == oldest and not inclusive)):
        return False
    return latest is None or ts < latest or (ts == latest and inclusive)


# Slack's cursors are opaque; its history cursors happen to be base64 of "next_ts:<ts>".
def _cursor_for(ts: str) -> str:
    return base64.b64encode(f"next_ts:{ts}".encode()).decode()


def _cursor_ts(cursor: Any) -> Decimal | None:
    if not cursor:
        return None
    try:
        text = base64.b64decode(str(cursor), validate=True).decode()
        prefix, _, ts = text.partition(":")
        if prefix != "next_ts":
            raise ValueError(text)
        return Decimal(ts)
    except (ValueError, binascii.Error, InvalidOperation):
        raise SlackError("invalid_cursor") from None


HISTORY_METHODS: dict[str, Callable[[History, dict[str, Any], str], Outcome]] = {
    "conversations.history": History._api_conversations_history,
    "conversations.replies": History._api_conversations_replies,
}
