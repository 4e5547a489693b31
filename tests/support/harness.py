"""The whole bot for a test: real Bolt app behind waitress, real database, fake Slack, fake clock."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from bot.app import build_app, build_client, build_services
from bot.clock import FakeClock
from bot.fakeslack import FakeSlack, Posted, SlackSender
from bot.services.container import Services
from bot.settings import Settings
from bot.web import WebApp, make_server
from storage.db import Database
from storage.models import AuditEvent

SIGNING_SECRET = "test-signing-secret"
CONTROL = "CCONTROL"
SAFEGUARDING = "CSAFEGUARD"
LOGGER = "UCONTROL1"


def make_settings(fake: FakeSlack, database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "slack_bot_token": "xoxb-test-token",
        "slack_signing_secret": SIGNING_SECRET,
        "slack_app_token": "xapp-test-token",
        "slack_api_url": fake.api_url,
        "database_url": database_url,
        "control_room_channel": CONTROL,
        "safeguarding_channel": SAFEGUARDING,
        "quiet_hours": "off",
    }
    values.update(overrides)
    # _env_file=None: a developer's own .env must not leak into tests.
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@dataclass
class Bot:
    fake: FakeSlack
    clock: FakeClock
    settings: Settings
    services: Services
    sender: SlackSender
    web: WebApp
    url: str
    _server: Any
    _thread: threading.Thread

    def stop(self) -> None:
        self.fake.wait_idle(quiet=0.05, timeout=2)
        self._server.task_dispatcher.shutdown(timeout=5)
        self._server.close()
        self._thread.join(timeout=5)
        self.services.db.dispose()

    # -- helpers that read like a control-room user's steps ------------------------------

    def slash(self, text: str, **kwargs: Any) -> Posted:
        """Run `/missing <text>` and return the private answer posted to the response URL."""
        mark = self.fake.mark()
        response = self.sender.slash(text, **kwargs)
        assert response.status == 200, response.body
        return self.fake.wait_for(
            lambda f: next((p for p in f.posted[mark:] if p.kind.startswith("response")), None)
        )

    def audit(self, action: str | None = None) -> list[AuditEvent]:
        with self.services.db.transaction() as session:
            query = select(AuditEvent).order_by(AuditEvent.id)
            if action:
                query = query.where(AuditEvent.action == action)
            return list(session.scalars(query))

    def sweep(self) -> Any:
        return self.services.sweeper.run_once()


def start_bot(
    fake: FakeSlack,
    database_url: str,
    *,
    clock: FakeClock | None = None,
    migrate: bool = False,
    **overrides: Any,
) -> Bot:
    clock = clock or FakeClock(datetime.fromisoformat("2026-11-24T12:00:00+00:00"))
    settings = make_settings(fake, database_url, **overrides)
    client = build_client(settings)
    services = build_services(
        settings,
        client=client,
        clock=clock,
        db=Database.from_url(database_url),
        migrate=migrate,
        instance_id="test-instance",
    )
    app = build_app(settings, services, client=client)
    web = WebApp(app, services, scheduler_expected=True)
    server = make_server(web, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.effective_port}"
    sender = SlackSender(
        f"{url}/slack/events", SIGNING_SECRET, fake=fake, user_id=LOGGER, channel_id=CONTROL
    )
    return Bot(fake, clock, settings, services, sender, web, url, server, thread)
