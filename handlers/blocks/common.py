"""Small shared pieces of Block Kit and wording."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import Block, ContextBlock, MarkdownTextObject, SectionBlock

from bot.domain.episode import Risk
from handlers.escape import clip, esc, placeholders

RISK_ICON = {
    "high": ":red_circle:",
    "medium": ":large_orange_circle:",
    "low": ":large_yellow_circle:",
    "no_apparent_risk": ":white_circle:",
}
SECTION_LIMIT = 3000


def risk_label(risk: str) -> str:
    try:
        return Risk(risk).label
    except ValueError:
        return esc(risk)


def risk_badge(risk: str) -> str:
    return f"{RISK_ICON.get(risk, '')} *{risk_label(risk)} risk*".strip()


def section(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=clip(placeholders(text), SECTION_LIMIT)))


def context(text: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=clip(placeholders(text), 2000))])


def dt(value: str | datetime) -> datetime:
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def message(text: str, blocks: list[Block]) -> dict[str, Any]:
    """A message payload: blocks plus the plain-text fallback Slack shows in notifications."""
    return {"text": clip(placeholders(text), 3000), "blocks": [b.to_dict() for b in blocks]}


def who(user_id: str | None) -> str:
    if not user_id:
        return "nobody"
    if user_id.startswith(("U", "W")) and user_id.isalnum():
        return f"<@{user_id}>"
    return esc(user_id)


def care_text(card: dict[str, Any]) -> str:
    if not card.get("looked_after"):
        return "not looked after"
    authority = card.get("placing_authority")
    return f"looked after, placed by {esc(authority)}" if authority else "looked after"
