"""What the services hand back: plain frozen data, never database rows.

Slack builders render these; nothing past the service boundary can lazy-load or change a row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from bot.domain.states import EpisodeStatus, NoteKind, RhiStatus, Risk


@dataclass(frozen=True)
class EpisodeCard:
    """What a channel may see about an episode: reference, initials, age, risk, care status.

    Never the name. The age is on the local day the child was last seen.
    """

    episode_id: int
    ref: str
    initials: str
    age: int
    risk: Risk
    looked_after: bool
    placing_authority: str | None
    last_seen_at: datetime
    status: EpisodeStatus
    # The child's episodes in all, and in the repeat-missing window; None where not counted.
    child_episode_number: int | None = None
    recent_count: int | None = None
    returned_at: datetime | None = None
    # A void episode: when, and the reference it duplicates if that was given. Never the
    # reason typed, which may name people.
    voided_at: datetime | None = None
    duplicate_of: str | None = None


@dataclass(frozen=True)
class RhiView:
    rhi_id: int
    episode_id: int
    ref: str
    status: RhiStatus
    returned_at: datetime
    due_at: datetime
    assignee_id: str
    snoozed_until: datetime | None
    completed_at: datetime | None
    completed_by_org: str | None


@dataclass(frozen=True)
class HistoryEntry:
    at: datetime
    actor: str
    action: str


@dataclass(frozen=True)
class RiskEvent:
    """One line of an episode's risk history: graded at the report, reviewed, or re-graded."""

    at: datetime
    actor: str  # who recorded it
    decided_by: str
    risk: Risk  # the grade it left
    previous: Risk | None = None  # set on a re-grade
    reason: str | None = None
    next_review: datetime | None = None
    at_report: bool = False


@dataclass(frozen=True)
class NoteView:
    at: datetime
    actor: str
    kind: NoteKind
    text: str
    seen_at: datetime | None = None
    place: str | None = None


@dataclass(frozen=True)
class EpisodeDetail:
    """Everything about an episode, for authorised staff, privately."""

    card: EpisodeCard
    full_name: str
    date_of_birth: date
    last_seen_place: str
    risk_factors: tuple[str, ...]
    description: str
    reported_by: str
    incident_ref: str | None
    officer_id: str
    returned_at: datetime | None
    return_note: str | None
    rhi: RhiView | None
    # None when the caller's role does not show the history (it needs safeguarding).
    history: tuple[HistoryEntry, ...] | None
    # A void episode: who voided it and why, as typed (private, like the rest of this).
    voided_by: str | None = None
    void_reason: str | None = None
    risk_history: tuple[RiskEvent, ...] = ()
    # The newest notes (oldest of them first), and how many there are in all.
    notes: tuple[NoteView, ...] = ()
    notes_total: int = 0
    review_due_at: datetime | None = None
    review_overdue: bool = False


@dataclass(frozen=True)
class Logged:
    card: EpisodeCard
    # True when this was the same form submitted again: nothing new was logged.
    already: bool = False


@dataclass(frozen=True)
class Returned:
    ref: str
    returned_at: datetime
    rhi_due_at: datetime | None
    already: bool


@dataclass(frozen=True)
class Reopened:
    ref: str


@dataclass(frozen=True)
class Voided:
    ref: str
    duplicate_of: str | None
    # The return home interview it had open, now cancelled.
    rhi_cancelled: bool
    # True when it was already void: nothing was changed.
    already: bool


@dataclass(frozen=True)
class OpenEpisode:
    card: EpisodeCard
    review_due_at: datetime | None = None
    review_overdue: bool = False


@dataclass(frozen=True)
class OpenEpisodes:
    rows: tuple[OpenEpisode, ...]
    total: int
    # Of all open episodes (not only those listed): reviews past due by the overdue margin.
    reviews_overdue: int = 0

    @property
    def cards(self) -> tuple[EpisodeCard, ...]:
        return tuple(row.card for row in self.rows)


@dataclass(frozen=True)
class RecentReturn:
    card: EpisodeCard
    rhi: RhiView | None


@dataclass(frozen=True)
class RecentReturns:
    rows: tuple[RecentReturn, ...]
    total: int
    hours: int


@dataclass(frozen=True)
class UpdateForm:
    """What the update form opens with: the episode's details as they stand."""

    card: EpisodeCard
    last_seen_place: str
    description: str
    reported_by: str
    incident_ref: str | None
    placing_authority: str | None
    risk_factors: tuple[str, ...]
    officer_id: str
    review_due_at: datetime | None


@dataclass(frozen=True)
class UpdateSummary:
    """What an update changed, without its content (it goes to the episode's thread)."""

    regraded: tuple[Risk, Risk] | None = None  # (from, to)
    decided_by: str | None = None
    reviewed: Risk | None = None  # the risk reviewed and kept
    next_review: datetime | None = None
    sighting: bool = False
    information: bool = False
    corrected: tuple[str, ...] = ()  # names from bot.domain.episode_update.CORRECTABLE


@dataclass(frozen=True)
class Updated:
    ref: str
    summary: UpdateSummary
    # True when this was the same form submitted again: nothing more was changed.
    already: bool = False


@dataclass(frozen=True)
class Reviewed:
    ref: str
    risk: Risk
    next_review: datetime


@dataclass(frozen=True)
class RhiListing:
    rows: tuple[tuple[RhiView, EpisodeCard], ...]
