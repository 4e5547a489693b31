"""Size and signature checks on a Slack request, made before Bolt sees any of it.

Bolt verifies the signature itself, but as a middleware inside `App.dispatch`: a non-numeric
`X-Slack-Request-Timestamp` makes that check raise rather than answer 401, and the error listener
then receives the unverified body (and its `response_url`). Bolt also reads the whole body into
memory, whatever its size, before checking anything. So the WSGI layer checks first, on raw bytes,
and only a request that passed reaches Bolt (whose own check stays on, as a second line).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, BinaryIO

# Slack's slash commands and button clicks are a few KB. The largest request this bot receives
# is a modal submission, which carries the whole view (blocks, state) back: with every text
# field at Slack's 2,000-3,000 character maxima, and UTF-8 and form encoding tripling some
# characters, that is tens of KB. 256 KiB leaves several times that margin while bounding what
# one unauthenticated request can make the process hold in memory.
MAX_BODY_BYTES = 256 * 1024

# Slack's own rule (and Bolt's): a request signed more than five minutes from now, either way,
# is refused, so a captured request cannot be replayed later.
MAX_CLOCK_SKEW_SECONDS = 5 * 60

# ASCII digits only: `int()` and `str.isdigit()` also accept other scripts' digits ("١٢٣").
# Twelve digits reach the year 33658; longer values are nonsense and would only cost CPU.
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
# The one scheme Slack uses: "v0=" and a lowercase hex HMAC-SHA256. Checking the shape first also
# keeps non-ASCII text away from `hmac.compare_digest`, which raises on it.
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")

# Read the body in pieces so no single read asks the server for more than this.
_READ_PIECE = 64 * 1024

# What a refused caller is told: the same words whatever failed, as Bolt answers, so a prober
# learns nothing about which check it failed. The log says which.
UNAUTHORIZED = "invalid request"
TOO_LARGE = "request too large"


@dataclass(frozen=True)
class Refused:
    """A request that must not go further: the HTTP answer, and the reason for the log."""

    status: int
    error: str
    reason: str


@dataclass(frozen=True)
class Verified:
    """A request whose body is at most the limit and correctly signed by Slack, recently."""

    body: bytes


class SlackRequestGuard:
    """Decides whether a WSGI request is a genuine Slack request, reading as little as possible.

    Order matters: the declared size first (nothing read), then the headers (nothing read), then
    at most `max_body + 1` bytes of body, then the HMAC over exactly those bytes.
    """

    def __init__(
        self,
        signing_secret: str,
        *,
        max_body: int = MAX_BODY_BYTES,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not signing_secret.strip():
            # Anyone can compute an HMAC with an empty key: refuse to start rather than accept all.
            raise ValueError("a Slack signing secret is required to serve Slack requests")
        self._secret = signing_secret.encode()
        self.max_body = max_body
        self._clock = clock

    def check(self, environ: Mapping[str, Any]) -> Verified | Refused:
        length = _declared_length(environ.get("CONTENT_LENGTH"))
        if isinstance(length, Refused):
            return length
        if length is not None and length > self.max_body:
            return Refused(413, TOO_LARGE, f"Content-Length {length} over {self.max_body}")

        timestamp = environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP")
        signature = environ.get("HTTP_X_SLACK_SIGNATURE")
        problem = self._header_problem(timestamp, signature)
        if problem is not None:
            return Refused(401, UNAUTHORIZED, problem)
        assert timestamp is not None and signature is not None  # checked just above

        stream: BinaryIO | None = environ.get("wsgi.input")
        if length is not None:
            body = _read_at_most(stream, length)
        elif environ.get("wsgi.input_terminated"):
            # No length (a chunked body): the server promises end-of-input, so reading one byte
            # past the limit tells "too long" without holding more than that.
            body = _read_at_most(stream, self.max_body + 1)
        else:
            # PEP 3333: without a length and that promise, a read could wait on the client
            # forever; the body counts as empty (and then fails the signature).
            body = b""
        if length is None and len(body) > self.max_body:
            return Refused(413, TOO_LARGE, f"body without Content-Length over {self.max_body}")
        if length is not None and len(body) < length:
            return Refused(400, "malformed request", "body shorter than its Content-Length")

        expected = _sign(self._secret, timestamp.encode("ascii"), body)
        if not hmac.compare_digest(expected, signature.encode("ascii")):
            return Refused(401, UNAUTHORIZED, "signature does not match")
        return Verified(body)

    def sign(self, timestamp: str, body: bytes) -> str:
        """The signature Slack would send for `body` at `timestamp` (for a body the web layer
        re-encoded after this guard verified the original)."""
        return _sign(self._secret, timestamp.encode("ascii"), body).decode("ascii")

    def _header_problem(self, timestamp: object, signature: object) -> str | None:
        """Why the headers alone rule the request out, or None. Reads no body."""
        if not isinstance(timestamp, str) or not timestamp:
            return "no X-Slack-Request-Timestamp"
        if not isinstance(signature, str) or not signature:
            return "no X-Slack-Signature"
        # A repeated header arrives joined with ", " (waitress, RFC 9110): not a match either.
        if not _TIMESTAMP.fullmatch(timestamp):
            return "malformed X-Slack-Request-Timestamp"
        if not _SIGNATURE.fullmatch(signature):
            return "malformed X-Slack-Signature"
        skew = int(self._clock()) - int(timestamp)
        if abs(skew) > MAX_CLOCK_SKEW_SECONDS:
            # The skew (a number, not caller text) tells an operator if this host's clock is off.
            return f"timestamp {skew:+d} s from now, outside ±{MAX_CLOCK_SKEW_SECONDS} s"
        return None


def _sign(secret: bytes, timestamp: bytes, body: bytes) -> bytes:
    """Slack's v0 signature over the raw bytes (slack_sdk's verifier decodes them as UTF-8 first,
    which raises on a body that is not UTF-8)."""
    digest = hmac.new(secret, b"v0:" + timestamp + b":" + body, hashlib.sha256).hexdigest()
    return b"v0=" + digest.encode("ascii")


def _declared_length(value: object) -> int | Refused | None:
    """The Content-Length as a number; None when there is none (a body sent chunked)."""
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not re.fullmatch(r"[0-9]{1,18}", value):
        return Refused(400, "malformed request", "malformed Content-Length")
    return int(value)


def _read_at_most(stream: BinaryIO | None, limit: int) -> bytes:
    """Up to `limit` bytes, fewer only at end of input. `read(n)` may return less than n."""
    if stream is None or limit <= 0:
        return b""
    pieces: list[bytes] = []
    remaining = limit
    while remaining > 0:
        piece = stream.read(min(remaining, _READ_PIECE))
        if not piece:
            break
        pieces.append(piece)
        remaining -= len(piece)
    return b"".join(pieces)
