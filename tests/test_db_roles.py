"""A bot role that owns nothing (PostgreSQL), set up exactly as docs/database-roles.md says:
an owner role runs the migrations and `db-grant --apply`; the bot's role then works, and
cannot touch the audit trail's protection."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from dateutil.relativedelta import relativedelta
from sqlalchemy import Engine, create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from bot.cli import main
from bot.clock import FakeClock
from fakeslack import FakeSlack
from storage.db import make_engine
from storage.migrate import current_revision, head_revision, upgrade
from storage.models import AuditEvent, Base, Episode
from tests.conftest import PG_URL
from tests.support.harness import start_bot

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Roles:
    owner: str
    app: str
    owner_url: str
    app_url: str


def cli(args: list[str], database_url: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "DATABASE_URL": database_url}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


def cli_here(
    args: list[str], database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> tuple[int, str, str]:
    """The same command in this process: the fixture's set-up without a Python start-up each."""
    with monkeypatch.context() as env:
        env.setenv("DATABASE_URL", database_url)
        capsys.readouterr()
        code = main(args)
        out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def roles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any) -> Iterator[Roles]:
    """An owner role with its own database, migrated by it; an app role granted by db-grant.
    Roles are cluster-wide: both are dropped afterwards, with the database."""
    if not PG_URL:
        pytest.skip("TEST_DATABASE_URL not set: PostgreSQL tests not run")
    suffix = uuid.uuid4().hex[:8]
    owner, app, database = f"mb_owner_{suffix}", f"mb_app_{suffix}", f"missing_bot_roles_{suffix}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE ROLE {owner} LOGIN"))
        conn.execute(text(f"CREATE ROLE {app} LOGIN"))
        conn.execute(text(f"CREATE DATABASE {database} OWNER {owner}"))
    base = make_url(PG_URL).set(database=database, password=None)
    found = Roles(
        owner=owner,
        app=app,
        owner_url=base.set(username=owner).render_as_string(hide_password=False),
        app_url=base.set(username=app).render_as_string(hide_password=False),
    )
    superuser_in_it = create_engine(
        make_url(PG_URL).set(database=database), isolation_level="AUTOCOMMIT"
    )
    try:
        with superuser_in_it.connect() as conn:
            # As docs/database-roles.md: needed before PostgreSQL 15, harmless after.
            conn.execute(text(f"REVOKE ALL ON DATABASE {database} FROM PUBLIC"))
            conn.execute(text("REVOKE CREATE ON SCHEMA public FROM PUBLIC"))
            conn.execute(text(f"GRANT CREATE ON SCHEMA public TO {owner}"))
        superuser_in_it.dispose()
        code, _, err = cli_here(["migrate"], found.owner_url, monkeypatch, capsys)
        assert code == 0, err
        grant = ["db-grant", "--role", app, "--apply"]
        code, out, err = cli_here(grant, found.owner_url, monkeypatch, capsys)
        assert code == 0, err
        tables = len(Base.metadata.tables) + 1  # and alembic_version
        assert out.startswith(f"granted {app} row privileges on {tables} tables")
        yield found
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)"))
            conn.execute(text(f"DROP ROLE IF EXISTS {app}"))
            conn.execute(text(f"DROP ROLE IF EXISTS {owner}"))
        admin.dispose()


@pytest.fixture
def as_app(roles: Roles) -> Iterator[Engine]:
    engine = make_engine(roles.app_url)
    yield engine
    engine.dispose()


def refused(engine: Engine, statement: str, why: str) -> None:
    with pytest.raises(DBAPIError, match=why), engine.begin() as conn:
        conn.exec_driver_sql(statement)


def test_the_app_role_runs_the_bot_and_adds_to_the_trail(
    roles: Roles, as_app: Engine, fake_slack: FakeSlack
) -> None:
    # Starting the bot checks the migrations: at head, the app role may do that.
    upgrade(as_app)
    assert current_revision(as_app) == head_revision()
    bot = start_bot(fake_slack, roles.app_url)
    try:
        bot.log_episode()
        bot.slash("returned M-1 now")
        bot.slash("show M-1")
        assert [e.action for e in bot.audit()] == [
            "child.created",
            "episode.logged",
            "episode.returned",
            "episode.viewed",
        ]
    finally:
        bot.stop()


def test_the_app_role_cannot_change_or_remove_the_trail(roles: Roles, as_app: Engine) -> None:
    with as_app.begin() as conn:
        conn.execute(
            AuditEvent.__table__.insert().values(
                at=datetime.now(UTC), actor="U1", action="episode.viewed", detail={}
            )
        )
    denied = "permission denied"
    not_owner = "must be owner"
    refused(as_app, "UPDATE audit_events SET actor = 'nobody'", denied)
    refused(as_app, "DELETE FROM audit_events", denied)
    refused(as_app, "TRUNCATE audit_events", denied)
    refused(as_app, "ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only", not_owner)
    refused(as_app, "ALTER TABLE audit_events DISABLE TRIGGER ALL", not_owner)
    refused(as_app, "DROP TRIGGER audit_events_append_only ON audit_events", not_owner)
    refused(as_app, "DROP TABLE audit_events", not_owner)
    refused(as_app, "DROP FUNCTION audit_events_append_only()", not_owner)
    # Replacing the trigger's function with one that lets changes through: also the owner's.
    refused(
        as_app,
        "CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger "
        "LANGUAGE plpgsql AS $$ BEGIN RETURN OLD; END $$",
        f"{not_owner}|{denied}",
    )
    # Nor can it create anything of its own to own.
    refused(as_app, "CREATE TABLE mine (x int)", denied)
    refused(as_app, "TRUNCATE episodes", denied)
    refused(as_app, "ALTER TABLE episodes ADD COLUMN x int", not_owner)
    refused(as_app, "UPDATE alembic_version SET version_num = '0001'", denied)
    with as_app.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(AuditEvent)) == 1
        owned = conn.scalar(
            text(
                "SELECT count(*) FROM pg_class WHERE relowner = (SELECT oid FROM pg_roles "
                "WHERE rolname = current_user)"
            )
        )
        assert owned == 0


