"""A fake Slack Web API over real HTTP, for tests and the offline demo console.

Nothing here reaches Slack. The bot's ``WebClient`` is pointed at ``FakeSlack.api_url`` (Bolt
copies ``base_url`` into the client it builds for every request, so mocking ``app.client`` would
catch nothing). The fake answers like Slack does: HTTP 200 with ``{"ok": false, "error": ...}``
for API errors, 429 with ``Retry-After`` when rate limited, and it records every request so tests
can assert on what the bot sent.

Standard library only, so the demo console can use it without the dev dependencies.
All state sits behind one lock; listeners that run on Bolt's worker threads and the test thread
can read and write it at the same time.
"""

from __future__ import annotations

import contextlib
import copy
import email.parser
import email.policy
import itertools
import json
import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar
from urllib.parse import parse_qsl

__all__ = ["Call", "FakeSlack", "Posted", "ViewRecord"]

log = logging.getLogger(__name__)

T = TypeVar("T")

# Slack's own limits that the fake enforces because Slack rejects the whole call over them.
MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_TEXT_CHARS = 40_000
# A response_url accepts five posts (within 30 minutes; the fake does not expire them by time).
RESPONSE_URL_MAX_USES = 5
MAX_BODY_BYTES = 10 * 1024 * 1024
# Form-encoded callers send these as JSON strings; JSON callers send them as objects.
JSON_FIELDS = frozenset({"blocks", "attachments", "view", "metadata", "user_auth_blocks"})
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
class _Fault:
    method: str
    status: int
    error: str | None
    retry_after: int | None
    remaining: int | None
    when: Callable[[dict[str, Any]], bool] | None


@dataclass
class _ResponseUrl:
    channel: str | None
    user: str | None
    message_ts: str | None
    uses: int = 0


@dataclass
class _Reply:
    """What the HTTP handler writes back."""

    status: int
    body: bytes
    content_type: str
    headers: dict[str, str] = field(default_factory=dict)
    json_body: dict[str, Any] | None = None

    @classmethod
    def of_json(cls, data: dict[str, Any], status: int = 200, **headers: str) -> _Reply:
        body = json.dumps(data).encode()
        return cls(status, body, "application/json; charset=utf-8", dict(headers), data)

    @classmethod
    def of_text(cls, status: int, text: str) -> _Reply:
        return cls(status, text.encode(), "text/plain; charset=utf-8")


class SlackError(Exception):
    """Raised by a method handler to answer ``{"ok": false, "error": code}`` with HTTP 200."""

    def __init__(self, code: str, *messages: str) -> None:
        super().__init__(code)
        self.code = code
        self.messages = list(messages)


Outcome = tuple[dict[str, Any], list[Posted]]


# --------------------------------------------------------------------------------------------
# Request parsing


def parse_api_body(content_type: str, body: bytes, query: str = "") -> dict[str, Any]:
    """Arguments of a Web API call, whichever way the client encoded them.

    slack-sdk sends JSON for methods carrying blocks or views and form encoding for the rest;
    Slack also accepts query strings and multipart. Top-level nulls are dropped because Slack
    treats them as absent (slack-sdk leaves some in JSON bodies, e.g. ``interactivity_pointer``).
    """
    args: dict[str, Any] = dict(parse_qsl(query, keep_blank_values=True))
    mime = content_type.split(";")[0].strip().lower()
    if mime == "application/json":
        decoded = json.loads(body.decode("utf-8")) if body.strip() else {}
        if not isinstance(decoded, dict):
            raise ValueError("JSON body is not an object")
        args.update(decoded)
    elif mime == "multipart/form-data":
        args.update(_parse_multipart(content_type, body))
    elif body:
        args.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    return _decode_json_fields({k: v for k, v in args.items() if v is not None})


def _parse_multipart(content_type: str, body: bytes) -> dict[str, Any]:
    head = f"Content-Type: {content_type}\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    fields: dict[str, Any] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        raw = part.get_payload(decode=True)
        payload = raw if isinstance(raw, bytes) else b""
        if part.get_filename():
            fields[name] = f"<file {part.get_filename()} {len(payload)} bytes>"
        else:
            fields[name] = payload.decode("utf-8", errors="replace")
    return fields


