"""Signed Slack requests handed straight to the bot's WSGI application, without a socket.

The bot's `WebApp` is called with a WSGI environ built from the exact signed bytes, so the
request guard, Bolt's adapter, its middleware and the listeners all run as they do behind
waitress; only the TCP round trip (5-10 ms a request on this machine) is left out. That is
what lets the fuzz tests send thousands of examples in seconds.
"""

from __future__ import annotations

import io
import json
import time
from typing import Any
from urllib.parse import urlencode

from fakeslack.interactions import FORM
from fakeslack.sender import SentResponse
from fakeslack.signing import signed_headers


def wsgi_environ(
    body: bytes, headers: dict[str, str], *, path: str = "/slack/events"
) -> dict[str, Any]:
    """A PEP 3333 environ for a POST of `body`, as waitress would build it."""
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "0",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": io.StringIO(),
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        "wsgi.input_terminated": True,
    }
    for name, value in headers.items():
        key = name.upper().replace("-", "_")
        if key == "CONTENT_TYPE":
            environ["CONTENT_TYPE"] = value
        else:
            environ[f"HTTP_{key}"] = value
    return environ


def call_wsgi(app: Any, body: bytes, *, secret: str, content_type: str = FORM) -> SentResponse:
    """Sign `body` as Slack would, call the WSGI `app` and collect its answer."""
    headers = {"Content-Type": content_type}
    headers.update(signed_headers(secret, str(int(time.time())), body))
    captured: dict[str, Any] = {}

    def start_response(status: str, response_headers: list[tuple[str, str]], *_: Any) -> None:
        captured["status"] = int(status.split()[0])
        captured["headers"] = {k.lower(): v for k, v in response_headers}

    chunks = app(wsgi_environ(body, headers), start_response)
    try:
        raw = b"".join(chunks)
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()
    text = raw.decode("utf-8", errors="replace")
    decoded: dict[str, Any] | None = None
    if text.lstrip().startswith("{"):
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = None
        decoded = parsed if isinstance(parsed, dict) else None
    return SentResponse(captured["status"], text, decoded, captured["headers"])


def form_body(fields: dict[str, str]) -> bytes:
    """Form fields as Slack encodes a slash command."""
    return urlencode(fields).encode()


def payload_body(payload: object) -> bytes:
    """An interaction as Slack posts it: one form field `payload` holding the JSON (any JSON
    value here, since the fuzz tests also send arrays, strings and numbers)."""
    return urlencode({"payload": json.dumps(payload)}).encode()
