"""SQLAlchemy 2 models: children, episodes, return home interviews, audit, the outbox."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from storage.types import UTCDateTime

# Named constraints so that Alembic migrations are the same on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# BIGINT on PostgreSQL (national scale); SQLite needs plain INTEGER for its rowid alias.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Child(Base):
    __tablename__ = "children"
    __table_args__ = (UniqueConstraint("name_key", "date_of_birth", name="uq_children_identity"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    full_name: Mapped[str] = mapped_column(String(200))
    name_key: Mapped[str] = mapped_column(String(200))
    date_of_birth: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    episodes: Mapped[list[Episode]] = relationship(back_populates="child")


class Episode(Base):
    __tablename__ = "episodes"
    __table_args__ = (
        Index("ix_episodes_status_last_seen", "status", "last_seen_at"),
        Index("ix_episodes_child_last_seen", "child_id", "last_seen_at"),
        Index("ix_episodes_incident_ref", "incident_ref"),
        # The digest's period figures: episodes logged, and children back, in a time range.
        # Status first: every figure filters on it (counted, returned), so a planner without
        # statistics still reads a range of one status, never all of it.
        Index("ix_episodes_status_created", "status", "created_at"),
        Index("ix_episodes_status_returned", "status", "returned_at"),
        # The handover's outstanding safe-and-well checks: only those still to be done.
        Index("ix_episodes_safe_well_returned", "safe_well_status", "returned_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("children.id"))
    status: Mapped[str] = mapped_column(String(20))
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_place: Mapped[str] = mapped_column(String(400))
    risk_level: Mapped[str] = mapped_column(String(20))
    looked_after: Mapped[bool] = mapped_column(Boolean)
    placing_authority: Mapped[str | None] = mapped_column(String(200))
    risk_factors: Mapped[list[str]] = mapped_column(JSON, default=list)
    description: Mapped[str] = mapped_column(Text, default="")
    reported_by: Mapped[str] = mapped_column(Text, default="")
    incident_ref: Mapped[str | None] = mapped_column(String(60))
    officer_id: Mapped[str] = mapped_column(String(32))
    logged_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    returned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    returned_by: Mapped[str | None] = mapped_column(String(32))
    return_note: Mapped[str | None] = mapped_column(Text)
    # The return's details (the return form): private, never posted to a channel.
    found_place: Mapped[str | None] = mapped_column(String(400))
    return_how: Mapped[str | None] = mapped_column(String(30))
    safe_well_status: Mapped[str | None] = mapped_column(String(20))
    safe_well_by: Mapped[str | None] = mapped_column(String(32))
    safe_well_done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    disclosure: Mapped[str | None] = mapped_column(Text)
    # A void (logged in error, a duplicate): when, by whom, and why as typed. The reason is
    # free text that may name people: it is shown only privately, never posted or audited.
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    voided_by: Mapped[str | None] = mapped_column(String(32))
    void_reason: Mapped[str | None] = mapped_column(Text)
    # The episode this one duplicates: a plain number, not a foreign key, so that a retention
    # purge of either one never has to wait for the other.
    duplicate_of: Mapped[int | None] = mapped_column(BigId)
    # Where the control-room post went: later updates go in its thread.
    channel_id: Mapped[str | None] = mapped_column(String(32))
    channel_ts: Mapped[str | None] = mapped_column(String(32))
    # While missing: when the next risk review falls due (NULL once returned). Kept here, not
    # only in `followups`, so lists can say which reviews are overdue and a reminder can tell
    # whether the review it asks for is still the one owed.
    review_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    child: Mapped[Child] = relationship(back_populates="episodes")
    rhis: Mapped[list[ReturnInterview]] = relationship(
        back_populates="episode", order_by="ReturnInterview.id"
    )


class ReturnInterview(Base):
    """One return home interview per recorded return."""

    __tablename__ = "return_interviews"
    __table_args__ = (
        Index("ix_return_interviews_status_due", "status", "due_at"),
        # Interviews closed (or lapsed) in a time range: the digest's as-of figures.
        Index("ix_return_interviews_status_updated", "status", "updated_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    episode_id: Mapped[int] = mapped_column(ForeignKey("episodes.id"), index=True)
    returned_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(20))
    status_reason: Mapped[str | None] = mapped_column(Text)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_by_org: Mapped[str | None] = mapped_column(String(200))
    assignee_id: Mapped[str] = mapped_column(String(32), index=True)
    snoozed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by: Mapped[str | None] = mapped_column(String(32))

    episode: Mapped[Episode] = relationship(back_populates="rhis")


class RiskChange(Base):
    """A re-grade of an episode's risk while missing: the history APP asks to keep."""

    __tablename__ = "risk_changes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    episode_id: Mapped[int] = mapped_column(ForeignKey("episodes.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(32))  # who recorded it
    decided_by: Mapped[str] = mapped_column(String(32))  # who made the decision
    from_risk: Mapped[str] = mapped_column(String(20))
    to_risk: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text)