def test_even_the_owner_is_refused_by_the_trigger(roles: Roles, as_app: Engine) -> None:
    with as_app.begin() as conn:
        conn.execute(
            AuditEvent.__table__.insert().values(
                at=datetime.now(UTC), actor="U1", action="episode.viewed", detail={}
            )
        )
    owner = make_engine(roles.owner_url)
    refused(owner, "UPDATE audit_events SET actor = 'nobody'", "append-only")
    refused(owner, "DELETE FROM audit_events", "append-only")
    owner.dispose()


def test_a_purge_runs_as_the_app_role(
    roles: Roles, as_app: Engine, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    eight_years_ago = datetime.now(UTC) - relativedelta(years=8)
    bot = start_bot(fake_slack, roles.app_url, clock=FakeClock(eight_years_ago))
    try:
        bot.log_episode(last_seen_at=eight_years_ago - timedelta(hours=1))
        bot.slash("returned M-1 now")
        bot.slash("rhi M-1 done")
        bot.log_episode(child_name="Ben Brown", last_seen_at=eight_years_ago)  # still missing
    finally:
        bot.stop()
    result = cli(["purge", "--older-than", "6"], roles.app_url, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("purged 1 episodes")
    with as_app.connect() as conn:
        assert list(conn.scalars(select(Episode.id))) == [2]
        purged = conn.scalar(select(AuditEvent.detail).where(AuditEvent.action == "records.purged"))
        assert purged is not None and purged["refs"] == ["M-1"]
        assert conn.scalar(select(func.count()).where(AuditEvent.episode_id == 1)) == 3


def test_db_grant_prints_the_statements(roles: Roles, tmp_path: Path) -> None:
    result = cli(["db-grant", "--role", roles.app], roles.owner_url, tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"-- missing-bot db-grant: run as {roles.owner}"
    assert f"GRANT SELECT, INSERT ON TABLE public.audit_events TO {roles.app};" in lines
    assert f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE public.episodes TO {roles.app};" in lines
    assert f"GRANT USAGE ON SEQUENCE public.episodes_id_seq TO {roles.app};" in lines
    assert (
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {roles.owner} IN SCHEMA public "
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {roles.app};"
    ) in lines
    assert not any("TRUNCATE" in line or "ALL PRIVILEGES" in line for line in lines)


def test_db_grant_again_takes_back_what_was_granted_by_hand(
    roles: Roles, as_app: Engine, tmp_path: Path
) -> None:
    owner = make_engine(roles.owner_url)
    with owner.begin() as conn:
        conn.exec_driver_sql(f"GRANT UPDATE, DELETE, TRUNCATE ON audit_events TO {roles.app}")
    owner.dispose()
    again = cli(["db-grant", "--role", roles.app, "--apply"], roles.owner_url, tmp_path)
    assert again.returncode == 0, again.stderr
    refused(as_app, "TRUNCATE audit_events", "permission denied")
    refused(as_app, "DELETE FROM audit_events", "permission denied")


@pytest.mark.parametrize(
    ("who", "role", "message"),
    [
        ("owner", "owner", "is, or can act as, the table owner"),
        ("owner", "postgres", "is a superuser"),
        ("owner", "mb_nobody_here", "role mb_nobody_here does not exist"),
        ("app", "app", "run db-grant --apply with DATABASE_URL set to the owner role"),
    ],
)
def test_db_grant_refuses_in_one_line(
    roles: Roles, tmp_path: Path, who: str, role: str, message: str
) -> None:
    url = roles.owner_url if who == "owner" else roles.app_url
    name = {"owner": roles.owner, "app": roles.app}.get(role, role)
    result = cli(["db-grant", "--role", name, "--apply"], url, tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--role", "Robert'); DROP TABLE"], "is not a role name"),
        ([], "the following arguments are required: --role"),
    ],
)
def test_db_grant_bad_arguments(tmp_path: Path, args: list[str], message: str) -> None:
    result = cli(["db-grant", *args], f"sqlite:///{tmp_path}/x.sqlite3", tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr


def test_db_grant_is_for_postgresql_only(sqlite_url: str, tmp_path: Path) -> None:
    result = cli(["db-grant", "--role", "missing_app"], sqlite_url, tmp_path)
    assert result.returncode == 2
    assert (
        result.stderr.strip()
        == "missing-bot db-grant: db-grant is for PostgreSQL: SQLite has no roles"
    )
