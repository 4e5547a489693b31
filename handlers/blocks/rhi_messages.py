"""Reminders to whoever chases a return home interview, and escalations to safeguarding."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement

from bot.domain.timetext import fmt_duration, fmt_local, fmt_local_short
from bot.services.messages import DeliveryFailed, RhiEscalation, RhiReminder
from handlers.blocks.common import context, message, risk_badge, section, who
from handlers.escape import esc

# action_ids of the reminder buttons; the value carries "<rhi_id>:<episode_id>".
DONE, DECLINED, SNOOZE, REASSIGN = "rhi_done", "rhi_declined", "rhi_snooze", "rhi_reassign"
BUTTON_ACTIONS = (DONE, DECLINED, SNOOZE, REASSIGN)


def rhi_buttons(rhi_id: int, episode_id: int) -> ActionsBlock:
    value = f"{rhi_id}:{episode_id}"
    return ActionsBlock(
        block_id=f"rhi_actions:{rhi_id}",
        elements=[
            ButtonElement(text="Done", action_id=DONE, value=value, style="primary"),
            ButtonElement(text="Declined", action_id=DECLINED, value=value),
            ButtonElement(text="Snooze 4 h", action_id=SNOOZE, value=value),
            ButtonElement(text="Reassign", action_id=REASSIGN, value=value),
        ],
    )


def rhi_reminder(msg: RhiReminder, *, now: datetime, tz: ZoneInfo) -> dict[str, Any]:
    rhi, card = msg.rhi, msg.card
    due, ref = rhi.due_at, rhi.ref
    when = fmt_local_short(due, tz, now=now)
    if now < due:
        headline = f":alarm_clock: Return home interview for *{ref}* due {when}"
        fallback = f"RHI for {ref} due {when}"
    elif now - due < timedelta(hours=1):
        headline = f":warning: Return home interview for *{ref}* is overdue now (was due {when})"
        fallback = f"RHI for {ref} overdue now"
    else:
        headline = (
            f":warning: Return home interview for *{ref}* is overdue by "
            f"{fmt_duration(now - due)} (due {fmt_local(due, tz)})"
        )
        fallback = f"RHI for {ref} overdue by {fmt_duration(now - due)}"
    body = f"{card.initials} · {risk_badge(card.risk)} · returned {fmt_local(rhi.returned_at, tz)}"
    blocks: list[Block] = [
        section(headline),
        section(body),
        rhi_buttons(rhi.rhi_id, rhi.episode_id),
        context(
            f"Or `/missing rhi {ref} done [by <organisation>]`, `offered`, `declined`, "
            "`notdone <reason>`, `snooze <hours>`."
        ),
    ]
    return message(fallback, blocks)


def rhi_escalation(msg: RhiEscalation, *, now: datetime, tz: ZoneInfo) -> dict[str, Any]:
    rhi, card = msg.rhi, msg.card
    due = rhi.due_at
    text = (
        f":rotating_light: *Escalation:* return home interview for *{rhi.ref}* "
        f"({card.initials}, {risk_badge(card.risk)}) is overdue by "
        f"*{fmt_duration(now - due)}* (due {fmt_local(due, tz)}). Chased by "
        f"{who(rhi.assignee_id)}."
    )
    return message(
        f"Escalation: RHI for {rhi.ref} overdue by {fmt_duration(now - due)}", [section(text)]
    )


def delivery_failed(msg: DeliveryFailed, *, now: datetime, tz: ZoneInfo) -> dict[str, Any]:
    about = f" about *{esc(msg.ref)}*" if msg.ref else ""
    text = (
        f":no_entry: The bot could not deliver a message ({esc(msg.what)}){about} to "
        f"{who(msg.target)}: Slack said `{esc(msg.reason)}`. It will not retry; "
        "please make sure a person follows this up."
    )
    return message(
        f"Could not deliver a message{' about ' + msg.ref if msg.ref else ''}", [section(text)]
    )


def rhi_acted(original: dict[str, Any], *, note: str, still_open: bool = False) -> dict[str, Any]:
    """The reminder after someone used a button, showing who did what.

    Once the interview is closed its buttons go; after a snooze or a reassignment they stay.
    """
    blocks = [b for b in original.get("blocks", []) if b.get("type") != "context"]
    if not still_open:
        blocks = [b for b in blocks if b.get("type") != "actions"]
    blocks.append(context(note).to_dict())
    return {"text": original.get("text") or note, "blocks": blocks}
