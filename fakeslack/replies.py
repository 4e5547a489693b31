"""What the fake answers: the HTTP reply, and the Slack API error a method handler raises."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from fakeslack.records import Posted


@dataclass
class Reply:
    """What the HTTP handler writes back."""

    status: int
    body: bytes
    content_type: str
    headers: dict[str, str] = field(default_factory=dict)
    json_body: dict[str, Any] | None = None
    # Seconds to hold the answer back (a slow fault): the work is done, the client may give up.
    delay: float = 0.0

    @classmethod
    def of_json(cls, data: dict[str, Any], status: int = 200, **headers: str) -> Reply:
        body = json.dumps(data).encode()
        return cls(status, body, "application/json; charset=utf-8", dict(headers), data)

    @classmethod
    def of_text(cls, status: int, text: str) -> Reply:
        return cls(status, text.encode(), "text/plain; charset=utf-8")


class SlackError(Exception):
    """Raised by a method handler to answer ``{"ok": false, "error": code}`` with HTTP 200."""

    def __init__(self, code: str, *messages: str) -> None:
        super().__init__(code)
        self.code = code
        self.messages = list(messages)


# What a Web API method handler returns: the response body and what became visible to users.
Outcome = tuple[dict[str, Any], list[Posted]]
