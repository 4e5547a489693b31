"""Private answers (ephemeral or direct): help, episode details, lists, confirmations."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import Block, DividerBlock, HeaderBlock

from bot.domain.episode import RISK_FACTORS
from bot.domain.people import age_on
from bot.domain.timetext import ACCEPTED_FORMS, fmt_duration, fmt_local, fmt_local_short
from bot.services.episodes import EpisodeDetail
from bot.services.rhi import RhiChange
from handlers.blocks.common import care_text, context, dt, message, risk_badge, section, who
from handlers.escape import clip, esc

USAGE = f"""*/missing* — log and follow missing-child episodes
• `/missing new [name]` — log an episode (opens a form)
• `/missing returned <ref> [at <when>] [<note>]` — record the return; starts the 72-hour RHI clock
• `/missing reopen <ref> <reason>` — undo a return recorded in error
• `/missing show <ref>` — full details and history (private, audited)
• `/missing list` — episodes still open, longest missing first
• `/missing rhi` — your open return home interviews, soonest due first
• `/missing rhi <ref> done [<when>] [by <organisation>]` · `offered` · `declined`
  · `notdone <reason>` · `assign @someone` · `snooze <hours>`
• `/missing help` — this message
References look like `M-42` (`m42` and `42` work too). Times: {ACCEPTED_FORMS}, UK time."""


def help_message(intro: str = "") -> dict[str, Any]:
    text = f"{intro}\n\n{USAGE}" if intro else USAGE
    return message(intro or "How to use /missing", [section(text)])


def text_message(text: str) -> dict[str, Any]:
    return message(text, [section(text)])


def episode_detail(detail: EpisodeDetail, *, now: datetime, tz: ZoneInfo) -> dict[str, Any]:
    e, child, card = detail.episode, detail.child, detail.card
    factors = ", ".join(RISK_FACTORS.get(f, esc(f)) for f in e.risk_factors) or "none recorded"
    status = "Missing" if e.status == "missing" else "Returned"
    lines = [
        f"*Child:* {esc(child.full_name)} ({card['initials']}), born "
        f"{child.date_of_birth:%d/%m/%Y}, "
        f"age {age_on(child.date_of_birth, now.astimezone(tz).date())}",
        f"*Status:* {status} · {risk_badge(e.risk_level)} · {care_text(card)}",
        f"*Last seen:* {fmt_local(e.last_seen_at, tz)} at {esc(e.last_seen_place)}",
        f"*Risk factors:* {factors}",
        f"*Description:* {esc(e.description) or '—'}",
        f"*Reported by:* {esc(e.reported_by) or '—'}",
        f"*Force incident ref:* {esc(e.incident_ref or '—')} · "
        f"*Officer in the case:* {who(e.officer_id)}",
        f"*Episodes for this child:* {card.get('child_episode_number', 1)} in all, "
        f"{card.get('recent_count', 1)} in the last 30 days",
    ]
    if e.returned_at:
        lines.append(
            f"*Returned:* {fmt_local(e.returned_at, tz)} (missing "
            f"{fmt_duration(e.returned_at - e.last_seen_at)})"
            + (f" — {esc(e.return_note)}" if e.return_note else "")
        )
    else:
        lines.append(f"*Missing for:* {fmt_duration(now - e.last_seen_at)}")
    if detail.rhi:
        lines.append(
            rhi_line(
                detail.rhi.status,
                detail.rhi.due_at,
                detail.rhi.assignee_id,
                detail.rhi.completed_by_org,
                now=now,
                tz=tz,
            )
        )
    history = (
        "\n".join(
            f"• {fmt_local(ev.at, tz)} {esc(ev.action)} by {who(ev.actor)}" for ev in detail.history
        )
        or "• nothing yet"
    )
    blocks: list[Block] = [
        HeaderBlock(text=f"{card['ref']} (private)"),
        section("\n".join(lines)),
        DividerBlock(),
        section(f"*History*\n{clip(history, 2800)}"),
        context("This view is recorded in the audit trail."),
    ]
    return message(f"{card['ref']}: details (private)", blocks)


def rhi_line(
    status: str, due: datetime, assignee: str, org: str | None, *, now: datetime, tz: ZoneInfo
) -> str:
    text = f"*Return home interview:* {status.replace('_', ' ')}"
    if status in ("pending", "offered"):
        state = "overdue by " + fmt_duration(now - due) if now > due else "due"
        text += f", {state} {fmt_local(due, tz)}, chased by {who(assignee)}"
    if org:
        text += f", by {esc(org)}"
    return text


def open_list(
    cards: list[dict[str, Any]], total: int, *, now: datetime, tz: ZoneInfo
) -> dict[str, Any]:
    if not cards:
        return text_message("No episode is open: nobody is recorded as missing.")
    lines = [
        f"• *{c['ref']}* {c['initials']}, {c['age']} · {risk_badge(c['risk'])} · missing "
        f"{fmt_duration(now - dt(c['last_seen_at']))} "
        f"(since {fmt_local_short(dt(c['last_seen_at']), tz, now=now)})"
        for c in cards
    ]
    blocks: list[Block] = [section(f"*Open episodes: {total}*, longest missing first")]
    for start in range(0, len(lines), 15):
        blocks.append(section("\n".join(lines[start : start + 15])))
    if total > len(cards):
        blocks.append(context(f"Showing the first {len(cards)} of {total}."))
    return message(f"Open episodes: {total}", blocks)


def rhi_list(
    rows: list[tuple[RhiChange, dict[str, Any]]], *, now: datetime, tz: ZoneInfo
) -> dict[str, Any]:
    if not rows:
        return text_message("You have no open return home interviews.")
    lines = []
    for change, card in rows:
        state = (
            f"overdue by {fmt_duration(now - change.due_at)}"
            if now > change.due_at
            else f"due {fmt_local_short(change.due_at, tz, now=now)}"
        )
        lines.append(
            f"• *{change.ref}* {card['initials']} · {risk_badge(card['risk'])} · "
            f"{change.status} · {state}"
        )
    blocks: list[Block] = [
        section(f"*Your open return home interviews: {len(rows)}*, soonest due first")
    ]
    for start in range(0, len(lines), 15):
        blocks.append(section("\n".join(lines[start : start + 15])))
    return message(f"Your open return home interviews: {len(rows)}", blocks)
