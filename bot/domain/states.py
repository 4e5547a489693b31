"""The bot's vocabulary: every status, risk level and message kind, named once.

Storage queries, services and Slack builders all use these enums; the database stores their
values as plain strings, so nothing else in the code spells them out.
"""

from __future__ import annotations

from enum import StrEnum


class Risk(StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    NO_APPARENT_RISK = "no_apparent_risk"

    @property
    def label(self) -> str:
        return "No apparent risk" if self is Risk.NO_APPARENT_RISK else self.value.capitalize()

    @property
    def rank(self) -> int:
        """0 for high: sorting by rank puts the most urgent first."""
        return list(Risk).index(self)


class EpisodeStatus(StrEnum):
    MISSING = "missing"
    RETURNED = "returned"
    # Logged in error or a duplicate: out of every open list and figure, closed for good.
    VOID = "void"


class ReturnHow(StrEnum):
    """How a child came back, as the control room records it."""

    SELF_RETURNED = "self_returned"
    FOUND_BY_POLICE = "found_by_police"
    RETURNED_BY_CARER = "returned_by_carer"
    OTHER = "other"

    @property
    def label(self) -> str:
        return {
            ReturnHow.SELF_RETURNED: "came back by themselves",
            ReturnHow.FOUND_BY_POLICE: "found by police",
            ReturnHow.RETURNED_BY_CARER: "brought back by a carer or family",
            ReturnHow.OTHER: "other",
        }[self]


class SafeWellStatus(StrEnum):
    """The police safe-and-well check (prevention interview) after a return: the police's own
    duty, apart from the local authority's return home interview."""

    DONE = "done"
    TO_BE_DONE = "to_be_done"


class NoteKind(StrEnum):
    """What was added to a still-missing episode's record (see `episode_notes`)."""

    SIGHTING = "sighting"
    INFORMATION = "information"


class RhiStatus(StrEnum):
    PENDING = "pending"
    OFFERED = "offered"
    DECLINED = "declined"
    COMPLETED = "completed"
    NOT_DONE = "not_done"
    # The return was recorded in error (the episode reopened), or the episode was voided.
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


OPEN_RHI_STATUSES = frozenset({RhiStatus.PENDING, RhiStatus.OFFERED})


class DeliveryStatus(StrEnum):
    """An outbox message: pending -> claimed -> sent, or failed (Slack refused it for good)
    or cancelled (no longer wanted, e.g. a reminder for an interview since recorded)."""

    PENDING = "pending"
    CLAIMED = "claimed"
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"


class MessageKind(StrEnum):
    """What an outbox message is; the Slack side has one builder per kind."""

    EPISODE_POSTED = "episode_posted"
    # An edit of the episode's channel post (chat.update), so the channel shows where it stands.
    EPISODE_POST_UPDATED = "episode_post_updated"
    EPISODE_CONFIRMED = "episode_confirmed"
    EPISODE_RETURNED = "episode_returned"
    EPISODE_REOPENED = "episode_reopened"
    EPISODE_VOIDED = "episode_voided"
    RHI_STATUS_CHANGED = "rhi_status_changed"
    RHI_REMINDER = "rhi_reminder"
    RHI_ESCALATION = "rhi_escalation"
    RHI_LAPSED = "rhi_lapsed"
    RHI_ASSIGNED = "rhi_assigned"
    EPISODE_ASSIGNED = "episode_assigned"
    OVERDUE_LIST = "overdue_list"
    SAFE_WELL_REMINDER = "safe_well_reminder"
    SAFE_WELL_OVERDUE = "safe_well_overdue"
    SAFE_WELL_DONE = "safe_well_done"
    DELIVERY_FAILED = "delivery_failed"
    DELIVERY_RESUMED = "delivery_resumed"
    # A still-missing episode updated (risk, sighting, information, corrections): its thread.
    EPISODE_UPDATED = "episode_updated"
    # Risk raised to high: said at the top of the control-room channel, not only in a thread.
    RISK_RAISED = "risk_raised"
    REVIEW_DUE = "review_due"  # to the officer in the case, with buttons
    REVIEW_OVERDUE = "review_overdue"  # in the episode's thread
    # The daily safeguarding digest, its chart (a file in the digest's thread), an edit of the
    # digest saying the chart could not be attached, and the shift handover.
    DIGEST = "digest"
    DIGEST_CHART = "digest_chart"
    DIGEST_NOTE = "digest_note"
    HANDOVER = "handover"


# Summaries posted once per occasion: a duplicate is worse than a look at the channel first, so
# a copy that takes over another's claim looks before sending (bot.services.outbox).
SUMMARY_KINDS = frozenset({MessageKind.DIGEST, MessageKind.DIGEST_CHART, MessageKind.HANDOVER})
# Messages that are files, uploaded rather than posted.
FILE_KINDS = frozenset({MessageKind.DIGEST_CHART})
# Messages that edit a message already posted (chat.update) instead of posting a new one.
EDIT_KINDS = frozenset({MessageKind.EPISODE_POST_UPDATED, MessageKind.DIGEST_NOTE})

# Messages that chase an open interview: dropped unsent once it is closed, or its episode is
# reopened or voided.
REMINDER_KINDS = frozenset({MessageKind.RHI_REMINDER, MessageKind.RHI_ESCALATION})
# Messages that chase a risk review: dropped unsent once it is recorded or the child is back.
REVIEW_KINDS = frozenset({MessageKind.REVIEW_DUE, MessageKind.REVIEW_OVERDUE})
# Messages that chase a safe-and-well check: dropped unsent once it is done.
SAFE_WELL_KINDS = frozenset({MessageKind.SAFE_WELL_REMINDER, MessageKind.SAFE_WELL_OVERDUE})
# Messages that chase an episode or its interview (a reminder, "it is yours now", possibly held
# for quiet hours): a void drops the ones still queued for it.
CHASING_KINDS = (
    REMINDER_KINDS
    | SAFE_WELL_KINDS
    | REVIEW_KINDS
    | {MessageKind.RHI_ASSIGNED, MessageKind.EPISODE_ASSIGNED}
)


class FollowupKind(StrEnum):
    """What a follow-up row is about (see bot.domain.followup)."""

    RHI = "rhi"  # one open return home interview; subject: its id
    OVERDUE_LISTS = "overdue_lists"  # the daily fan-out of overdue lists; subject: "daily"
    OVERDUE_LIST = "overdue_list"  # one person's daily list; subject: their user id
    # Not due work: remembers the policy the stored next actions were computed with (step).
    POLICY = "policy"
    REVIEW = "review"  # a still-missing episode's next risk review; subject: episode id
    SAFE_WELL = "safe_well"  # the police safe-and-well check after a return; subject: episode id
    DIGEST = "digest"  # the daily safeguarding digest; subject: the channel it goes to
    HANDOVER = "handover"  # the shift handovers; subject: the channel they go to


# Follow-ups about an episode (subject: its id): a void or a close stops them all.
EPISODE_FOLLOWUPS = frozenset({FollowupKind.REVIEW, FollowupKind.SAFE_WELL})


class RhiStep(StrEnum):
    """The rungs of an interview's ladder, in order."""

    DUE_SOON = "due_soon"
    DUE_NOW = "due_now"
    ESCALATE = "escalate"
    LAPSE = "lapse"


class ReviewStep(StrEnum):
    """What a due risk review's follow-up still owes: the reminder to the officer in the case
    when it falls due and the overdue note in the thread after (DUE), only the note (OVERDUE),
    or only the reminder, held by quiet hours past the note (REMINDER)."""

    DUE = "due"
    OVERDUE = "overdue"
    REMINDER = "reminder"


class AuditAction(StrEnum):
    CHILD_CREATED = "child.created"
    EPISODE_LOGGED = "episode.logged"
    EPISODE_RETURNED = "episode.returned"
    EPISODE_REOPENED = "episode.reopened"
    EPISODE_VOIDED = "episode.voided"
    EPISODE_VIEWED = "episode.viewed"
    EPISODES_LISTED = "episodes.listed"
    # Updates while missing. Details say what changed (fields, grades, ids), never the text.
    RISK_REGRADED = "episode.risk_regraded"
    EPISODE_REVIEWED = "episode.reviewed"
    SIGHTING_ADDED = "episode.sighting_added"
    INFORMATION_ADDED = "episode.information_added"
    EPISODE_CORRECTED = "episode.corrected"
    RHI_OFFERED = "rhi.offered"
    RHI_DECLINED = "rhi.declined"
    RHI_COMPLETED = "rhi.completed"
    RHI_NOT_DONE = "rhi.not_done"
    RHI_ASSIGNED = "rhi.assigned"
    RHI_SNOOZED = "rhi.snoozed"
    RHI_LISTED = "rhi.listed"
    RHI_LAPSED = "rhi.lapsed"
    SAFE_WELL_DONE = "safe_well.done"
    ACCESS_REFUSED = "access.refused"
    ROLE_GRANTED = "role.granted"
    ROLE_REVOKED = "role.revoked"
    # Retention and the audit trail itself: who removed, exported or read the records.
    RECORDS_PURGED = "records.purged"
    AUDIT_EXPORTED = "audit.exported"
    AUDIT_VIEWED = "audit.viewed"
    # The digest: previewed privately (`/missing digest`, `missing-bot digest --dry-run`), or
    # posted by an operator (`missing-bot digest`); the scheduler's own posts are in the outbox.
    DIGEST_VIEWED = "digest.viewed"
    DIGEST_POSTED = "digest.posted"

    @classmethod
    def for_rhi_status(cls, status: RhiStatus) -> AuditAction:
        return cls(f"rhi.{status.value}")
