"""Who may do what: one policy, asked by every use case (commands, buttons, forms alike).

A person's roles come from three places: ADMIN_USER_IDS (so a new install has someone who can
grant), grants made with `/missing admin grant`, and Slack user groups mapped to roles
(ROLE_USERGROUPS), whose membership the scheduler reads from Slack every few minutes into the
database. A refusal names the role needed and is written to the audit trail.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.domain.access import NEEDS, Action, Role, allows, may_update_rhi, may_void
from bot.domain.errors import UserError
from bot.domain.people import is_staff_id
from bot.domain.states import AuditAction
from bot.services import audit
from bot.services.ports import Directory
from storage.db import Database
from storage.models import RequestKey, RoleGrant, UsergroupMember, UsergroupRefresh
from storage.queries import upsert

log = logging.getLogger(__name__)


class Refused(UserError):
    """The person may not do this; the message says which role would let them."""

    def __init__(self, message: str, *, attempted: str, needed: Role | None) -> None:
        super().__init__(message)
        self.attempted = attempted
        self.needed = needed


class Replayed(UserError):
    """This very request (the same form, the same command) was already acted on."""

    def __init__(self, result: str | None) -> None:
        super().__init__("That request was already handled; nothing more was done.")
        self.result = result


@dataclass(frozen=True)
class Caller:
    """Who sent a Slack request, from where. Services act for a caller, never for a bare id.

    `request_key` identifies the request itself (a command's trigger id, a form's view id): a
    captured request replayed, or a form submitted twice, acts once.
    """

    user_id: str
    team_id: str | None = None
    channel_id: str | None = None
    request_key: str | None = None


@dataclass(frozen=True)
class AccessPolicy:
    admins: frozenset[str] = frozenset()
    # user group id -> role
    usergroups: dict[str, Role] = field(default_factory=dict)
    # Requests must come from this workspace (learnt from auth.test at start-up).
    team_id: str | None = None
    usergroup_refresh: timedelta = timedelta(minutes=5)
    # A membership list older than this is not trusted (Slack unreachable for long).
    usergroup_max_age: timedelta = timedelta(hours=1)


@dataclass(frozen=True)
class GrantView:
    user_id: str
    role: Role
    source: str  # "settings", "granted by <@U..>", "user group S123"


class AccessService:
    def __init__(self, *, db: Database, clock: Clock, policy: AccessPolicy) -> None:
        self.db = db
        self.clock = clock
        self.policy = policy

    # -- deciding ------------------------------------------------------------------------

    def roles_of(self, session: Session, user_id: str) -> frozenset[Role]:
        roles = {Role.ADMIN} if user_id in self.policy.admins else set()
        roles.update(
            Role(r)
            for r in session.scalars(select(RoleGrant.role).where(RoleGrant.user_id == user_id))
        )
        if self.policy.usergroups:
            fresh_after = self.clock.now() - self.policy.usergroup_max_age
            rows = session.execute(
                select(UsergroupMember.usergroup_id)
                .join(
                    UsergroupRefresh,
                    UsergroupRefresh.usergroup_id == UsergroupMember.usergroup_id,
                )
                .where(
                    UsergroupMember.user_id == user_id,
                    UsergroupRefresh.refreshed_at >= fresh_after,
                )
            )
            roles.update(self.policy.usergroups[g] for (g,) in rows if g in self.policy.usergroups)
        return frozenset(roles)

    def require(self, session: Session, caller: Caller, action: Action) -> frozenset[Role]:
        """The caller's roles if they allow `action`; otherwise Refused (audited by
        `refusals_audited`). Also claims the request's key: a replay raises Replayed."""
        self._check_team(caller)
        roles = self.roles_of(session, caller.user_id)
        if not allows(roles, action):
            self._refuse(caller, action.value, NEEDS[action])
        self._claim(session, caller)
        return roles

    def check(self, caller: Caller, action: Action) -> frozenset[Role]:
        """Refuse early (before a form opens) without claiming the request or changing data."""
        with self.refusals_audited(caller), self.db.read() as session:
            return self.require(session, replace(caller, request_key=None), action)

    def _claim(self, session: Session, caller: Caller) -> None:
        if not caller.request_key:
            return
        claimed = session.execute(
            upsert(session)(RequestKey)
            .values(key=caller.request_key[:200], created_at=self.clock.now())
            .on_conflict_do_nothing(index_elements=["key"])
            .returning(RequestKey.key)
        ).first()
        if claimed is None:
            result = session.scalar(
                select(RequestKey.result).where(RequestKey.key == caller.request_key[:200])
            )
            raise Replayed(result)

    @staticmethod
    def record_result(session: Session, caller: Caller, result: str) -> None:
        """Remember what the request made (a form's episode), to answer its resubmission."""
        if caller.request_key:
            row = session.get(RequestKey, caller.request_key[:200])
            if row is not None:
                row.result = result

    def forget_requests_before(self, before: datetime) -> int:
        """Keys only need to outlive Slack's 5-minute replay window; old ones go."""
        with self.db.transaction() as session:
            gone = session.execute(
                delete(RequestKey).where(RequestKey.created_at < before).returning(RequestKey.key)
            )
            return len(gone.all())

    def require_rhi(
        self, session: Session, caller: Caller, *, assignee_id: str, officer_id: str, ref: str
    ) -> None:
        self._check_team(caller)
        roles = self.roles_of(session, caller.user_id)
        allowed = may_update_rhi(
            roles, user=caller.user_id, assignee_id=assignee_id, officer_id=officer_id
        )
        if allowed:
            self._claim(session, caller)
        else:
            self._refuse(
                caller,
                Action.RHI_UPDATE.value,
                Role.SAFEGUARDING,
                extra=(
                    f" (or be <@{assignee_id}>, who chases it, or the officer in the case, "
                    f"with any missing-bot role) for {ref}"
                ),
            )

    def require_void(
        self,
        session: Session,
        caller: Caller,
        *,
        ref: str,
        logged: tuple[str, datetime] | None,
    ) -> None:
        """May the caller void this episode? `logged` is (who logged it, when), or None when
        there is no such episode: anyone with a role then hears so, and nobody else does."""
        self._check_team(caller)
        roles = self.roles_of(session, caller.user_id)
        if logged is None and roles:
            return
        if logged is not None:
            logged_by, logged_at = logged
            now = self.clock.now()
            user = caller.user_id
            if may_void(roles, user=user, logged_by=logged_by, logged_at=logged_at, now=now):
                self._claim(session, caller)
                return
        self._refuse(
            caller,
            Action.VOID.value,
            NEEDS[Action.VOID],
            extra=f" (or to have logged {ref} yourself within the last hour)",
        )

    def _check_team(self, caller: Caller) -> None:
        if not is_staff_id(caller.user_id):
            # Nobody to name in a refusal or in the audit trail: Slack never sends this.
            raise UserError("That request did not say who sent it; nothing was done.")
        expected = self.policy.team_id
        if expected and caller.team_id != expected:
            raise Refused(
                "This bot serves one Slack workspace only; nothing was done.",
                attempted="a request from another workspace",
                needed=None,
            )

    def _refuse(self, caller: Caller, what: str, needed: Role, *, extra: str = "") -> None:
        raise Refused(
            f"You need the *{needed.label}* role to {what}{extra}; nothing was done. "
            "Ask a missing-bot admin (`/missing admin roles` lists them) to grant it.",
            attempted=what,
            needed=needed,
        )

    @contextmanager
    def refusals_audited(self, caller: Caller) -> Iterator[None]:
        """Wrap a use case's transaction: a refusal is written to the audit trail after that
        transaction has rolled back (writing it inside would wait on its own lock)."""
        try:
            yield
        except Refused as refused:
            with self.db.transaction() as session:
                audit.record(
                    session,
                    at=self.clock.now(),
                    actor=caller.user_id,
                    action=AuditAction.ACCESS_REFUSED,
                    channel=caller.channel_id,
                    attempted=refused.attempted,
                    needed=refused.needed.value if refused.needed else None,
                    team=caller.team_id,
                )
            raise

    # -- granting ------------------------------------------------------------------------

    def grant(self, caller: Caller, *, user_id: str, role: Role) -> bool:
        """True if the grant is new."""
        _check_grantee(user_id)
        now = self.clock.now()
        with self.refusals_audited(caller), self.db.transaction() as session:
            self.require(session, caller, Action.GRANT)
            if session.get(RoleGrant, (user_id, role.value)) is not None:
                return False
            session.add(
                RoleGrant(
                    user_id=user_id, role=role.value, granted_by=caller.user_id, granted_at=now
                )
            )
            audit.record(
                session,
                at=now,
                actor=caller.user_id,
                action=AuditAction.ROLE_GRANTED,
                channel=caller.channel_id,
                user=user_id,
                role=role.value,
            )
            return True

    def revoke(self, caller: Caller, *, user_id: str, role: Role) -> bool:
        """True if there was such a grant. Roles from settings or user groups stay."""
        _check_grantee(user_id)
        now = self.clock.now()
        with self.refusals_audited(caller), self.db.transaction() as session:
            self.require(session, caller, Action.GRANT)
            gone = session.execute(
                delete(RoleGrant)
                .where(RoleGrant.user_id == user_id, RoleGrant.role == role.value)
                .returning(RoleGrant.user_id)
            ).first()
            if gone is None:
                return False
            audit.record(
                session,
                at=now,
                actor=caller.user_id,
                action=AuditAction.ROLE_REVOKED,
                channel=caller.channel_id,
                user=user_id,
                role=role.value,
            )
            return True

    def grants(self, caller: Caller) -> list[GrantView]:
        with self.refusals_audited(caller), self.db.transaction() as session:
            self.require(session, caller, Action.GRANT)
            found = [GrantView(u, Role.ADMIN, "ADMIN_USER_IDS") for u in sorted(self.policy.admins)]
            for grant in session.scalars(select(RoleGrant).order_by(RoleGrant.user_id)):
                found.append(
                    GrantView(grant.user_id, Role(grant.role), f"granted by <@{grant.granted_by}>")
                )
            for group, role in sorted(self.policy.usergroups.items()):
                members = session.scalars(
                    select(UsergroupMember.user_id).where(UsergroupMember.usergroup_id == group)
                )
                found.extend(GrantView(u, role, f"user group {group}") for u in members)
            return found

    # -- user groups (the scheduler calls this) -----------------------------------------

    def refresh_usergroups(self, directory: Directory) -> int:
        """Read due user groups' members from Slack; the number of groups refreshed."""
        now = self.clock.now()
        refreshed = 0
        for group in sorted(self.policy.usergroups):
            with self.db.read() as session:
                last = session.get(UsergroupRefresh, group)
                due = last is None or last.refreshed_at <= now - self.policy.usergroup_refresh
            if not due:
                continue
            try:
                members = directory.usergroup_members(group)
            except Exception as exc:  # keep the last list until it is too old to trust
                log.warning("could not read user group %s from Slack: %s", group, exc)
                continue
            self._store_members(group, members, now)
            refreshed += 1
        return refreshed

    def _store_members(self, group: str, members: list[str], now: datetime) -> None:
        with self.db.transaction() as session:
            session.execute(delete(UsergroupMember).where(UsergroupMember.usergroup_id == group))
            session.add_all(
                UsergroupMember(usergroup_id=group, user_id=u) for u in sorted(set(members))
            )
            refresh = session.get(UsergroupRefresh, group)
            if refresh is None:
                session.add(UsergroupRefresh(usergroup_id=group, refreshed_at=now))
            else:
                refresh.refreshed_at = now


def _check_grantee(user_id: str) -> None:
    if not is_staff_id(user_id):
        raise UserError("Roles go to one person, named with @; nothing was changed.")
