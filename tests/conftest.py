"""Fixtures: a real database per test (SQLite always, PostgreSQL when TEST_DATABASE_URL is set)."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bot.clock import FakeClock
from bot.domain.access import Role
from fakeslack import FakeSlack
from storage.db import make_engine
from storage.migrate import upgrade
from storage.models import Base
from tests.support.blockkit import assert_all_valid
from tests.support.fuzzing import (
    CROOM,
    PERSONAL_SENTINELS,
    SAFE,
    Fingerprinter,
    FuzzBot,
    watch_logs,
)
from tests.support.harness import Bot, InlineExecutor, start_bot

PG_URL = os.environ.get("TEST_DATABASE_URL", "")
BACKENDS = ["sqlite", "postgresql"]

# Property-based tests (tests/test_fuzz_*.py). `ci` (set by .ci/run) draws 2,000 examples per
# entry point, the same ones on every run so a red build can be replayed; `dev`, the default for
# `make test`, draws 200 new ones each time. Neither writes an example database into the tree.
_HYPOTHESIS: dict = {
    "deadline": None,
    "database": None,
    # With no example database, a failure prints the blob that replays it (@reproduce_failure).
    "print_blob": True,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.filter_too_much],
}
settings.register_profile("ci", max_examples=2000, derandomize=True, **_HYPOTHESIS)
settings.register_profile("dev", max_examples=200, **_HYPOTHESIS)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


def pytest_configure(config: pytest.Config) -> None:
    if os.environ.get("REQUIRE_POSTGRES") and not PG_URL:
        raise pytest.UsageError(
            "REQUIRE_POSTGRES is set but TEST_DATABASE_URL is not: "
            "the PostgreSQL tests would be skipped."
        )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that spawn bot processes also time them against the wall clock: `serial` too."""
    for item in items:
        if item.get_closest_marker("slow") is not None:
            item.add_marker(pytest.mark.serial)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Migrate once; each test gets a copy (faster than running Alembic per test)."""
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()  # the last connection to close checkpoints the WAL into the file
    return path


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A throwaway PostgreSQL database for this test run, migrated once."""
    if not PG_URL:
        pytest.skip("TEST_DATABASE_URL not set: PostgreSQL tests not run")
    name = f"missing_bot_test_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _reset_postgres(url: str) -> None:
    engine = create_engine(url)
    tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        # The audit trigger forbids DELETE, not TRUNCATE: tests start from empty tables.
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A test runs on PostgreSQL as well as SQLite where the databases differ (claims, locks,
    migrations, string limits, streaming, the audit trigger): those are marked
    `both_databases`. The rest is logic that SQLite proves as well, run once."""
    if "database_url" in metafunc.fixturenames:
        both = metafunc.definition.get_closest_marker("both_databases") is not None
        metafunc.parametrize("database_url", BACKENDS if both else ["sqlite"], indirect=True)


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        template = request.getfixturevalue("sqlite_template")
        target = tmp_path / "bot.sqlite3"
        shutil.copy(template, target)
        return f"sqlite:///{target}"
    url = request.getfixturevalue("pg_database")
    _reset_postgres(url)
    return url


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    """For tests about logic that does not differ between databases."""
    target = tmp_path / "bot.sqlite3"
    shutil.copy(sqlite_template, target)
    return f"sqlite:///{target}"


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    """The fake Slack; afterwards, every payload the bot sent it is checked against Block Kit."""
    with FakeSlack() as fake:
        yield fake
    assert_all_valid(fake)


def _chart(request: pytest.FixtureRequest) -> dict[str, object]:
    """The digest's own tests (marker `digest_chart`) draw its chart; others leave it out."""
    return {"digest_chart": True} if request.node.get_closest_marker("digest_chart") else {}


@pytest.fixture
def bot(request: pytest.FixtureRequest, fake_slack: FakeSlack, database_url: str) -> Iterator[Bot]:
    running = start_bot(fake_slack, database_url, **_chart(request))
    yield running
    running.stop()


@pytest.fixture
def sqlite_bot(
    request: pytest.FixtureRequest, fake_slack: FakeSlack, sqlite_url: str
) -> Iterator[Bot]:
    running = start_bot(fake_slack, sqlite_url, **_chart(request))
    yield running
    running.stop()


@pytest.fixture
def bot_at(
    request: pytest.FixtureRequest, fake_slack: FakeSlack, sqlite_url: str
) -> Iterator[Callable[..., Bot]]:
    """Start the bot (SQLite) at a given moment, with settings overridden: `bot_at(when, ...)`."""
    started: list[Bot] = []

    def start(now: datetime, **settings: object) -> Bot:
        settings = {**_chart(request), **settings}
        running = start_bot(fake_slack, sqlite_url, clock=FakeClock(now), **settings)
        started.append(running)
        return running

    yield start
    for running in started:
        running.stop()


@pytest.fixture
def fuzz_bot(fake_slack: FakeSlack, database_url: str) -> Iterator[FuzzBot]:
    """The bot with its listeners run inline (see InlineExecutor), for the fuzz tests, with a
    safeguarding and a control-room user besides the admin, and the log watched."""
    backend = make_url(database_url).get_backend_name()
    running = start_bot(
        fake_slack, database_url, app_options={"listener_executor": InlineExecutor()}
    )
    running.grant(SAFE, Role.SAFEGUARDING)
    running.grant(CROOM, Role.CONTROL_ROOM)
    prints = Fingerprinter(database_url)
    try:
        with watch_logs() as watch:
            yield FuzzBot(running, backend, watch, prints)
            # The whole run's log, searched for the details the strategies type most often.
            leaked = watch.mentioning(0, PERSONAL_SENTINELS)
            assert not leaked, f"personal data in the fuzz run's log: {leaked[:5]}"
    finally:
        prints.close()
        running.stop()
