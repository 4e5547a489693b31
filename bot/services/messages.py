"""What the bot has to say, as plain data: one class per kind of outbox message.

Services create these; the Slack side renders each into Block Kit when it is enqueued.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import ClassVar

from bot.domain.states import MessageKind, ReturnHow, RhiStatus, Risk, SafeWellStatus
from bot.services.results import EpisodeCard, RhiView, UpdateSummary
from bot.services.summaries import DayCount, DigestReport, HandoverReport


@dataclass(frozen=True)
class EpisodePosted:
    kind: ClassVar[MessageKind] = MessageKind.EPISODE_POSTED
    card: EpisodeCard


@dataclass(frozen=True)
class EpisodePostUpdated:
    """The episode's channel post as it stands now (risk re-graded, child returned): sent as
    an edit of the post, so a glance at the channel shows who is still out."""

    kind: ClassVar[MessageKind] = MessageKind.EPISODE_POST_UPDATED
    card: EpisodeCard


@dataclass(frozen=True)
class EpisodeConfirmed:
    """The private confirmation to the person who logged the episode."""

    kind: ClassVar[MessageKind] = MessageKind.EPISODE_CONFIRMED
    card: EpisodeCard


@dataclass(frozen=True)
class EpisodeReturned:
    kind: ClassVar[MessageKind] = MessageKind.EPISODE_RETURNED
    card: EpisodeCard
    returned_at: datetime
    rhi_due_at: datetime
    actor: str
    how: ReturnHow | None = None
    safe_well: SafeWellStatus = SafeWellStatus.TO_BE_DONE
    safe_well_by: str | None = None
    safe_well_due_at: datetime | None = None
    # Only that something needing a referral was disclosed: what it was stays private.
    referral: bool = False


@dataclass(frozen=True)
class EpisodeReopened:
    kind: ClassVar[MessageKind] = MessageKind.EPISODE_REOPENED
    card: EpisodeCard
    actor: str


@dataclass(frozen=True)
class EpisodeVoided:
    """The thread hears that the episode was voided, and what that stopped."""

    kind: ClassVar[MessageKind] = MessageKind.EPISODE_VOIDED
    card: EpisodeCard
    actor: str
    rhi_cancelled: bool
    # Deliberately no free-text reason: it can hold personal data and this goes to a channel.
    # The card says "duplicate of M-12" when that was given; otherwise "logged in error".


@dataclass(frozen=True)
class RhiStatusChanged:
    kind: ClassVar[MessageKind] = MessageKind.RHI_STATUS_CHANGED
    ref: str
    status: RhiStatus
    actor: str
    # Deliberately no free text (the organisation that did it, the reason it was not done):
    # typed by a person, it can hold personal data, and this goes to a channel. `/missing show`
    # shows both privately.


@dataclass(frozen=True)
class RhiReminder:
    kind: ClassVar[MessageKind] = MessageKind.RHI_REMINDER
    rhi: RhiView
    card: EpisodeCard


@dataclass(frozen=True)
class RhiEscalation:
    kind: ClassVar[MessageKind] = MessageKind.RHI_ESCALATION
    rhi: RhiView
    card: EpisodeCard


@dataclass(frozen=True)
class RhiLapsed:
    """The last escalation: nothing was recorded in time; the interview is closed as not done."""

    kind: ClassVar[MessageKind] = MessageKind.RHI_LAPSED
    rhi: RhiView
    card: EpisodeCard
    lapse_days: int


@dataclass(frozen=True)
class RhiAssigned:
    """To the person who now chases an interview: its state, with the buttons."""

    kind: ClassVar[MessageKind] = MessageKind.RHI_ASSIGNED
    rhi: RhiView
    card: EpisodeCard
    by: str


@dataclass(frozen=True)
class EpisodeAssigned:
    """To the officer named on the form, when someone else logged the episode (or, with
    `reassigned`, named them the officer in the case later, on the update form)."""

    kind: ClassVar[MessageKind] = MessageKind.EPISODE_ASSIGNED
    card: EpisodeCard
    by: str
    reassigned: bool = False


@dataclass(frozen=True)
class EpisodeUpdated:
    """In the episode's thread: what an update changed, in words, never its content."""

    kind: ClassVar[MessageKind] = MessageKind.EPISODE_UPDATED
    card: EpisodeCard
    actor: str
    summary: UpdateSummary


