"""Real `missing-bot serve` processes for fault tests, and the data they act on.

A process is started on a port chosen here (so a copy can be restarted on the same port or a
new one), is ready once /healthz answers at all (200 or 503), and is killed with SIGKILL or
stopped with SIGTERM. Its output goes to a log file the test can read.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, insert, select

from bot.settings import Settings
from fakeslack import FakeSlack, SlackSender
from storage.db import Database
from storage.models import Child, Episode
from tests.support.forkserver import ForkServer
from tests.support.harness import CONTROL, LOGGER, SAFEGUARDING, SIGNING_SECRET


def bot_command(*args: str) -> list[str]:
    """The installed console script when there is one (what operators run), else `-m bot`."""
    script = Path(sys.executable).with_name("missing-bot")
    if script.exists():
        return [str(script), *args]
    return [sys.executable, "-m", "bot", *args]


def bot_env(fake: FakeSlack, database_url: str, **extra: object) -> dict[str, str]:
    """The environment of one copy: nothing inherited that the bot reads as a setting."""
    settings_names = {name.upper() for name in Settings.model_fields}
    env = {k: v for k, v in os.environ.items() if k.upper() not in settings_names}
    env.update(
        DATABASE_URL=database_url,
        SLACK_API_URL=fake.api_url,
        SLACK_BOT_TOKEN="xoxb-test",
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        CONTROL_ROOM_CHANNEL=CONTROL,
        SAFEGUARDING_CHANNEL=SAFEGUARDING,
        TICK_SECONDS="1",
        QUIET_HOURS="off",
        SLACK_CHANNEL_PACE_SECONDS="0",
        LOG_LEVEL="INFO",
        PYTHONUNBUFFERED="1",
        ADMIN_USER_IDS=LOGGER,
    )
    env.update({k: str(v) for k, v in extra.items()})
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Served:
    """One `missing-bot serve` process: our child (`popen`), or one forked by a ForkServer."""

    name: str
    popen: subprocess.Popen[bytes] | None
    port: int
    log: Path
    pid: int = 0

    def __post_init__(self) -> None:
        if self.popen is not None:
            self.pid = self.popen.pid

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def sender(self, fake: FakeSlack | None = None, *, timeout: float = 10) -> SlackSender:
        return SlackSender(
            f"{self.url}/slack/events",
            SIGNING_SECRET,
            fake=fake,
            user_id=LOGGER,
            channel_id=CONTROL,
            timeout=timeout,
        )

    def alive(self) -> bool:
        if self.popen is not None:
            return self.popen.poll() is None
        try:
            os.kill(self.pid, 0)  # (a killed child stays visible until its parent reaps it)
        except ProcessLookupError:
            return False
        return True

    def wait_ready(self, timeout: float = 20) -> None:
        """Until /healthz answers at all: the process is serving."""
        deadline = time.monotonic() + timeout
        while True:
            if not self.alive():
                raise AssertionError(f"{self.name} exited:\n{self.text()}")
            try:
                health(self.url, timeout=1)
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise AssertionError(f"{self.name} not serving after {timeout} s") from None
                time.sleep(0.02)

    def kill(self) -> None:
        """SIGKILL, and wait until the process is gone."""
        if self.popen is not None:
            if self.popen.poll() is None:
                self.popen.send_signal(signal.SIGKILL)
            self.popen.wait(timeout=10)
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while self.alive() and time.monotonic() < deadline:
            time.sleep(0.005)

    def text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def start_serve(env: dict[str, str], cwd: Path, *, name: str, port: int | None = None) -> Served:
    port = port or free_port()
    log = cwd / f"{name}.log"
    with log.open("wb") as out:
        popen = subprocess.Popen(
            bot_command("serve"),
            env={**env, "PORT": str(port)},
            cwd=cwd,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    return Served(name, popen, port, log)


def spawn_serve(server: ForkServer, cwd: Path, *, name: str) -> Served:
    """A copy of `serve` forked by `server` (see tests/support/forkserver.py)."""
    port = free_port()
    log = cwd / f"{name}.log"
    return Served(name, None, port, log, pid=server.spawn(port, log))


def health(url: str, *, timeout: float = 5) -> tuple[int, dict[str, object]]:
    """(status, report) of GET /healthz; OSError if nothing answers."""
    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=timeout) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, json.loads(exc.read())


@contextlib.contextmanager
def all_stopped(procs: list[Served]) -> Iterator[None]:
    """Kill whatever is still running at the end, and print the logs (pytest shows them when
    the test fails)."""
    try:
        yield
    finally:
        for proc in procs:
            proc.kill()
        for proc in procs:
            print(f"\n===== {proc.name} =====\n{proc.text()[-4000:]}")


def seed_open_episodes(db: Database, count: int, *, now: datetime) -> list[int]:
    """`count` open episodes, one child each, last seen two hours before `now`; their ids.

    Inserted directly (no audit rows, nothing for Slack): the tests are about what happens to
    them afterwards.
    """
    seen = now - timedelta(hours=2)
    with db.transaction() as session:
        first = (session.scalar(select(func.max(Child.id))) or 0) + 1
        children = [
            {
                "full_name": f"Fault Child {first + n}",
                "name_key": f"fault child {first + n}",
                "date_of_birth": date(2012, 1, 1) + timedelta(days=first + n),
                "created_at": seen,
            }
            for n in range(count)
        ]
        child_ids = list(
            session.scalars(
                insert(Child).returning(Child.id, sort_by_parameter_order=True), children
            )
        )
        episodes = [
            {
                "child_id": child_id,
                "status": "missing",
                "last_seen_at": seen,
                "last_seen_place": "Ipswich",
                "risk_level": "medium",
                "looked_after": False,
                "risk_factors": [],
                "description": "",
                "reported_by": "test",
                "officer_id": "UOFFICER1",
                "logged_by": LOGGER,
                "created_at": seen,
            }
            for child_id in child_ids
        ]
        return list(
            session.scalars(
                insert(Episode).returning(Episode.id, sort_by_parameter_order=True), episodes
            )
        )
