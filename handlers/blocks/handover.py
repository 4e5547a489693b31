"""The shift handover as a Slack message: who is still missing (by risk, with how long), the
risk reviews due before the next handover, returns since the last one and the police
safe-and-well checks still outstanding. Within Slack's limits (handlers.blocks.fitting)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import Block, HeaderBlock

from bot.domain.states import Risk, SafeWellStatus
from bot.domain.timetext import fmt_duration, fmt_local, fmt_local_short
from bot.services.messages import Handover
from bot.services.summaries import ChildLine, HandoverReport, ReturnLine, ReviewLine
from handlers.blocks.common import RISK_ICON, context, message
from handlers.blocks.digest import child_text, risk_short
from handlers.blocks.fitting import Part, fit, part_sections


def handover(msg: Handover, *, now: datetime, tz: ZoneInfo) -> dict[str, Any]:
    report = msg.report
    at = report.as_of
    when = report.moment.astimezone(tz).strftime("%H:%M %a %d/%m/%Y")
    fallback = (
        f"Shift handover {when}: {report.missing.total} still missing, "
        f"{report.reviews_due.total} risk reviews due this shift, {report.returned.total} "
        f"returned since the last handover, {report.safe_well_outstanding.total} safe-and-well "
        "checks outstanding."
    )
    top: list[Block] = [
        HeaderBlock(text=f"Shift handover · {when}"),
        context(" ".join(_about(report, tz))),
    ]
    parts = [
        Part(
            f":rotating_light: *Still missing: {report.missing.total}*, by risk, longest first",
            _missing_lines(report.missing.rows, at),
            report.missing.total,
            "`/missing list`",
            30,
        ),
        Part(
            f":mag: *Risk reviews due before the next handover "
            f"({fmt_local_short(report.next_at, tz, now=at)}): {report.reviews_due.total}*",
            [_review_line(line, at, tz) for line in report.reviews_due.rows],
            report.reviews_due.total,
            "",
            15,
        ),
        Part(
            f":house: *Returned since the last handover: {report.returned.total}*",
            [_return_line(line, at, tz) for line in report.returned.rows],
            report.returned.total,
            "`/missing list returned`",
            15,
        ),
        Part(
            ":police_car: *Safe-and-well checks outstanding: "
            f"{report.safe_well_outstanding.total}*, oldest first",
            [_check_line(line, at, tz) for line in report.safe_well_outstanding.rows],
            report.safe_well_outstanding.total,
            "",
            15,
        ),
    ]
    if all(p.total == 0 for p in parts):
        return message(fallback, [*top, context(":white_check_mark: " + fallback)])

    def build(shown: list[Part]) -> list[Block]:
        return [*top, *part_sections(shown)]

    return message(fallback, fit(build, parts))


def _about(report: HandoverReport, tz: ZoneInfo) -> list[str]:
    notes = [f"Since {fmt_local(report.period.start, tz)} ({fmt_duration(report.period.length)})."]
    if report.late_by is not None:
        notes.append(
            f":hourglass: *Late:* due at {report.moment.astimezone(tz):%H:%M}, posted "
            f"{fmt_duration(report.late_by)} later."
        )
    if report.missed:
        names = ", ".join(m.astimezone(tz).strftime("%H:%M %a %d/%m") for m in report.missed[:4])
        notes.append(f":calendar: No handover was posted at {names}: this one covers them.")
    return notes


def _missing_lines(rows: tuple[ChildLine, ...], at: datetime) -> list[str]:
    """Grouped by risk (rows come high risk first): the risk named once, before its group."""
    lines: list[str] = []
    current: Risk | None = None
    for line in rows:
        card = line.card
        if card.risk is not current:
            current = card.risk
            lines.append(f"*{card.risk.label}* {RISK_ICON[card.risk]}")
        lines.append(f"• {child_text(line)} · missing {fmt_duration(at - card.last_seen_at)}")
    return lines


def _review_line(line: ReviewLine, at: datetime, tz: ZoneInfo) -> str:
    due = line.due_at
    when = (
        f"overdue by {fmt_duration(at - due)}"
        if due <= at
        else f"due {fmt_local_short(due, tz, now=at)}"
    )
    return f"• {child_text(line.child)} · {risk_short(line.child.card.risk)} · review {when}"


_CHECK_WORDS = {
    SafeWellStatus.DONE: "safe-and-well check done",
    SafeWellStatus.TO_BE_DONE: "*safe-and-well check to do*",
}


def _return_line(line: ReturnLine, at: datetime, tz: ZoneInfo) -> str:
    card = line.child.card
    back = card.returned_at or at
    check = (
        "safe-and-well check not recorded"
        if line.safe_well is None
        else _CHECK_WORDS[line.safe_well]
    )
    return f"• {child_text(line.child)} · back {fmt_local_short(back, tz, now=at)} · {check}"


def _check_line(line: ReturnLine, at: datetime, tz: ZoneInfo) -> str:
    card = line.child.card
    back = card.returned_at or at
    return (
        f"• {child_text(line.child)} · back {fmt_local_short(back, tz, now=at)} "
        f"({fmt_duration(at - back)} ago)"
    )
