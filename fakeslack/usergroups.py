"""User groups (``@oncall``-style handles): ``usergroups.users.list`` and how tests set them."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from fakeslack.checks import require
from fakeslack.replies import Outcome, SlackError
from fakeslack.state import FakeSlackState


class Usergroups(FakeSlackState):
    def set_usergroup(self, usergroup_id: str, users: Iterable[str]) -> None:
        """Create or replace a user group: ``usergroups.users.list`` answers ``users``."""
        members = list(users)
        if isinstance(users, str) or not all(isinstance(u, str) and u for u in members):
            raise TypeError("users must be an iterable of user ids, e.g. ['U1', 'U2']")
        with self._cond:
            self._usergroups[usergroup_id] = members

    def _api_usergroups_users_list(self, args: dict[str, Any], token: str) -> Outcome:
        require(args, "usergroup")
        members = self._usergroups.get(str(args["usergroup"]))
        if members is None:
            raise SlackError("no_such_subteam")
        return {"ok": True, "users": list(members)}, []


USERGROUP_METHODS: dict[str, Callable[[Usergroups, dict[str, Any], str], Outcome]] = {
    "usergroups.users.list": Usergroups._api_usergroups_users_list,
}
