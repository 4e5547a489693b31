"""Fault injection: make chosen calls fail the way Slack fails (errors, 429s, 5xx)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fakeslack.replies import Reply


@dataclass
class Fault:
    method: str
    status: int
    error: str | None
    retry_after: int | None
    remaining: int | None
    when: Callable[[dict[str, Any]], bool] | None


def take_fault(faults: list[Fault], method: str, args: dict[str, Any]) -> Fault | None:
    """The first fault that applies to this call, used up by one; the fake's lock is held."""
    for fault in faults:
        if fault.method != method or (fault.when is not None and not fault.when(args)):
            continue
        if fault.remaining is not None:
            fault.remaining -= 1
            if fault.remaining == 0:
                faults.remove(fault)
        return fault
    return None


def fault_reply(fault: Fault, *, json_errors: bool) -> Reply:
    if fault.status == 429:
        retry_after = str(fault.retry_after if fault.retry_after is not None else 1)
        return Reply.of_json(
            {"ok": False, "error": "ratelimited"}, 429, **{"Retry-After": retry_after}
        )
    if fault.status >= 500:
        return Reply.of_text(fault.status, fault.error or f"fake server error {fault.status}")
    if not json_errors:  # response URLs answer in plain text
        return Reply.of_text(fault.status, fault.error or "invalid_request")
    return Reply.of_json({"ok": False, "error": fault.error or "invalid_request"}, fault.status)