def _decode_json_fields(args: dict[str, Any]) -> dict[str, Any]:
    for key in JSON_FIELDS & args.keys():
        value = args[key]
        if isinstance(value, str) and value.lstrip()[:1] in ("[", "{"):
            # Left as a string if it is not JSON: the method answers invalid_*_format like Slack.
            with contextlib.suppress(ValueError):
                args[key] = json.loads(value)
    return args


def bearer_token(authorization: str | None) -> str | None:
    if authorization and authorization.lower().startswith("bearer "):
        return authorization[7:].strip() or None
    return None


def _conversation(channel: str) -> tuple[str, str, str | None]:
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


def _check_blocks(args: dict[str, Any], limit: int = MAX_MESSAGE_BLOCKS) -> list[dict[str, Any]]:
    blocks = args.get("blocks")
    if blocks is None:
        return []
    if isinstance(blocks, str):
        raise SlackError("invalid_blocks_format")
    well_formed = isinstance(blocks, list) and all(
        isinstance(b, dict) and b.get("type") for b in blocks
    )
    if not well_formed:
        raise SlackError("invalid_blocks", "[ERROR] every block must be an object with a type")
    if len(blocks) > limit:
        raise SlackError("invalid_blocks", f"[ERROR] no more than {limit} items allowed")
    return blocks


def _require(args: dict[str, Any], *names: str) -> None:
    missing = [n for n in names if not args.get(n)]
    if missing:
        messages = (f"[ERROR] missing required field: {n}" for n in missing)
        raise SlackError("invalid_arguments", *messages)


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


# --------------------------------------------------------------------------------------------
# The fake