class Review(Base):
    """A still-missing episode's risk reviewed (kept, or changed with a RiskChange)."""

    __tablename__ = "reviews"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    episode_id: Mapped[int] = mapped_column(ForeignKey("episodes.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(32))
    decided_by: Mapped[str] = mapped_column(String(32))
    risk: Mapped[str] = mapped_column(String(20))
    # Why the risk stays as it is, when given on the form (a re-grade's reason is its own).
    reason: Mapped[str | None] = mapped_column(Text)
    next_due: Mapped[datetime] = mapped_column(UTCDateTime)


class EpisodeNote(Base):
    """A sighting or a line of information added while the child is missing."""

    __tablename__ = "episode_notes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    episode_id: Mapped[int] = mapped_column(ForeignKey("episodes.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text, default="")
    # A sighting's when and where.
    seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    place: Mapped[str | None] = mapped_column(String(400))


class AuditEvent(Base):
    """Append-only: who did or saw what, when, about which episode.

    `episode_id` and `child_id` are plain numbers, not foreign keys: the trail outlives the
    records it is about (a retention purge removes them), and still names them by reference.
    """

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    actor: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(40))
    episode_id: Mapped[int | None] = mapped_column(BigId, index=True)
    child_id: Mapped[int | None] = mapped_column(BigId, index=True)
    # Where the request came from (a Slack channel id), when it came from Slack.
    channel: Mapped[str | None] = mapped_column(String(32))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class OutboxMessage(Base):
    """The outbox: one row per message the bot owes Slack, already rendered.

    `key` is unique, so an occurrence (an episode's channel post, a reminder) is enqueued once
    however many copies of the bot try; `status` moves pending -> claimed -> sent, or to failed
    (Slack refused it for good) or cancelled (no longer wanted). `payload` is the message as it
    will be posted (text and blocks), rendered when it was enqueued, so a deploy that changes a
    template cannot strand what is already queued.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("key", name="uq_outbox_key"),
        Index("ix_outbox_status_not_before", "status", "not_before"),
        Index("ix_outbox_channel_ts", "channel", "ts"),
        Index("ix_outbox_rhi_id", "rhi_id"),
        # Messages given up in a time range (the digest lists them); most rows never fail.
        Index(
            "ix_outbox_failed_at",
            "failed_at",
            postgresql_where=text("failed_at IS NOT NULL"),
            sqlite_where=text("failed_at IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    key: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(40))
    target: Mapped[str] = mapped_column(String(32))
    episode_id: Mapped[int | None] = mapped_column(ForeignKey("episodes.id"), index=True)
    rhi_id: Mapped[int | None] = mapped_column(ForeignKey("return_interviews.id"))
    in_thread: Mapped[bool] = mapped_column(Boolean, default=False)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[datetime] = mapped_column(UTCDateTime)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(80))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    channel: Mapped[str | None] = mapped_column(String(32))
    ts: Mapped[str | None] = mapped_column(String(32))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # A message that belongs to another (a digest's chart, in the digest's thread; an edit of
    # the digest): that message's key. An episode's thread replies find their post by episode.
    parent_key: Mapped[str | None] = mapped_column(String(120))
    # When Slack's refusal was taken as final (status failed).
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class DigestRecord(Base):
    """A digest or handover posted for one occasion (a local date, a date and time) to one
    channel: the ledger that makes it once per occasion across copies and restarts, and says
    what period the next one starts from."""

    __tablename__ = "digests"
    __table_args__ = (UniqueConstraint("kind", "channel", "occasion", name="uq_digests_occasion"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    channel: Mapped[str] = mapped_column(String(32))
    occasion: Mapped[str] = mapped_column(String(20))
    period_start: Mapped[datetime] = mapped_column(UTCDateTime)
    period_end: Mapped[datetime] = mapped_column(UTCDateTime)
    posted_key: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SchedulerPass(Base):
    """When each running copy last finished a scheduler pass (read by /healthz)."""

    __tablename__ = "scheduler_passes"

    instance_id: Mapped[str] = mapped_column(String(120), primary_key=True)
    last_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    passes: Mapped[int] = mapped_column(Integer, default=0)


class RoleGrant(Base):
    """A role given to a person with `/missing admin grant` (admins also come from settings)."""

    __tablename__ = "role_grants"

    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    role: Mapped[str] = mapped_column(String(20), primary_key=True)
    granted_by: Mapped[str] = mapped_column(String(32))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime)


class UsergroupMember(Base):
    """Slack user group membership, refreshed by the scheduler (ROLE_USERGROUPS)."""

    __tablename__ = "usergroup_members"

    usergroup_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(32), primary_key=True, index=True)


class UsergroupRefresh(Base):
    """When each user group's membership was last read from Slack: old lists are not trusted."""

    __tablename__ = "usergroup_refreshes"

    usergroup_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    refreshed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RequestKey(Base):
    """A Slack request already acted on (a form's view id, a command's trigger id): a replay
    or a resubmission finds its key here and changes nothing."""

    __tablename__ = "request_keys"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    # What the first request made, e.g. the episode a form logged, to answer a resubmission.
    result: Mapped[str | None] = mapped_column(String(40))


