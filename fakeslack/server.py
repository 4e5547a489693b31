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

import copy
import logging
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from fakeslack.decoding import JSON_FIELDS, bearer_token, parse_api_body, parse_response_body
from fakeslack.faults import Fault, fault_reply, take_fault
from fakeslack.observing import Observing
from fakeslack.records import (
    APP_ID,
    BOT_ID,
    MAX_BODY_BYTES,
    MAX_MESSAGE_BLOCKS,
    MAX_TEXT_CHARS,
    MAX_VIEW_BLOCKS,
    RESPONSE_URL_MAX_USES,
    TEAM_DOMAIN,
    TS_EPOCH,
    Call,
    Posted,
    ResponseUrl,
    ViewRecord,
)
from fakeslack.replies import Outcome, Reply, SlackError
from fakeslack.response_urls import ResponseUrls
from fakeslack.web_api import API_METHODS, WebApi

__all__ = ["Call", "FakeSlack", "Posted", "ViewRecord"]
# Defined in this module before it was split up; re-exported so existing imports keep working.
__all__ += [
    "APP_ID",
    "BOT_ID",
    "JSON_FIELDS",
    "MAX_BODY_BYTES",
    "MAX_MESSAGE_BLOCKS",
    "MAX_TEXT_CHARS",
    "MAX_VIEW_BLOCKS",
    "RESPONSE_URL_MAX_USES",
    "TEAM_DOMAIN",
    "TS_EPOCH",
    "Outcome",
    "SlackError",
    "bearer_token",
    "parse_api_body",
]

log = logging.getLogger(__name__)


class FakeSlack(WebApi, ResponseUrls, Observing):
    """A fake Slack Web API on ``http://127.0.0.1:<random port>/``, served on a daemon thread.

    Use ``with FakeSlack() as slack:`` or ``start()``/``stop()``. Point clients at ``api_url``.
    The constructor and the state live in ``FakeSlackState`` (``state.py``); the Web API methods,
    response URLs and the reading/waiting helpers in the classes this one combines.
    """

    # Set by start() and cleared by stop(); None while stopped.
    _server: _Server | None = None
    _thread: threading.Thread | None = None

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
            self._response_urls[key] = ResponseUrl(channel_id, user_id, message_ts)
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
            self._faults.append(Fault(method, status, error, retry_after, times, when))

    def clear_faults(self) -> None:
        with self._cond:
            self._faults.clear()

    def reset(self) -> None:
        """Forget calls, posts, messages, views and faults; keep users and socket_url."""
        with self._cond:
            self._reset_state()
            self._version += 1
            self._cond.notify_all()

    # ---- request handling (called from the HTTP handler threads) ---------------------------

    def _handle_api(
        self, method: str, content_type: str, body: bytes, query: str, token: str | None
    ) -> Reply:
        self._begin_request()
        try:
            reply, posts = self._serve_api(method, content_type, body, query, token)
            self._announce(posts)
            return reply
        finally:
            self._end_request()

    def _serve_api(
        self, method: str, content_type: str, body: bytes, query: str, token: str | None
    ) -> tuple[Reply, list[Posted]]:
        at = time.monotonic()
        try:
            args = parse_api_body(content_type, body, query)
        except ValueError:
            args = {"_raw": body.decode("utf-8", errors="replace")}
            reply = Reply.of_json({"ok": False, "error": "invalid_json"})
            self._record(Call(method, args, reply.json_body, 200, at, token), [])
            return reply, []
        token = token or args.pop("token", None)
        with self._cond:
            try:
                reply, posts = self._dispatch_locked(method, args, token)
            except Exception as exc:  # a bug in the fake, or a fault's `when` raising
                log.exception("FakeSlack failed on %s", method)
                self.errors.append(exc)
                reply, posts = Reply.of_text(500, f"FakeSlack internal error: {exc!r}"), []
            self._record_locked(Call(method, args, reply.json_body, reply.status, at, token), posts)
        return reply, posts

    def _dispatch_locked(
        self, method: str, args: dict[str, Any], token: str | None
    ) -> tuple[Reply, list[Posted]]:
        fault = take_fault(self._faults, method, args)
        if fault is not None:
            return fault_reply(fault, json_errors=True), []
        handler = API_METHODS.get(method)
        if handler is None:
            return Reply.of_json({"ok": False, "error": "unknown_method"}), []
        if not token:
            return Reply.of_json({"ok": False, "error": "not_authed"}), []
        try:
            data, posts = handler(self, args, token)
        except SlackError as err:
            data, posts = {"ok": False, "error": err.code}, []
            if err.messages:
                data["response_metadata"] = {"messages": err.messages}
        return Reply.of_json(data), posts

    def _announce(self, posts: list[Posted]) -> None:
        hook = self.on_post
        if hook is None:
            return
        for post in posts:
            try:
                hook(post)
            except Exception:  # a broken printer must not turn into a Slack error for the bot
                log.exception("FakeSlack.on_post hook failed")

    def _handle_response_url(self, key: str, content_type: str, body: bytes) -> Reply:
        self._begin_request()
        try:
            at = time.monotonic()
            args = parse_response_body(content_type, body)
            with self._cond:
                try:
                    reply, posts = self._serve_response_locked(key, args)
                except Exception as exc:  # a bug in the fake, or a fault's `when` raising
                    log.exception("FakeSlack failed on response_url")
                    self.errors.append(exc)
                    reply, posts = Reply.of_text(500, f"FakeSlack internal error: {exc!r}"), []
                self._record_locked(
                    Call("response_url", args, reply.json_body, reply.status, at), posts
                )
            self._announce(posts)
            return reply
        finally:
            self._end_request()


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
            self._send(Reply.of_text(413, "request_too_large"))
            return
        body = self.rfile.read(length) if length else b""
        content_type = self.headers.get("Content-Type", "")
        if path.startswith("/api/"):
            token = bearer_token(self.headers.get("Authorization"))
            reply = fake._handle_api(path[len("/api/") :], content_type, body, query, token)
        elif path.startswith("/response/"):
            reply = fake._handle_response_url(path[len("/response/") :], content_type, body)
        else:
            reply = Reply.of_text(404, "not_found")
        self._send(reply)

    def _send(self, reply: Reply) -> None:
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(reply.body)
