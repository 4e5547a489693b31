"""What `/missing show` adds for an episode updated while missing: its risk history and its
sightings and information. Private: the text people typed is shown here, escaped."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import Block, DividerBlock

from bot.domain.states import NoteKind
from bot.domain.timetext import fmt_duration, fmt_local
from bot.services.results import EpisodeDetail, NoteView, RiskEvent
from handlers.blocks.common import context, section, who
from handlers.escape import clip, esc


def risk_event_line(event: RiskEvent, *, tz: ZoneInfo) -> str:
    at = fmt_local(event.at, tz)
    if event.at_report:
        return f"• {at} graded *{event.risk.label}* at the report ({who(event.actor)})"
    by = who(event.decided_by)
    recorded = f", recorded by {who(event.actor)}" if event.actor != event.decided_by else ""
    why = f": {esc(event.reason)}" if event.reason else ""
    if event.previous is not None:
        return (
            f"• {at} re-graded {event.previous.label} → *{event.risk.label}* by {by}{recorded}{why}"
        )
    return f"• {at} reviewed by {by}{recorded}: stays *{event.risk.label}*{why}"


def review_line(detail: EpisodeDetail, *, now: datetime, tz: ZoneInfo) -> str | None:
    due = detail.review_due_at
    if due is None:
        return None
    if detail.review_overdue:
        late = fmt_duration(now - due)
        return f"*Next risk review:* :warning: overdue by {late} (due {fmt_local(due, tz)})"
    return f"*Next risk review:* due {fmt_local(due, tz)}"


def note_text(note: NoteView, *, tz: ZoneInfo) -> str:
    recorded = f"recorded {fmt_local(note.at, tz)} by {who(note.actor)}"
    if note.kind is NoteKind.SIGHTING and note.seen_at is not None:
        seen = f"seen {fmt_local(note.seen_at, tz)} at {esc(note.place or '—')}"
        text = f"*Sighting:* {seen} · {recorded}"
    else:
        text = f"*Information* · {recorded}"
    return clip(text + (f"\n{esc(note.text)}" if note.text else ""), 2900)


def record_blocks(detail: EpisodeDetail, *, tz: ZoneInfo) -> list[Block]:
    """The risk history, then the newest sightings and notes (each in its own block)."""
    blocks: list[Block] = []
    if len(detail.risk_history) > 1:
        lines = "\n".join(risk_event_line(e, tz=tz) for e in detail.risk_history)
        blocks += [DividerBlock(), section(f"*Risk history*\n{clip(lines, 2800)}")]
    if detail.notes:
        blocks += [DividerBlock(), section(f"*Sightings and information: {detail.notes_total}*")]
        blocks += [section(note_text(n, tz=tz)) for n in detail.notes]
        if detail.notes_total > len(detail.notes):
            blocks.append(context(f"The newest {len(detail.notes)} of {detail.notes_total}."))
    return blocks
