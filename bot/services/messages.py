"""What the bot has to say, as plain data: one class per kind of outbox message.

Services create these; the Slack side renders each into Block Kit when it is enqueued.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from bot.domain.states import MessageKind, RhiStatus
from bot.services.results import EpisodeCard, RhiView


@dataclass(frozen=True)
class EpisodePosted:
    kind: ClassVar[MessageKind] = MessageKind.EPISODE_POSTED
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


@dataclass(frozen=True)
class EpisodeReopened:
    kind: ClassVar[MessageKind] = MessageKind.EPISODE_REOPENED
    card: EpisodeCard
    actor: str


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
class DeliveryFailed:
    kind: ClassVar[MessageKind] = MessageKind.DELIVERY_FAILED
    what: str
    target: str
    reason: str
    ref: str | None


@dataclass(frozen=True)
class MessageRef:
    """A message Slack shows: where a button was clicked."""

    channel: str
    ts: str


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


Outbound = (
    EpisodePosted
    | EpisodeConfirmed
    | EpisodeReturned
    | EpisodeReopened
    | RhiStatusChanged
    | RhiReminder
    | RhiEscalation
    | DeliveryFailed
)