class Followup(Base):
    """The next action of something the bot follows up (see bot.domain.followup).

    `next_at` is when it falls due (NULL: nothing more to do) and `step` what it is. A pass
    claims due rows with a short lease, works out what to send without holding a lock, then
    stores the next action and the outbox rows in one short transaction, checked against
    `revision`: a change made meanwhile (an outcome, a snooze) wins.
    """

    __tablename__ = "followups"
    __table_args__ = (
        UniqueConstraint("kind", "subject", name="uq_followups_kind_subject"),
        # Only rows with something still to do are indexed: "what is due now" is a short scan.
        Index(
            "ix_followups_due",
            "next_at",
            postgresql_where=text("next_at IS NOT NULL"),
            sqlite_where=text("next_at IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    subject: Mapped[str] = mapped_column(String(64))
    next_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    step: Mapped[str | None] = mapped_column(String(30))
    revision: Mapped[int] = mapped_column(Integer, default=0)
    leased_by: Mapped[str | None] = mapped_column(String(120))
    leased_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DeliveryPause(Base):
    """Slack refuses the bot itself (invalid_auth, token_revoked, missing_scope): delivery waits
    for everyone, in every copy, until a probe gets through; then it resumes and says so."""

    __tablename__ = "delivery_pauses"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    reason: Mapped[str] = mapped_column(String(80))
    since: Mapped[datetime] = mapped_column(UTCDateTime)
    probe_at: Mapped[datetime] = mapped_column(UTCDateTime)
    held: Mapped[int] = mapped_column(Integer, default=0)
