"""The WSGI guard: only a small, correctly signed, recent request reaches Bolt.

Everything here goes over real HTTP to the real bot behind waitress (raw sockets, so headers can
be malformed, repeated or lie about the length), except the last few tests, which call the guard
in-process to show what it reads from `wsgi.input`.
"""

from __future__ import annotations

import io
import json
import logging
import select
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import pytest

from bot.request_guard import MAX_BODY_BYTES, Refused, SlackRequestGuard, Verified
from bot.web import SERVER_BODY_CAP
from fakeslack.signing import slack_signature
from tests.support.harness import CONTROL, LOGGER, SIGNING_SECRET, Bot

FORM = "application/x-www-form-urlencoded"
# A marker carried in every hostile body: it must never show up in the log.
MARKER = "zz-hostile-body-marker"


# ---- plumbing: raw HTTP, so any header can be sent as bytes --------------------------------


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    elapsed: float = 0.0
    sent: int = 0

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Snapshot:
    calls: int
    posted: int
    audit: int
    bolt_calls: list[int] = field(default_factory=list)


def port_of(bot: Bot) -> int:
    return int(bot.url.rsplit(":", 1)[1])


def _read_answer(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """Read until the server closes (every request here says `Connection: close`)."""
    data = b""
    while True:
        piece = sock.recv(65536)
        if not piece:
            break
        data += piece
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers, body


def send(
    bot: Bot,
    body: bytes,
    headers: list[tuple[str, bytes | str]],
    *,
    method: str = "POST",
    path: str = "/slack/events",
    content_length: int | None = None,
) -> Answer:
    """One HTTP/1.1 request; `content_length` overrides the true length (to lie about it)."""
    lines = [f"{method} {path} HTTP/1.1".encode(), b"Host: 127.0.0.1", b"Connection: close"]
    lines.append(f"Content-Type: {FORM}".encode())
    length = len(body) if content_length is None else content_length
    lines.append(f"Content-Length: {length}".encode())
    for name, value in headers:
        lines.append(name.encode() + b": " + (value.encode() if isinstance(value, str) else value))
    request = b"\r\n".join(lines) + b"\r\n\r\n" + body
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port_of(bot)), timeout=10) as sock:
        sock.sendall(request)
        status, answer_headers, answer_body = _read_answer(sock)
    return Answer(status, answer_headers, answer_body, time.monotonic() - started, len(request))


def signed(
    body: bytes, *, timestamp: str | None = None, secret: str = SIGNING_SECRET
) -> list[tuple[str, bytes | str]]:
    stamp = timestamp if timestamp is not None else str(int(time.time()))
    return [
        ("X-Slack-Request-Timestamp", stamp),
        ("X-Slack-Signature", slack_signature(secret, stamp, body)),
    ]


def slash_body(bot: Bot, text: str = "list") -> tuple[bytes, str]:
    """A genuine-looking `/missing` command whose response_url is the fake Slack's."""
    url = bot.fake.new_response_url(channel_id=CONTROL, user_id=LOGGER)
    fields = {
        "token": "fake-verification-token",
        "team_id": "T0MISSING",
        "team_domain": "force-control",
        "channel_id": CONTROL,
        "channel_name": "control-room",
        "user_id": LOGGER,
        "user_name": MARKER,
        "command": "/missing",
        "text": text,
        "api_app_id": "A0MISSING",
        "response_url": url,
        "trigger_id": f"trig-guard-{time.monotonic_ns()}",
    }
    return urlencode(fields).encode(), url


@pytest.fixture
def watched(sqlite_bot: Bot, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Bot, Snapshot]]:
    """The bot with Bolt's WSGI handler spied on, and what Slack and the database held before."""
    bot = sqlite_bot
    real = bot.web.bolt
    seen: list[int] = []

    def spy(environ: dict[str, Any], start_response: Any) -> Any:
        seen.append(1)
        return real(environ, start_response)

    monkeypatch.setattr(bot.web, "bolt", spy)
    yield bot, Snapshot(len(bot.fake.calls), len(bot.fake.posted), len(bot.audit()), seen)


