"""Text from people is escaped before Slack sees it, so `<!channel>` or `<@U1>` stays text."""

from __future__ import annotations


def esc(text: object) -> str:
    """Slack's three control characters; mrkdwn markers are left, they cannot ping anyone."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
