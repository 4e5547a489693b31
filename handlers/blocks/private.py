"""Private answers (ephemeral or direct): help, episode details, lists, confirmations."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import Block, DividerBlock, HeaderBlock

from bot.domain.episode import RISK_FACTORS
from bot.domain.people import age_on
from bot.domain.refs import format_ref
from bot.domain.states import OPEN_RHI_STATUSES, EpisodeStatus
from bot.domain.timetext import ACCEPTED_FORMS, fmt_duration, fmt_local, fmt_local_short
from bot.services.access import GrantView
from bot.services.audit_log import AuditEntry
from bot.services.results import EpisodeDetail, OpenEpisodes, RecentReturns, RhiListing, RhiView
from handlers.blocks.common import care_text, context, message, risk_badge, section, who
from handlers.blocks.episode_records import record_blocks, review_line
from handlers.escape import clip, esc

USAGE = f"""*/missing* — log and follow missing-child episodes
• `/missing new [name]` — log an episode (opens a form)
• `/missing returned <ref>` — the return form (when, where found, how, safe-and-well check)
• `/missing returned <ref> <when> [<note>]` — record the return at once; starts the RHI clock
• `/missing safewell <ref> done [at <when>] [by @someone]` — the police safe-and-well check
• `/missing reopen <ref> <reason>` — undo a return recorded in error
• `/missing update <ref>` — while missing: re-grade the risk, add a sighting or information,
  correct details (opens a form)
• `/missing void <ref> <reason>` — logged in error, or `duplicate of <ref>`: out of lists and
  figures, reminders stopped (safeguarding, or whoever logged it within the hour)
• `/missing show <ref>` — full details, risk history, sightings and notes (private, audited)
• `/missing list` — still missing: high risk first, then longest missing; overdue reviews
• `/missing list returned` — children back in the last 24 hours
• `/missing rhi` — your open return home interviews, soonest due first
• `/missing rhi <ref> done [<when>] [by <organisation>]` · `offered` · `declined`
  · `notdone <reason>` · `assign @someone` · `snooze <hours>`