def assert_nothing_happened(bot: Bot, before: Snapshot, caplog: pytest.LogCaptureFixture) -> None:
    # Listener work runs on Bolt's threads: give anything that slipped through time to show.
    bot.fake.wait_idle(quiet=0.2)
    assert before.bolt_calls == [], "a refused request reached Bolt"
    assert len(bot.fake.calls) == before.calls, bot.fake.calls[before.calls :]
    assert not bot.fake.calls_to("response_url")
    assert len(bot.fake.posted) == before.posted
    assert len(bot.audit()) == before.audit
    assert all(r.exc_info is None for r in caplog.records), "a traceback was logged"
    assert "Traceback" not in caplog.text
    assert MARKER not in caplog.text, "the unverified body reached the log"


# ---- 401: anything not signed by Slack in the last five minutes -----------------------------


def _headers_for(case: str, body: bytes) -> tuple[bytes, list[tuple[str, bytes | str]]]:
    """(body to send, headers) for each way of getting the signature wrong."""
    now = int(time.time())
    good = signed(body)
    signature = str(good[1][1])
    if case == "unsigned":
        return body, []
    if case == "no signature":
        return body, [good[0]]
    if case == "no timestamp":
        return body, [good[1]]
    if case == "wrong secret":
        return body, signed(body, secret="not-the-secret")
    if case == "stale (6 min old)":
        return body, signed(body, timestamp=str(now - 6 * 60))
    if case == "future (6 min ahead)":
        return body, signed(body, timestamp=str(now + 6 * 60))
    if case == "non-numeric timestamp":
        return body, signed(body, timestamp="soon")
    if case == "empty timestamp":
        return body, signed(body, timestamp="")
    if case == "negative timestamp":
        return body, signed(body, timestamp=f"-{now}")
    if case == "huge timestamp":
        return body, signed(body, timestamp="9" * 5000)
    if case == "timestamp with a sign":
        return body, signed(body, timestamp=f"+{now}")
    if case == "non-ASCII digits in the timestamp":
        arabic = "".join(chr(0x0660 + int(d)) for d in str(now))  # int() would accept these
        headers = signed(body, timestamp=arabic)
        return body, [("X-Slack-Request-Timestamp", arabic.encode()), headers[1]]
    if case == "non-ASCII signature":
        return body, [good[0], ("X-Slack-Signature", signature[:-1].encode() + b"\xe9")]
    if case == "signature with wrong prefix":
        return body, [good[0], ("X-Slack-Signature", "v1=" + signature[3:])]
    if case == "signature in upper case":
        return body, [good[0], ("X-Slack-Signature", "v0=" + signature[3:].upper())]
    if case == "body altered after signing":
        return body.replace(b"text=list", b"text=lisT"), good
    if case == "duplicate timestamp headers":
        return body, [good[0], good[0], good[1]]
    if case == "duplicate signature headers":
        return body, [good[0], good[1], good[1]]
    if case == "signature of another timestamp":
        return body, [("X-Slack-Request-Timestamp", str(now - 1)), good[1]]
    raise AssertionError(case)


UNSIGNED_CASES = [
    "unsigned",
    "no signature",
    "no timestamp",
    "wrong secret",
    "stale (6 min old)",
    "future (6 min ahead)",
    "non-numeric timestamp",
    "empty timestamp",
    "negative timestamp",
    "huge timestamp",
    "timestamp with a sign",
    "non-ASCII digits in the timestamp",
    "non-ASCII signature",
    "signature with wrong prefix",
    "signature in upper case",
    "body altered after signing",
    "duplicate timestamp headers",
    "duplicate signature headers",
    "signature of another timestamp",
]


@pytest.mark.parametrize("case", UNSIGNED_CASES)
def test_unverified_requests_get_401_and_nothing_happens(
    watched: tuple[Bot, Snapshot], caplog: pytest.LogCaptureFixture, case: str
) -> None:
    bot, before = watched
    caplog.set_level(logging.DEBUG)
    body, headers = _headers_for(case, slash_body(bot)[0])
    answer = send(bot, body, headers)
    assert answer.status == 401, answer.body
    assert answer.json == {"error": "invalid request"}
    assert answer.headers["content-type"] == "application/json"
    refusals = [r for r in caplog.records if r.getMessage().startswith("refused Slack request")]
    assert len(refusals) == 1 and refusals[0].levelno == logging.WARNING
    assert_nothing_happened(bot, before, caplog)


