"""Channel messages about an update to a missing child's episode: what changed, in words.
Never a name, a place, a description or the text someone typed: those stay in the record,
shown privately by `/missing show`."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.domain.episode_update import CORRECTABLE
from bot.domain.timetext import fmt_local
from bot.services.messages import EpisodeUpdated, RiskRaised
from handlers.blocks.common import message, section, who


def update_lines(msg: EpisodeUpdated, *, tz: ZoneInfo) -> list[str]:
    summary, ref = msg.summary, msg.card.ref
    lines = []
    if summary.regraded is not None:
        previous, risk = summary.regraded
        recorded = (
            f" (recorded by {who(msg.actor)})"
            if summary.decided_by and summary.decided_by != msg.actor
            else ""
        )
        lines.append(
            f"Risk re-graded {previous.label} → *{risk.label}* by "
            f"{who(summary.decided_by or msg.actor)}{recorded}"
        )
    if summary.reviewed is not None:
        lines.append(
            f"Risk reviewed by {who(summary.decided_by or msg.actor)}: stays "
            f"*{summary.reviewed.label}*"
        )
    if summary.next_review is not None:
        lines.append(f"Next risk review due {fmt_local(summary.next_review, tz)}")
    if summary.sighting:
        lines.append(f"New sighting recorded (details: `/missing show {ref}`)")
    if summary.information:
        lines.append(f"Information added (details: `/missing show {ref}`)")
    if summary.corrected:
        words = ", ".join(CORRECTABLE.get(name, name) for name in summary.corrected)
        lines.append(f"Details corrected: {words}")
    return lines


def episode_updated(msg: EpisodeUpdated, *, now: datetime, tz: ZoneInfo) -> dict[str, Any]:
    lines = update_lines(msg, tz=tz)
    text = f":pencil2: *{msg.card.ref}* updated by {who(msg.actor)}:\n" + "\n".join(
        f"• {line}" for line in lines
    )
    return message(f"{msg.card.ref} updated: " + "; ".join(lines), [section(text)])


def risk_raised(msg: RiskRaised, *, now: datetime, tz: ZoneInfo) -> dict[str, Any]:
    card = msg.card
    text = (
        f":red_circle: *{card.ref}* · {card.initials} · age {card.age} · risk raised to "
        f"*High* (from {msg.previous.label}) by {who(msg.decided_by)}. Still missing since "
        f"{fmt_local(card.last_seen_at, tz)}. Updates in the episode's thread; details: "
        f"`/missing show {card.ref}` (private)."
    )
    return message(f"{card.ref}: risk raised to high", [section(text)])
