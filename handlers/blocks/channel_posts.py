"""Channel messages about an episode: reference, initials, age, risk. Never a name or address."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import Block

from bot.domain.states import EpisodeStatus, RhiStatus
from bot.domain.timetext import fmt_duration, fmt_local
from bot.services.messages import (
    EpisodeAssigned,
    EpisodeConfirmed,
    EpisodePosted,
    EpisodePostUpdated,
    EpisodeReopened,
    EpisodeReturned,
    RhiStatusChanged,
)
from handlers.blocks.common import care_text, context, message, risk_badge, section, who
from handlers.escape import esc


def episode_posted(
    msg: EpisodePosted | EpisodePostUpdated, *, now: datetime, tz: ZoneInfo
) -> dict[str, Any]:
    """The control-room post: first when the episode is logged, then as edited to say where it
    stands (risk re-graded, the child back)."""
    card = msg.card
    seen = card.last_seen_at
    back = card.status is EpisodeStatus.RETURNED and card.returned_at is not None
    icon = ":white_check_mark:" if back else ":rotating_light:"
    headline = (
        f"{icon} *{card.ref}* · {card.initials} · age {card.age} · {risk_badge(card.risk)}"
        + (" · *returned*" if back else "")
    )
    if back and card.returned_at is not None:
        state = (
            f"Returned {fmt_local(card.returned_at, tz)}, after "
            f"{fmt_duration(card.returned_at - seen)} missing (last seen {fmt_local(seen, tz)})"
        )
    else:
        state = f"Missing: last seen {fmt_local(seen, tz)} ({fmt_duration(now - seen)} ago)"
    blocks: list[Block] = [section(headline), section(f"{state}\nCare: {care_text(card)}")]
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
    if back and card.returned_at is not None:
        text = (
            f"{card.ref}: {card.initials}, {card.age}, returned {fmt_local(card.returned_at, tz)}"
        )
    else:
        text = (
            f"{card.ref}: {card.initials}, {card.age}, {card.risk.label.lower()} risk, missing "
            f"since {fmt_local(seen, tz)}"
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
    extra = ""
    if msg.status is RhiStatus.COMPLETED and msg.organisation:
        extra = f" by {esc(msg.organisation)}"
    label = msg.status.label
    text = f"Return home interview for *{msg.ref}*: {label}{extra} ({who(msg.actor)})."
    return message(f"{msg.ref} RHI {label}", [section(text)])


def episode_assigned(msg: EpisodeAssigned, *, now: datetime, tz: ZoneInfo) -> dict[str, Any]:
    card = msg.card
    did = (
        f"named you the officer in the case for *{card.ref}*"
        if msg.reassigned
        else f"logged *{card.ref}* and named you the officer in the case"
    )
    text = (
        f":rotating_light: {who(msg.by)} {did}: {card.initials}, age {card.age}, "
        f"{risk_badge(card.risk)}, last seen {fmt_local(card.last_seen_at, tz)}.\n"
        f"Details: `/missing show {card.ref}` (private). You will be asked to review the risk "
        "while the child is missing, and reminded about the return home interview once back."
    )
    return message(f"{card.ref} is yours: you are the officer in the case", [section(text)])
