"""`/missing <subcommand>`: parse, call one service method, answer in the acknowledgement.

A quick command does its work before acknowledging and carries its answer in the ack, so a
command Slack saw acknowledged is a command that was saved (and no response_url round trip).
Only the commands that open a form (`new`, `update`) acknowledge first: the form must open
while the trigger id is fresh.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, Respond
from slack_sdk import WebClient

from bot.domain.access import Action
from bot.domain.errors import UserError
from bot.domain.refs import parse_ref
from bot.domain.states import RhiStatus
from bot.domain.timetext import fmt_local
from bot.services.access import Caller
from bot.services.container import Services
from bot.services.messages import Digest
from bot.services.results import Returned
from handlers.blocks import digest as digest_blocks
from handlers.blocks import private
from handlers.blocks.new_episode_modal import new_episode_view
from handlers.blocks.return_modal import return_view
from handlers.callers import command_caller
from handlers.command_text import (
    parse_admin,
    parse_returned,
    parse_rhi,
    parse_safewell,
    parse_void,
    split_command,
)
from handlers.episode_update import open_form as open_update_form
from handlers.errors import answer_for, log_error, open_view, report
from handlers.escape import esc
from handlers.return_answer import returned_text

log = logging.getLogger(__name__)

Answer = dict[str, Any]


def missing(
    ack: Ack, command: dict[str, Any], respond: Respond, client: WebClient, services: Services
) -> None:
    text = command.get("text")
    sub, args = split_command(text if isinstance(text, str) else "")
    if sub == "new":
        ack()
        _open_form(args, command, client, respond, services)
        return
    if sub in ("returned", "return") and len(args) == 1:
        _return_form(ack, args[0], command, client, respond, services)
        return
    if sub == "update" and len(args) == 1:
        ack()
        _open_update(args[0], command, client, respond, services)
        return
    try:
        answer = _answer(sub, args, command_caller(command), services)
    except Exception as error:
        log_error(error, what=f"/missing {sub}")
        answer = private.text_message(answer_for(error))
    ack(**answer)


def _open_form(
    args: list[str],
    command: dict[str, Any],
    client: WebClient,
    respond: Respond,
    services: Services,
) -> None:
    try:
        caller = command_caller(command)
        # Refuse before the form is filled in, not after.
        services.access.check(caller, Action.LOG)
        open_view(
            client,
            command.get("trigger_id"),
            new_episode_view(
                name=" ".join(args), officer_id=caller.user_id, channel_id=caller.channel_id
            ),
        )
    except Exception as error:
        report(error, respond, what="/missing new")


def _return_form(
    ack: Ack,
    ref: str,
    command: dict[str, Any],
    client: WebClient,
    respond: Respond,
    services: Services,
) -> None:
    """`/missing returned M-4` with no time: the return form, for an episode still open."""
    try:
        caller = command_caller(command)
        found = services.episodes.check_may_return(parse_ref(ref), caller)
    except Exception as error:
        log_error(error, what="/missing returned")
        ack(**private.text_message(answer_for(error)))
        return
    if isinstance(found, Returned):
        ack(**private.text_message(returned_text(found, tz=services.tz)))
        return
    ack()  # the form opens at once: a trigger id expires in 3 seconds
    try:
        open_view(
            client,
            command.get("trigger_id"),
            return_view(
                found,
                officer_id=caller.user_id,
                channel_id=caller.channel_id,
                now=services.clock.now(),
                tz=services.tz,
            ),
        )
    except Exception as error:
        report(error, respond, what="/missing returned (form)")


def _open_update(
    ref: str,
    command: dict[str, Any],
    client: WebClient,
    respond: Respond,
    services: Services,
) -> None:
    try:
        open_update_form(
            parse_ref(ref),
            command_caller(command),
            trigger_id=command.get("trigger_id"),
            client=client,
            services=services,
        )
    except Exception as error:
        report(error, respond, what="/missing update")


def _update_usage(args: list[str], caller: Caller, services: Services) -> Answer:
    """`update` without exactly one reference: said at once, nothing opens."""
    raise UserError("Which episode? `/missing update M-42` opens its update form.")


def _answer(sub: str, args: list[str], caller: Caller, services: Services) -> Answer:
    handler = SUBCOMMANDS.get(sub)
    if handler is None:
        intro = "" if sub in ("", "help") else f"I don't know `/missing {esc(sub[:30])}`."
        return private.help_message(intro)
    return handler(args, caller, services)


def _returned(args: list[str], caller: Caller, services: Services) -> Answer:
    now, tz = services.clock.now(), services.tz
    request = parse_returned(args, now=now, tz=tz)
    result = services.episodes.record_return(
        request.episode_id, caller, returned_at=request.returned_at, note=request.note
    )
    return private.text_message(returned_text(result, tz=tz))


def _safewell(args: list[str], caller: Caller, services: Services) -> Answer:
    request = parse_safewell(args, now=services.clock.now(), tz=services.tz)
    ref, when, by = services.safe_well.record_done(
        request.episode_id, caller, when=request.when, by=request.user_id or None
    )
    return private.text_message(
        f":white_check_mark: Safe-and-well check for {ref} recorded: done "
        f"{fmt_local(when, services.tz)} by <@{by}>."
    )


def _reopen(args: list[str], caller: Caller, services: Services) -> Answer:
    if not args:
        raise UserError("Which episode? `/missing reopen M-42 <reason>`.")
    result = services.episodes.reopen(parse_ref(args[0]), caller, reason=" ".join(args[1:]))
    return private.text_message(f"{result.ref} is open again: the child is recorded as missing.")


def _void(args: list[str], caller: Caller, services: Services) -> Answer:
    request = parse_void(args)
    result = services.episodes.void(
        request.episode_id, caller, reason=request.reason, duplicate_of=request.duplicate_of
    )
    if result.already:
        return private.text_message(f"{result.ref} was already voided; nothing was changed.")
    what = f"a duplicate of {result.duplicate_of}" if result.duplicate_of else "logged in error"
    stopped = " Its return home interview is cancelled." if result.rhi_cancelled else ""
    return private.text_message(
        f":no_entry: {result.ref} is voided ({what}): it is out of open lists and "
        f"figures, and nothing more follows it.{stopped} Your reason is kept with the record "
        f'(`/missing show {result.ref}`); the channel is told only "{what}".'
    )


def _show(args: list[str], caller: Caller, services: Services) -> Answer:
    if len(args) != 1:
        raise UserError("Which episode? `/missing show M-42`.")
    detail = services.episodes.show(parse_ref(args[0]), caller)
    return private.episode_detail(detail, now=services.clock.now(), tz=services.tz)


def _list(args: list[str], caller: Caller, services: Services) -> Answer:
    which = " ".join(args).lower()
    if which in ("returned", "returns", "return"):
        returns = services.lists.recent_returns(caller)
        return private.returns_list(returns, now=services.clock.now(), tz=services.tz)
    if which:
        raise UserError(
            "`/missing list` shows who is missing; `/missing list returned`, who "
            "came back in the last 24 hours."
        )
    listing = services.lists.open_episodes(caller)
    return private.open_list(listing, now=services.clock.now(), tz=services.tz)


RHI_OUTCOMES = {
    "done": RhiStatus.COMPLETED,
    "offered": RhiStatus.OFFERED,
    "declined": RhiStatus.DECLINED,
    "notdone": RhiStatus.NOT_DONE,
}


def _rhi(args: list[str], caller: Caller, services: Services) -> Answer:
    now, tz = services.clock.now(), services.tz
    request = parse_rhi(args, now=now, tz=tz)
    if request.action == "list":
        return private.rhi_list(services.rhi.list_for(caller), now=now, tz=tz)
    if request.action == "assign":
        rhi = services.rhi.assign(request.episode_id, caller, to=request.user_id)
        return private.text_message(
            f"<@{rhi.assignee_id}> now chases the return home interview for {rhi.ref}."
        )
    if request.action == "snooze":
        rhi = services.rhi.snooze(request.episode_id, caller, hours=request.hours)
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
        caller,
        when=request.when,
        organisation=request.organisation,
        reason=request.reason,
    )
    return private.text_message(f"Return home interview for {rhi.ref}: {status.label}. Recorded.")


def _audit(args: list[str], caller: Caller, services: Services) -> Answer:
    if len(args) != 1:
        raise UserError("Which episode? `/missing audit M-42` (admins only).")
    episode_id = parse_ref(args[0])
    entries = services.audit_log.episode_trail(episode_id, caller)
    return private.audit_trail(episode_id, entries, tz=services.tz)


def _digest(args: list[str], caller: Caller, services: Services) -> Answer:
    """What the safeguarding digest would say now, to the caller only (audited as a view)."""
    if args:
        raise UserError("`/missing digest` takes nothing more: it shows the digest as of now.")
    report = services.digests.preview(caller)
    digest = Digest(report, with_chart=services.digests.chart)
    return digest_blocks.digest(digest, now=report.as_of, tz=services.tz)


def _admin(args: list[str], caller: Caller, services: Services) -> Answer:
    request = parse_admin(args)
    access = services.access
    if request.action == "roles":
        return private.roles_list(access.grants(caller))
    assert request.role is not None
    who, role = f"<@{request.user_id}>", request.role.label
    if request.action == "grant":
        new = access.grant(caller, user_id=request.user_id, role=request.role)
        done = (
            f"{who} now has the *{role}* role." if new else f"{who} already had the *{role}* role."
        )
        return private.text_message(done)
    gone = access.revoke(caller, user_id=request.user_id, role=request.role)
    if gone:
        return private.text_message(f"{who} no longer has the *{role}* role (granted here).")
    return private.text_message(
        f"{who} had no *{role}* role granted here; roles from ADMIN_USER_IDS or Slack user "
        "groups are changed there. Nothing was changed."
    )


SUBCOMMANDS: dict[str, Callable[[list[str], Caller, Services], Answer]] = {
    "returned": _returned,
    "safewell": _safewell,
    "return": _returned,
    "reopen": _reopen,
    "void": _void,
    "show": _show,
    "update": _update_usage,
    "list": _list,
    "rhi": _rhi,
    "admin": _admin,
    "audit": _audit,
    "digest": _digest,
}
