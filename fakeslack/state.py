"""What the fake Slack remembers, and the helpers that change it with the lock held.

All state sits behind one lock; listeners that run on Bolt's worker threads and the test thread
can read and write it at the same time. Methods ending in ``_locked`` expect the caller to hold
it. ``FakeSlack`` (in ``server.py``) is assembled from this class and the mixins built on it.
"""

from __future__ import annotations

import copy
import itertools
import threading
import time
from collections.abc import Callable
from typing import Any

from fakeslack.faults import Fault
from fakeslack.records import (
    APP_ID,
    BOT_ID,
    MAX_VIEW_BLOCKS,
    TS_EPOCH,
    Call,
    PendingUpload,
    Posted,
    ResponseUrl,
    Upload,
    ViewRecord,
)
from fakeslack.replies import SlackError


def conversation(channel: str) -> tuple[str, str, str | None]:
    """(channel id as Slack reports it, Posted kind, DM user) for a channel argument.

    Posting to a user id posts into the app's DM with that user, reported as ``D<user>``; the
    fake names DM channels that way everywhere (conversations.open too), so ``D<user>`` maps back.
    """
    if channel[:1] in ("U", "W"):
        return "D" + channel, "dm", channel
    if channel.startswith("D"):
        user = channel[1:] if channel[1:2] in ("U", "W") else None
        return channel, "dm", user
    return channel, "message", None


def block_list(blocks: Any) -> list[dict[str, Any]]:
    return [b for b in blocks if isinstance(b, dict)] if isinstance(blocks, list) else []


