"""Who sent a Slack request, read from its payload: the `Caller` every use case acts for.

The request key (a command's or click's trigger id, a form's view id) lets a replayed request,
or a form submitted twice, act once. Ids that are not shaped as Slack's are not believed: a user
id refuses the request, a channel or workspace id reads as unknown (the workspace check then
refuses it), and a malformed trigger or view id gives no key.
"""

from __future__ import annotations

from typing import Any

from bot.domain.errors import UserError
from bot.domain.people import is_staff_id
from bot.services.access import Caller
from handlers.shapes import channel_id, dig, request_id, team_id

_NO_USER = "That request did not say who sent it; nothing was done."


def _user(value: object) -> str:
    if not is_staff_id(value):
        raise UserError(_NO_USER)
    return value


def command_caller(command: dict[str, Any]) -> Caller:
    user = _user(command.get("user_id"))
    trigger = request_id(command.get("trigger_id"))
    return Caller(
        user_id=user,
        team_id=team_id(command.get("team_id")),
        channel_id=channel_id(command.get("channel_id")),
        request_key=f"command:{trigger}" if trigger else None,
    )


def _team_of(body: dict[str, Any]) -> str | None:
    return team_id(dig(body, "user", "team_id")) or team_id(dig(body, "team", "id"))


def action_caller(body: dict[str, Any]) -> Caller:
    user = _user(dig(body, "user", "id"))
    channel = channel_id(dig(body, "channel", "id")) or channel_id(
        dig(body, "container", "channel_id")
    )
    trigger = request_id(body.get("trigger_id"))
    return Caller(
        user_id=user,
        team_id=_team_of(body),
        channel_id=channel,
        request_key=f"action:{trigger}" if trigger else None,
    )


def view_caller(body: dict[str, Any], view: object, channel: object) -> Caller:
    """A form's submission: the view id is the same however often it is submitted."""
    user = _user(dig(body, "user", "id"))
    view_id = request_id(dig(view, "id"))
    return Caller(
        user_id=user,
        team_id=_team_of(body),
        channel_id=channel_id(channel),
        request_key=f"view:{view_id}" if view_id else None,
    )