class FakeSlack:
    """A fake Slack Web API on ``http://127.0.0.1:<random port>/``, served on a daemon thread.

    Use ``with FakeSlack() as slack:`` or ``start()``/``stop()``. Point clients at ``api_url``.
    """

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
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._users: dict[str, dict[str, Any]] = {}
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
        self._faults: list[_Fault] = []
        self._response_urls: dict[str, _ResponseUrl] = {}
        self._ts_seq = 0

    # ---- lifecycle -------------------------------------------------------------------------

    def start(self) -> FakeSlack:
        """Bind 127.0.0.1 port 0 and serve on a daemon thread. Idempotent."""
        if self._server is not None:
            return self
        self._server = _Server(self)
        # A short poll interval keeps stop() fast; shutdown waits for the poll to notice.
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"FakeSlack:{self._server.server_port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket. Idempotent."""
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> FakeSlack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("FakeSlack is not started")
        return f"http://127.0.0.1:{self._server.server_port}/"

    @property
    def api_url(self) -> str:
        """What ``WebClient(base_url=...)`` takes (the trailing slash matters to slack-sdk)."""
        return self.url + "api/"

    def __repr__(self) -> str:
        where = self.url if self._server is not None else "stopped"
        return f"<FakeSlack {where} calls={len(self._calls)} posted={len(self._posted)}>"

    # ---- set-up ----------------------------------------------------------------------------

    def add_user(
        self, user_id: str, name: str, deleted: bool = False, *, real_name: str | None = None
    ) -> None:
        """Register a user so users.info answers with this name (and ``deleted`` flag)."""
        with self._cond:
            self._users[user_id] = self._user_object(user_id, name, real_name or name, deleted)

    def user(self, user_id: str) -> dict[str, Any]:
        """The user object users.info would return (generated for unknown users)."""
        with self._cond:
            return copy.deepcopy(self._user_locked(user_id))

    def new_response_url(
        self,
        *,
        channel_id: str | None = None,
        user_id: str | None = None,
        message_ts: str | None = None,
    ) -> str:
        """A fresh response_url. Posts there are recorded as Posted kind "response".

        Knowing the channel, user and (for button clicks) the message lets ``replace_original``
        and ``delete_original`` act on the stored message, as Slack does.
        """
        key = str(next(self._ids))
        with self._cond:
            self._response_urls[key] = _ResponseUrl(channel_id, user_id, message_ts)
        return f"{self.url}response/{key}"

    def fail(
        self,
        method: str,
        *,
        status: int = 200,
        error: str | None = None,
        retry_after: int | None = None,
        times: int | None = 1,
        when: Callable[[dict[str, Any]], bool] | None = None,
    ) -> None:
        """Make the next ``times`` calls to ``method`` fail (``times=None``: until cleared).

        ``method`` is a Web API method name, or "response_url" for posts to response URLs.
        ``when(args)`` narrows which calls fail; it runs under the fake's lock, so it must be
        quick and must not call the fake. Faults apply in the order they were added.
        """
        if status == 200 and not error:
            raise ValueError("a status-200 fault needs an error code, e.g. 'channel_not_found'")
        if times is not None and times < 1:
            raise ValueError("times must be at least 1 (or None for 'until clear_faults()')")
        with self._cond:
            self._faults.append(_Fault(method, status, error, retry_after, times, when))

    def clear_faults(self) -> None:
        with self._cond:
            self._faults.clear()

    def reset(self) -> None:
        """Forget calls, posts, messages, views and faults; keep users and socket_url."""
        with self._cond:
            self._reset_state()
            self._version += 1
            self._cond.notify_all()

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

    def view(self, view_id: str) -> dict[str, Any] | None:
        """The current state of a view by id (after updates)."""
        with self._cond:
            current = self._current_views.get(view_id)
            return copy.deepcopy(current) if current is not None else None

    def message(self, channel: str, ts: str) -> dict[str, Any] | None:
        """The message as it stands now (after chat.update / replace_original), or None."""
        channel_id, _, _ = _conversation(channel)
        with self._cond:
            stored = self._messages.get((channel_id, ts))
            return copy.deepcopy(stored) if stored is not None else None

    def messages_in(self, channel: str, *, kinds: Iterable[str] | None = None) -> list[Posted]:
        """Everything posted to ``channel`` (all kinds unless ``kinds`` narrows it), in order.

        A user id means the DM with that user.
        """
        channel_id, _, _ = _conversation(channel)
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

    def wait_for(
        self, predicate: Callable[[FakeSlack], T | bool | None], timeout: float = 5.0
    ) -> T:
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

        def enough(fake: FakeSlack) -> list[Call] | None:
            found = fake.calls_to(method)
            return found if len(found) >= count else None

        return self.wait_for(enough, timeout)

    def wait_for_posted(
        self, kind: str | None = None, count: int = 1, timeout: float = 5.0, since: int = 0
    ) -> list[Posted]:
        """Wait for ``count`` Posted (of ``kind``, if given) after index ``since``; return them."""

        def enough(fake: FakeSlack) -> list[Posted] | None:
            found = [p for p in fake.posted[since:] if kind is None or p.kind == kind]
            return found if len(found) >= count else None

        return self.wait_for(enough, timeout)

    def wait_for_view(
        self, callback_id: str | None = None, *, since: int = 0, timeout: float = 5.0
    ) -> ViewRecord:
        """Wait for a view (with ``callback_id``, if given) at index ``since`` or later in
        ``views``; return the latest such."""

        def found(fake: FakeSlack) -> ViewRecord | None:
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

    # ---- request handling (called from the HTTP handler threads) ---------------------------

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

    def _handle_api(
        self, method: str, content_type: str, body: bytes, query: str, token: str | None
    ) -> _Reply:
        self._begin_request()
        try:
            reply, posts = self._serve_api(method, content_type, body, query, token)
            self._announce(posts)
            return reply
        finally:
            self._end_request()

    def _serve_api(
        self, method: str, content_type: str, body: bytes, query: str, token: str | None
    ) -> tuple[_Reply, list[Posted]]:
        at = time.monotonic()
        try:
            args = parse_api_body(content_type, body, query)
        except ValueError:
            args = {"_raw": body.decode("utf-8", errors="replace")}
            reply = _Reply.of_json({"ok": False, "error": "invalid_json"})
            self._record(Call(method, args, reply.json_body, 200, at, token), [])
            return reply, []
        token = token or args.pop("token", None)
        with self._cond:
            try:
                reply, posts = self._dispatch_locked(method, args, token)
            except Exception as exc:  # a bug in the fake, or a fault's `when` raising
                log.exception("FakeSlack failed on %s", method)
                self.errors.append(exc)
                reply, posts = _Reply.of_text(500, f"FakeSlack internal error: {exc!r}"), []
            self._record_locked(Call(method, args, reply.json_body, reply.status, at, token), posts)
        return reply, posts

    def _dispatch_locked(
        self, method: str, args: dict[str, Any], token: str | None
    ) -> tuple[_Reply, list[Posted]]:
        fault = self._take_fault_locked(method, args)
        if fault is not None:
            return _fault_reply(fault, json_errors=True), []
        handler = _API_METHODS.get(method)
        if handler is None:
            return _Reply.of_json({"ok": False, "error": "unknown_method"}), []
        if not token:
            return _Reply.of_json({"ok": False, "error": "not_authed"}), []
        try:
            data, posts = handler(self, args, token)
        except SlackError as err:
            data, posts = {"ok": False, "error": err.code}, []
            if err.messages:
                data["response_metadata"] = {"messages": err.messages}
        return _Reply.of_json(data), posts

    def _take_fault_locked(self, method: str, args: dict[str, Any]) -> _Fault | None:
        for fault in self._faults:
            if fault.method != method or (fault.when is not None and not fault.when(args)):
                continue
            if fault.remaining is not None:
                fault.remaining -= 1
                if fault.remaining == 0:
                    self._faults.remove(fault)
            return fault
        return None

    def _record(self, call: Call, posts: list[Posted]) -> None:
        with self._cond:
            self._record_locked(call, posts)

    def _record_locked(self, call: Call, posts: list[Posted]) -> None:
        self._calls.append(call)
        self._posted.extend(posts)
        self._version += 1
        self._cond.notify_all()

    def _announce(self, posts: list[Posted]) -> None:
        hook = self.on_post
        if hook is None:
            return
        for post in posts:
            try:
                hook(post)
            except Exception:  # a broken printer must not turn into a Slack error for the bot
                log.exception("FakeSlack.on_post hook failed")

    def _handle_response_url(self, key: str, content_type: str, body: bytes) -> _Reply:
        self._begin_request()
        try:
            at = time.monotonic()
            args = _parse_response_body(content_type, body)
            with self._cond:
                try:
                    reply, posts = self._serve_response_locked(key, args)
                except Exception as exc:  # a bug in the fake, or a fault's `when` raising
                    log.exception("FakeSlack failed on response_url")
                    self.errors.append(exc)
                    reply, posts = _Reply.of_text(500, f"FakeSlack internal error: {exc!r}"), []
                self._record_locked(
                    Call("response_url", args, reply.json_body, reply.status, at), posts
                )
            self._announce(posts)
            return reply
        finally:
            self._end_request()

    def _serve_response_locked(self, key: str, args: dict[str, Any]) -> tuple[_Reply, list[Posted]]:
        fault = self._take_fault_locked("response_url", args)
        if fault is not None:
            return _fault_reply(fault, json_errors=False), []
        target = self._response_urls.get(key)
        if target is None:
            return _Reply.of_text(404, "no_such_response_url"), []
        if target.uses >= RESPONSE_URL_MAX_USES:
            return _Reply.of_text(404, "used_url"), []
        if "_raw" in args:
            return _Reply.of_text(400, "invalid_payload"), []
        target.uses += 1
        return _Reply.of_text(200, "ok"), [self._apply_response_locked(target, args)]

    def _apply_response_locked(self, target: _ResponseUrl, args: dict[str, Any]) -> Posted:
        """Record a respond() post; replace or delete the original message like Slack does."""
        in_channel = args.get("response_type") == "in_channel"
        ts = None
        original = None
        if target.channel and target.message_ts:
            original = (_conversation(target.channel)[0], target.message_ts)
        if original is not None and _truthy(args.get("delete_original")):
            self._messages.pop(original, None)
            ts = original[1]
        elif original is not None and _truthy(args.get("replace_original")):
            stored = self._messages.get(original)
            if stored is not None:
                stored["text"] = args.get("text", "")
                stored["blocks"] = args.get("blocks", [])
            ts = original[1]
        return Posted(
            kind="response_in_channel" if in_channel else "response",
            channel=_conversation(target.channel)[0] if target.channel else None,
            user=target.user,
            ts=ts,
            thread_ts=args.get("thread_ts"),
            text=args.get("text"),
            blocks=_block_list(args.get("blocks")),
            raw=args,
        )

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
        if len(_block_list(view.get("blocks"))) > MAX_VIEW_BLOCKS:
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

    # ---- Web API methods (lock held; raise SlackError for {"ok": false}) -------------------

    def _api_auth_test(self, args: dict[str, Any], token: str) -> Outcome:
        return {
            "ok": True,
            "url": f"https://{TEAM_DOMAIN}.slack.com/",
            "team": "Missing Test",
            "team_id": self.team_id,
            "user": "missing-bot",
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }, []

    def _api_chat_post_message(self, args: dict[str, Any], token: str) -> Outcome:
        channel_arg = args.get("channel")
        if not channel_arg:
            raise SlackError("channel_not_found")
        blocks = _check_text_and_blocks(args)
        channel, kind, user = _conversation(str(channel_arg))
        ts = self._next_ts_locked()
        message = self._new_message_locked(args, ts)
        self._messages[(channel, ts)] = message
        thread_ts = str(args["thread_ts"]) if args.get("thread_ts") else None
        posted = Posted(kind, channel, user, ts, thread_ts, args.get("text"), blocks, args)
        return {"ok": True, "channel": channel, "ts": ts, "message": copy.deepcopy(message)}, [
            posted
        ]

    def _api_chat_post_ephemeral(self, args: dict[str, Any], token: str) -> Outcome:
        _require(args, "channel", "user")
        blocks = _check_text_and_blocks(args)
        channel = _conversation(str(args["channel"]))[0]
        ts = self._next_ts_locked()
        posted = Posted(
            "ephemeral",
            channel,
            str(args["user"]),
            ts,
            args.get("thread_ts") or None,
            args.get("text"),
            blocks,
            args,
        )
        return {"ok": True, "message_ts": ts}, [posted]

    def _api_chat_update(self, args: dict[str, Any], token: str) -> Outcome:
        _require(args, "channel", "ts")
        channel, _, user = _conversation(str(args["channel"]))
        ts = str(args["ts"])
        message = self._messages.get((channel, ts))
        if message is None:
            raise SlackError("message_not_found")
        _check_blocks(args)
        # Slack keeps the old blocks/attachments when the update omits them; [] removes them.
        for key in ("text", "blocks", "attachments", "metadata"):
            if key in args:
                message[key] = args[key]
        message["edited"] = {"user": self.bot_user_id, "ts": self._next_ts_locked()}
        posted = Posted(
            "update",
            channel,
            user,
            ts,
            message.get("thread_ts"),
            message.get("text"),
            _block_list(message.get("blocks")),
            args,
        )
        data = {
            "ok": True,
            "channel": channel,
            "ts": ts,
            "text": message.get("text", ""),
            "message": copy.deepcopy(message),
        }
        return data, [posted]

    def _api_chat_get_permalink(self, args: dict[str, Any], token: str) -> Outcome:
        _require(args, "channel", "message_ts")
        channel = _conversation(str(args["channel"]))[0]
        stamp = str(args["message_ts"]).replace(".", "")
        link = f"https://{TEAM_DOMAIN}.slack.com/archives/{channel}/p{stamp}"
        return {"ok": True, "channel": channel, "permalink": link}, []

    def _api_views_open(self, args: dict[str, Any], token: str) -> Outcome:
        _require(args, "trigger_id", "view")
        _require_view_type(args["view"], "modal")
        self._consume_trigger_locked(str(args["trigger_id"]))
        stored = self._store_view_locked(args["view"])
        self._views.append(
            ViewRecord("views.open", stored["id"], copy.deepcopy(stored), str(args["trigger_id"]))
        )
        return {"ok": True, "view": copy.deepcopy(stored)}, []

    def _api_views_push(self, args: dict[str, Any], token: str) -> Outcome:
        _require(args, "trigger_id", "view")
        _require_view_type(args["view"], "modal")
        self._consume_trigger_locked(str(args["trigger_id"]))
        stored = self._store_view_locked(args["view"])
        self._views.append(
            ViewRecord("views.push", stored["id"], copy.deepcopy(stored), str(args["trigger_id"]))
        )
        return {"ok": True, "view": copy.deepcopy(stored)}, []

    def _api_views_update(self, args: dict[str, Any], token: str) -> Outcome:
        _require(args, "view")
        current = self._find_view_locked(args.get("view_id"), args.get("external_id"))
        if args.get("hash") and args["hash"] != current["hash"]:
            raise SlackError("hash_conflict")
        stored = self._store_view_locked(args["view"], view_id=current["id"], previous=current)
        self._views.append(ViewRecord("views.update", stored["id"], copy.deepcopy(stored)))
        return {"ok": True, "view": copy.deepcopy(stored)}, []

    def _find_view_locked(self, view_id: Any, external_id: Any) -> dict[str, Any]:
        if view_id:
            found = self._current_views.get(str(view_id))
        elif external_id:
            found = next(
                (v for v in self._current_views.values() if v.get("external_id") == external_id),
                None,
            )
        else:
            raise SlackError("invalid_arguments", "[ERROR] view_id or external_id is required")
        if found is None:
            raise SlackError("not_found")
        return found

    def _api_views_publish(self, args: dict[str, Any], token: str) -> Outcome:
        _require(args, "user_id", "view")
        _require_view_type(args["view"], "home")
        user_id = str(args["user_id"])
        existing_id = self._home_view_ids.get(user_id)
        existing = self._current_views.get(existing_id) if existing_id else None
        if existing is not None and args.get("hash") and args["hash"] != existing["hash"]:
            raise SlackError("hash_conflict")
        stored = self._store_view_locked(args["view"], view_id=existing_id, previous=existing)
        self._home_view_ids[user_id] = stored["id"]
        self._views.append(
            ViewRecord("views.publish", stored["id"], copy.deepcopy(stored), user_id=user_id)
        )
        return {"ok": True, "view": copy.deepcopy(stored)}, []

    def _api_users_info(self, args: dict[str, Any], token: str) -> Outcome:
        _require(args, "user")
        return {"ok": True, "user": copy.deepcopy(self._user_locked(str(args["user"])))}, []

    def _api_conversations_info(self, args: dict[str, Any], token: str) -> Outcome:
        _require(args, "channel")
        channel, kind, user = _conversation(str(args["channel"]))
        info: dict[str, Any] = {
            "id": channel,
            "name": channel.lower(),
            "is_channel": kind == "message",
            "is_group": False,
            "is_im": kind == "dm",
            "is_private": kind == "dm",
            "is_archived": False,
            "is_member": True,
            "context_team_id": self.team_id,
        }
        if user:
            info["user"] = user
        return {"ok": True, "channel": info}, []

    def _api_conversations_open(self, args: dict[str, Any], token: str) -> Outcome:
        if args.get("channel"):
            return {"ok": True, "channel": {"id": str(args["channel"])}, "no_op": True}, []
        users = args.get("users")
        names = users if isinstance(users, list) else str(users or "").split(",")
        names = [u.strip() for u in names if u and u.strip()]
        if not names:
            raise SlackError("users_list_not_supplied")
        channel = "D" + names[0] if len(names) == 1 else "G" + "".join(sorted(names))[:20]
        return {"ok": True, "channel": {"id": channel}, "no_op": False}, []

    def _api_apps_connections_open(self, args: dict[str, Any], token: str) -> Outcome:
        # Slack only hands out Socket Mode URLs to app-level tokens.
        if not token.startswith("xapp-") or self.socket_url is None:
            raise SlackError("not_allowed_token_type")
        return {"ok": True, "url": self.socket_url}, []


