"""Who may do what: one policy for commands, buttons and forms alike."""

from __future__ import annotations

from bot.domain.errors import UserError


class Refused(UserError):
    """The person may not do this; the message says who may."""


def check_may_act_on_rhi(actor: str, *, assignee_id: str, officer_id: str, ref: str) -> None:
    """A return home interview is acted on by the person chasing it or the officer in the case."""
    if actor in (assignee_id, officer_id):
        return
    raise Refused(
        f"Only <@{assignee_id}> (chasing it) or the officer in the case can act on the return "
        f"home interview for {ref}; nothing was changed."
    )
