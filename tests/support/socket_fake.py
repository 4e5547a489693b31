"""A fake Slack Socket Mode endpoint: an aiohttp websocket server on its own thread and loop.

Combine with FakeSlack so ``apps.connections.open`` hands out this server's URL::

    with FakeSlack() as fake, SocketModeFake() as sock:
        fake.socket_url = sock.ws_url
        ...  # start the bot's SocketModeHandler / SocketModeClient against fake.api_url
        sock.wait_connected()
        envelope_id = sock.send_envelope("slash_commands", {...})
        ack = sock.wait_for_ack(envelope_id)
"""

from __future__ import annotations

import asyncio
import itertools
import json
import socket
import threading
import time
from typing import Any

from aiohttp import WSMsgType, web

APP_ID = "A0MISSING"


class SocketModeFake:
    """Speaks the server side of Slack's Socket Mode protocol to one or more clients."""

    def __init__(self, app_id: str = APP_ID) -> None:
        self.app_id = app_id
        # Everything clients sent, decoded, in arrival order (acks and anything else).
        self.received: list[dict[str, Any]] = []
        self._cond = threading.Condition()
        self._acks: dict[str, dict[str, Any]] = {}
        self._connections_total = 0
        self._clients: list[web.WebSocketResponse] = []  # touched only on the loop thread
        self._ids = itertools.count(1)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self._port = 0

    # ---- lifecycle -------------------------------------------------------------------------

    def start(self) -> SocketModeFake:
        if self._thread is not None:
            return self
        # Bind here, on the caller's thread, so ws_url is known (and valid) when start returns.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        sock.listen(128)
        self._port = sock.getsockname()[1]
        self._loop = asyncio.new_event_loop()
        ready = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(sock, ready), name=f"SocketModeFake:{self._port}", daemon=True
        )
        self._thread.start()
        if not ready.wait(5):
            raise RuntimeError("SocketModeFake did not start")
        return self

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(timeout=5)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=5)
        loop.close()
        self._loop = self._thread = None

    def __enter__(self) -> SocketModeFake:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def ws_url(self) -> str:
        if not self._port:
            raise RuntimeError("SocketModeFake is not started")
        return f"ws://127.0.0.1:{self._port}/link"

    @property
    def connections(self) -> int:
        """How many websocket connections were accepted so far (reconnects count)."""
        with self._cond:
            return self._connections_total

    # ---- talking to the client -------------------------------------------------------------

    def wait_connected(self, timeout: float = 5.0, count: int = 1) -> None:
        """Wait until ``count`` connections were accepted (and sent their hello)."""
        with self._cond:
            if not self._cond.wait_for(lambda: self._connections_total >= count, timeout):
                raise AssertionError(f"no Socket Mode client connected within {timeout}s")

    def send_envelope(
        self, type_: str, payload: dict[str, Any], accepts_response_payload: bool = True
    ) -> str:
        """Send an envelope to the newest client, as Slack does; return its envelope_id."""
        envelope_id = f"env-{next(self._ids)}-{int(time.time() * 1000)}"
        self.send_json(
            {
                "envelope_id": envelope_id,
                "type": type_,
                "accepts_response_payload": accepts_response_payload,
                "payload": payload,
            }
        )
        return envelope_id

    def send_json(self, message: dict[str, Any], timeout: float = 5.0) -> None:
        """Send any message (e.g. ``{"type": "disconnect", "reason": "warning"}``)."""
        loop = self._require_loop()
        future = asyncio.run_coroutine_threadsafe(self._send(json.dumps(message)), loop)
        future.result(timeout=timeout)

    def close_connections(self, timeout: float = 5.0) -> None:
        """Close every client connection from the server side, as Slack does on refresh.

        Also the quick way to end a test: slack-sdk's builtin client otherwise sits in a
        blocking recv (3 s socket timeout) while closing.
        """
        loop = self._require_loop()
        asyncio.run_coroutine_threadsafe(self._close_clients(), loop).result(timeout=timeout)

    def wait_for_ack(self, envelope_id: str, timeout: float = 5.0) -> dict[str, Any]:
        """The client's ``{"envelope_id", "payload"?}`` reply to an envelope."""
        with self._cond:
            if not self._cond.wait_for(lambda: envelope_id in self._acks, timeout):
                raise AssertionError(
                    f"no ack for {envelope_id} within {timeout}s; received: {self.received[-5:]}"
                )
            return self._acks[envelope_id]

    # ---- loop thread -----------------------------------------------------------------------

    def _require_loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            raise RuntimeError("SocketModeFake is not started")
        return self._loop

    def _run(self, sock: socket.socket, ready: threading.Event) -> None:
        loop = self._require_loop()
        asyncio.set_event_loop(loop)
        loop.run_until_complete(self._serve(sock))
        ready.set()
        loop.run_forever()

    async def _serve(self, sock: socket.socket) -> None:
        app = web.Application()
        app.router.add_get("/link", self._handle)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        await web.SockSite(self._runner, sock).start()

    async def _handle(self, request: web.Request) -> web.WebSocketResponse:
        # aiohttp answers the client's pings itself (autoping), which slack-sdk relies on.
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._clients.append(ws)
        await ws.send_str(json.dumps(self._hello()))
        with self._cond:
            self._connections_total += 1
            self._cond.notify_all()
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    self._on_text(msg.data)
        finally:
            self._clients.remove(ws)
        return ws

    def _hello(self) -> dict[str, Any]:
        return {
            "type": "hello",
            "num_connections": len(self._clients),
            "debug_info": {
                "host": "socket-mode-fake",
                "build_number": 1,
                "approximate_connection_time": 18060,
            },
            "connection_info": {"app_id": self.app_id},
        }

    def _on_text(self, data: str) -> None:
        try:
            message = json.loads(data)
        except ValueError:
            message = {"_raw": data}
        if not isinstance(message, dict):
            message = {"_raw": message}
        with self._cond:
            self.received.append(message)
            if "envelope_id" in message:
                self._acks[str(message["envelope_id"])] = message
            self._cond.notify_all()

    async def _send(self, text: str) -> None:
        if not self._clients:
            raise RuntimeError("no Socket Mode client is connected")
        await self._clients[-1].send_str(text)

    async def _close_clients(self) -> None:
        for ws in list(self._clients):
            await ws.close(code=1001, message=b"going away")

    async def _shutdown(self) -> None:
        await self._close_clients()
        if self._runner is not None:
            await self._runner.cleanup()