_API_METHODS: dict[str, Callable[[FakeSlack, dict[str, Any], str], Outcome]] = {
    "auth.test": FakeSlack._api_auth_test,
    "chat.postMessage": FakeSlack._api_chat_post_message,
    "chat.postEphemeral": FakeSlack._api_chat_post_ephemeral,
    "chat.update": FakeSlack._api_chat_update,
    "chat.getPermalink": FakeSlack._api_chat_get_permalink,
    "views.open": FakeSlack._api_views_open,
    "views.push": FakeSlack._api_views_push,
    "views.update": FakeSlack._api_views_update,
    "views.publish": FakeSlack._api_views_publish,
    "users.info": FakeSlack._api_users_info,
    "conversations.info": FakeSlack._api_conversations_info,
    "conversations.open": FakeSlack._api_conversations_open,
    "apps.connections.open": FakeSlack._api_apps_connections_open,
}


def _check_text_and_blocks(args: dict[str, Any]) -> list[dict[str, Any]]:
    blocks = _check_blocks(args)
    if not args.get("text") and not blocks and not args.get("attachments"):
        raise SlackError("no_text")
    if len(str(args.get("text", ""))) > MAX_TEXT_CHARS:
        raise SlackError("msg_too_long")
    return blocks


def _require_view_type(view: Any, expected: str) -> None:
    if isinstance(view, str):
        raise SlackError("invalid_arguments", "[ERROR] view is not valid JSON")
    if not isinstance(view, dict) or view.get("type") != expected:
        raise SlackError("invalid_arguments", f"[ERROR] view type must be {expected!r}")


