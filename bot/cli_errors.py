"""What a command-line command raises to stop with one line instead of a traceback."""

from __future__ import annotations

from bot.domain.errors import UserError

# Who the audit trail names for what an operator does from the command line.
CLI_ACTOR = "cli"


class CommandError(Exception):
    """The command cannot run as asked; the message is one line (exit 2)."""


class CannotStart(Exception):
    """Something outside the bot stops it starting (Slack, the database): one line, exit 3."""


def message_of(exc: Exception) -> str:
    text = exc.message if isinstance(exc, UserError) else str(exc)
    # Messages written for Slack quote values in backticks: plain text on a terminal.
    return text.replace("`", "").splitlines()[0]
