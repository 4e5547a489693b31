"""`missing-bot serve | socket | migrate | sweep | digest | demo | purge | audit | db-grant`: one
entry point for operators.

This module loads only the arguments and the settings. The chosen command's module (and with
it Bolt, SQLAlchemy, Alembic...) is imported once the command line and settings are known to be
good: a mistyped argument or setting is answered in a fraction of a second, having done nothing.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Callable, Sequence
from typing import NamedTuple, NoReturn

from bot.cli_arguments import (
    audit_export_arguments,
    db_grant_arguments,
    digest_arguments,
    no_arguments,
    purge_arguments,
)
from bot.cli_errors import CannotStart, CommandError, message_of
from bot.domain.errors import StorageUnavailable, UserError
from bot.log_setup import configure_logging
from bot.settings import Settings, SettingsError, load_settings, missing_settings

log = logging.getLogger("missing_bot")

Run = Callable[[Settings, argparse.Namespace], int]
Arguments = Callable[[argparse.ArgumentParser], None]


class Command(NamedTuple):
    runs: str  # "module:function", imported when the command is chosen
    help: str
    arguments: Arguments = no_arguments

    @property
    def module(self) -> str:
        return self.runs.partition(":")[0]


# The settings each command cannot run without, checked before it starts. Named here rather
# than inside each command so that a start-up with bad settings and missing ones names them
# all at once.
NEEDS: dict[str, tuple[str, ...]] = {
    "serve": ("slack_bot_token", "slack_signing_secret", "control_room_channel", "admin_user_ids"),
    "socket": ("slack_bot_token", "slack_app_token", "control_room_channel", "admin_user_ids"),
    "sweep": ("slack_bot_token", "control_room_channel"),
}

COMMANDS: dict[str, Command] = {
    "serve": Command(
        "bot.serve_commands:cmd_serve",
        "HTTP mode: Slack requests at POST /slack/events, GET /healthz",
    ),
    "socket": Command("bot.serve_commands:cmd_socket", "Socket Mode (needs SLACK_APP_TOKEN)"),
    "migrate": Command("bot.serve_commands:cmd_migrate", "apply database migrations"),
    "sweep": Command(
        "bot.serve_commands:cmd_sweep",
        "run one scheduler pass now (reminders, retries) and exit",
    ),
    "demo": Command(
        "bot.serve_commands:cmd_demo",
        "offline demo: the full bot against a local fake Slack, in this terminal",
    ),
    "digest": Command(
        "bot.digest_command:cmd_digest",
        "post the safeguarding digest for a date now (--dry-run prints it instead)",
        digest_arguments,
    ),
    "purge": Command(
        "bot.operator_commands:cmd_purge",
        "remove episodes closed longer ago than the retention period",
        purge_arguments,
    ),
    "audit": Command(
        "bot.operator_commands:cmd_audit_export",
        "export the audit trail for a range of days as CSV",
        audit_export_arguments,
    ),
    "db-grant": Command(
        "bot.operator_commands:cmd_db_grant",
        "PostgreSQL: the grants for a bot role that owns nothing",
        db_grant_arguments,
    ),
}


def load(command: Command) -> Run:
    function = command.runs.partition(":")[2]
    run: Run = getattr(importlib.import_module(command.module), function)
    return run


class _OneLineParser(argparse.ArgumentParser):
    """Bad arguments: one line naming the problem, exit 2 (not the usage block)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message}\n")


def main(argv: Sequence[str] | None = None) -> int:
    parser = _OneLineParser(prog="missing-bot", description=(__doc__ or "").split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, command in COMMANDS.items():
        command.arguments(sub.add_parser(name, help=command.help, description=command.help))
    args = parser.parse_args(argv)
    needs = NEEDS.get(args.command, ())
    try:
        settings = load_settings()
    except SettingsError as exc:
        _say(exc.problems + missing_settings(exc.valid_part, needs))
        return 2
    configure_logging(settings.log_level)
    try:
        settings.require(*needs)
        return load(COMMANDS[args.command])(settings, args)
    except SettingsError as exc:
        _say(exc.problems)
        return 2
    except (CommandError, UserError) as exc:
        print(f"missing-bot {args.command}: {message_of(exc)}", file=sys.stderr)
        return 2
    except (CannotStart, StorageUnavailable) as exc:
        # The traceback goes to the log at debug level; the operator gets one line.
        log.debug("cannot go on", exc_info=exc)
        print(f"missing-bot {args.command}: {exc}", file=sys.stderr)
        return 3


def _say(problems: list[str]) -> None:
    for problem in problems:
        print(f"missing-bot: {problem}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