def _block_list(blocks: Any) -> list[dict[str, Any]]:
    return [b for b in blocks if isinstance(b, dict)] if isinstance(blocks, list) else []


def _truthy(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() in ("true", "1"))


def _parse_response_body(content_type: str, body: bytes) -> dict[str, Any]:
    """respond() posts JSON; anything else is kept raw so the fake can answer 400."""
    try:
        data = json.loads(body.decode("utf-8"))
    except ValueError:
        return {"_raw": body.decode("utf-8", errors="replace"), "_content_type": content_type}
    return data if isinstance(data, dict) else {"_raw": data}


def _fault_reply(fault: _Fault, *, json_errors: bool) -> _Reply:
    if fault.status == 429:
        retry_after = str(fault.retry_after if fault.retry_after is not None else 1)
        return _Reply.of_json(
            {"ok": False, "error": "ratelimited"}, 429, **{"Retry-After": retry_after}
        )
    if fault.status >= 500:
        return _Reply.of_text(fault.status, fault.error or f"fake server error {fault.status}")
    if not json_errors:  # response URLs answer in plain text
        return _Reply.of_text(fault.status, fault.error or "invalid_request")
    return _Reply.of_json({"ok": False, "error": fault.error or "invalid_request"}, fault.status)


# --------------------------------------------------------------------------------------------
# HTTP plumbing


