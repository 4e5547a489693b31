"""Service-level tests: the real services on a real SQLite database, with a fake clock and a
recording notifier instead of Slack. No HTTP and no Bolt: fast enough for every branch."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import pytest
from slack_sdk import WebClient

from bot.app import build_services
from bot.clock import FakeClock
from bot.domain.access import Role
from bot.domain.episode import NewEpisode
from bot.services.access import Caller
from bot.services.container import Services
from bot.settings import Settings
from storage.db import Database
from tests.support.recording import RecordingNotifier

CONTROL, SAFEGUARDING = "CCONTROL", "CSAFEGUARD"
LOGGER, OFFICER = "ULOGGER", "UOFFICER"
TEAM = "T0TEST"
START = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


@dataclass
class World:
    services: Services
    clock: FakeClock
    notifier: RecordingNotifier

    def new_episode(self, **changes: Any) -> NewEpisode:
        values: dict[str, Any] = {
            "child_name": "Jane Mary Smith",
            "date_of_birth": date(2012, 3, 4),
            "last_seen_at": self.clock.now().replace(hour=9, minute=30),
            "last_seen_place": "12 Acacia Avenue",
            "risk_level": "high",
            "looked_after": True,
            "placing_authority": "London Borough of Camden",
            "risk_factors": ["cse"],
            "description": "Black hoodie",
            "reported_by": "Care home, 01473 000000",
            "incident_ref": "CAD-1",
            "officer_id": OFFICER,
        }
        values.update(changes)
        return NewEpisode(**values)

    def log(self, **changes: Any) -> int:
        logged = self.services.episodes.log(self.new_episode(**changes), as_(LOGGER))
        self.settle()
        return logged.card.episode_id

    def settle(self) -> None:
        self.services.outbox.flush()


def make_world(database_url: str, **settings: Any) -> World:
    values: dict[str, Any] = {
        "slack_bot_token": "xoxb-unused",
        "slack_signing_secret": "unused",
        "database_url": database_url,
        "control_room_channel": CONTROL,
        "safeguarding_channel": SAFEGUARDING,
        "quiet_hours": "off",
        "slack_channel_pace_seconds": 0,
        "admin_user_ids": LOGGER,
    }
    values.update(settings)
    clock = FakeClock(START)
    notifier = RecordingNotifier()
    services = build_services(
        Settings(_env_file=None, **values),  # type: ignore[call-arg]
        # Never called: the recording notifier stands in for Slack.
        client=WebClient(token=None, base_url="http://127.0.0.1:9/api/"),
        clock=clock,
        db=Database.from_url(database_url),
        migrate=False,
        instance_id="service-test",
        notifier=notifier,
        team_id=TEAM,
    )
    services.access.grant(as_(LOGGER), user_id=OFFICER, role=Role.CONTROL_ROOM)
    return World(services, clock, notifier)


def as_(user_id: str) -> Caller:
    """A request from this person in the bot's own workspace."""
    return Caller(user_id, TEAM, CONTROL)


@pytest.fixture
def world(sqlite_url: str) -> Iterator[World]:
    built = make_world(sqlite_url)
    yield built
    built.services.close()