• `/missing digest` — what the safeguarding digest would say now, privately (safeguarding)
• `/missing audit <ref>` — the episode's audit trail (admins only)
• `/missing admin grant @someone <role>` · `revoke @someone <role>` · `roles` — admins only
• `/missing help` — this message
References look like `M-42` (`m42` and `42` work too). Times: {ACCEPTED_FORMS}, UK time."""


def help_message(intro: str = "") -> dict[str, Any]:
    text = f"{intro}\n\n{USAGE}" if intro else USAGE
    return message(intro or "How to use /missing", [section(text)])


def text_message(text: str) -> dict[str, Any]:
    return message(text, [section(text)])


def episode_detail(detail: EpisodeDetail, *, now: datetime, tz: ZoneInfo) -> dict[str, Any]:
    card = detail.card
    factors = ", ".join(RISK_FACTORS.get(f, esc(f)) for f in detail.risk_factors)
    status = STATUS_LABEL[card.status]
    lines = [
        f"*Child:* {esc(detail.full_name)} ({card.initials}), born "
        f"{detail.date_of_birth:%d/%m/%Y}, "
        f"age {age_on(detail.date_of_birth, now.astimezone(tz).date())}",
        f"*Status:* {status} · {risk_badge(card.risk)} · {care_text(card)}",
        f"*Last seen:* {fmt_local(card.last_seen_at, tz)} at {esc(detail.last_seen_place)}",
        f"*Risk factors:* {factors or 'none recorded'}",
        f"*Description:* {esc(detail.description) or '—'}",
        f"*Reported by:* {esc(detail.reported_by) or '—'}",
        f"*Force incident ref:* {esc(detail.incident_ref or '—')} · "
        f"*Officer in the case:* {who(detail.officer_id)}",
        f"*Episodes for this child:* {card.child_episode_number or 1} in all, "
        f"{card.recent_count or 1} in the last 30 days",
    ]
    if detail.returned_at:
        lines.append(
            f"*Returned:* {fmt_local(detail.returned_at, tz)} (missing "
            f"{fmt_duration(detail.returned_at - card.last_seen_at)})"
            + (f" — {esc(detail.return_note)}" if detail.return_note else "")
        )
    elif card.status is EpisodeStatus.MISSING:
        lines.append(f"*Missing for:* {fmt_duration(now - card.last_seen_at)}")
    review = review_line(detail, now=now, tz=tz)
    if review:
        lines.append(review)
    if detail.rhi:
        lines.append(rhi_line(detail.rhi, now=now, tz=tz))
    blocks: list[Block] = [HeaderBlock(text=f"{card.ref} (private)")]
    if card.status is EpisodeStatus.VOID:
        blocks.append(section(void_lines(detail, tz=tz)))
    blocks.append(section("\n".join(lines)))
    if detail.history is not None:
        history = (
            "\n".join(
                f"• {fmt_local(ev.at, tz)} {esc(ev.action)} by {who(ev.actor)}"
                for ev in detail.history
            )
            or "• nothing yet"
        )
        blocks += [DividerBlock(), section(f"*History*\n{clip(history, 2800)}")]
    blocks += record_blocks(detail, tz=tz)
    blocks.append(context("This view is recorded in the audit trail."))
    return message(f"{card.ref}: details (private)", blocks)


STATUS_LABEL = {
    EpisodeStatus.MISSING: "Missing",
    EpisodeStatus.RETURNED: "Returned",
    EpisodeStatus.VOID: "Void (not counted)",
}


def void_lines(detail: EpisodeDetail, *, tz: ZoneInfo) -> str:
    """First on a void episode's details: it does not count, why, and which one does."""
    card = detail.card
    when = fmt_local(card.voided_at, tz) if card.voided_at else "—"
    what = f"a duplicate of *{card.duplicate_of}*" if card.duplicate_of else "logged in error"
    return (
        f":no_entry: *VOIDED* ({what}) {when} by {who(detail.voided_by)}: not counted, "
        "nothing follows it.\n"
        f"*Reason:* {esc(detail.void_reason or '—')}"
    )


def rhi_line(rhi: RhiView, *, now: datetime, tz: ZoneInfo) -> str:
    text = f"*Return home interview:* {rhi.status.label}"
    if rhi.status in OPEN_RHI_STATUSES:
        state = "overdue by " + fmt_duration(now - rhi.due_at) if now > rhi.due_at else "due"
        text += f", {state} {fmt_local(rhi.due_at, tz)}, chased by {who(rhi.assignee_id)}"
    if rhi.completed_by_org:
        text += f", by {esc(rhi.completed_by_org)}"
    return text


def open_list(listing: OpenEpisodes, *, now: datetime, tz: ZoneInfo) -> dict[str, Any]:
    total = listing.total
    if not listing.rows:
        return text_message("No episode is open: nobody is recorded as missing.")
    lines = []
    for row in listing.rows:
        c, due = row.card, row.review_due_at
        review = ""
        if row.review_overdue and due is not None:
            review = f" · :warning: *review overdue* by {fmt_duration(now - due)}"
        elif due is not None and due <= now:
            review = " · review due now"
        lines.append(
            f"• *{c.ref}* {c.initials}, {c.age} · {risk_badge(c.risk)} · missing "
            f"{fmt_duration(now - c.last_seen_at)} "
            f"(since {fmt_local_short(c.last_seen_at, tz, now=now)}){review}"
        )
    overdue = listing.reviews_overdue
    heading = f"*Open episodes: {total}*, high risk first, then longest missing" + (
        f" · :warning: *{overdue} risk review{'s' if overdue != 1 else ''} overdue*"
        if overdue
        else ""
    )
    blocks: list[Block] = [section(heading)]
    for start in range(0, len(lines), 15):
        blocks.append(section("\n".join(lines[start : start + 15])))
    if total > len(lines):
        blocks.append(context(f"Showing the first {len(lines)} of {total}."))
    return message(f"Open episodes: {total}", blocks)


