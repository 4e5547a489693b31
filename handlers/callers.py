"""Who sent a Slack request, read from its payload: the `Caller` every use case acts for.

The request key (a command's or click's trigger id, a form's view id) lets a replayed request,
or a form submitted twice, act once.
"""

from __future__ import annotations

from typing import Any

from bot.domain.errors import UserError
from bot.services.access import Caller

_NO_USER = "That request did not say who sent it; nothing was done."


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _obj(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def command_caller(command: dict[str, Any]) -> Caller:
    user = _text(command.get("user_id"))
    if user is None:
        raise UserError(_NO_USER)
    trigger = _text(command.get("trigger_id"))
    return Caller(
        user_id=user,
        team_id=_text(command.get("team_id")),
        channel_id=_text(command.get("channel_id")),
        request_key=f"command:{trigger}" if trigger else None,
    )


def _team_of(body: dict[str, Any]) -> str | None:
    return _text(_obj(body.get("user")).get("team_id")) or _text(_obj(body.get("team")).get("id"))


def action_caller(body: dict[str, Any]) -> Caller:
    user = _text(_obj(body.get("user")).get("id"))
    if user is None:
        raise UserError(_NO_USER)
    channel = _text(_obj(body.get("channel")).get("id")) or _text(
        _obj(body.get("container")).get("channel_id")
    )
    trigger = _text(body.get("trigger_id"))
    return Caller(
        user_id=user,
        team_id=_team_of(body),
        channel_id=channel,
        request_key=f"action:{trigger}" if trigger else None,
    )


def view_caller(body: dict[str, Any], view: dict[str, Any], channel_id: str | None) -> Caller:
    """A form's submission: the view id is the same however often it is submitted."""
    user = _text(_obj(body.get("user")).get("id"))
    if user is None:
        raise UserError(_NO_USER)
    view_id = _text(view.get("id"))
    return Caller(
        user_id=user,
        team_id=_team_of(body),
        channel_id=channel_id,
        request_key=f"view:{view_id}" if view_id else None,
    )
