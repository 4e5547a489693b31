"""The commands that run the bot: `serve` (HTTP), `socket` (Socket Mode), `migrate`, `sweep`
(one scheduler pass) and `demo`. Loaded by the CLI only once one of them is chosen."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.metadata import entry_points

from apscheduler.schedulers.background import BackgroundScheduler
from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.engine import make_url

from bot.app import build_app, build_client, build_services
from bot.cli_errors import CannotStart
from bot.scheduler import start_scheduler
from bot.services.container import Services
from bot.settings import Settings
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