class FakeSlackState:
    """The state behind ``FakeSlack``: Slack's side (users, messages, views) and its records."""

    def __init__(
        self,
        bot_user_id: str = "UBOTMISSING",
        team_id: str = "T0MISSING",
        *,
        ts_epoch: int = TS_EPOCH,
    ) -> None:
        """`ts_epoch`: where message timestamps start counting. Tests keep the fixed default so
        runs repeat; the demo starts from the wall clock, because its database outlives a run
        and an old episode's thread ts must not be handed out again."""
        self.ts_epoch = ts_epoch
        self.bot_user_id = bot_user_id
        self.team_id = team_id
        self.bot_id = BOT_ID
        self.app_id = APP_ID
        # Where apps.connections.open sends Socket Mode clients (None: not_allowed_token_type).
        self.socket_url: str | None = None
        # Called outside the lock, on the server thread, for every new Posted (demo console).
        self.on_post: Callable[[Posted], None] | None = None
        # Exceptions raised inside the fake itself (bugs, or a fault's `when` that raised).
        self.errors: list[BaseException] = []

        self._cond = threading.Condition(threading.Lock())
        self._version = 0  # bumped on every request start and end, for waiters
        self._inflight = 0
        self._last_activity = time.monotonic()
        # Set-up like users: kept by reset().
        self._users: dict[str, dict[str, Any]] = {}
        self._usergroups: dict[str, list[str]] = {}
        # Set when the fake stops, so answers a slow fault holds back go out at once.
        self._released = threading.Event()
        self._ids = itertools.count(1)
        self._reset_state()

    def _reset_state(self) -> None:
        self._calls: list[Call] = []
        self._posted: list[Posted] = []
        self._views: list[ViewRecord] = []
        self._current_views: dict[str, dict[str, Any]] = {}
        self._home_view_ids: dict[str, str] = {}
        self._messages: dict[tuple[str, str], dict[str, Any]] = {}
        self._used_triggers: set[str] = set()
        self._faults: list[Fault] = []
        self._response_urls: dict[str, ResponseUrl] = {}
        self._uploads: list[Upload] = []
        self._pending_uploads: dict[str, PendingUpload] = {}
        self._ts_seq = 0

    @property
    def url(self) -> str:
        """Where the fake is served (``FakeSlack`` knows once started); upload URLs point here."""
        raise NotImplementedError

    # ---- request bookkeeping (called from the HTTP handler threads) ------------------------

    def _begin_request(self) -> None:
        with self._cond:
            self._inflight += 1
            self._last_activity = time.monotonic()
            self._version += 1
            self._cond.notify_all()

    def _end_request(self) -> None:
        with self._cond:
            self._inflight -= 1
            self._last_activity = time.monotonic()
            self._version += 1
            self._cond.notify_all()

    def _record(self, call: Call, posts: list[Posted]) -> None:
        with self._cond:
            self._record_locked(call, posts)

    def _record_locked(self, call: Call, posts: list[Posted]) -> None:
        self._calls.append(call)
        self._posted.extend(posts)
        self._version += 1
        self._cond.notify_all()

    # ---- shared helpers for method handlers (lock held) ------------------------------------

    def _next_ts_locked(self) -> str:
        self._ts_seq += 1
        micros = self._ts_seq * 100
        return f"{self.ts_epoch + micros // 1_000_000}.{micros % 1_000_000:06d}"

    def _user_object(
        self, user_id: str, name: str, real_name: str, deleted: bool
    ) -> dict[str, Any]:
        return {
            "id": user_id,
            "team_id": self.team_id,
            "name": name,
            "real_name": real_name,
            "deleted": deleted,
            "is_bot": user_id == self.bot_user_id,
            "is_app_user": False,
            "tz": "Europe/London",
            "tz_label": "Greenwich Mean Time",
            "tz_offset": 0,
            "profile": {
                "real_name": real_name,
                "real_name_normalized": real_name,
                "display_name": name,
                "display_name_normalized": name,
                "team": self.team_id,
            },
        }

    def _user_locked(self, user_id: str) -> dict[str, Any]:
        known = self._users.get(user_id)
        if known is not None:
            return known
        if user_id == self.bot_user_id:
            return self._user_object(user_id, "missing-bot", "missing-bot", False)
        name = f"user-{user_id.lower()}"
        return self._user_object(user_id, name, f"User {user_id}", False)

    def _new_message_locked(self, args: dict[str, Any], ts: str) -> dict[str, Any]:
        message: dict[str, Any] = {
            "type": "message",
            "user": self.bot_user_id,
            "bot_id": self.bot_id,
            "app_id": self.app_id,
            "team": self.team_id,
            "ts": ts,
            "text": args.get("text", ""),
        }
        for key in ("blocks", "attachments", "metadata", "thread_ts"):
            if args.get(key):
                message[key] = args[key]
        return message

    def _store_view_locked(
        self, view: Any, *, view_id: str | None = None, previous: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """Slack's copy of a view: the request's view plus id, hash and bookkeeping fields."""
        if not isinstance(view, dict) or not view.get("type"):
            raise SlackError("invalid_arguments", "[ERROR] view must be an object with a type")
        if len(block_list(view.get("blocks"))) > MAX_VIEW_BLOCKS:
            raise SlackError("invalid_arguments", f"[ERROR] no more than {MAX_VIEW_BLOCKS} blocks")
        seq = next(self._ids)
        new_id = view_id or f"V{seq:010d}"
        stored = copy.deepcopy(view)
        stored.update(
            id=new_id,
            team_id=self.team_id,
            app_id=self.app_id,
            bot_id=self.bot_id,
            app_installed_team_id=self.team_id,
            hash=f"{TS_EPOCH + seq}.{seq:08d}",
            state={"values": {}},
            root_view_id=(previous or {}).get("root_view_id") or new_id,
            previous_view_id=(previous or {}).get("previous_view_id"),
        )
        for key, empty in (("callback_id", ""), ("private_metadata", ""), ("external_id", "")):
            stored.setdefault(key, empty)
        stored.setdefault("blocks", [])
        self._current_views[new_id] = stored
        return stored

    def _consume_trigger_locked(self, trigger_id: str) -> None:
        if trigger_id in self._used_triggers:
            raise SlackError("expired_trigger_id")
        self._used_triggers.add(trigger_id)
