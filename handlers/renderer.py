"""Renders each kind of outbox message into Block Kit (see bot.services.messages)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.domain.timetext import fmt_local
from bot.services import messages as m
from handlers import charts
from handlers.blocks import (
    channel_posts,
    digest,
    handover,
    review_messages,
    rhi_messages,
    update_posts,
)
from handlers.blocks.common import context, who

Builder = Callable[..., dict[str, Any]]

BUILDERS: dict[type, Builder] = {
    m.EpisodePosted: channel_posts.episode_posted,
    m.EpisodePostUpdated: channel_posts.episode_posted,
    m.EpisodeConfirmed: channel_posts.episode_confirmed,
    m.EpisodeReturned: channel_posts.episode_returned,
    m.EpisodeReopened: channel_posts.episode_reopened,
    m.EpisodeVoided: channel_posts.episode_voided,
    m.RhiStatusChanged: channel_posts.rhi_status_changed,
    m.RhiReminder: rhi_messages.rhi_reminder,
    m.RhiEscalation: rhi_messages.rhi_escalation,
    m.RhiLapsed: rhi_messages.rhi_lapsed,
    m.RhiAssigned: rhi_messages.rhi_assigned,
    m.EpisodeAssigned: channel_posts.episode_assigned,
    m.OverdueList: rhi_messages.overdue_list,
    m.SafeWellReminder: channel_posts.safe_well_reminder,
    m.SafeWellOverdue: channel_posts.safe_well_overdue,
    m.SafeWellDone: channel_posts.safe_well_done,
    m.DeliveryFailed: rhi_messages.delivery_failed,
    m.DeliveryResumed: rhi_messages.delivery_resumed,
    m.EpisodeUpdated: update_posts.episode_updated,
    m.RiskRaised: update_posts.risk_raised,
    m.ReviewDue: review_messages.review_due,
    m.ReviewOverdue: review_messages.review_overdue,
    m.Digest: digest.digest,
    m.DigestChart: charts.digest_chart,
    m.Handover: handover.handover,
}


class SlackRenderer:
    def __init__(self, tz: ZoneInfo) -> None:
        self.tz = tz

    def render(self, message: m.Outbound, *, now: datetime) -> dict[str, Any]:
        return BUILDERS[type(message)](message, now=now, tz=self.tz)

    def acted(
        self, original: dict[str, Any], rhi_id: int, acted: m.ReminderActed
    ) -> dict[str, Any]:
        return rhi_messages.rhi_acted(
            original, rhi_id, note=self._note(acted), still_open=acted.still_open
        )

    def acted_note(self, acted: m.ReminderActed) -> str:
        return self._note(acted)

    def noted(self, original: dict[str, Any], note: str) -> dict[str, Any]:
        blocks = list(original.get("blocks") or [])[:49]
        blocks.append(context(note).to_dict())
        text = f"{original.get('text') or ''}\n{note}".strip()
        return {**original, "text": text[:3000], "blocks": blocks}

    def _note(self, acted: m.ReminderActed) -> str:
        by = who(acted.actor)
        if acted.action == "snoozed" and acted.until is not None:
            return f":zzz: Snoozed by {by} until {fmt_local(acted.until, self.tz)}."
        if acted.action == "reassigned":
            return f":arrows_counterclockwise: Reassigned to {who(acted.assignee)} by {by}."
        label = "completed" if acted.action == "done" else acted.action.replace("_", " ")
        return f":white_check_mark: Marked {label} by {by} at {fmt_local(acted.at, self.tz)}."
