"""The HTTP side: Slack requests at POST /slack/events and GET /healthz, served by waitress."""

from __future__ import annotations

import errno
import json
import logging
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from sqlalchemy import text
from waitress.server import create_server

from bot.services.container import Services

log = logging.getLogger(__name__)

StartResponse = Callable[..., Any]


class WebApp:
    def __init__(self, app: App, services: Services, *, scheduler_expected: bool) -> None:
        self.bolt = SlackRequestHandler(app, path="/slack/events")
        self.services = services
        self.scheduler_expected = scheduler_expected

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        if path == "/healthz" and method in ("GET", "HEAD"):
            status, body = self.health()
            return _json(start_response, status, body)
        if path == "/slack/events":
            if method != "POST":
                return _json(start_response, 405, {"error": "POST only"})
            try:
                return self.bolt(environ, start_response)
            except Exception:
                # Only a malformed (yet correctly signed) body gets here: Slack never sends one.
                log.exception("malformed Slack request")
                return _json(start_response, 400, {"error": "malformed request"})
        return _json(start_response, 404, {"error": "not found"})

    def health(self) -> tuple[int, dict[str, Any]]:
        report: dict[str, Any] = {}
        healthy = True
        try:
            with self.services.db.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            report["database"] = "ok"
        except Exception as exc:  # the check itself must never fail the request
            healthy = False
            report["database"] = f"unreachable: {type(exc).__name__}"
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


def _json(start_response: StartResponse, status: int, body: dict[str, Any]) -> list[bytes]:
    data = json.dumps(body).encode()
    reason = {
        200: "OK",
        400: "Bad Request",
        404: "Not Found",
        405: "Method Not Allowed",
        503: "Service Unavailable",
    }
    start_response(
        f"{status} {reason.get(status, '')}",
        [("Content-Type", "application/json"), ("Content-Length", str(len(data)))],
    )
    return [data]


def make_server(
    wsgi_app: WebApp, *, host: str, port: int, threads: int = 8, **adjustments: Any
) -> Any:
    """A waitress server; `.effective_port` tells the port when 0 was asked for."""
    return create_server(
        wsgi_app,
        host=host,
        port=port,
        threads=threads,
        backlog=1024,
        ident="missing-bot",
        **adjustments,
    )


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
