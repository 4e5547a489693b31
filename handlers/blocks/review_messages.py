"""Risk reviews while a child is missing: the reminder to the officer in the case (with its
buttons), the overdue note in the episode's thread, and the reminder once acted on."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement

from bot.domain.states import Risk
from bot.domain.timetext import fmt_duration, fmt_local, fmt_local_short
from bot.services.messages import ReviewDue, ReviewOverdue
from bot.services.results import Reviewed
from handlers.blocks.common import context, message, risk_badge, section, who

# action_ids of the reminder's buttons; the value carries "<episode_id>:<due, unix seconds>".
STAYS, UPDATE = "review_stays", "review_update"
BUTTON_ACTIONS = (STAYS, UPDATE)
# Past its due time by this much, a reminder says how late it is rather than "due now".
_LATE = timedelta(minutes=5)


def risk_words(risk: Risk) -> str:
    """`high risk`, ..., `no apparent risk`."""
    return "no apparent risk" if risk is Risk.NO_APPARENT_RISK else f"{risk.value} risk"


def review_buttons(episode_id: int, due_at: datetime) -> ActionsBlock:
    value = f"{episode_id}:{int(due_at.timestamp())}"
    return ActionsBlock(
        block_id=f"review_actions:{episode_id}",
        elements=[
            ButtonElement(text="Review: risk stays", action_id=STAYS, value=value, style="primary"),
            ButtonElement(text="Re-grade / update", action_id=UPDATE, value=value),
        ],
    )


def review_due(msg: ReviewDue, *, now: datetime, tz: ZoneInfo) -> dict[str, Any]:
    card, due = msg.card, msg.due_at
    missing = fmt_duration(now - card.last_seen_at)
    if now - due < _LATE:
        headline = f":mag: Risk review due for *{card.ref}*"
        fallback = f"Risk review due for {card.ref}"
    else:
        headline = (
            f":warning: Risk review for *{card.ref}* overdue by {fmt_duration(now - due)} "
            f"(due {fmt_local_short(due, tz, now=now)})"
        )
        fallback = f"Risk review for {card.ref} overdue by {fmt_duration(now - due)}"
    blocks: list[Block] = [
        section(
            f"{headline}: {card.initials}, age {card.age} · {risk_badge(card.risk)} · missing "
            f"{missing} (last seen {fmt_local_short(card.last_seen_at, tz, now=now)})."
        ),
        section(
            f"At {risk_words(card.risk)} the risk is reviewed every {msg.interval_hours:g} h. "
            f"Confirm it stays {risk_words(card.risk)}, or re-grade it and add what is known."
        ),
        review_buttons(card.episode_id, due),
        context(f"Or `/missing update {card.ref}`. Details: `/missing show {card.ref}` (private)."),
    ]
    return message(fallback, blocks)


def review_overdue(msg: ReviewOverdue, *, now: datetime, tz: ZoneInfo) -> dict[str, Any]:
    card = msg.card
    text = (
        f":warning: *Risk review overdue* for *{card.ref}* ({card.initials}, "
        f"{risk_badge(card.risk)}): due {fmt_local(msg.due_at, tz)}, none recorded since. "
        f"Officer in the case: {who(msg.officer_id)}. Record it with the buttons on their "
        f"reminder, or `/missing update {card.ref}`."
    )
    return message(f"Risk review overdue for {card.ref}", [section(text)])


def review_recorded(result: Reviewed, *, actor: str, tz: ZoneInfo) -> dict[str, Any]:
    """What the reminder says once someone recorded the review from it (its buttons gone)."""
    text = (
        f":white_check_mark: Risk review for *{result.ref}* recorded by {who(actor)}: stays "
        f"{risk_words(result.risk)}. Next review due {fmt_local(result.next_review, tz)}."
    )
    return message(f"Risk review for {result.ref} recorded", [section(text)])
