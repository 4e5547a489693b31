"""Who may do what: roles, the actions they allow, and the rule for return home interviews.

Roles build on each other: safeguarding staff can do everything the control room can, and
admins everything safeguarding can. The decision is pure; the service layer gathers a person's
roles (grants, Slack user groups, ADMIN_USER_IDS) and asks here.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum


class Role(StrEnum):
    CONTROL_ROOM = "control_room"
    SAFEGUARDING = "safeguarding"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return list(Role).index(self)

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


class Action(StrEnum):
    LOG = "log an episode"
    RETURN = "record a return"
    REOPEN = "reopen an episode"
    VOID = "void an episode"
    UPDATE = "update an episode"
    SHOW = "see an episode's details"
    LIST = "list episodes"
    OWN_RHIS = "list your return home interviews"
    HISTORY = "see an episode's history"
    RHI_UPDATE = "update a return home interview"
    DIGEST = "preview the digest"
    STATISTICS = "see statistics"
    EXPORT = "export records"
    GRANT = "grant and revoke roles"
    AUDIT = "read the audit log"


NEEDS: dict[Action, Role] = {
    Action.LOG: Role.CONTROL_ROOM,
    Action.RETURN: Role.CONTROL_ROOM,
    Action.REOPEN: Role.CONTROL_ROOM,
    Action.UPDATE: Role.CONTROL_ROOM,
    Action.SHOW: Role.CONTROL_ROOM,
    Action.LIST: Role.CONTROL_ROOM,
    Action.OWN_RHIS: Role.CONTROL_ROOM,
    Action.HISTORY: Role.SAFEGUARDING,
    # Voiding takes an episode out of every figure and stops what follows it: beyond a fresh
    # slip by whoever logged it (see may_void), that is for the people who own those figures.
    Action.VOID: Role.SAFEGUARDING,
    Action.RHI_UPDATE: Role.SAFEGUARDING,
    Action.DIGEST: Role.SAFEGUARDING,
    Action.STATISTICS: Role.SAFEGUARDING,
    Action.EXPORT: Role.SAFEGUARDING,
    Action.GRANT: Role.ADMIN,
    Action.AUDIT: Role.ADMIN,
}


def highest(roles: frozenset[Role]) -> Role | None:
    return max(roles, key=lambda r: r.rank) if roles else None


def allows(roles: frozenset[Role], action: Action) -> bool:
    top = highest(roles)
    return top is not None and top.rank >= NEEDS[action].rank


def may_update_rhi(roles: frozenset[Role], *, user: str, assignee_id: str, officer_id: str) -> bool:
    """Safeguarding staff may update any interview; anyone with a role may update the one they
    chase or whose episode they are the officer in the case for."""
    if allows(roles, Action.RHI_UPDATE):
        return True
    return bool(roles) and user in (assignee_id, officer_id)


# Whoever logged an episode may void it themselves for this long (a duplicate or a slip noticed
# at once); after that it may have been acted on, and safeguarding decides.
OWN_VOID_WINDOW = timedelta(hours=1)


def may_void(
    roles: frozenset[Role],
    *,
    user: str,
    logged_by: str,
    logged_at: datetime,
    now: datetime,
) -> bool:
    """Safeguarding staff may void any episode; the control room one they logged themselves
    within the last hour."""
    if allows(roles, Action.VOID):
        return True
    own = user == logged_by and now - logged_at <= OWN_VOID_WINDOW
    return own and allows(roles, Action.LOG)


def parse_role(text: str) -> Role:
    """`control_room`, `control-room`, `Control room` -> Role.CONTROL_ROOM; ValueError otherwise."""
    key = "_".join(text.strip().lower().replace("-", " ").split())
    return Role(key)
