"""A TCP proxy in front of the shared PostgreSQL that a test can freeze, stop and resume.

Tests must never stop or freeze the server other workers use, so they put this proxy between
the bot and the server and break the proxy instead:

- `freeze()`: every socket stays open and nothing is forwarded, either way, and new connections
  are accepted and left waiting. This is a server process that was SIGSTOPped: its kernel still
  acknowledges TCP, so keepalives and `tcp_user_timeout` see a healthy peer, a client waits
  forever for an answer, and the server's own `statement_timeout` cannot fire.
- `stop()`: every connection is closed and new ones are refused (the listening socket is
  closed), as when the server is shut down.
- `resume()`: back to forwarding, on the same port. Connections held open by a freeze carry on
  with whatever was queued; after a stop, clients must connect again.
- `hold_after(marker)`: one shot. The next time a client sends bytes containing `marker`, they
  are forwarded and then that connection is frozen, both ways: the server acts on the statement
  but its answer never reaches the client (e.g. a COMMIT that commits, unacknowledged).

One thread runs a selector loop over every socket; changes asked from other threads take effect
before the call returns.
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy.engine import make_url

_CHUNK = 65536


@dataclass(eq=False)
class _Link:
    """One client connection and its connection to the server."""

    client: socket.socket
    server: socket.socket
    held: bool = False  # frozen by `hold_after`, whatever the proxy's mode
    closed: bool = False

    def peer_of(self, sock: socket.socket) -> socket.socket:
        return self.server if sock is self.client else self.client

    def close(self) -> None:
        self.closed = True
        for sock in (self.client, self.server):
            with contextlib.suppress(OSError):
                sock.close()


@dataclass
class _Counters:
    accepted: int = 0
    refused_upstream: int = 0
    bytes_up: int = 0
    bytes_down: int = 0
    held: int = 0


class TcpProxy:
    MODES = ("forwarding", "frozen", "stopped")

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.mode = "forwarding"
        self.counters = _Counters()
        self._selector = selectors.DefaultSelector()
        self._lock = threading.Lock()
        self._links: list[_Link] = []
        self._listener: socket.socket | None = None
        self._port = 0
        self._wanted: str | None = None
        self._applied = threading.Condition(self._lock)
        self._generation = 0
        self._applied_generation = 0
        self._release_held = False
        self._hold_marker: bytes | None = None
        self.held = threading.Event()
        self._running = False
        self._thread: threading.Thread | None = None
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)

    # -- set-up --------------------------------------------------------------------------

    @classmethod
    def for_url(cls, database_url: str) -> TcpProxy:
        url = make_url(database_url)
        return cls((url.host or "127.0.0.1", url.port or 5432))

    def start(self) -> TcpProxy:
        self._listen()
        self._selector.register(self._wake_r, selectors.EVENT_READ, None)
        self._running = True
        self._thread = threading.Thread(target=self._loop, name="tcpproxy", daemon=True)
        self._thread.start()
        return self

    def __enter__(self) -> TcpProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def port(self) -> int:
        return self._port

    def url(self, database_url: str) -> str:
        """`database_url`, pointed at the proxy."""
        url = make_url(database_url).set(host="127.0.0.1", port=self._port)
        return url.render_as_string(hide_password=False)

    def close(self) -> None:
        if not self._running:
            return
        self._running = False
        self._wake()
        if self._thread is not None:
            self._thread.join(timeout=5)
        for link in self._links:
            link.close()
        self._links.clear()
        if self._listener is not None:
            self._listener.close()
        self._wake_r.close()
        self._wake_w.close()
        self._selector.close()

    # -- faults --------------------------------------------------------------------------

    def freeze(self) -> None:
        self._set_mode("frozen")

    def stop(self) -> None:
        self._set_mode("stopped")

    def resume(self) -> None:
        """Forward again; held connections (see `hold_after`) are released too."""
        self._set_mode("forwarding", release_held=True)

    def hold_after(self, marker: bytes) -> None:
        with self._lock:
            self._hold_marker = marker
            self.held.clear()

    def open_links(self) -> int:
        with self._lock:
            return len([link for link in self._links if not link.closed])

    def _set_mode(self, mode: str, *, release_held: bool = False) -> None:
        assert mode in self.MODES
        with self._lock:
            self._wanted = mode
            self._release_held = release_held
            self._generation += 1
            target = self._generation
            self._wake()
            ok = self._applied.wait_for(
                lambda: self._applied_generation >= target or not self._running, timeout=5
            )
        if not ok:
            raise RuntimeError(f"the proxy did not switch to {mode}")

    # -- the loop (its own thread) -------------------------------------------------------

    def _wake(self) -> None:
        with contextlib.suppress(OSError):
            self._wake_w.send(b"x")

    def _listen(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self._port))
        listener.listen(128)
        listener.setblocking(False)
        self._port = listener.getsockname()[1]
        self._listener = listener
        self._selector.register(listener, selectors.EVENT_READ, "accept")

    def _loop(self) -> None:
        while self._running:
            self._apply_wanted()
            for key, _events in self._selector.select(timeout=0.5):
                if key.fileobj is self._wake_r:
                    with contextlib.suppress(OSError):
                        self._wake_r.recv(4096)
                elif key.data == "accept":
                    self._accept()
                elif isinstance(key.data, _Link):
                    sock = key.fileobj
                    assert isinstance(sock, socket.socket)
                    self._pump(key.data, sock)
        with self._lock:
            self._applied.notify_all()

    def _apply_wanted(self) -> None:
        with self._lock:
            wanted, self._wanted = self._wanted, None
            release = self._release_held
            generation = self._generation
        if wanted is not None:
            previous, self.mode = self.mode, wanted
            if wanted == "stopped":
                for link in list(self._links):
                    self._drop(link)
                if self._listener is not None:
                    self._selector.unregister(self._listener)
                    self._listener.close()
                    self._listener = None
            elif previous == "stopped":
                self._listen()
            if release:
                for link in self._links:
                    link.held = False
            for link in self._links:
                self._register(link)
        with self._lock:
            self._applied_generation = generation
            self._applied.notify_all()

    def _accept(self) -> None:
        assert self._listener is not None
        try:
            client, _ = self._listener.accept()
        except (BlockingIOError, OSError):
            return
        self.counters.accepted += 1
        try:
            server = socket.create_connection(self.upstream, timeout=3)
        except OSError:
            self.counters.refused_upstream += 1
            client.close()
            return
        for sock in (client, server):
            sock.setblocking(True)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        link = _Link(client, server)
        self._links.append(link)
        self._register(link)

    def _register(self, link: _Link) -> None:
        """Watch a link's sockets only while it forwards: a frozen one is left unread."""
        forwarding = self.mode == "forwarding" and not link.held and not link.closed
        for sock in (link.client, link.server):
            registered = sock.fileno() >= 0 and self._is_registered(sock)
            if forwarding and not registered and sock.fileno() >= 0:
                self._selector.register(sock, selectors.EVENT_READ, link)
            elif not forwarding and registered:
                self._selector.unregister(sock)

    def _is_registered(self, sock: socket.socket) -> bool:
        try:
            self._selector.get_key(sock)
        except KeyError:
            return False
        return True

    def _pump(self, link: _Link, sock: socket.socket) -> None:
        try:
            data = sock.recv(_CHUNK)
        except OSError:
            data = b""
        if not data:
            self._drop(link)
            return
        peer = link.peer_of(sock)
        try:
            peer.sendall(data)
        except OSError:
            self._drop(link)
            return
        if sock is link.client:
            self.counters.bytes_up += len(data)
            marker = self._hold_marker
            if marker is not None and marker in data:
                with self._lock:
                    self._hold_marker = None
                link.held = True
                self.counters.held += 1
                self._register(link)
                self.held.set()
        else:
            self.counters.bytes_down += len(data)

    def _drop(self, link: _Link) -> None:
        for sock in (link.client, link.server):
            if sock.fileno() >= 0 and self._is_registered(sock):
                self._selector.unregister(sock)
        link.close()
        if link in self._links:
            self._links.remove(link)


@contextlib.contextmanager
def proxied(database_url: str) -> Iterator[tuple[TcpProxy, str]]:
    """A started proxy in front of `database_url`'s server, and the URL that goes through it."""
    with TcpProxy.for_url(database_url) as proxy:
        yield proxy, proxy.url(database_url)
