"""Starts and stops what `missing-bot serve` runs, pointed at a fake Slack on this machine.

The same composition root as `bot.serve_commands.cmd_serve` (build_client, build_services,
build_app, waitress, the scheduler), so the demo shows the real bot, not a mock-up of it.
"""

from __future__ import annotations

import contextlib
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from slack_sdk import WebClient

from bot.app import build_app, build_client, build_services
from bot.clock import OffsetClock
from bot.scheduler import start_scheduler
from bot.services.container import Services
from bot.settings import Settings
from bot.web import WebApp, make_server
from demo.clock_store import ClockStore
from fakeslack import FakeSlack, SlackSender

CONTROL_ROOM = "C-CONTROL-ROOM"
SAFEGUARDING = "C-SAFEGUARDING"
# Slack user ids are upper-case letters and digits; the bot relies on that (mentions in
# `/missing rhi M-1 assign @someone`, `<@id>` in channel posts), so the demo's ids do too.
DEMO_USER = "UDEMOOFFICER"
DEMO_USER_NAME = "officer"
# Fictional officers in the case for the seeded episodes: reminders to them show as DMs.
OFFICERS = {"UOICASHBY": "pc.ashby", "UOICMORROW": "ds.morrow", "UOICOKAFOR": "pc.okafor"}
TICK_SECONDS = 5


def demo_database_url(settings: Settings) -> str:
    """DEMO_DATABASE_URL, never DATABASE_URL (see Settings.demo_database_url)."""
    return settings.demo_database_url


def demo_settings(settings: Settings, api_url: str) -> Settings:
    """The user's settings with everything that would reach Slack pointed at the fake."""
    return settings.model_copy(
        update={
            "slack_bot_token": "xoxb-demo",
            "slack_signing_secret": secrets.token_hex(16),
            "slack_app_token": "",
            "slack_api_url": api_url,
            "control_room_channel": settings.control_room_channel or CONTROL_ROOM,
            "safeguarding_channel": settings.safeguarding_channel or SAFEGUARDING,
            "database_url": demo_database_url(settings),
            # The fake Slack has no rate limit to keep to.
            "slack_channel_pace_seconds": 0,
            # You are the demo's admin: every command and button is yours to try.
            "admin_user_ids": DEMO_USER,
            "role_usergroups": "",
        }
    )


@dataclass
class DemoStack:
    fake: FakeSlack
    settings: Settings
    clock: OffsetClock
    client: WebClient
    services: Services
    sender: SlackSender
    server: Any
    server_thread: threading.Thread
    # Where the moved clock is kept (None: a database other than a SQLite file, not kept).
    clock_store: ClockStore | None = None
    scheduler: BackgroundScheduler | None = None

    def advance_clock(self, hours: float) -> datetime:
        """Move the demo clock on and keep the new offset with the data at once: what is done
        at the moved time must still make sense after a restart (or a crash)."""
        now = self.clock.advance(hours=hours)
        if self.clock_store is not None:
            self.clock_store.save(self.clock.offset)
        return now

    def start_scheduler(self) -> None:
        self.scheduler = start_scheduler(self.services.sweeper, tick_seconds=TICK_SECONDS)

    def stop(self) -> None:
        """Scheduler, then web server, then database, then the fake (the others talk to it)."""
        self.fake.on_post = None
        if self.scheduler is not None:
            # wait=True: a pass half-way through finishes before its database goes away.
            self.scheduler.shutdown(wait=True)
            self.scheduler = None
        with contextlib.suppress(AssertionError):  # still busy after 2 s: stop anyway
            self.fake.wait_idle(quiet=0.05, timeout=2)
        self.server.task_dispatcher.shutdown(timeout=5)
        self.server.close()
        self.server_thread.join(timeout=5)
        self.services.db.dispose()
        self.fake.stop()


def start_stack(settings: Settings) -> DemoStack:
    """Fake Slack, database (migrated), services, Bolt app and waitress; not yet the scheduler."""
    fake = FakeSlack(ts_epoch=int(time.time())).start()
    try:
        fake.add_user(DEMO_USER, DEMO_USER_NAME, real_name="You (control room)")
        for user_id, name in OFFICERS.items():
            fake.add_user(user_id, name)
        demo = demo_settings(settings, fake.api_url)
        # Before the services start: everything they plan (the daily list time) is then in
        # the demo's time, as it was when the demo last ran.
        store = ClockStore.beside(demo.database_url)
        clock = OffsetClock(store.load() if store is not None else None)
        client = build_client(demo)
        services = build_services(demo, client=client, clock=clock)
        app = build_app(demo, services, client=client)
        # A short loop timeout: quitting the demo does not wait a second for the server.
        server = make_server(
            WebApp(app, services, scheduler_expected=True),
            host="127.0.0.1",
            port=0,
            threads=4,
            loop_timeout=0.05,
        )
    except BaseException:
        fake.stop()
        raise
    thread = threading.Thread(target=_serve, args=(server,), name="demo-web", daemon=True)
    thread.start()
    sender = SlackSender(
        f"http://127.0.0.1:{server.effective_port}/slack/events",
        demo.slack_signing_secret,
        fake=fake,
        user_id=DEMO_USER,
        channel_id=demo.control_room_channel,
    )
    return DemoStack(fake, demo, clock, client, services, sender, server, thread, store)


def _serve(server: Any) -> None:
    with contextlib.suppress(OSError, ValueError):  # how run() ends when stop() closes it
        server.run()
