"""The episode life cycle: what a new episode must satisfy and which status changes are allowed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from bot.domain.errors import UserError
from bot.domain.people import age_on, is_staff_id, name_key
from bot.domain.states import EpisodeStatus, Risk
from bot.domain.text import text_problem

RISK_FACTORS = {
    "cse": "Child sexual exploitation",
    "cce": "Criminal exploitation / county lines",
    "mental_health": "Mental health",
    "self_harm": "Self-harm",
    "medication": "Medication needed",
    "other": "Other",
}


def risk_factors_problem(factors: Sequence[str]) -> str | None:
    """Why these ticked risk factors cannot be kept, or None. The form's boxes each tick once:
    a factor twice is a forged answer, and would count twice wherever factors are counted."""
    if any(f not in RISK_FACTORS for f in factors):
        return "Unknown risk factor."
    if len(set(factors)) != len(factors):
        return "A risk factor is ticked twice: choose the risk factors again."
    return None


# (previous, current): the only status changes there are. A return recorded in error is
# undone by reopening, which puts the episode back to missing. An episode logged in error (or a
# duplicate of another) is voided; nothing leads out of void.
TRANSITIONS: set[tuple[EpisodeStatus, EpisodeStatus]] = {
    (EpisodeStatus.MISSING, EpisodeStatus.RETURNED),
    (EpisodeStatus.RETURNED, EpisodeStatus.MISSING),
    (EpisodeStatus.MISSING, EpisodeStatus.VOID),
    (EpisodeStatus.RETURNED, EpisodeStatus.VOID),
}

# The rule for every figure (open lists, repeat counts, statistics, digests): an episode counts
# only while it is missing or returned. A void episode never happened as far as figures go; it
# stays in the database and the audit trail as a record of the mistake.
# `storage.queries.counted_episodes` applies it.
COUNTED_STATUSES = frozenset({EpisodeStatus.MISSING, EpisodeStatus.RETURNED})

# Why an episode was voided, as typed: kept privately on the episode, never posted.
MAX_VOID_REASON = 1000


def check_transition(previous: EpisodeStatus, current: EpisodeStatus) -> None:
    if previous is EpisodeStatus.VOID:
        raise UserError("This episode was voided: it cannot change any more.")
    if (previous, current) not in TRANSITIONS:
        raise UserError(f"An episode that is {previous.value} cannot become {current.value}.")


def check_not_void(status: EpisodeStatus, ref: str, *, duplicate_of: str | None) -> None:
    """What every command on a voided episode answers: it was voided, and where to look."""
    if status is not EpisodeStatus.VOID:
        return
    why = f"a duplicate of {duplicate_of}" if duplicate_of else "logged in error"
    instead = f" Use {duplicate_of} instead." if duplicate_of else ""
    raise UserError(
        f"{ref} was voided ({why}): it is closed for good and nothing was changed.{instead} "
        f"`/missing show {ref}` shows the record."
    )


def check_void(*, episode_id: int, reason: str, duplicate_of: int | None) -> None:
    """A void needs a reason, and a duplicate must name another episode."""
    if not reason.strip():
        raise UserError(
            "Say why the episode is void: `/missing void M-42 logged in error` or "
            "`/missing void M-42 duplicate of M-41`."
        )
    problem = text_problem(reason, limit=MAX_VOID_REASON, what="the reason")
    if problem:
        raise UserError(problem)
    if duplicate_of == episode_id:
        raise UserError("An episode cannot be a duplicate of itself: give the other reference.")


MAX_SHORT = 200
MAX_LONG = 2000
EARLIEST_SEEN = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass
class NewEpisode:
    """What the form gives, already typed; `validate` says what is wrong, per field."""

    child_name: str
    date_of_birth: date | None
    last_seen_at: datetime | None
    last_seen_place: str
    risk_level: str | None
    looked_after: bool
    placing_authority: str = ""
    risk_factors: list[str] = field(default_factory=list)
    description: str = ""
    reported_by: str = ""
    incident_ref: str = ""
    officer_id: str = ""

    def validate(self, *, now: datetime, tz: ZoneInfo) -> dict[str, str]:
        errors: dict[str, str] = {}
        local_today = now.astimezone(tz).date()
        name = " ".join(self.child_name.split())
        name_problem = text_problem(self.child_name, limit=len(self.child_name))
        if name_problem:
            errors["child_name"] = name_problem
        elif not name:
            errors["child_name"] = "Enter the child's name."
        elif len(name) > MAX_SHORT:
            errors["child_name"] = f"Keep the name under {MAX_SHORT} characters."
        elif not any(ch.isalpha() for ch in name):
            errors["child_name"] = "The name must contain letters."
        elif len(name_key(name)) > MAX_SHORT:
            # The key a child is matched by is stored too, in as many characters as the name;
            # case folding and compatibility forms can make it longer (ß -> ss, ﬃ -> ffi).
            errors["child_name"] = (
                f"Keep the name under {MAX_SHORT} characters: spelled out for matching "
                f"(ß as ss, ﬃ as ffi) this one has {len(name_key(name))}."
            )
        if self.date_of_birth is None:
            errors["date_of_birth"] = "Enter the date of birth."
        elif self.date_of_birth > local_today:
            errors["date_of_birth"] = "The date of birth is in the future."
        if self.last_seen_at is None:
            errors["last_seen_at"] = "Enter when the child was last seen."
        elif self.last_seen_at > now:
            errors["last_seen_at"] = "Last seen cannot be in the future."
        elif self.last_seen_at < EARLIEST_SEEN:
            # Also keeps the local-time arithmetic below inside what datetime can hold.
            errors["last_seen_at"] = "Last seen is before 1970: check the date."
        if (
            self.date_of_birth
            and self.last_seen_at
            and "date_of_birth" not in errors
            and "last_seen_at" not in errors
        ):
            seen_day = self.last_seen_at.astimezone(tz).date()
            if seen_day < self.date_of_birth:
                errors["last_seen_at"] = "Last seen is before the date of birth."
            elif age_on(self.date_of_birth, max(seen_day, self.date_of_birth)) >= 18:
                errors["date_of_birth"] = (
                    "The child must be under 18 on the day last seen; adults are not logged here."
                )
        if not self.last_seen_place.strip():
            errors["last_seen_place"] = "Enter where the child was last seen."
        if self.risk_level not in {r.value for r in Risk}:
            errors["risk_level"] = "Choose a risk level."
        if self.placing_authority.strip() and not self.looked_after:
            errors["placing_authority"] = (
                "A placing authority is only for a looked-after child: choose 'Yes' above or "
                "clear this."
            )
        factors = risk_factors_problem(self.risk_factors)
        if factors:
            errors["risk_factors"] = factors
        for block_id, value, limit in (
            ("last_seen_place", self.last_seen_place, MAX_SHORT * 2),
            ("placing_authority", self.placing_authority, MAX_SHORT),
            ("description", self.description, MAX_LONG),
            ("reported_by", self.reported_by, MAX_LONG),
            ("incident_ref", self.incident_ref, 60),
        ):
            problem = text_problem(value, limit=limit)
            if problem and block_id not in errors:
                errors[block_id] = problem
        if not self.officer_id:
            errors["officer"] = "Choose the officer in the case."
        elif not is_staff_id(self.officer_id):
            errors["officer"] = "That is not someone I can record: choose the officer again."
        return errors


def check_return_time(*, returned_at: datetime, last_seen_at: datetime, now: datetime) -> None:
    if returned_at > now:
        raise UserError("The return time is in the future: give the time the child came back.")
    if returned_at < last_seen_at:
        raise UserError("The return time is before the child was last seen.")
