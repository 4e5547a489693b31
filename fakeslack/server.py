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
from typing import Any

from fakeslack.decoding import parse_api_body, parse_response_body, uploaded_bytes
from fakeslack.faults import Fault, serve_with_faults
from fakeslack.file_uploads import FILE_METHODS, FileUploads
from fakeslack.history import HISTORY_METHODS, History
from fakeslack.http_server import FakeSlackHTTPServer
from fakeslack.observing import Observing
from fakeslack.records import Call, Posted, ResponseUrl
from fakeslack.replies import Outcome, Reply, SlackError
from fakeslack.response_urls import ResponseUrls
from fakeslack.usergroups import USERGROUP_METHODS, Usergroups
from fakeslack.web_api import WEB_API_METHODS, WebApi

__all__ = ["FakeSlack"]

log = logging.getLogger(__name__)


class FakeSlack(WebApi, FileUploads, History, Usergroups, ResponseUrls, Observing):
    """A fake Slack Web API on ``http://127.0.0.1:<random port>/``, served on a daemon thread.

    Use ``with FakeSlack() as slack:`` or ``start()``/``stop()``. Point clients at ``api_url``.
    The constructor and the state live in ``FakeSlackState`` (``state.py``); the Web API methods,
    response URLs and the reading/waiting helpers in the classes this one combines.
    """

    # Set by start() and cleared by stop(); None while stopped.
    _server: FakeSlackHTTPServer | None = None
    _thread: threading.Thread | None = None

    # ---- lifecycle -------------------------------------------------------------------------

    def start(self) -> FakeSlack:
        """Bind 127.0.0.1 port 0 and serve on a daemon thread. Idempotent."""
        if self._server is not None:
            return self
        self._released.clear()
        self._server = FakeSlackHTTPServer(self)
        self._thread = threading.Thread(
            target=self._server.serve_until_stopped,
            name=f"FakeSlack:{self._server.server_port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket. Idempotent. Answers held back go out now."""
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is None:
            return
        self._released.set()
        server.stop_serving()
        if thread is not None:
            thread.join(timeout=5)
        server.server_close()

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
        error: str | None = None,
        *,
        status: int = 200,
        retry_after: int | None = None,
        times: int | None = 1,
        when: Callable[[dict[str, Any]], bool] | None = None,
        delay: float = 0.0,
    ) -> None:
        """Make the next ``times`` calls to ``method`` fail (``times=None``: until cleared).

        ``method`` is a Web API method name, ``"*"`` for every Web API method (app-wide errors
        like ``fail("*", "token_revoked", times=None)``), or "response_url" / "upload_url" for
        posts to the URLs the fake hands out. ``error`` is Slack's code, answered with HTTP 200
        (``missing_scope`` also names the scope needed); ``status`` 429 or 5xx fail at the HTTP
        level instead.

        ``delay`` holds the answer back that many seconds. Alone (no error, status 200) the call
        goes through, is recorded and posts, and only the answer is late: a client with a
        shorter timeout gives up although Slack did the work.

        ``when(args)`` narrows which calls fail; it runs under the fake's lock, so it must be
        quick and must not call the fake. Faults apply in the order they were added.
        """
        if status == 200 and not error and delay <= 0:
            raise ValueError("a status-200 fault needs an error code (e.g. 'channel_not_found')")
        if delay < 0:
            raise ValueError("delay must not be negative")
        if times is not None and times < 1:
            raise ValueError("times must be at least 1 (or None for 'until clear_faults()')")
        with self._cond:
            self._faults.append(Fault(method, status, error, retry_after, times, when, delay))

    def clear_faults(self) -> None:
        with self._cond:
            self._faults.clear()

    def reset(self) -> None:
        """Forget calls, posts, messages, views, uploads and faults; keep users, user groups
        and socket_url."""
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
            self._hold_back(reply)
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
                reply, posts = serve_with_faults(
                    self._faults,
                    method,
                    args,
                    lambda: self._run_method_locked(method, args, token),
                    json_errors=True,
                )
            except Exception as exc:  # a bug in the fake, or a fault's `when` raising
                reply, posts = self._internal_error(method, exc), []
            self._record_locked(Call(method, args, reply.json_body, reply.status, at, token), posts)
        return reply, posts

    def _run_method_locked(
        self, method: str, args: dict[str, Any], token: str | None
    ) -> tuple[Reply, list[Posted]]:
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

    def _handle_response_url(self, key: str, content_type: str, body: bytes) -> Reply:
        args = parse_response_body(content_type, body)
        return self._handle_url_post(
            "response_url", args, lambda: self._serve_response_locked(key, args)
        )

    def _handle_upload(self, file_id: str, content_type: str, body: bytes) -> Reply:
        content = uploaded_bytes(content_type, body)
        # What the call records: the bytes themselves are in `uploads` once completed.
        args: dict[str, Any] = {"file_id": file_id, "length": len(content)}
        return self._handle_url_post(
            "upload_url", args, lambda: self._receive_upload_locked(file_id, content)
        )

    def _handle_url_post(
        self,
        method: str,
        args: dict[str, Any],
        serve_locked: Callable[[], tuple[Reply, list[Posted]]],
    ) -> Reply:
        """A post to a URL the fake handed out: served and recorded like a Web API call.

        These URLs answer in plain text, errors included, as Slack's do.
        """
        self._begin_request()
        try:
            at = time.monotonic()
            with self._cond:
                try:
                    reply, posts = serve_with_faults(
                        self._faults, method, args, serve_locked, json_errors=False
                    )
                except Exception as exc:  # a bug in the fake, or a fault's `when` raising
                    reply, posts = self._internal_error(method, exc), []
                self._record_locked(Call(method, args, reply.json_body, reply.status, at), posts)
            self._announce(posts)
            self._hold_back(reply)
            return reply
        finally:
            self._end_request()

    def _internal_error(self, method: str, exc: Exception) -> Reply:
        log.exception("FakeSlack failed on %s", method)
        self.errors.append(exc)
        return Reply.of_text(500, f"FakeSlack internal error: {exc!r}")

    def _announce(self, posts: list[Posted]) -> None:
        hook = self.on_post
        if hook is None:
            return
        for post in posts:
            try:
                hook(post)
            except Exception:  # a broken printer must not turn into a Slack error for the bot
                log.exception("FakeSlack.on_post hook failed")

    def _hold_back(self, reply: Reply) -> None:
        """Sleep out a slow fault, outside the lock and still counted in flight, so wait_idle
        waits for the answer too. stop() cuts the wait short."""
        if reply.delay > 0:
            self._released.wait(reply.delay)


# Slack's method names -> handlers; each takes the fake, the arguments and the token.
API_METHODS: dict[str, Callable[[FakeSlack, dict[str, Any], str], Outcome]] = {
    **WEB_API_METHODS,
    **FILE_METHODS,
    **HISTORY_METHODS,
    **USERGROUP_METHODS,
}
