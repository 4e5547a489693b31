"""HTTP plumbing for the fake Slack: a threaded server on 127.0.0.1 that routes to the fake.

``/api/<method>`` is the Web API, ``/response/<key>`` the response URLs and ``/upload/<file id>``
the upload URLs that the fake hands out.
"""

from __future__ import annotations

import logging
import os
import selectors
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from fakeslack.decoding import bearer_token
from fakeslack.records import MAX_BODY_BYTES
from fakeslack.replies import Reply

if TYPE_CHECKING:
    from fakeslack.server import FakeSlack

log = logging.getLogger(__name__)


class FakeSlackHTTPServer(ThreadingHTTPServer):
    # Bursts of concurrent requests overflow the default backlog of 5 and then wait for the
    # kernel's 1-second SYN retry; 128 keeps latency flat.
    request_queue_size = 128
    # Daemon threads: stop() must not wait for an answer a slow fault still holds back.
    daemon_threads = True
    # handle_request() waits at most this long should a connection vanish before accept().
    timeout = 0.1

    def __init__(self, fake: FakeSlack) -> None:
        self.fake = fake
        self._stopping = False
        self._wake_read, self._wake_write = os.pipe()
        super().__init__(("127.0.0.1", 0), _Handler)

    def serve_until_stopped(self) -> None:
        """`serve_forever`, but woken at once by `stop_serving` rather than noticing it at its
        next poll: every test stops a fake, and a poll interval at each adds up."""
        with selectors.DefaultSelector() as selector:
            selector.register(self, selectors.EVENT_READ)
            selector.register(self._wake_read, selectors.EVENT_READ)
            while not self._stopping:
                for key, _events in selector.select():
                    if key.fileobj is self and not self._stopping:
                        self.handle_request()  # ready: does not block

    def stop_serving(self) -> None:
        self._stopping = True
        os.write(self._wake_write, b"x")

    def server_close(self) -> None:
        super().server_close()
        os.close(self._wake_read)
        os.close(self._wake_write)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that hang up mid-request are normal in tests (a client timing out on a slow
        # fault, say); keep stderr clean.
        log.debug("FakeSlack connection error from %s", client_address, exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    server: FakeSlackHTTPServer
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
        elif path.startswith("/upload/"):
            reply = fake._handle_upload(path[len("/upload/") :], content_type, body)
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
