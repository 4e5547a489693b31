"""`missing-bot serve | socket | migrate | sweep | demo | purge | audit | db-grant`: one entry
point for operators."""

from __future__ import annotations

import argparse
import logging
import os
import re
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from datetime import date
from typing import TYPE_CHECKING, NoReturn

from bot.domain.errors import StorageUnavailable, UserError
from bot.settings import Settings, SettingsError, load_settings

if TYPE_CHECKING:  # imported lazily below: `missing-bot --help` stays fast
    from apscheduler.schedulers.background import BackgroundScheduler
    from slack_bolt import App

    from bot.services.container import Services
    from storage.db import Database

log = logging.getLogger("missing_bot")


def _configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    # Alembic announces every plugin it loads at INFO: noise for an operator.
    logging.getLogger("alembic").setLevel(logging.WARNING)


def cmd_migrate(settings: Settings, _args: argparse.Namespace) -> int:
    from storage.db import make_engine
    from storage.migrate import current_revision, upgrade

    engine = make_engine(settings.database_url)
    upgrade(engine)
    print(f"database at revision {current_revision(engine)}")
    return 0


def cmd_sweep(settings: Settings, _args: argparse.Namespace) -> int:
    from bot.app import build_client, build_services

    settings.require("slack_bot_token", "control_room_channel")
    services = build_services(settings, client=build_client(settings))
    result = services.sweeper.run_once()
    failed = [o for o in result.outcomes if o.status != "sent"]
    print(f"pass done: {result.planned} planned, {result.sent} sent, {len(failed)} not sent")
    return 0


def _start(settings: Settings) -> tuple[Services, App, BackgroundScheduler]:
    """What serve and socket share: migrated database, services, Bolt app, ticking scheduler."""
    from bot.app import build_app, build_client, build_services
    from bot.scheduler import start_scheduler

    client = build_client(settings)
    services = build_services(settings, client=client)
    app = build_app(settings, services, client=client)
    scheduler = start_scheduler(services.sweeper, tick_seconds=settings.tick_seconds)
    return services, app, scheduler


def cmd_serve(settings: Settings, _args: argparse.Namespace) -> int:
    from bot.web import WebApp, make_server, run_until_closed

    settings.require("slack_bot_token", "slack_signing_secret", "control_room_channel")
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
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    settings.require("slack_bot_token", "slack_app_token", "control_room_channel")
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
    from demo.console import run_demo

    return run_demo(settings)


def _stop_on_signals(stop: object) -> None:
    def handle(signum: int, _frame: object) -> None:
        log.info("signal %s: shutting down", signum)
        stop()  # type: ignore[operator]

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)


# -- records: retention, the audit trail, database roles ---------------------------------

# Who the audit trail names for what an operator does from the command line.
CLI_ACTOR = "cli"
# Operator commands run outside the request path, in small batches or as one streamed read:
# a statement may take longer than a Slack request may, never without bound.
OPERATOR_STATEMENT_TIMEOUT_MS = 300_000
_ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class CommandError(Exception):
    """The command cannot run as asked; the message is one line."""