def returns_list(returns: RecentReturns, *, now: datetime, tz: ZoneInfo) -> dict[str, Any]:
    if not returns.rows:
        return text_message(f"Nobody has come back in the last {returns.hours} hours.")
    lines = []
    for row in returns.rows:
        c, rhi = row.card, row.rhi
        back = c.returned_at or now
        interview = ""
        if rhi is not None and rhi.status in OPEN_RHI_STATUSES:
            state = "overdue" if now > rhi.due_at else "due"
            interview = f" · RHI {state} {fmt_local_short(rhi.due_at, tz, now=now)}"
        elif rhi is not None:
            interview = f" · RHI {rhi.status.label}"
        lines.append(
            f"• *{c.ref}* {c.initials}, {c.age} · {risk_badge(c.risk)} · back "
            f"{fmt_local_short(back, tz, now=now)} after {fmt_duration(back - c.last_seen_at)}"
            f"{interview}"
        )
    heading = f"*Returned in the last {returns.hours} hours: {returns.total}*, latest first"
    blocks: list[Block] = [section(heading)]
    for start in range(0, len(lines), 15):
        blocks.append(section("\n".join(lines[start : start + 15])))
    if returns.total > len(lines):
        blocks.append(context(f"Showing the latest {len(lines)} of {returns.total}."))
    return message(f"Returned in the last {returns.hours} hours: {returns.total}", blocks)


def rhi_list(listing: RhiListing, *, now: datetime, tz: ZoneInfo) -> dict[str, Any]:
    if not listing.rows:
        return text_message("You have no open return home interviews.")
    lines = []
    for rhi, card in listing.rows:
        state = (
            f"overdue by {fmt_duration(now - rhi.due_at)}"
            if now > rhi.due_at
            else f"due {fmt_local_short(rhi.due_at, tz, now=now)}"
        )
        lines.append(
            f"• *{rhi.ref}* {card.initials} · {risk_badge(card.risk)} · "
            f"{rhi.status.label} · {state}"
        )
    blocks: list[Block] = [
        section(f"*Your open return home interviews: {len(lines)}*, soonest due first")
    ]
    for start in range(0, len(lines), 15):
        blocks.append(section("\n".join(lines[start : start + 15])))
    return message(f"Your open return home interviews: {len(lines)}", blocks)


def roles_list(grants: list[GrantView]) -> dict[str, Any]:
    if not grants:
        return text_message("Nobody has a missing-bot role yet.")
    lines = [f"• {who(g.user_id)}: *{g.role.label}* ({g.source})" for g in grants]
    blocks: list[Block] = [section(f"*Who has which role: {len(lines)}*")]
    for start in range(0, min(len(lines), 600), 30):
        blocks.append(section("\n".join(lines[start : start + 30])))
    return message(f"Roles: {len(lines)}", blocks[:50])


def audit_trail(
    episode_id: int, entries: tuple[AuditEntry, ...], *, tz: ZoneInfo
) -> dict[str, Any]:
    ref = format_ref(episode_id)
    if not entries:
        return text_message(f"The audit trail of {ref} is empty.")
    lines = [
        f"• {fmt_local(e.at, tz)} · {esc(e.action)} by {who(e.actor)}"
        + (f" · {esc(e.summary)}" if e.summary else "")
        for e in entries
    ]
    blocks: list[Block] = [
        HeaderBlock(text=f"Audit trail of {ref} (private)"),
        section(f"*{len(lines)} most recent entries, newest first*"),
    ]
    for start in range(0, len(lines), 10):
        blocks.append(section(clip("\n".join(lines[start : start + 10]), 2900)))
    blocks.append(
        context("This look at the trail is itself recorded. Everything: `missing-bot audit`.")
    )
    return message(f"Audit trail of {ref}", blocks[:50])
