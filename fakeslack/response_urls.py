"""Posts to response URLs: what ``respond()`` in a Bolt listener sends back to Slack."""

from __future__ import annotations

from typing import Any

from fakeslack.checks import truthy
from fakeslack.records import RESPONSE_URL_MAX_USES, Posted, ResponseUrl
from fakeslack.replies import Reply
from fakeslack.state import FakeSlackState, block_list, conversation


class ResponseUrls(FakeSlackState):
    """Serving the response URLs that ``FakeSlack.new_response_url`` hands out (lock held)."""

    def _serve_response_locked(self, key: str, args: dict[str, Any]) -> tuple[Reply, list[Posted]]:
        """A post to a response URL; faults were applied by the caller."""
        target = self._response_urls.get(key)
        if target is None:
            return Reply.of_text(404, "no_such_response_url"), []
        if target.uses >= RESPONSE_URL_MAX_USES:
            return Reply.of_text(404, "used_url"), []
        if "_raw" in args:
            return Reply.of_text(400, "invalid_payload"), []
        target.uses += 1
        return Reply.of_text(200, "ok"), [self._apply_response_locked(target, args)]

    def _apply_response_locked(self, target: ResponseUrl, args: dict[str, Any]) -> Posted:
        """Record a respond() post; replace or delete the original message like Slack does."""
        in_channel = args.get("response_type") == "in_channel"
        ts = None
        original = None
        if target.channel and target.message_ts:
            original = (conversation(target.channel)[0], target.message_ts)
        if original is not None and truthy(args.get("delete_original")):
            self._messages.pop(original, None)
            ts = original[1]
        elif original is not None and truthy(args.get("replace_original")):
            stored = self._messages.get(original)
            if stored is not None:
                stored["text"] = args.get("text", "")
                stored["blocks"] = args.get("blocks", [])
            ts = original[1]
        return Posted(
            kind="response_in_channel" if in_channel else "response",
            channel=conversation(target.channel)[0] if target.channel else None,
            user=target.user,
            ts=ts,
            thread_ts=args.get("thread_ts"),
            text=args.get("text"),
            blocks=block_list(args.get("blocks")),
            raw=args,
        )
