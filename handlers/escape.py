"""Text from people is escaped before Slack sees it, so `<!channel>` or `<@U1>` stays text."""

from __future__ import annotations

import re


def esc(text: object) -> str:
    """Slack's three control characters; mrkdwn markers are left, they cannot ping anyone."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# Usage placeholders such as `<ref>` or `<organisation>`: lower-case words in angle brackets.
# Slack would read them as links; mentions (`<@U1>`, `<!here>`, `<#C1>`) are left alone.
_PLACEHOLDER = re.compile(r"<([a-z][a-z ]*)>")


def placeholders(text: str) -> str:
    """Escape our own usage placeholders so Slack shows `<ref>` instead of a broken link."""
    return _PLACEHOLDER.sub(r"&lt;\1&gt;", text)


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
