"""Small shared pieces of Block Kit and wording."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import Block, ContextBlock, MarkdownTextObject, SectionBlock

from bot.domain.states import Risk
from bot.services.results import EpisodeCard
from handlers.escape import clip, esc, placeholders

RISK_ICON = {
    Risk.HIGH: ":red_circle:",
    Risk.MEDIUM: ":large_orange_circle:",
    Risk.LOW: ":large_yellow_circle:",
    Risk.NO_APPARENT_RISK: ":white_circle:",
}
SECTION_LIMIT = 3000


def risk_badge(risk: Risk) -> str:
    # "No apparent risk" says it already: no second "risk".
    words = risk.label if risk is Risk.NO_APPARENT_RISK else f"{risk.label} risk"
    return f"{RISK_ICON[risk]} *{words}*"


def section(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=clip(placeholders(text), SECTION_LIMIT)))


def context(text: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=clip(placeholders(text), 2000))])


def message(text: str, blocks: list[Block]) -> dict[str, Any]:
    """A message payload: blocks plus the plain-text fallback Slack shows in notifications."""
    return {"text": clip(placeholders(text), 3000), "blocks": [b.to_dict() for b in blocks]}


def who(user_id: str | None) -> str:
    if not user_id:
        return "nobody"
    if user_id.startswith(("U", "W")) and user_id.isalnum():
        return f"<@{user_id}>"
    return esc(user_id)


def care_text(card: EpisodeCard) -> str:
    if not card.looked_after:
        return "not looked after"
    authority = card.placing_authority
    return f"looked after, placed by {esc(authority)}" if authority else "looked after"