class _Server(ThreadingHTTPServer):
    # Bursts of concurrent requests overflow the default backlog of 5 and then wait for the
    # kernel's 1-second SYN retry; 128 keeps latency flat.
    request_queue_size = 128
    daemon_threads = True

    def __init__(self, fake: FakeSlack) -> None:
        self.fake = fake
        super().__init__(("127.0.0.1", 0), _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that hang up mid-request are normal in tests; keep stderr clean.
        log.debug("FakeSlack connection error from %s", client_address, exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    server_version = "FakeSlack/1.0"

    def do_POST(self) -> None:
        self._serve()

    def do_GET(self) -> None:
        self._serve()

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("FakeSlack %s", format % args)

    def _serve(self) -> None:
        fake = self.server.fake
        path, _, query = self.path.partition("?")
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            self._send(_Reply.of_text(413, "request_too_large"))
            return
        body = self.rfile.read(length) if length else b""
        content_type = self.headers.get("Content-Type", "")
        if path.startswith("/api/"):
            token = bearer_token(self.headers.get("Authorization"))
            reply = fake._handle_api(path[len("/api/") :], content_type, body, query, token)
        elif path.startswith("/response/"):
            reply = fake._handle_response_url(path[len("/response/") :], content_type, body)
        else:
            reply = _Reply.of_text(404, "not_found")
        self._send(reply)

    def _send(self, reply: _Reply) -> None:
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(reply.body)
