"""`/missing <subcommand>`: parse, call one service method, answer in the acknowledgement.

A quick command does its work before acknowledging and carries its answer in the ack, so a
command Slack saw acknowledged is a command that was saved (and no response_url round trip).
Only `new` acknowledges first: the form must open while the trigger id is fresh.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, Respond
from slack_sdk import WebClient

from bot.domain.errors import UserError
from bot.domain.refs import parse_ref
from bot.domain.states import RhiStatus
from bot.domain.timetext import fmt_local
from bot.services.container import Services
from handlers.blocks import private
from handlers.blocks.new_episode_modal import new_episode_view
from handlers.command_text import parse_returned, parse_rhi, split_command
from handlers.errors import answer_for, log_error, report
from handlers.escape import esc

log = logging.getLogger(__name__)

Answer = dict[str, Any]


def missing(
    ack: Ack, command: dict[str, Any], respond: Respond, client: WebClient, services: Services
) -> None:
    text = command.get("text")
    sub, args = split_command(text if isinstance(text, str) else "")
    user = command.get("user_id")
    if sub == "new" and isinstance(user, str):
        ack()
        _open_form(args, command, client, respond)
        return
    try:
        if not isinstance(user, str) or not user:
            raise UserError("That request did not say who sent it; nothing was done.")
        answer = _answer(sub, args, user, services)
    except Exception as error:
        log_error(error, what=f"/missing {sub}")
        answer = private.text_message(answer_for(error))
    ack(**answer)


def _open_form(
    args: list[str], command: dict[str, Any], client: WebClient, respond: Respond
) -> None:
    try:
        client.views_open(
            trigger_id=command["trigger_id"],
            view=new_episode_view(
                name=" ".join(args),
                officer_id=command["user_id"],
                channel_id=command.get("channel_id"),
            ),
        )
    except Exception as error:
        report(error, respond, what="/missing new")


def _answer(sub: str, args: list[str], user: str, services: Services) -> Answer:
    handler = SUBCOMMANDS.get(sub)
    if handler is None:
        intro = "" if sub in ("", "help") else f"I don't know `/missing {esc(sub[:30])}`."
        return private.help_message(intro)
    return handler(args, user, services)


def _returned(args: list[str], user: str, services: Services) -> Answer:
    now, tz = services.clock.now(), services.tz
    request = parse_returned(args, now=now, tz=tz)
    result = services.episodes.record_return(
        request.episode_id, actor=user, returned_at=request.returned_at, note=request.note
    )
    if result.already:
        return private.text_message(
            f"{result.ref} was already returned at {fmt_local(result.returned_at, tz)}; "
            "nothing was changed."
        )
    assert result.rhi_due_at is not None
    return private.text_message(
        f":white_check_mark: {result.ref} returned at {fmt_local(result.returned_at, tz)}. "
        f"The return home interview is due by *{fmt_local(result.rhi_due_at, tz)}*."
    )


def _reopen(args: list[str], user: str, services: Services) -> Answer:
    if not args:
        raise UserError("Which episode? `/missing reopen M-42 <reason>`.")
    result = services.episodes.reopen(parse_ref(args[0]), actor=user, reason=" ".join(args[1:]))
    return private.text_message(f"{result.ref} is open again: the child is recorded as missing.")


def _show(args: list[str], user: str, services: Services) -> Answer:
    if len(args) != 1:
        raise UserError("Which episode? `/missing show M-42`.")
    detail = services.episodes.show(parse_ref(args[0]), actor=user)
    return private.episode_detail(detail, now=services.clock.now(), tz=services.tz)


def _list(args: list[str], user: str, services: Services) -> Answer:
    listing = services.episodes.list_open(actor=user)
    return private.open_list(listing, now=services.clock.now(), tz=services.tz)


RHI_OUTCOMES = {
    "done": RhiStatus.COMPLETED,
    "offered": RhiStatus.OFFERED,
    "declined": RhiStatus.DECLINED,
    "notdone": RhiStatus.NOT_DONE,
}


def _rhi(args: list[str], user: str, services: Services) -> Answer:
    now, tz = services.clock.now(), services.tz
    request = parse_rhi(args, now=now, tz=tz)
    if request.action == "list":
        return private.rhi_list(services.rhi.list_for(user, actor=user), now=now, tz=tz)
    if request.action == "assign":
        rhi = services.rhi.assign(request.episode_id, to=request.user_id, actor=user)
        return private.text_message(
            f"<@{rhi.assignee_id}> now chases the return home interview for {rhi.ref}."
        )
    if request.action == "snooze":
        rhi = services.rhi.snooze(request.episode_id, hours=request.hours, actor=user)
        assert rhi.snoozed_until is not None
        capped = " (the most before it falls due)" if rhi.snoozed_until == rhi.due_at else ""
        return private.text_message(
            f"Reminders for {rhi.ref} snoozed until {fmt_local(rhi.snoozed_until, tz)}"
            f"{capped}. Escalations are never snoozed."
        )
    status = RHI_OUTCOMES[request.action]
    rhi = services.rhi.set_status(
        request.episode_id,
        status,
        actor=user,
        when=request.when,
        organisation=request.organisation,
        reason=request.reason,
    )
    return private.text_message(f"Return home interview for {rhi.ref}: {status.label}. Recorded.")


SUBCOMMANDS: dict[str, Callable[[list[str], str, Services], Answer]] = {
    "returned": _returned,
    "return": _returned,
    "reopen": _reopen,
    "show": _show,
    "list": _list,
    "rhi": _rhi,
}
