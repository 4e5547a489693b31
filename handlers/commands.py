"""`/missing <subcommand>`: ack first, then the use case, then a private answer."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, Respond
from slack_sdk import WebClient

from bot.domain.errors import UserError
from bot.domain.refs import parse_ref
from bot.domain.rhi import RhiStatus
from bot.domain.timetext import fmt_local
from bot.services.container import Services
from handlers.blocks import private
from handlers.blocks.new_episode_modal import new_episode_view
from handlers.command_text import parse_returned, parse_rhi, split_command
from handlers.errors import report
from handlers.escape import esc

log = logging.getLogger(__name__)


def missing(
    ack: Ack, command: dict[str, Any], respond: Respond, client: WebClient, services: Services
) -> None:
    ack()
    sub, args = split_command(command.get("text") or "")
    try:
        _run(sub, args, command, respond, client, services)
    except Exception as error:  # answered here, after ack: see handlers.errors.on_error
        report(error, respond, what=f"/missing {sub}")


def _run(
    sub: str,
    args: list[str],
    command: dict[str, Any],
    respond: Respond,
    client: WebClient,
    services: Services,
) -> None:
    user = command["user_id"]
    if sub == "new":
        # Straight after ack: a trigger id expires in 3 seconds.
        name = " ".join(args)
        client.views_open(
            trigger_id=command["trigger_id"],
            view=new_episode_view(name=name, officer_id=user, channel_id=command.get("channel_id")),
        )
        return
    handler = SUBCOMMANDS.get(sub)
    if handler is None:
        intro = "" if sub in ("", "help") else f"I don't know `/missing {esc(sub[:30])}`."
        respond(**private.help_message(intro), response_type="ephemeral")
        return
    respond(**handler(args, user, services), response_type="ephemeral")


def _returned(args: list[str], user: str, services: Services) -> dict[str, Any]:
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
    services.worker.deliver(result.delivery_ids)
    assert result.rhi_due_at is not None
    return private.text_message(
        f":white_check_mark: {result.ref} returned at {fmt_local(result.returned_at, tz)}. "
        f"The return home interview is due by *{fmt_local(result.rhi_due_at, tz)}*."
    )


def _reopen(args: list[str], user: str, services: Services) -> dict[str, Any]:
    if not args:
        raise UserError("Which episode? `/missing reopen M-42 <reason>`.")
    result = services.episodes.reopen(parse_ref(args[0]), actor=user, reason=" ".join(args[1:]))
    services.worker.deliver(result.delivery_ids)
    return private.text_message(f"{result.ref} is open again: the child is recorded as missing.")


def _show(args: list[str], user: str, services: Services) -> dict[str, Any]:
    if len(args) != 1:
        raise UserError("Which episode? `/missing show M-42`.")
    detail = services.episodes.show(parse_ref(args[0]), actor=user)
    return private.episode_detail(detail, now=services.clock.now(), tz=services.tz)


def _list(args: list[str], user: str, services: Services) -> dict[str, Any]:
    cards, total = services.episodes.list_open(actor=user)
    return private.open_list(cards, total, now=services.clock.now(), tz=services.tz)


def _rhi(args: list[str], user: str, services: Services) -> dict[str, Any]:
    now, tz = services.clock.now(), services.tz
    request = parse_rhi(args, now=now, tz=tz)
    if request.action == "list":
        rows = services.rhi.list_for(user, actor=user)
        return private.rhi_list(rows, now=now, tz=tz)
    if request.action == "assign":
        change = services.rhi.assign(request.episode_id, to=request.user_id, actor=user)
        return private.text_message(
            f"<@{change.assignee_id}> now chases the return home interview for {change.ref}."
        )
    if request.action == "snooze":
        change = services.rhi.snooze(request.episode_id, hours=request.hours, actor=user)
        assert change.snoozed_until is not None
        capped = " (the most before it falls due)" if change.snoozed_until == change.due_at else ""
        return private.text_message(
            f"Reminders for {change.ref} snoozed until {fmt_local(change.snoozed_until, tz)}"
            f"{capped}. Escalations are never snoozed."
        )
    status = {
        "done": RhiStatus.COMPLETED,
        "offered": RhiStatus.OFFERED,
        "declined": RhiStatus.DECLINED,
        "notdone": RhiStatus.NOT_DONE,
    }[request.action]
    change = services.rhi.set_status(
        request.episode_id,
        status,
        actor=user,
        when=request.when,
        organisation=request.organisation,
        reason=request.reason,
    )
    services.worker.deliver(change.delivery_ids)
    return private.text_message(
        f"Return home interview for {change.ref}: {status.label}. Recorded."
    )


SUBCOMMANDS = {
    "returned": _returned,
    "return": _returned,
    "reopen": _reopen,
    "show": _show,
    "list": _list,
    "rhi": _rhi,
}