def test_the_probe_attack_posts_nothing_to_its_response_url(
    watched: tuple[Bot, Snapshot], caplog: pytest.LogCaptureFixture
) -> None:
    """The probe: a non-numeric timestamp made Bolt's check raise, and the error handler then
    answered the unverified body's response_url, wherever that pointed."""
    bot, before = watched
    caplog.set_level(logging.DEBUG)
    body, target = slash_body(bot, "list")
    answer = send(
        bot, body, [("X-Slack-Request-Timestamp", "abc"), ("X-Slack-Signature", "v0=" + "0" * 64)]
    )
    assert answer.status == 401
    bot.fake.wait_idle(quiet=0.3)
    # Before the guard, Bolt's error handler answered here ("Something went wrong...").
    assert not bot.fake.calls_to("response_url"), f"the bot posted to {target}"
    assert not [p for p in bot.fake.posted if p.kind.startswith("response")]
    assert_nothing_happened(bot, before, caplog)


def test_the_hole_is_real_without_the_guard(sqlite_bot: Bot) -> None:
    """Why the guard must come first: the same request handed straight to Bolt (1.30) does make
    the bot post to the attacker's URL. If a Bolt upgrade makes this fail, Bolt has fixed its
    side; the guard stays, as it also bounds the body size."""
    bot = sqlite_bot
    body, _ = slash_body(bot, "list")
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/slack/events",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "CONTENT_TYPE": FORM,
        "CONTENT_LENGTH": str(len(body)),
        "HTTP_X_SLACK_REQUEST_TIMESTAMP": "abc",
        "HTTP_X_SLACK_SIGNATURE": "v0=" + "0" * 64,
        "wsgi.input": io.BytesIO(body),
    }
    bot.web.bolt(environ, lambda status, headers: None)
    posted = bot.fake.wait_for_posted(kind="response")
    assert "Something went wrong" in posted[0].text


# ---- 413: too large, refused without being read ---------------------------------------------


def test_huge_content_length_is_refused_at_once_without_waiting_for_the_body(
    watched: tuple[Bot, Snapshot], caplog: pytest.LogCaptureFixture
) -> None:
    bot, before = watched
    body, _ = slash_body(bot)
    # 300 MB announced, a few hundred bytes sent: a server that read first would wait forever.
    answer = send(bot, body, signed(body), content_length=300 * 1024 * 1024)
    assert answer.status == 413
    assert answer.elapsed < 2.0
    assert_nothing_happened(bot, before, caplog)


def test_body_over_the_limit_by_content_length_is_refused_even_when_signed(
    watched: tuple[Bot, Snapshot], caplog: pytest.LogCaptureFixture
) -> None:
    bot, before = watched
    caplog.set_level(logging.INFO)
    # Under waitress's cap, so the WSGI guard itself answers, from the Content-Length alone.
    body = slash_body(bot)[0] + b"&pad=" + b"x" * MAX_BODY_BYTES
    assert MAX_BODY_BYTES < len(body) < SERVER_BODY_CAP
    answer = send(bot, body, signed(body))
    assert answer.status == 413
    assert answer.json == {"error": "request too large"}
    assert_nothing_happened(bot, before, caplog)


def _chunked_request(body_chunks: list[bytes], headers: list[tuple[str, str]]) -> bytes:
    head = [
        b"POST /slack/events HTTP/1.1",
        b"Host: 127.0.0.1",
        b"Connection: close",
        f"Content-Type: {FORM}".encode(),
        b"Transfer-Encoding: chunked",
    ] + [f"{name}: {value}".encode() for name, value in headers]
    framed = b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in body_chunks) + b"0\r\n\r\n"
    return b"\r\n".join(head) + b"\r\n\r\n" + framed


def _send_bytes(bot: Bot, request: bytes) -> Answer:
    with socket.create_connection(("127.0.0.1", port_of(bot)), timeout=10) as sock:
        sock.sendall(request)
        status, headers, body = _read_answer(sock)
    return Answer(status, headers, body)


def test_chunked_body_over_the_limit_is_refused(
    watched: tuple[Bot, Snapshot], caplog: pytest.LogCaptureFixture
) -> None:
    bot, before = watched
    body = slash_body(bot)[0] + b"&pad=" + b"x" * MAX_BODY_BYTES
    chunks = [body[i : i + 65536] for i in range(0, len(body), 65536)]
    headers = [(str(k), str(v)) for k, v in signed(body)]
    answer = _send_bytes(bot, _chunked_request(chunks, headers))
    assert answer.status == 413
    assert_nothing_happened(bot, before, caplog)


