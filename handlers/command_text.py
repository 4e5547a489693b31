"""Parsing what people type after `/missing`. Pure: text in, typed request or UserError out."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.domain.access import Role, parse_role
from bot.domain.errors import UserError
from bot.domain.refs import parse_ref
from bot.domain.text import quoted
from bot.domain.timetext import ACCEPTED_FORMS, UnreadableTime, take_time

_MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")


def split_command(text: str) -> tuple[str, list[str]]:
    words = text.split()
    if not words:
        return "", []
    return words[0].lower(), words[1:]


@dataclass(frozen=True)
class ReturnRequest:
    episode_id: int
    returned_at: datetime | None
    note: str


def parse_returned(args: list[str], *, now: datetime, tz: ZoneInfo) -> ReturnRequest:
    """`M-4 [at] <when> [note]`: the time, with or without `at`, is read first; what follows
    is a note. A reference alone opens the return form instead (see handlers.commands)."""
    if not args:
        raise UserError("Which episode? Use `/missing returned M-42 [14:30] [note]`.")
    episode_id = parse_ref(args[0])
    rest = args[1:]
    when, used = take_time(rest, now=now, tz=tz)
    if when is None and rest[:1] and rest[0].lower() == "at":
        # `at` says a time follows: never record "now" for a time that could not be read.
        raise UnreadableTime(
            f"I couldn't read the time `{quoted(' '.join(rest[1:3]))}`. Use {ACCEPTED_FORMS} "
            "(UK time), or leave the time out to record the return now."
        )
    note = " ".join(rest[used:])
    # Its length and characters are the service's to judge (bot.domain.text).
    return ReturnRequest(episode_id, when, note)


@dataclass(frozen=True)
class SafeWellRequest:
    episode_id: int
    when: datetime | None
    user_id: str


SAFE_WELL_USAGE = "Use `/missing safewell M-42 done [at <when>] [by @someone]`."


def parse_safewell(args: list[str], *, now: datetime, tz: ZoneInfo) -> SafeWellRequest:
    if len(args) < 2 or args[1].lower() != "done":
        raise UserError(f"Record a police safe-and-well check as done. {SAFE_WELL_USAGE}")
    episode_id = parse_ref(args[0])
    rest = args[2:]
    user = ""
    lowered = [w.lower() for w in rest]
    if "by" in lowered:
        at = lowered.index("by")
        match = _MENTION.match(rest[at + 1]) if len(rest) == at + 2 else None
        if not match:
            raise UserError(f"`by` needs one person, mentioned. {SAFE_WELL_USAGE}")
        user = match[1]
        rest = rest[:at]
    when = None
    if rest:
        when, used = _longest_time(rest, now=now, tz=tz)
        if used != len(rest):
            raise UserError(
                f"I couldn't read `{quoted(' '.join(rest))}` as a time. {SAFE_WELL_USAGE}"
            )
    return SafeWellRequest(episode_id, when, user)


def _longest_time(words: list[str], *, now: datetime, tz: ZoneInfo) -> tuple[datetime, int]:
    """The time may be several words (`25/10 01:30 GMT`): take_time reads the longest."""
    when, used = take_time(words, now=now, tz=tz)
    if when is None:
        raise UnreadableTime(
            f"I couldn't read the time `{quoted(words[0])}`. Use {ACCEPTED_FORMS} (UK time)."
        )
    return when, used


@dataclass(frozen=True)
class RhiRequest:
    action: str  # list, done, offered, declined, notdone, assign, snooze
    episode_id: int = 0
    when: datetime | None = None
    organisation: str = ""
    reason: str = ""
    user_id: str = ""
    hours: float = 0.0


RHI_USAGE = (
    "Use `/missing rhi <ref> done [<when>] [by <organisation>]`, `offered`, `declined`, "
    "`notdone <reason>`, `assign @someone` or `snooze <hours>`; `/missing rhi` alone lists "
    "yours."
)


def parse_rhi(args: list[str], *, now: datetime, tz: ZoneInfo) -> RhiRequest:
    if not args:
        return RhiRequest("list")
    episode_id = parse_ref(args[0])
    if len(args) < 2:
        raise UserError(f"What about {args[0]}? {RHI_USAGE}")
    action, rest = args[1].lower(), args[2:]
    if action in ("done", "completed", "complete"):
        return _parse_done(episode_id, rest, now=now, tz=tz)
    if action in ("offered", "declined"):
        return RhiRequest(action, episode_id)
    if action in ("notdone", "not_done", "not-done"):
        reason = " ".join(rest)
        if not reason:
            raise UserError("Say why it was not done: `/missing rhi M-42 notdone <reason>`.")
        return RhiRequest("notdone", episode_id, reason=reason)
    if action == "assign":
        match = _MENTION.match(rest[0]) if len(rest) == 1 else None
        if not match:
            raise UserError(
                "Assign to whom? Mention one person: `/missing rhi M-42 assign @someone`."
            )
        return RhiRequest("assign", episode_id, user_id=match[1])
    if action == "snooze":
        return RhiRequest("snooze", episode_id, hours=_hours(rest))
    raise UserError(f"I don't know `{quoted(action, 20)}` for a return home interview. {RHI_USAGE}")


def _parse_done(episode_id: int, rest: list[str], *, now: datetime, tz: ZoneInfo) -> RhiRequest:
    lowered = [w.lower() for w in rest]
    organisation = ""
    if "by" in lowered:
        at = lowered.index("by")
        organisation = " ".join(rest[at + 1 :])
        if not organisation:
            raise UserError("`by` needs the organisation that did the interview.")
        rest = rest[:at]
    when = None
    if rest:
        if rest[0].lower() == "at":
            rest = rest[1:]
        if not rest:
            raise UserError(f"`at` needs a time: {ACCEPTED_FORMS}.")
        when, used = _longest_time(rest, now=now, tz=tz)
        if used != len(rest):
            raise UserError(
                f"I couldn't read `{quoted(' '.join(rest))}` as a time: {ACCEPTED_FORMS}."
            )
    return RhiRequest("done", episode_id, when=when, organisation=organisation)


def _hours(rest: list[str]) -> float:
    if len(rest) != 1:
        raise UserError("Snooze for how many hours? `/missing rhi M-42 snooze 4`.")
    text = rest[0].lower().removesuffix("h")
    try:
        hours = float(text)
    except ValueError:
        raise UserError(f"`{quoted(rest[0], 20)}` is not a number of hours.") from None
    if not hours > 0 or hours != hours:  # also refuses NaN
        raise UserError("Snooze needs a positive number of hours, e.g. `snooze 4`.")
    return hours


@dataclass(frozen=True)
class VoidRequest:
    episode_id: int
    reason: str
    duplicate_of: int | None


VOID_USAGE = "`/missing void M-42 logged in error` or `/missing void M-42 duplicate of M-41`"
_DUPLICATE = re.compile(r"^duplicate\s+of\b\s*(\S*)", re.IGNORECASE)


def parse_void(args: list[str]) -> VoidRequest:
    """`<ref> <reason>`; a reason starting `duplicate of <ref>` also names the other episode."""
    if not args:
        raise UserError(f"Which episode? {VOID_USAGE}.")
    episode_id = parse_ref(args[0])
    reason = " ".join(args[1:])
    if not reason:
        raise UserError(f"Say why {args[0][:20]} is void: {VOID_USAGE}.")
    duplicate_of = None
    match = _DUPLICATE.match(reason)
    if match:
        try:
            duplicate_of = parse_ref(match[1].rstrip(".,;:"))
        except UserError:
            raise UserError(
                f"Duplicate of which episode? Give its reference: {VOID_USAGE}."
            ) from None
    return VoidRequest(episode_id, reason, duplicate_of)


@dataclass(frozen=True)
class AdminRequest:
    action: str  # grant, revoke, roles
    user_id: str = ""
    role: Role | None = None


ADMIN_USAGE = (
    "Use `/missing admin grant @someone <role>`, `/missing admin revoke @someone <role>` or "
    "`/missing admin roles`. Roles: `control_room`, `safeguarding`, `admin`."
)


def parse_admin(args: list[str]) -> AdminRequest:
    if not args:
        raise UserError(ADMIN_USAGE)
    action, rest = args[0].lower(), args[1:]
    if action in ("roles", "list"):
        return AdminRequest("roles")
    if action not in ("grant", "revoke"):
        raise UserError(f"I don't know `admin {quoted(action, 20)}`. {ADMIN_USAGE}")
    match = _MENTION.match(rest[0]) if rest else None
    if not match or len(rest) != 2:
        raise UserError(f"`{action}` needs one person and one role. {ADMIN_USAGE}")
    try:
        role = parse_role(rest[1])
    except ValueError:
        raise UserError(f"`{quoted(rest[1], 30)}` is not a role. {ADMIN_USAGE}") from None
    return AdminRequest(action, match[1], role)
