"""Channel messages about an episode: reference, initials, age, risk. Never a name or address."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import Block

from bot.domain.timetext import fmt_duration, fmt_local
from handlers.blocks.common import care_text, context, dt, message, risk_badge, section, who
from handlers.escape import esc


def episode_posted(data: dict[str, Any], *, now: datetime, tz: ZoneInfo) -> dict[str, Any]:
    seen = dt(data["last_seen_at"])
    headline = (
        f":rotating_light: *{data['ref']}* · {data['initials']} · age {data['age']} · "
        f"{risk_badge(data['risk'])}"
    )
    facts = (
        f"Missing: last seen {fmt_local(seen, tz)} ({fmt_duration(now - seen)} ago)\n"
        f"Care: {care_text(data)}"
    )
    blocks: list[Block] = [section(headline), section(facts)]
    number = data.get("child_episode_number")
    if number and number > 1:
        blocks.append(
            context(
                f":repeat: Episode {number} for this child; {data.get('recent_count', 0)} in the "
                "last 30 days."
            )
        )
    blocks.append(
        context(f"Updates follow in this thread. Details: `/missing show {data['ref']}` (private).")
    )
    text = (
        f"{data['ref']}: {data['initials']}, {data['age']}, {data['risk']} risk, missing since "
        f"{fmt_local(seen, tz)}"
    )
    return message(text, blocks)


def episode_returned(data: dict[str, Any], *, now: datetime, tz: ZoneInfo) -> dict[str, Any]:
    returned = dt(data["returned_at"])
    due = dt(data["rhi_due_at"])
    missing_for = fmt_duration(returned - dt(data["last_seen_at"]))
    text = (
        f":white_check_mark: *{data['ref']}* returned {fmt_local(returned, tz)} "
        f"(missing {missing_for}), recorded by {who(data.get('actor'))}.\n"
        f"Return home interview due by *{fmt_local(due, tz)}*."
    )
    return message(f"{data['ref']} returned {fmt_local(returned, tz)}", [section(text)])


def episode_reopened(data: dict[str, Any], *, now: datetime, tz: ZoneInfo) -> dict[str, Any]:
    text = (
        f":warning: *{data['ref']}* reopened by {who(data.get('actor'))}: the return was "
        "recorded in error and the child is still missing. The return home interview is "
        "cancelled."
    )
    return message(f"{data['ref']} reopened: still missing", [section(text)])


def rhi_status_changed(data: dict[str, Any], *, now: datetime, tz: ZoneInfo) -> dict[str, Any]:
    status = data["status"]
    extra = ""
    if status == "completed" and data.get("organisation"):
        extra = f" by {esc(data['organisation'])}"
    if status == "not_done" and data.get("reason"):
        extra = f": {esc(data['reason'])}"
    label = status.replace("_", " ")
    text = f"Return home interview for *{data['ref']}*: {label}{extra} ({who(data.get('actor'))})."
    return message(f"{data['ref']} RHI {label}", [section(text)])
