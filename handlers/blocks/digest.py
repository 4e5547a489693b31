"""The daily safeguarding digest as a Slack message: headline figures, then the lists a person
must act on, most urgent first, within Slack's limits (handlers.blocks.fitting).

Children are named by reference, initials and age (their names only with DIGEST_SHOW_NAMES);
anything a person typed (a placing authority, a name, Slack's error text) is escaped.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import (
    Block,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.domain.states import RhiStatus, Risk
from bot.domain.timetext import fmt_duration, fmt_local, fmt_local_short
from bot.services.messages import Digest
from bot.services.summaries import (
    ChildLine,
    DigestReport,
    Figures,
    RepeatLine,
    ReturnLine,
    ReviewLine,
    RhiLine,
    Undelivered,
)
from handlers.blocks.common import RISK_ICON, care_text, context, message, section, who
from handlers.blocks.fitting import Part, fit, part_sections
from handlers.escape import clip, esc

# How many rows of each list to try first (fewer if the message would not fit).
FIRST_TRY = {
    "missing": 30,
    "overdue": 15,
    "due": 15,
    "returned": 15,
    "repeats": 10,
    "placed": 10,
    "lapsed": 10,
    "reviews": 10,
    "undelivered": 10,
}


def day_text(day: date) -> str:
    return day.strftime("%a %d/%m/%Y")


def child_text(line: ChildLine) -> str:
    """`*M-12* J.S., 14` (with the name first where DIGEST_SHOW_NAMES allows)."""
    card = line.card
    who_ = f"{esc(line.name)} ({card.initials})" if line.name else card.initials
    return f"*{card.ref}* {who_}, {card.age}"


def risk_short(risk: Risk) -> str:
    return f"{RISK_ICON[risk]} {risk.label}"


def plural(count: float, one: str, many: str) -> str:
    return f"{int(count)} {one if int(count) == 1 else many}"


def headline(figures: Figures) -> str:
    """The figures in words, as the plain-text fallback (and the tests) read them."""
    by_risk = ", ".join(f"{int(n)} {risk.label.lower()}" for risk, n in figures.new_by_risk)
    return (
        f"{plural(figures.new, 'new episode', 'new episodes')} ({by_risk}), "
        f"{int(figures.returns)} returned, {int(figures.still_missing)} still missing, "
        f"{plural(figures.rhis_overdue, 'RHI', 'RHIs')} overdue, "
        f"{plural(figures.rhis_due, 'RHI', 'RHIs')} due in the next 24 hours"
    )


def averages_text(averages: Figures) -> str:
    return (
        f"{averages.new:.1f} new, {averages.returns:.1f} returned, "
        f"{averages.still_missing:.1f} still missing, {averages.rhis_overdue:.1f} RHIs overdue, "
        f"{averages.rhis_due:.1f} due in the next 24 hours"
    )


def digest(msg: Digest, *, now: datetime, tz: ZoneInfo) -> dict[str, Any]:
    report = msg.report
    fallback = f"Safeguarding digest for {day_text(report.occasion)}: {headline(report.figures)}."
    if report.late_by is not None:
        fallback += f" Posted late, by {fmt_duration(report.late_by)}."
    top: list[Block] = [
        HeaderBlock(text=f"Safeguarding digest · {day_text(report.occasion)}"),
        context(" ".join(_about(report, tz))),
    ]
    if report.nothing_to_report:
        line = (
            f":white_check_mark: *Nothing to report:* {headline(report.figures)} "
            f"(7-day daily averages: {averages_text(report.averages)})."
        )
        return message(fallback, [*top, section(line)])
    parts = _parts(report, tz)

    def build(shown: list[Part]) -> list[Block]:
        return [
            *top,
            _figures_block(report),
            context(
                "New by risk: "
                + " · ".join(
                    f"{risk_short(risk)} {int(n)}" for risk, n in report.figures.new_by_risk
                )
                + ". Averages are daily, over the 7 days before."
            ),
            DividerBlock(),
            *part_sections(shown),
            context(
                "Details: `/missing show <ref>` (private)."
                + (
                    " The chart of the last 28 days is in this message's thread."
                    if msg.with_chart
                    else ""
                )
            ),
        ]

    return message(fallback, fit(build, parts))


def _about(report: DigestReport, tz: ZoneInfo) -> list[str]:
    """The period covered, and anything about this digest a reader should know first."""
    period = report.period
    notes = [
        f"Covers {fmt_local(period.start, tz)} to {fmt_local(period.until, tz)} "
        f"({fmt_duration(period.length)})."
    ]
    if report.how == "preview":
        notes.insert(
            0,
            ":eyes: *Preview, shown only to you:* what a digest posted now would say. "
            "Nothing was posted.",
        )
    elif report.how == "operator":
        notes.append("Posted by an operator (`missing-bot digest`).")
    elif report.how == "again":
        notes.append("Posted again by an operator (`missing-bot digest --force`).")
    if report.late_by is not None:
        due = report.as_of - report.late_by
        notes.append(
            f":hourglass: *Late:* due at {due.astimezone(tz):%H:%M}, posted "
            f"{fmt_duration(report.late_by)} later."
        )
    if report.missed:
        days = ", ".join(day_text(d) for d in report.missed[:5])
        if len(report.missed) > 5:
            days += f" and {len(report.missed) - 5} more days"
        notes.append(
            f":calendar: No digest was posted on {days}: this one covers the whole time "
            "since the last."
        )
    if period.capped and period.previous_until is not None:
        notes.append(
            f"The last digest was {fmt_local(period.previous_until, tz)}; this one covers "
            f"the last {fmt_duration(period.length)} only."
        )
    return notes


def _figures_block(report: DigestReport) -> SectionBlock:
    now, avg = report.figures, report.averages

    def field(name: str, value: float, average: float) -> MarkdownTextObject:
        return MarkdownTextObject(text=f"*{name}*\n{int(value)}  (7-day avg {average:.1f})")

    return SectionBlock(
        fields=[
            field("New episodes", now.new, avg.new),
            field("Returned", now.returns, avg.returns),
            field("Still missing", now.still_missing, avg.still_missing),
            field("RHIs overdue", now.rhis_overdue, avg.rhis_overdue),
            field("RHIs due in the next 24 h", now.rhis_due, avg.rhis_due),
        ]
    )


def _parts(report: DigestReport, tz: ZoneInfo) -> list[Part]:
    at = report.as_of
    threshold, window = report.repeat_rule
    placed_total = sum(len(g.children) for g in report.placed)
    parts = [
        Part(
            f":rotating_light: *Still missing: {report.missing.total}*, high risk first, "
            "then longest missing",
            [_missing_line(line, at) for line in report.missing.rows],
            report.missing.total,
            "`/missing list`",
            FIRST_TRY["missing"],
        ),
        Part(
            f":warning: *RHIs overdue: {report.rhis_overdue.total}*",
            [_rhi_line(line, at, tz) for line in report.rhis_overdue.rows],
            report.rhis_overdue.total,
            "",
            FIRST_TRY["overdue"],
        ),
        Part(
            f":alarm_clock: *RHIs due in the next 24 hours: {report.rhis_due.total}*",
            [_rhi_line(line, at, tz) for line in report.rhis_due.rows],
            report.rhis_due.total,
            "",
            FIRST_TRY["due"],
        ),
        Part(
            f":house: *Returned since the last digest: {report.returned.total}*",
            [_return_line(line, at, tz) for line in report.returned.rows],
            report.returned.total,
            "`/missing list returned` (last 24 hours)",
            FIRST_TRY["returned"],
        ),
        Part(
            f":repeat: *Repeat missing: {report.repeats.total}* ({threshold} or more episodes "
            f"in {window} days, one of them since the last digest)",
            [_repeat_line(line, window) for line in report.repeats.rows],
            report.repeats.total,
            "",
            FIRST_TRY["repeats"],
        ),
        Part(
            f":round_pushpin: *Placed from other areas: "
            f"{plural(placed_total, 'episode', 'episodes')}*, by placing authority",
            [
                f"• {esc(clip(g.authority, 80))}: {len(g.children)} — "
                + ", ".join(child_text(c) for c in g.children[:8])
                + (f" and {len(g.children) - 8} more" if len(g.children) > 8 else "")
                for g in report.placed
            ],
            len(report.placed),
            "",
            FIRST_TRY["placed"],
        ),
        Part(
            f":no_entry: *RHIs lapsed since the last digest: {report.lapsed.total}* (recorded "
            "as not done)",
            [_lapsed_line(line, tz) for line in report.lapsed.rows],
            report.lapsed.total,
            "",
            FIRST_TRY["lapsed"],
        ),
        Part(
            f":mag: *Risk reviews overdue: {report.reviews_overdue.total}* (still missing)",
            [_review_line(line, at, tz) for line in report.reviews_overdue.rows],
            report.reviews_overdue.total,
            "`/missing list`",
            FIRST_TRY["reviews"],
        ),
        Part(
            f":mailbox_with_no_mail: *Messages the bot could not deliver: "
            f"{report.undelivered.total}*",
            [_undelivered_line(u, tz) for u in report.undelivered.rows],
            report.undelivered.total,
            "",
            FIRST_TRY["undelivered"],
        ),
    ]
    return parts


def _missing_line(line: ChildLine, at: datetime) -> str:
    card = line.card
    return (
        f"• {child_text(line)} · {risk_short(card.risk)} · {care_text(card)} · missing "
        f"{fmt_duration(at - card.last_seen_at)}"
    )


def _rhi_line(line: RhiLine, at: datetime, tz: ZoneInfo) -> str:
    rhi = line.rhi
    due = fmt_local_short(rhi.due_at, tz, now=at)
    if rhi.due_at <= at:
        when = f"overdue by {fmt_duration(at - rhi.due_at)} (due {due})"
    else:
        when = f"due {due}"
    status = f" · {rhi.status.label}" if rhi.status is not RhiStatus.PENDING else ""
    return f"• {child_text(line.child)} · {when}{status} · chased by {who(rhi.assignee_id)}"


def _return_line(line: ReturnLine, at: datetime, tz: ZoneInfo) -> str:
    card = line.child.card
    back = card.returned_at or at
    text = (
        f"• {child_text(line.child)} · back {fmt_local_short(back, tz, now=at)} after "
        f"{fmt_duration(back - card.last_seen_at)}"
    )
    rhi = line.rhi
    if rhi is None:
        return text
    if rhi.status in (RhiStatus.PENDING, RhiStatus.OFFERED):
        return f"{text} · RHI due {fmt_local_short(rhi.due_at, tz, now=at)}"
    return f"{text} · RHI {rhi.status.label}"


def _repeat_line(line: RepeatLine, window: int) -> str:
    return f"• {child_text(line.child)} · {line.count} episodes in {window} days"


def _lapsed_line(line: RhiLine, tz: ZoneInfo) -> str:
    rhi = line.rhi
    return (
        f"• {child_text(line.child)} · returned {fmt_local(rhi.returned_at, tz)} · chased by "
        f"{who(rhi.assignee_id)}"
    )


def _review_line(line: ReviewLine, at: datetime, tz: ZoneInfo) -> str:
    return (
        f"• {child_text(line.child)} · {risk_short(line.child.card.risk)} · review due "
        f"{fmt_local_short(line.due_at, tz, now=at)}, overdue by "
        f"{fmt_duration(at - line.due_at)}"
    )


def _undelivered_line(item: Undelivered, tz: ZoneInfo) -> str:
    about = f" about *{esc(item.ref)}*" if item.ref else ""
    return (
        f"• {esc(item.what.replace('_', ' '))}{about} to {who(item.target)}, "
        f"{fmt_local(item.at, tz)}: `{esc(clip(item.reason, 80))}`"
    )
