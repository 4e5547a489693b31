"""`missing-bot serve | socket | migrate | sweep | digest | demo | purge | audit | db-grant`: one
entry point for operators."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from importlib.metadata import entry_points
from typing import NoReturn

from apscheduler.schedulers.background import BackgroundScheduler
from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.engine import make_url

from bot.app import build_app, build_client, build_services
from bot.digest_command import cmd_digest, digest_arguments
from bot.domain.errors import StorageUnavailable, UserError
from bot.log_setup import configure_logging
from bot.operator_commands import (
    CommandError,
    audit_export_arguments,
    cmd_audit_export,
    cmd_db_grant,
    cmd_purge,
    db_grant_arguments,
    message_of,
    purge_arguments,
)
from bot.scheduler import start_scheduler
from bot.services.container import Services
from bot.settings import Settings, SettingsError, load_settings, missing_settings
from bot.web import WebApp, make_server, run_until_closed
from storage.db import REQUEST_DEADLINE_SECONDS, Database
from storage.migrate import current_revision, upgrade

log = logging.getLogger("missing_bot")


def cmd_migrate(settings: Settings, _args: argparse.Namespace) -> int:
    db = _check_database(settings)
    try:
        upgrade(db.engine)
        print(f"database at revision {current_revision(db.engine)}")
    finally:
        db.dispose()
    return 0


def cmd_sweep(settings: Settings, _args: argparse.Namespace) -> int:
    services = build_services(settings, client=build_client(settings))
    result = services.sweeper.run_once()
    services.db.checkpoint()
    failed = [o for o in result.outcomes if o.status != "sent"]
    print(f"pass done: {result.planned} planned, {result.sent} sent, {len(failed)} not sent")
    return 0


class CannotStart(Exception):
    """Something outside the bot stops it starting (Slack, the database): one line, exit 3."""


@contextmanager
def _quiet(logger_name: str) -> Iterator[None]:
    """slack_sdk logs each failed attempt at ERROR with its own wording; at start-up the
    operator is told once, in one line, by CannotStart."""
    logger = logging.getLogger(logger_name)
    before = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(before)


def _check_slack(settings: Settings, client: WebClient) -> str:
    """The workspace id, once Slack has accepted the token."""
    try:
        with _quiet("slack_sdk.web.base_client"):
            return str(client.auth_test()["team_id"])
    except SlackApiError as exc:
        error = exc.response.get("error") if isinstance(exc.response.data, dict) else None
        raise CannotStart(
            f"Slack refused the token in SLACK_BOT_TOKEN ({error or exc.response.status_code})"
        ) from exc
    except Exception as exc:
        raise CannotStart(
            f"Slack could not be reached at SLACK_API_URL {settings.slack_api_url} "
            f"({type(exc).__name__})"
        ) from exc


def _check_database(settings: Settings, *, deadline: float | None = None) -> Database:
    db = Database.from_url(settings.database_url, deadline=deadline)
    try:
        db.ping(within=None)
    except Exception as exc:
        db.dispose()
        where = make_url(settings.database_url).render_as_string(hide_password=True)
        raise CannotStart(
            f"the database in DATABASE_URL ({where}) does not answer ({type(exc).__name__})"
        ) from exc
    return db


def _start(settings: Settings) -> tuple[Services, App, BackgroundScheduler]:
    """What serve and socket share: migrated database, services, Bolt app, ticking scheduler."""
    client = build_client(settings)
    team_id = _check_slack(settings, client)
    # Slack requests are answered only once their work is saved, within Slack's 3 seconds:
    # database work here has a deadline (PostgreSQL; see storage.db).
    db = _check_database(settings, deadline=REQUEST_DEADLINE_SECONDS)
    services = build_services(settings, client=client, db=db, team_id=team_id)
    app = build_app(settings, services, client=client)
    scheduler = start_scheduler(services.sweeper, tick_seconds=settings.tick_seconds)
    return services, app, scheduler


def cmd_serve(settings: Settings, _args: argparse.Namespace) -> int:
    services, app, scheduler = _start(settings)
    server = make_server(
        WebApp(app, services, scheduler_expected=True), host="0.0.0.0", port=settings.port
    )
    log.info("serving Slack requests on :%s/slack/events", server.effective_port)
    _stop_on_signals(server.close)
    try:
        run_until_closed(server)
    finally:
        scheduler.shutdown(wait=False)
        services.db.dispose()
    return 0


def cmd_socket(settings: Settings, _args: argparse.Namespace) -> int:
    services, app, scheduler = _start(settings)
    handler = SocketModeHandler(app, app_token=settings.slack_app_token)
    stop = threading.Event()
    _stop_on_signals(stop.set)
    handler.connect()
    log.info("connected to Slack in Socket Mode")
    stop.wait()
    handler.close()
    scheduler.shutdown(wait=False)
    services.db.dispose()
    return 0


def cmd_demo(settings: Settings, _args: argparse.Namespace) -> int:
    # The demo ships with `pip install .` but not in the production image, and the product
    # never imports it: it plugs in through an entry point (see pyproject.toml).
    found = entry_points(group="missing_bot.commands", name="demo")
    try:
        run_demo = next(iter(found)).load()
    except (StopIteration, ImportError):
        print("missing-bot: the offline demo is not installed here", file=sys.stderr)
        return 2
    return int(run_demo(settings))


def _stop_on_signals(stop: object) -> None:
    def handle(signum: int, _frame: object) -> None:
        log.info("signal %s: shutting down", signum)
        stop()  # type: ignore[operator]

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)


Command = Callable[[Settings, argparse.Namespace], int]
Arguments = Callable[[argparse.ArgumentParser], None]


def _no_arguments(_parser: argparse.ArgumentParser) -> None:
    pass


# The settings each command cannot run without, checked before it starts. Named here rather
# than inside each command so that a start-up with bad settings and missing ones names them
# all at once.
NEEDS: dict[str, tuple[str, ...]] = {
    "serve": ("slack_bot_token", "slack_signing_secret", "control_room_channel", "admin_user_ids"),
    "socket": ("slack_bot_token", "slack_app_token", "control_room_channel", "admin_user_ids"),
    "sweep": ("slack_bot_token", "control_room_channel"),
}

COMMANDS: dict[str, tuple[Command, str, Arguments]] = {
    "serve": (
        cmd_serve,
        "HTTP mode: Slack requests at POST /slack/events, GET /healthz",
        _no_arguments,
    ),
    "socket": (cmd_socket, "Socket Mode (needs SLACK_APP_TOKEN)", _no_arguments),
    "migrate": (cmd_migrate, "apply database migrations", _no_arguments),
    "sweep": (
        cmd_sweep,
        "run one scheduler pass now (reminders, retries) and exit",
        _no_arguments,
    ),
    "demo": (
        cmd_demo,
        "offline demo: the full bot against a local fake Slack, in this terminal",
        _no_arguments,
    ),
    "digest": (
        cmd_digest,
        "post the safeguarding digest for a date now (--dry-run prints it instead)",
        digest_arguments,
    ),
    "purge": (
        cmd_purge,
        "remove episodes closed longer ago than the retention period",
        purge_arguments,
    ),
    "audit": (
        cmd_audit_export,
        "export the audit trail for a range of days as CSV",
        audit_export_arguments,
    ),
    "db-grant": (
        cmd_db_grant,
        "PostgreSQL: the grants for a bot role that owns nothing",
        db_grant_arguments,
    ),
}


class _OneLineParser(argparse.ArgumentParser):
    """Bad arguments: one line naming the problem, exit 2 (not the usage block)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message}\n")


def main(argv: Sequence[str] | None = None) -> int:
    parser = _OneLineParser(prog="missing-bot", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (_fn, help_text, add_arguments) in COMMANDS.items():
        add_arguments(sub.add_parser(name, help=help_text, description=help_text))
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
        return COMMANDS[args.command][0](settings, args)
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