def _rss_kib() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_endless_chunked_body_is_cut_off_without_growing_memory(
    watched: tuple[Bot, Snapshot], caplog: pytest.LogCaptureFixture
) -> None:
    """The bot runs in this process: its resident memory must not follow what a client sends."""
    bot, before = watched
    chunk = b"%x\r\n%s\r\n" % (65536, b"a" * 65536)
    rss_before = _rss_kib()
    sent = 0
    with socket.create_connection(("127.0.0.1", port_of(bot)), timeout=10) as sock:
        sock.sendall(
            b"POST /slack/events HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
        )
        # Stream up to 300 MB, stopping as soon as the server answers (or hangs up).
        try:
            while sent < 300 * 1024 * 1024:
                readable, writable, _ = select.select([sock], [sock], [], 5)
                if readable:
                    break
                assert writable, "the server neither read nor answered for 5 s"
                sock.sendall(chunk)
                sent += len(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass  # it hung up before we saw its answer: refused all the same
        try:
            status, _, _ = _read_answer(sock)
        except ConnectionResetError:
            status = 413  # the answer was sent, but the reset discarded it on our side
    grown = _rss_kib() - rss_before
    assert status == 413
    # The server stopped reading near its cap: what was sent is that plus socket buffers.
    assert sent < 16 * 1024 * 1024, sent
    assert grown < 8 * 1024, f"RSS grew {grown} KiB"
    assert_nothing_happened(bot, before, caplog)


# ---- methods and paths ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("GET", "/slack/events", 405),
        ("PUT", "/slack/events", 405),
        ("DELETE", "/slack/events", 405),
        ("POST", "/slack/other", 404),
        ("POST", "/", 404),
    ],
)
def test_only_post_to_the_events_path(
    watched: tuple[Bot, Snapshot], method: str, path: str, expected: int
) -> None:
    bot, before = watched
    body, _ = slash_body(bot)
    answer = send(bot, body, signed(body), method=method, path=path)
    assert answer.status == expected
    if expected == 405:
        assert answer.headers["allow"] == "POST"
    assert before.bolt_calls == []


# ---- and a genuine request still works ------------------------------------------------------


def test_correctly_signed_requests_still_work_end_to_end(
    watched: tuple[Bot, Snapshot], caplog: pytest.LogCaptureFixture
) -> None:
    bot, before = watched
    caplog.set_level(logging.INFO)
    # First some refusals, then the real thing on the same server.
    body, _ = slash_body(bot)
    assert send(bot, body, signed(body, timestamp="nope")).status == 401
    reply = bot.slash("help")
    assert reply.kind == "ack" and "/missing" in (reply.text or "")
    assert len(before.bolt_calls) == 1
    # Sent chunked, a signed request is still whole by the time it reaches Bolt.
    body, _ = slash_body(bot, "help")
    headers = [(str(k), str(v)) for k, v in signed(body)]
    answer = _send_bytes(bot, _chunked_request([body[:50], body[50:]], headers))
    assert answer.status == 200
    assert "/missing" in json.loads(answer.body)["text"]
    assert len(before.bolt_calls) == 2
    assert not [r for r in caplog.records if r.exc_info]


def test_biggest_allowed_body_passes_the_guard(
    watched: tuple[Bot, Snapshot],
) -> None:
    """A body of exactly the limit is not refused for its size (here: Bolt sees it)."""
    bot, before = watched
    body = slash_body(bot, "help")[0]
    body += b"&pad=" + b"x" * (MAX_BODY_BYTES - len(body) - 5)
    assert len(body) == MAX_BODY_BYTES
    answer = send(bot, body, signed(body))
    assert answer.status == 200, answer.body
    assert len(before.bolt_calls) == 1


# ---- the guard in-process: what it reads --------------------------------------------------


class CountingStream:
    """A wsgi.input that counts what is read; endless unless `data` is given."""

    def __init__(self, data: bytes | None = None, *, explode: bool = False) -> None:
        self.data = data
        self.explode = explode
        self.read_bytes = 0
        self.reads = 0

    def read(self, size: int = -1) -> bytes:
        self.reads += 1
        if self.explode:
            raise AssertionError("the body was read")
        if self.data is None:
            piece = b"a" * (size if size >= 0 else 1 << 20)
        else:
            piece = self.data[self.read_bytes : self.read_bytes + size if size >= 0 else None]
        self.read_bytes += len(piece)
        return piece