def _operator_database(settings: Settings) -> Database:
    """The database, which must exist and be migrated: these commands never create or migrate
    it (the bot's role may not be allowed to, and a typo in DATABASE_URL must not make a new
    empty database that a purge then reports as clean)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import OperationalError

    from storage.db import Database, make_engine
    from storage.migrate import current_revision, head_revision

    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and not os.path.exists(url.database or ""):
        raise CommandError(f"no database at {url.database}: check DATABASE_URL")
    engine = make_engine(settings.database_url, statement_timeout_ms=OPERATOR_STATEMENT_TIMEOUT_MS)
    try:
        revision = current_revision(engine)
    except OperationalError as exc:
        engine.dispose()
        raise StorageUnavailable(str(exc.orig or exc).splitlines()[0]) from None
    if revision != head_revision():
        engine.dispose()
        raise CommandError(
            f"database at revision {revision or 'none'}, this version needs {head_revision()}: "
            "run `missing-bot migrate` (as the owner role) first"
        )
    return Database(engine)


def _years(text: str) -> float:
    from bot.domain.retention import parse_years

    try:
        return parse_years(text)
    except UserError as exc:
        raise argparse.ArgumentTypeError(_message(exc)) from None


def purge_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--older-than",
        required=True,
        type=_years,
        metavar="YEARS",
        help="remove episodes closed longer ago than this many years (at least 1; e.g. 6, 7.5)",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="only say what would be removed; change nothing"
    )


def cmd_purge(settings: Settings, args: argparse.Namespace) -> int:
    from bot.clock import SystemClock
    from bot.domain.timetext import fmt_local
    from bot.services.retention import RetentionService

    db = _operator_database(settings)
    try:
        report = RetentionService(db=db, clock=SystemClock()).purge(
            older_than_years=args.older_than, actor=CLI_ACTOR, dry_run=args.dry_run
        )
    finally:
        db.dispose()
    what = (
        f"{report.episodes} episodes closed before {fmt_local(report.cutoff, settings.tz)} "
        f"(older than {report.years:g} years), {report.children} children, "
        f"{report.rhis} return home interviews, {report.outbox} outbox messages"
    )
    if report.dry_run:
        print(f"dry run: would purge {what}; nothing was changed")
        for ref in report.refs:
            print(ref)
    else:
        print(f"purged {what}; recorded in the audit trail")
    return 0


def _day(text: str) -> date:
    from bot.domain.audit_trail import parse_day

    try:
        return parse_day(text)
    except UserError as exc:
        raise argparse.ArgumentTypeError(_message(exc)) from None


def audit_export_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--from", dest="first", required=True, type=_day, metavar="YYYY-MM-DD")
    parser.add_argument(
        "--to", dest="last", required=True, type=_day, metavar="YYYY-MM-DD", help="included"
    )
    parser.add_argument("--out", required=True, metavar="FILE.csv", help="created with mode 0600")
    parser.add_argument("--force", action="store_true", help="replace FILE.csv if it exists")


def cmd_audit_export(settings: Settings, args: argparse.Namespace) -> int:
    from bot.clock import SystemClock
    from bot.private_file import PrivateFile
    from bot.services.audit_log import AuditLog

    if args.last < args.first:
        raise CommandError(f"--to {args.last} is before --from {args.first}")
    db = _operator_database(settings)
    try:
        audit_log = AuditLog(db=db, clock=SystemClock(), tz=settings.tz)
        try:
            target = PrivateFile(args.out, overwrite=args.force)
            exported = audit_log.export(args.first, args.last, target, actor=CLI_ACTOR)
        except OSError as exc:  # the file: exists, no folder, no permission
            raise CommandError(str(exc)) from None
    finally:
        db.dispose()
    print(
        f"exported {exported.rows} audit rows for {exported.first_day} to {exported.last_day} "
        f"({settings.bot_timezone} days) to {exported.destination}"
    )
    return 0


def _role(text: str) -> str:
    if not _ROLE_NAME.match(text):
        raise argparse.ArgumentTypeError(
            f"{text[:70]!r} is not a role name: lower-case letters, digits and _ only"
        )
    return text


def db_grant_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--role", required=True, type=_role, help="the bot's login role")
    parser.add_argument(
        "--apply",
        action="store_true",
        help="run the statements, connected as DATABASE_URL's role (the tables' owner)",
    )


def cmd_db_grant(settings: Settings, args: argparse.Namespace) -> int:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import OperationalError

    from storage import grants
    from storage.db import make_engine

    if make_url(settings.database_url).get_backend_name() != "postgresql":
        raise CommandError("db-grant is for PostgreSQL: SQLite has no roles")
    engine = make_engine(settings.database_url)
    try:
        with engine.connect() as conn:
            layout = grants.inspect(conn)
            grants.check_role(conn, args.role, layout)
            statements = grants.grant_statements(conn, layout, args.role)
            if args.apply:
                grants.check_may_apply(layout)
                grants.apply(conn, statements)
                conn.commit()
    except grants.GrantRefused as exc:
        raise CommandError(str(exc)) from None
    except OperationalError as exc:
        raise StorageUnavailable(str(exc.orig or exc).splitlines()[0]) from None
    finally:
        engine.dispose()
    if args.apply:
        print(
            f"granted {args.role} row privileges on {len(layout.tables)} tables of "
            f"{layout.database} ({len(statements)} statements); it owns nothing"
        )
    else:
        print(f"-- missing-bot db-grant: run as {sorted(set(layout.tables.values()))[0]}")
        for statement in statements:
            print(statement)
    return 0


Command = Callable[[Settings, argparse.Namespace], int]
Arguments = Callable[[argparse.ArgumentParser], None]


def _no_arguments(_parser: argparse.ArgumentParser) -> None:
    pass


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
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"missing-bot: {exc}", file=sys.stderr)
        return 2
    _configure_logging(settings.log_level)
    try:
        return COMMANDS[args.command][0](settings, args)
    except SettingsError as exc:
        print(f"missing-bot: {exc}", file=sys.stderr)
        return 2
    except (CommandError, UserError) as exc:
        print(f"missing-bot {args.command}: {_message(exc)}", file=sys.stderr)
        return 2
    except StorageUnavailable as exc:
        print(f"missing-bot {args.command}: database unavailable: {exc}", file=sys.stderr)
        return 1


def _message(exc: Exception) -> str:
    text = exc.message if isinstance(exc, UserError) else str(exc)
    # Messages written for Slack quote values in backticks: plain text on a terminal.
    return text.replace("`", "").splitlines()[0]


if __name__ == "__main__":
    sys.exit(main())
