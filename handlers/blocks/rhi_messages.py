"""Reminders to whoever chases a return home interview, and escalations to safeguarding."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement

from bot.domain.timetext import fmt_duration, fmt_local, fmt_local_short
from bot.services.messages import (
    DeliveryFailed,
    DeliveryResumed,
    OverdueList,
    RhiAssigned,
    RhiEscalation,
    RhiLapsed,
    RhiReminder,
)
from bot.services.results import RhiView
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


def rhi_state(rhi: RhiView, *, now: datetime, tz: ZoneInfo) -> str:
    due = rhi.due_at
    if now < due:
        return f"due {fmt_local_short(due, tz, now=now)}"
    if now - due < timedelta(hours=1):
        return f"overdue now (was due {fmt_local_short(due, tz, now=now)})"
    return f"overdue by {fmt_duration(now - due)} (due {fmt_local(due, tz)})"


def rhi_assigned(msg: RhiAssigned, *, now: datetime, tz: ZoneInfo) -> dict[str, Any]:
    rhi, card = msg.rhi, msg.card
    headline = (
        f":arrows_counterclockwise: {who(msg.by)} has asked you to chase the return home "
        f"interview for *{rhi.ref}*: {rhi_state(rhi, now=now, tz=tz)}."
    )
    blocks: list[Block] = [
        section(headline),
        section(
            f"{card.initials} · {risk_badge(card.risk)} · returned {fmt_local(rhi.returned_at, tz)}"
        ),
        rhi_buttons(rhi.rhi_id, rhi.episode_id),
        context(f"Details: `/missing show {rhi.ref}` (private). Your list: `/missing rhi`."),
    ]
    return message(f"You now chase the RHI for {rhi.ref}", blocks)


def overdue_list(msg: OverdueList, *, now: datetime, tz: ZoneInfo) -> dict[str, Any]:
    count = msg.total
    noun = "interview" if count == 1 else "interviews"
    blocks: list[Block] = [
        section(
            f":warning: *{count} return home {noun} you chase {'is' if count == 1 else 'are'}"
            " overdue.* Record each outcome, or reassign it."
        )
    ]
    for rhi, card in msg.items:
        blocks.append(
            section(
                f"*{rhi.ref}* {card.initials} · {risk_badge(card.risk)} · "
                f"{rhi_state(rhi, now=now, tz=tz)}"
            )
        )
        blocks.append(rhi_buttons(rhi.rhi_id, rhi.episode_id))
    if count > len(msg.items):
        blocks.append(context(f"And {count - len(msg.items)} more: `/missing rhi` lists them all."))
    return message(f"{count} overdue return home {noun} to chase", blocks)


def rhi_lapsed(msg: RhiLapsed, *, now: datetime, tz: ZoneInfo) -> dict[str, Any]:
    rhi, card = msg.rhi, msg.card
    text = (
        f":no_entry: *Lapsed:* no outcome was recorded for the return home interview for "
        f"*{rhi.ref}* ({card.initials}, {risk_badge(card.risk)}) within {msg.lapse_days} days "
        f"of the return (due {fmt_local(rhi.due_at, tz)}; chased by {who(rhi.assignee_id)}). "
        "It is now recorded as *not done (lapsed)* and nothing more is sent about it. "
        f"`/missing show {rhi.ref}` has the record."
    )
    return message(f"Lapsed: RHI for {rhi.ref} recorded as not done", [section(text)])


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


def delivery_resumed(msg: DeliveryResumed, *, now: datetime, tz: ZoneInfo) -> dict[str, Any]:
    text = (
        f":large_green_circle: Slack accepts the bot again. Delivery was paused from "
        f"{fmt_local(msg.since, tz)} to {fmt_local(msg.until, tz)} because Slack refused the "
        f"bot itself (`{esc(msg.reason)}`); the {msg.held} messages held meanwhile (reminders, "
        "escalations, posts) are going out now, marked as late."
    )
    return message("Slack accepts the bot again: held messages are going out", [section(text)])


def rhi_acted(
    original: dict[str, Any], rhi_id: int, *, note: str, still_open: bool = False
) -> dict[str, Any]:
    """A message with buttons for this interview, after someone used one: who did what.

    Once the interview is closed its buttons go (the note takes their place); after a snooze
    or a reassignment they stay, with the note under them. Other interviews on the same
    message (a daily list) are left as they are.
    """
    buttons = f"rhi_actions:{rhi_id}"
    blocks: list[dict[str, Any]] = []
    for block in original.get("blocks") or []:
        if block.get("block_id") != buttons:
            blocks.append(block)
            continue
        if still_open:
            blocks.append(block)
        blocks.append(context(note).to_dict())
    return {"text": original.get("text") or note, "blocks": blocks[:50]}