NOW = 1_800_000_000.0


def _environ(stream: CountingStream, length: str | None, **extra: Any) -> dict[str, Any]:
    environ: dict[str, Any] = {"REQUEST_METHOD": "POST", "wsgi.input": stream, **extra}
    if length is not None:
        environ["CONTENT_LENGTH"] = length
    return environ


def _guard() -> SlackRequestGuard:
    return SlackRequestGuard(SIGNING_SECRET, clock=lambda: NOW)


def _signed_environ(body: bytes, timestamp: int, **extra: Any) -> dict[str, Any]:
    stamp = str(timestamp)
    return _environ(
        CountingStream(body),
        str(len(body)),
        HTTP_X_SLACK_REQUEST_TIMESTAMP=stamp,
        HTTP_X_SLACK_SIGNATURE=slack_signature(SIGNING_SECRET, stamp, body),
        **extra,
    )


def test_guard_refuses_a_huge_content_length_without_reading() -> None:
    stream = CountingStream(explode=True)
    outcome = _guard().check(_environ(stream, str(300 * 1024 * 1024)))
    assert isinstance(outcome, Refused) and outcome.status == 413
    assert stream.reads == 0


def test_guard_refuses_bad_headers_without_reading() -> None:
    stream = CountingStream(explode=True)
    environ = _environ(stream, "100", HTTP_X_SLACK_REQUEST_TIMESTAMP="abc")
    environ["HTTP_X_SLACK_SIGNATURE"] = "v0=" + "0" * 64
    outcome = _guard().check(environ)
    assert isinstance(outcome, Refused) and outcome.status == 401
    assert stream.reads == 0


def test_guard_reads_a_body_without_length_only_to_one_byte_past_the_limit() -> None:
    stream = CountingStream()  # endless
    stamp = str(int(NOW))
    environ = _environ(
        stream,
        None,
        HTTP_X_SLACK_REQUEST_TIMESTAMP=stamp,
        HTTP_X_SLACK_SIGNATURE="v0=" + "0" * 64,
        **{"wsgi.input_terminated": True},
    )
    outcome = _guard().check(environ)
    assert isinstance(outcome, Refused) and outcome.status == 413
    assert stream.read_bytes == MAX_BODY_BYTES + 1


def test_guard_does_not_read_an_unterminated_body_without_length() -> None:
    # PEP 3333: with no length and no end-of-input promise, a read could block for ever.
    stream = CountingStream(explode=True)
    environ = _environ(
        stream,
        None,
        HTTP_X_SLACK_REQUEST_TIMESTAMP=str(int(NOW)),
        HTTP_X_SLACK_SIGNATURE="v0=" + "0" * 64,
    )
    outcome = _guard().check(environ)
    assert isinstance(outcome, Refused) and outcome.status == 401


@pytest.mark.parametrize(
    ("offset", "accepted"), [(-300, True), (300, True), (-301, False), (301, False)]
)
def test_guard_timestamp_window_is_five_minutes_either_way(offset: int, accepted: bool) -> None:
    outcome = _guard().check(_signed_environ(b"a=1", int(NOW) + offset))
    assert isinstance(outcome, Verified) == accepted


def test_guard_verifies_raw_bytes_that_are_not_utf8() -> None:
    # slack_sdk's verifier decodes the body first and would raise; the guard signs bytes.
    body = b"payload=\xff\xfe"
    outcome = _guard().check(_signed_environ(body, int(NOW)))
    assert outcome == Verified(body)


@pytest.mark.parametrize("length", ["abc", "-1", "1e3", " 12", "9" * 40])
def test_guard_refuses_a_malformed_content_length(length: str) -> None:
    stream = CountingStream(explode=True)
    outcome = _guard().check(_environ(stream, length))
    assert isinstance(outcome, Refused) and outcome.status == 400
    assert stream.reads == 0


def test_guard_needs_a_signing_secret() -> None:
    with pytest.raises(ValueError, match="signing secret"):
        SlackRequestGuard("  ")