@dataclass(frozen=True)
class RiskRaised:
    """At the top of the control-room channel: a missing child's risk is now high."""

    kind: ClassVar[MessageKind] = MessageKind.RISK_RAISED
    card: EpisodeCard
    previous: Risk
    decided_by: str


@dataclass(frozen=True)
class ReviewDue:
    """To the officer in the case: the risk review is due, with buttons to record it."""

    kind: ClassVar[MessageKind] = MessageKind.REVIEW_DUE
    card: EpisodeCard
    due_at: datetime
    interval_hours: float


@dataclass(frozen=True)
class ReviewOverdue:
    """In the episode's thread: the review fell due and none has been recorded."""

    kind: ClassVar[MessageKind] = MessageKind.REVIEW_OVERDUE
    card: EpisodeCard
    due_at: datetime
    officer_id: str


@dataclass(frozen=True)
class OverdueList:
    """One person's daily list of the interviews they chase that are overdue."""

    kind: ClassVar[MessageKind] = MessageKind.OVERDUE_LIST
    items: tuple[tuple[RhiView, EpisodeCard], ...]
    total: int


@dataclass(frozen=True)
class SafeWellReminder:
    """To the officer doing the safe-and-well check: due soon, or due now."""

    kind: ClassVar[MessageKind] = MessageKind.SAFE_WELL_REMINDER
    card: EpisodeCard
    returned_at: datetime
    due_at: datetime
    returned_key: str  # ties the button to this return: a later return makes it stale


@dataclass(frozen=True)
class SafeWellOverdue:
    """Said in the control room when a safe-and-well check is still not done."""

    kind: ClassVar[MessageKind] = MessageKind.SAFE_WELL_OVERDUE
    card: EpisodeCard
    due_at: datetime
    officer: str


@dataclass(frozen=True)
class SafeWellDone:
    kind: ClassVar[MessageKind] = MessageKind.SAFE_WELL_DONE
    ref: str
    by: str
    at: datetime
    actor: str


@dataclass(frozen=True)
class DeliveryFailed:
    kind: ClassVar[MessageKind] = MessageKind.DELIVERY_FAILED
    what: str
    target: str
    reason: str
    ref: str | None


@dataclass(frozen=True)
class MessageRef:
    """A message Slack shows: where a button was clicked (and how to answer the clicker)."""

    channel: str
    ts: str
    response_url: str | None = None


@dataclass(frozen=True)
class ReminderActed:
    """Not an outbox message: what a reminder is edited to say after someone acted on it."""

    action: str  # "done", "declined", "snoozed", "reassigned"
    actor: str
    at: datetime
    until: datetime | None = None
    assignee: str | None = None

    @property
    def still_open(self) -> bool:
        return self.action in ("snoozed", "reassigned")


@dataclass(frozen=True)
class DeliveryResumed:
    """Slack accepts the bot again after refusing it (a revoked token, a missing scope)."""

    kind: ClassVar[MessageKind] = MessageKind.DELIVERY_RESUMED
    reason: str
    since: datetime
    until: datetime
    held: int


@dataclass(frozen=True)
class Digest:
    """The daily safeguarding digest (also what `/missing digest` shows privately)."""

    kind: ClassVar[MessageKind] = MessageKind.DIGEST
    report: DigestReport
    with_chart: bool = True  # its thread holds the chart (DIGEST_CHART)


@dataclass(frozen=True)
class DigestChart:
    """The digest's chart, a PNG uploaded into its thread: episodes per day, 28 days."""

    kind: ClassVar[MessageKind] = MessageKind.DIGEST_CHART
    occasion: date
    days: tuple[DayCount, ...]
    filename: str  # unique per digest: a sender that lost track looks for it by name


@dataclass(frozen=True)
class Handover:
    """The shift handover in the control-room channel."""

    kind: ClassVar[MessageKind] = MessageKind.HANDOVER
    report: HandoverReport


Outbound = (
    EpisodePosted
    | EpisodePostUpdated
    | EpisodeConfirmed
    | EpisodeReturned
    | EpisodeReopened
    | EpisodeVoided
    | RhiStatusChanged
    | RhiReminder
    | RhiEscalation
    | RhiLapsed
    | RhiAssigned
    | EpisodeAssigned
    | OverdueList
    | SafeWellReminder
    | SafeWellOverdue
    | SafeWellDone
    | DeliveryFailed
    | DeliveryResumed
    | EpisodeUpdated
    | RiskRaised
    | ReviewDue
    | ReviewOverdue
    | Digest
    | DigestChart
    | Handover
)
