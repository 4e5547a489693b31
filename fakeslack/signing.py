"""Slack's v0 request signing: what the bot checks on every request that claims to be Slack's.

Base string ``v0:{timestamp}:{raw body}``, HMAC-SHA256 with the app's signing secret, sent as
``X-Slack-Signature: v0=<hex>`` next to ``X-Slack-Request-Timestamp``. The exact bytes sent must
be the bytes signed.
"""

from __future__ import annotations

import hashlib
import hmac

TIMESTAMP_HEADER = "X-Slack-Request-Timestamp"
SIGNATURE_HEADER = "X-Slack-Signature"


def slack_signature(signing_secret: str, timestamp: str, body: bytes) -> str:
    """``v0=`` + hex HMAC-SHA256 of ``v0:{timestamp}:{body}``: what X-Slack-Signature carries."""
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(signing_secret.encode(), base, hashlib.sha256).hexdigest()


def signed_headers(
    signing_secret: str, timestamp: str, body: bytes, *, signature: str | None = None
) -> dict[str, str]:
    """The two headers Slack adds; ``signature`` overrides the computed one (forgery tests)."""
    return {
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: signature or slack_signature(signing_secret, timestamp, body),
    }
