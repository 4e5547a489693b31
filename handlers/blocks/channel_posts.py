"""Channel messages about an episode: reference, initials, age, risk. Never a name or address."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement

from bot.domain.states import EpisodeStatus, SafeWellStatus
from bot.domain.timetext import fmt_duration, fmt_local
from bot.services.messages import (
    EpisodeAssigned,
    EpisodeConfirmed,
    EpisodePosted,
    EpisodePostUpdated,
    EpisodeReopened,
    EpisodeReturned,
    EpisodeVoided,
    RhiStatusChanged,
    SafeWellDone,
    SafeWellOverdue,
    SafeWellReminder,
)
from bot.services.results import EpisodeCard
from handlers.blocks.common import care_text, context, message, risk_badge, section, who


def episode_posted(
    msg: EpisodePosted | EpisodePostUpdated, *, now: datetime, tz: ZoneInfo
) -> dict[str, Any]:
    """The control-room post: first when the episode is logged, then as edited to say where it
    stands (risk re-graded, the child back)."""
    card = msg.card
    if card.status is EpisodeStatus.VOID:
        return _voided_post(card, tz=tz)
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


def void_label(card: EpisodeCard) -> str:
    """What a channel may say about why: never the reason typed, which may name people."""
    return f"duplicate of {card.duplicate_of}" if card.duplicate_of else "logged in error"


def _voided_post(card: EpisodeCard, *, tz: ZoneInfo) -> dict[str, Any]:
    """The post struck through: whoever glances at the channel sees it is not a child out."""
    label = void_label(card)
    when = f" {fmt_local(card.voided_at, tz)}" if card.voided_at else ""
    instead = f" Follow *{card.duplicate_of}* instead." if card.duplicate_of else ""
    blocks: list[Block] = [
        section(f":no_entry: ~{card.ref} · {card.initials} · age {card.age}~ · *VOIDED: {label}*"),
        section(f"Voided{when}: not counted, and nothing follows it.{instead}"),
        context(f"Why, privately: `/missing show {card.ref}`."),
    ]
    return message(f"{card.ref}: VOIDED ({label})", blocks)


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
    """In the episode's thread: the return, and who does what next. Where the child was found
    and what they disclosed stay private (`/missing show`)."""
    card = msg.card
    missing_for = fmt_duration(msg.returned_at - card.last_seen_at)
    lines = [
        f":white_check_mark: *{card.ref}* returned {fmt_local(msg.returned_at, tz)} "
        f"(missing {missing_for}), recorded by {who(msg.actor)}"
        + (f": {msg.how.label}." if msg.how else "."),
        f"Return home interview (local authority) due by *{fmt_local(msg.rhi_due_at, tz)}*.",
    ]
    if msg.safe_well is SafeWellStatus.DONE:
        lines.append(f"Police safe-and-well check: done, by {who(msg.safe_well_by)}.")
    elif msg.safe_well_due_at is not None:
        lines.append(
            f"Police safe-and-well check: to be done by {who(msg.safe_well_by)}, due by "
            f"*{fmt_local(msg.safe_well_due_at, tz)}*."
        )
    if msg.referral:
        lines.append(
            ":triangular_flag_on_post: Something the child disclosed needs a referral "
            f"(details, privately: `/missing show {card.ref}`)."
        )
    return message(
        f"{card.ref} returned {fmt_local(msg.returned_at, tz)}", [section("\n".join(lines))]
    )


def safe_well_done(msg: SafeWellDone, *, now: datetime, tz: ZoneInfo) -> dict[str, Any]:
    text = (
        f":white_check_mark: Police safe-and-well check for *{msg.ref}* done "
        f"{fmt_local(msg.at, tz)}, by {who(msg.by)} (recorded by {who(msg.actor)})."
    )
    return message(f"{msg.ref}: safe-and-well check done", [section(text)])


def safe_well_overdue(msg: SafeWellOverdue, *, now: datetime, tz: ZoneInfo) -> dict[str, Any]:
    card = msg.card
    text = (
        f":warning: The police safe-and-well check for *{card.ref}* ({card.initials}, "
        f"{risk_badge(card.risk)}) is overdue by *{fmt_duration(now - msg.due_at)}* (due "
        f"{fmt_local(msg.due_at, tz)}), with {who(msg.officer)}. When it is done: "
        f"`/missing safewell {card.ref} done [at <when>] [by @someone]`."
    )
    return message(f"{card.ref}: safe-and-well check overdue", [section(text)])


SAFE_WELL_DONE_BUTTON = "safe_well_done"


def safe_well_reminder(msg: SafeWellReminder, *, now: datetime, tz: ZoneInfo) -> dict[str, Any]:
    card = msg.card
    state = (
        f"due {fmt_local(msg.due_at, tz)}"
        if now < msg.due_at
        else f"overdue now (was due {fmt_local(msg.due_at, tz)})"
    )
    blocks: list[Block] = [
        section(
            f":police_car: The police safe-and-well check for *{card.ref}* is {state}: "
            f"{card.initials}, age {card.age}, {risk_badge(card.risk)}, returned "
            f"{fmt_local(msg.returned_at, tz)}."
        ),
        ActionsBlock(
            block_id=f"safe_well:{msg.returned_key}",
            elements=[
                ButtonElement(
                    text="Done",
                    action_id=SAFE_WELL_DONE_BUTTON,
                    value=msg.returned_key,
                    style="primary",
                )
            ],
        ),
        context(
            f"Or `/missing safewell {card.ref} done [at <when>] [by @someone]`. Details: "
            f"`/missing show {card.ref}`."
        ),
    ]
    return message(f"Safe-and-well check for {card.ref} {state}", blocks)


def episode_reopened(msg: EpisodeReopened, *, now: datetime, tz: ZoneInfo) -> dict[str, Any]:
    text = (
        f":warning: *{msg.card.ref}* reopened by {who(msg.actor)}: the return was "
        "recorded in error and the child is still missing. The return home interview is "
        "cancelled."
    )
    return message(f"{msg.card.ref} reopened: still missing", [section(text)])


def episode_voided(msg: EpisodeVoided, *, now: datetime, tz: ZoneInfo) -> dict[str, Any]:
    card = msg.card
    label = void_label(card)
    stopped = (
        " Its return home interview is cancelled and its reminders stopped."
        if msg.rhi_cancelled
        else " Nothing more follows it."
    )
    instead = f" Follow *{card.duplicate_of}* instead." if card.duplicate_of else ""
    text = (
        f":no_entry: *{card.ref}* voided by {who(msg.actor)}: {label}. It is left out of "
        f"open lists and figures.{stopped}{instead}"
    )
    return message(f"{card.ref} voided: {label}", [section(text)])


def rhi_status_changed(msg: RhiStatusChanged, *, now: datetime, tz: ZoneInfo) -> dict[str, Any]:
    label = msg.status.label
    text = f"Return home interview for *{msg.ref}*: {label} ({who(msg.actor)})."
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
