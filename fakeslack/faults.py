"""Fault injection: make chosen calls fail the way Slack fails (errors, 429s, 5xx), or answer late.

A fault names a Web API method, ``"*"`` for every Web API method (app-wide errors such as
``token_revoked`` hit whatever the app calls next), or one of the posts to URLs the fake hands
out: ``"response_url"`` and ``"upload_url"``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fakeslack.records import Posted
from fakeslack.replies import Reply

ANY_METHOD = "*"
# Posts to URLs the fake handed out: not Web API calls (no token), so "*" leaves them alone.
URL_POSTS = frozenset({"response_url", "upload_url"})

# The bot-token scope each implemented method needs, for missing_scope answers: Slack names the
# scope that was needed and the ones the token has.
NEEDED_SCOPES = {
    "chat.postMessage": "chat:write",
    "chat.postEphemeral": "chat:write",
    "chat.update": "chat:write",
    "users.info": "users:read",
    "conversations.info": "channels:read",
    "conversations.open": "im:write",
    "conversations.history": "channels:history",
    "files.getUploadURLExternal": "files:write",
    "files.completeUploadExternal": "files:write",
    "usergroups.users.list": "usergroups:read",
}


@dataclass
class Fault:
    method: str
    status: int
    error: str | None
    retry_after: int | None
    remaining: int | None
    when: Callable[[dict[str, Any]], bool] | None
    # Seconds the HTTP answer is held back after the call was handled (or refused).
    delay: float = 0.0

    @property
    def fails(self) -> bool:
        """False for a slow-only fault: Slack does the work, only the answer comes late."""
        return self.status != 200 or self.error is not None

    def matches(self, method: str) -> bool:
        return self.method == method or (self.method == ANY_METHOD and method not in URL_POSTS)


def serve_with_faults(
    faults: list[Fault],
    method: str,
    args: dict[str, Any],
    serve: Callable[[], tuple[Reply, list[Posted]]],
    *,
    json_errors: bool,
) -> tuple[Reply, list[Posted]]:
    """Serve a call as the first matching fault says; the fake's lock is held.

    A failing fault refuses the call (nothing is done or posted); a slow-only fault lets
    ``serve`` do the work and holds the answer back. No fault: just ``serve``.
    """
    fault = _take_fault(faults, method, args)
    if fault is None:
        return serve()
    if fault.fails:
        return dataclasses.replace(_failure(fault, method, json_errors), delay=fault.delay), []
    reply, posts = serve()
    return dataclasses.replace(reply, delay=fault.delay), posts


def _take_fault(faults: list[Fault], method: str, args: dict[str, Any]) -> Fault | None:
    """The first fault that applies to this call, used up by one."""
    for fault in faults:
        if not fault.matches(method) or (fault.when is not None and not fault.when(args)):
            continue
        if fault.remaining is not None:
            fault.remaining -= 1
            if fault.remaining == 0:
                faults.remove(fault)
        return fault
    return None


def _failure(fault: Fault, method: str, json_errors: bool) -> Reply:
    if fault.status == 429:
        retry_after = str(fault.retry_after if fault.retry_after is not None else 1)
        return Reply.of_json(
            {"ok": False, "error": "ratelimited"}, 429, **{"Retry-After": retry_after}
        )
    if fault.status >= 500:
        return Reply.of_text(fault.status, fault.error or f"fake server error {fault.status}")
    if not json_errors:  # response and upload URLs answer in plain text
        return Reply.of_text(fault.status, fault.error or "invalid_request")
    data: dict[str, Any] = {"ok": False, "error": fault.error or "invalid_request"}
    if fault.error == "missing_scope" and method in NEEDED_SCOPES:
        needed = NEEDED_SCOPES[method]
        data["needed"] = needed
        # As if the app had every other scope the fake knows of.
        data["provided"] = ",".join(sorted(set(NEEDED_SCOPES.values()) - {needed}))
    return Reply.of_json(data, fault.status)
