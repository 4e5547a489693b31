"""Channel messages about an episode: reference, initials, age, risk. Never a name or address."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import Block

from bot.domain.timetext import fmt_duration, fmt_local
from bot.services.messages import (
    EpisodeConfirmed,
    EpisodePosted,
    EpisodeReopened,
    EpisodeReturned,
    RhiStatusChanged,
)
from handlers.blocks.common import care_text, context, message, risk_badge, section, who


def episode_posted(msg: EpisodePosted, *, now: datetime, tz: ZoneInfo) -> dict[str, Any]:
    card = msg.card
    seen = card.last_seen_at
    headline = (
        f":rotating_light: *{card.ref}* · {card.initials} · age {card.age} · "
        f"{risk_badge(card.risk)}"
    )
    facts = (
        f"Missing: last seen {fmt_local(seen, tz)} ({fmt_duration(now - seen)} ago)\n"
        f"Care: {care_text(card)}"
    )
    blocks: list[Block] = [section(headline), section(facts)]
    number = card.child_episode_number
    if number and number > 1:
        blocks.append(
            context(
                f":repeat: Episode {number} for this child; {card.recent_count or 0} in the "
                "last 30 days."
            )
        )
    blocks.append(
        context(f"Updates follow in this thread. Details: `/missing show {card.ref}` (private).")
    )
    text = (
        f"{card.ref}: {card.initials}, {card.age}, {card.risk.label.lower()} risk, missing since "
        f"{fmt_local(seen, tz)}"
    )
    return message(text, blocks)


def episode_confirmed(msg: EpisodeConfirmed, *, now: datetime, tz: ZoneInfo) -> dict[str, Any]:
    card = msg.card
    lines = [
        f":white_check_mark: Logged *{card.ref}*: {card.initials}, age {card.age}, "
        f"{card.risk.label.lower()} risk, last seen {fmt_local(card.last_seen_at, tz)}."
    ]
    if card.child_episode_number and card.child_episode_number > 1:
        lines.append(
            f"This is episode {card.child_episode_number} for this child; "
            f"{card.recent_count} in the last 30 days."
        )
    lines.append(f"Record the return with `/missing returned {card.ref}`.")
    text = "\n".join(lines)
    return message(text, [section(text)])


def episode_returned(msg: EpisodeReturned, *, now: datetime, tz: ZoneInfo) -> dict[str, Any]:
    card = msg.card
    missing_for = fmt_duration(msg.returned_at - card.last_seen_at)
    text = (
        f":white_check_mark: *{card.ref}* returned {fmt_local(msg.returned_at, tz)} "
        f"(missing {missing_for}), recorded by {who(msg.actor)}.\n"
        f"Return home interview due by *{fmt_local(msg.rhi_due_at, tz)}*."
    )
    return message(f"{card.ref} returned {fmt_local(msg.returned_at, tz)}", [section(text)])


def episode_reopened(msg: EpisodeReopened, *, now: datetime, tz: ZoneInfo) -> dict[str, Any]:
    text = (
        f":warning: *{msg.card.ref}* reopened by {who(msg.actor)}: the return was "
        "recorded in error and the child is still missing. The return home interview is "
        "cancelled."
    )
    return message(f"{msg.card.ref} reopened: still missing", [section(text)])


def rhi_status_changed(msg: RhiStatusChanged, *, now: datetime, tz: ZoneInfo) -> dict[str, Any]:
    label = msg.status.label
    text = f"Return home interview for *{msg.ref}*: {label} ({who(msg.actor)})."
    return message(f"{msg.ref} RHI {label}", [section(text)])
