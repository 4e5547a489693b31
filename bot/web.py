"""The HTTP side: Slack requests at POST /slack/events and GET /healthz, served by waitress."""

from __future__ import annotations

import errno
import io
import json
import logging
from collections.abc import Callable, Iterable
from datetime import timedelta
from http import HTTPStatus
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from waitress.server import create_server

from bot.envelope import check_envelope
from bot.request_guard import MAX_BODY_BYTES, Refused, SlackRequestGuard
from bot.services.container import Services

log = logging.getLogger(__name__)

StartResponse = Callable[..., Any]

# waitress buffers a whole request body before it calls the app, so its own cap is what stops an
# oversized body at the headers (413 from a Content-Length, nothing read) or part-way through a
# chunked one. It sits a little above MAX_BODY_BYTES so that the exact rule stays WebApp's (and
# holds under any WSGI server) while leaving room for chunked framing, which waitress counts too.
SERVER_BODY_CAP = MAX_BODY_BYTES + 64 * 1024
# Requests served at once. Bolt's listener pool has as many threads (see bot.app.build_app).
SERVER_THREADS = 8


class WebApp:
    def __init__(
        self,
        app: App,
        services: Services,
        *,
        scheduler_expected: bool,
        guard: SlackRequestGuard | None = None,
    ) -> None:
        self.bolt = SlackRequestHandler(app, path="/slack/events")
        self.services = services
        self.scheduler_expected = scheduler_expected
        if guard is None:
            guard = SlackRequestGuard(services.settings.slack_signing_secret)
        self.guard = guard

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        if path == "/healthz" and method in ("GET", "HEAD"):
            status, body = self.health()
            return _json(start_response, status, body)
        if path == "/slack/events":
            if method != "POST":
                return _json(start_response, 405, {"error": "POST only"}, [("Allow", "POST")])
            return self.slack(environ, start_response)
        return _json(start_response, 404, {"error": "not found"})

    def slack(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """Bolt gets a request only once it is verified: nothing unverified reaches a listener,
        the error handler or a `response_url`."""
        outcome = self.guard.check(environ)
        if isinstance(outcome, Refused):
            # One line, never the body or header values: they are the caller's, unverified.
            log.warning(
                "refused Slack request from %s: %s (%d)",
                environ.get("REMOTE_ADDR", "?"),
                outcome.reason,
                outcome.status,
            )
            return _json(start_response, outcome.status, {"error": outcome.error})
        envelope = check_envelope(outcome.body, environ.get("CONTENT_TYPE"))
        if envelope.problem is not None:
            # Signed, yet not shaped as Slack sends: one line, the reason only, never the body.
            log.warning("refused a malformed Slack request: %s", envelope.problem)
            return _json(start_response, 400, {"error": "malformed request"})
        verified = dict(environ)
        # The guard has consumed the input; Bolt reads CONTENT_LENGTH bytes from wsgi.input.
        verified["wsgi.input"] = io.BytesIO(envelope.body)
        verified["CONTENT_LENGTH"] = str(len(envelope.body))
        if envelope.reencoded:
            # Bolt checks the signature again, over the body it is given.
            verified["HTTP_X_SLACK_SIGNATURE"] = self.guard.sign(
                environ["HTTP_X_SLACK_REQUEST_TIMESTAMP"], envelope.body
            )
        try:
            return self.bolt(verified, start_response)
        except Exception:
            # The envelope was checked: what still fails here is a bug, worth its traceback.
            log.exception("malformed Slack request")
            return _json(start_response, 400, {"error": "malformed request"})

    def health(self) -> tuple[int, dict[str, Any]]:
        """Answers within about a second whatever the database does (a load balancer or
        orchestrator must not hang on it): the database gets HEALTH_PING_SECONDS (storage.db),
        and the scheduler's last pass is known in memory."""
        report: dict[str, Any] = {}
        healthy = True
        try:
            self.services.db.ping()
            report["database"] = "ok"
        except Exception as exc:  # the check itself must never fail the request
            healthy = False
            report["database"] = f"unreachable: {type(exc).__name__}"
        # As this copy's outbox last saw it: no second wait on the database here.
        pause = self.services.outbox.known_pause
        if pause is not None:
            # Slack refuses the bot itself: nothing reaches anyone until it is fixed.
            healthy = False
            report["slack"] = (
                f"delivery paused since {pause.since.isoformat(timespec='seconds')}: Slack "
                f"refuses the bot ({pause.reason}); check the token and its scopes"
            )
        if self.scheduler_expected:
            try:
                ok, detail = self.services.sweeper.health(
                    stale_after=timedelta(seconds=self.services.settings.scheduler_stale_seconds)
                )
            except Exception as exc:
                ok, detail = False, f"unknown: {type(exc).__name__}"
            healthy = healthy and ok
            report["scheduler"] = ("ok: " if ok else "unhealthy: ") + detail
        report["status"] = "ok" if healthy else "unhealthy"
        return (200 if healthy else 503), report


def _json(
    start_response: StartResponse,
    status: int,
    body: dict[str, Any],
    extra_headers: list[tuple[str, str]] | None = None,
) -> list[bytes]:
    data = json.dumps(body).encode()
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(data)))]
    start_response(f"{status} {HTTPStatus(status).phrase}", headers + (extra_headers or []))
    return [data]


def make_server(
    wsgi_app: WebApp,
    *,
    host: str,
    port: int,
    threads: int = SERVER_THREADS,
    loop_timeout: float | None = None,
    **adjustments: Any,
) -> Any:
    """A waitress server; `.effective_port` tells the port when 0 was asked for.

    `loop_timeout`: how long its loop waits in select() before looking again, so that a
    `server.close()` from another thread is noticed that soon (waitress's default, a second,
    suits `serve`, whose signal handler runs on the loop's own thread). It is set on the
    server, not passed as waitress's `asyncore_loop_timeout`, which takes whole seconds: 0.05
    would become 0, a loop that never waits and keeps a core busy.
    """
    adjustments.setdefault("max_request_body_size", SERVER_BODY_CAP)
    server = create_server(
        wsgi_app,
        host=host,
        port=port,
        threads=threads,
        backlog=1024,
        ident="missing-bot",
        **adjustments,
    )
    if loop_timeout is not None:
        server.adj.asyncore_loop_timeout = loop_timeout
    return server


def run_until_closed(server: Any) -> None:
    """Serve until `server.close()` is called from another thread (a signal, a test).

    Closing waitress's sockets under its select() loop ends it with EBADF (or ValueError for
    a closed descriptor): that is the expected way out, not an error.
    """
    try:
        server.run()
    except ValueError:
        return
    except OSError as exc:
        if exc.errno != errno.EBADF:
            raise
