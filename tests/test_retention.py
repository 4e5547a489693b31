"""Retention: `missing-bot purge` removes what was closed long ago, keeps everything else, and
leaves the audit trail whole (migration 0003 lets the trail outlive the records)."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from dateutil.relativedelta import relativedelta
from sqlalchemy import (
    MetaData,
    Table,
    create_engine,
    delete,
    event,
    func,
    insert,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from bot.clock import FakeClock
from bot.domain.errors import UserError
from bot.domain.retention import cutoff, parse_years
from bot.services.retention import RetentionService
from fakeslack import FakeSlack
from storage import retention as purge_queries
from storage.db import make_engine
from storage.migrate import current_revision, head_revision, upgrade
from storage.models import AuditEvent, Child, Episode, OutboxMessage, ReturnInterview
from tests.conftest import PG_URL
from tests.support.harness import Bot, start_bot

# Retention, streaming and the audit trigger differ between the databases.
pytestmark = pytest.mark.both_databases

T0 = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
ROOT = Path(__file__).resolve().parent.parent


def years_after_t0(years: float) -> datetime:
    return T0 + relativedelta(months=round(years * 12))


def log(bot: Bot, name: str, dob: str) -> int:
    """Log an episode last seen two hours ago; its number."""
    bot.log_episode(
        child_name=name,
        date_of_birth=dob,
        last_seen_at=bot.clock.now() - timedelta(hours=2),
    )
    with bot.services.db.read() as session:
        return int(session.scalar(select(func.max(Episode.id))) or 0)


def ok(bot: Bot, command: str) -> None:
    reply = bot.slash(command)
    assert "nothing was changed" not in (reply.text or ""), reply.text


def story(bot: Bot) -> None:
    """Seven years of a control room, each case a rule of the purge.

    Closed before the cut-off (purged): M-1 and M-3 (Amy, twice), M-4 (Cara, who goes missing
    again later, so she stays), M-6 (Eve: returned, reopened, returned again).
    Kept: M-2 (RHI still pending), M-5 (never returned), M-7 (RHI closed only in year 5),
    M-8 (Cara, missing now), M-9 (closed six months ago).
    """
    assert log(bot, "Amy Adams", "2012-03-04") == 1
    ok(bot, "returned M-1")
    ok(bot, "rhi M-1 done")
    assert log(bot, "Ben Brown", "2011-05-05") == 2
    ok(bot, "returned M-2")
    bot.clock.advance(days=2)
    assert log(bot, "Amy Adams", "2012-03-04") == 3
    ok(bot, "returned M-3")
    ok(bot, "rhi M-3 declined")
    assert log(bot, "Cara Clark", "2015-01-01") == 4
    ok(bot, "returned M-4")
    ok(bot, "rhi M-4 done")
    assert log(bot, "Dan Dale", "2013-07-07") == 5
    assert log(bot, "Eve Evans", "2012-09-09") == 6
    ok(bot, "returned M-6")
    ok(bot, "reopen M-6 recorded on the wrong child")
    ok(bot, "returned M-6")
    ok(bot, "rhi M-6 notdone family refused")
    assert log(bot, "Finn Ford", "2013-02-02") == 7
    ok(bot, "returned M-7")
    ok(bot, "rhi M-7 offered")
    bot.clock.set(years_after_t0(5))
    ok(bot, "rhi M-7 done")
    assert log(bot, "Cara Clark", "2015-01-01") == 8
    bot.clock.set(years_after_t0(6.5))
    assert log(bot, "Gus Green", "2018-08-08") == 9
    ok(bot, "returned M-9")
    ok(bot, "rhi M-9 done")
    bot.clock.set(years_after_t0(7))


def snapshot(bot: Bot) -> dict[str, Any]:
    with bot.services.db.read() as session:
        return {
            "children": sorted(session.scalars(select(Child.full_name))),
            "episodes": sorted(session.scalars(select(Episode.id))),
            "rhis": sorted(
                tuple(r)
                for r in session.execute(select(ReturnInterview.episode_id, ReturnInterview.id))
            ),
            "outbox": sorted(
                tuple(r)
                for r in session.execute(
                    select(OutboxMessage.id, OutboxMessage.episode_id, OutboxMessage.rhi_id)
                )
            ),
            "audit": [
                (e.id, e.at, e.actor, e.action, e.episode_id, e.child_id, e.detail)
                for e in session.scalars(select(AuditEvent).order_by(AuditEvent.id))
            ],
        }


PURGED = ["M-1", "M-3", "M-4", "M-6"]


def retention(bot: Bot, batch_size: int = 500) -> RetentionService:
    return RetentionService(db=bot.services.db, clock=bot.clock, batch_size=batch_size)


def test_purge_removes_only_what_was_closed_before_the_cut_off(bot: Bot) -> None:
    story(bot)
    before = snapshot(bot)
    purged_ids = {1, 3, 4, 6}
    gone_rhis = [r for r in before["rhis"] if r[0] in purged_ids]
    gone_rhi_ids = {r[1] for r in gone_rhis}
    gone_outbox = [o for o in before["outbox"] if o[1] in purged_ids or o[2] in gone_rhi_ids]
    assert len(gone_rhis) == 5  # Eve's cancelled interview and the one after it
    assert gone_outbox

    # Batches of two: the purge spans several transactions, Amy's episodes two of them.
    report = retention(bot, batch_size=2).purge(older_than_years=6, actor="cli")

    assert (report.episodes, report.children, report.rhis, report.outbox) == (
        4,
        2,
        5,
        len(gone_outbox),
    )
    assert list(report.refs) == PURGED
    after = snapshot(bot)
    assert after["episodes"] == [2, 5, 7, 8, 9]
    assert after["children"] == ["Ben Brown", "Cara Clark", "Dan Dale", "Finn Ford", "Gus Green"]
    assert after["rhis"] == [r for r in before["rhis"] if r[0] not in purged_ids]
    assert after["outbox"] == [o for o in before["outbox"] if o not in gone_outbox]
    # Every audit row is still there, unchanged, and one more says what went.
    assert after["audit"][:-1] == before["audit"]
    row = after["audit"][-1]
    assert row[2:6] == ("cli", "records.purged", None, None)
    assert row[1] == years_after_t0(7)
    detail = row[6]
    assert detail == {
        "older_than_years": 6,
        "cutoff": years_after_t0(1).isoformat(),
        "complete": True,
        "episodes": 4,
        "children": 2,
        "rhis": 5,
        "outbox": len(gone_outbox),
        "refs": PURGED,
    }
    written = json.dumps(detail)
    for private in ("Amy", "Adams", "Eve", "wrong child", "family refused", "Acacia"):
        assert private not in written


def test_the_trail_of_a_purged_episode_can_still_be_read(bot: Bot) -> None:
    story(bot)
    retention(bot).purge(older_than_years=6, actor="cli")
    assert "There is no episode M-6" in bot.slash("show M-6").text
    entries = bot.services.audit_log.for_episode(6, actor="UAUDITOR")
    assert [e.action for e in entries] == [
        "rhi.not_done",
        "episode.returned",
        "episode.reopened",
        "episode.returned",
        "episode.logged",
    ]
    assert bot.audit("audit.viewed")[-1].episode_id == 6


def test_dry_run_reports_the_same_and_changes_nothing(bot: Bot) -> None:
    story(bot)
    before = snapshot(bot)
    # Batches of one: Amy's two episodes fall in different batches and she is counted once.
    dry = retention(bot, batch_size=1).purge(older_than_years=6, actor="cli", dry_run=True)
    assert snapshot(bot) == before
    real = retention(bot).purge(older_than_years=6, actor="cli")
    assert (dry.episodes, dry.children, dry.rhis, dry.outbox, dry.refs) == (
        real.episodes,
        real.children,
        real.rhis,
        real.outbox,
        real.refs,
    )
    assert dry.dry_run and not real.dry_run


def test_a_longer_period_keeps_more_and_a_second_run_finds_nothing(bot: Bot) -> None:
    story(bot)
    # Seven and a half years: nothing is that old yet.
    assert retention(bot).purge(older_than_years=7.5, actor="cli").episodes == 0
    assert retention(bot).purge(older_than_years=6, actor="cli").episodes == 4
    again = retention(bot).purge(older_than_years=6, actor="cli")
    assert (again.episodes, again.children, again.rhis, again.outbox) == (0, 0, 0, 0)
    assert [e.detail["episodes"] for e in bot.audit("records.purged")] == [0, 4, 0]


def test_an_interrupted_purge_still_records_what_went(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    story(bot)
    real_remove = purge_queries.remove
    calls: list[int] = []

    def fail_second_batch(session: Any, **kwargs: Any) -> purge_queries.Removed:
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return real_remove(session, **kwargs)

    monkeypatch.setattr(purge_queries, "remove", fail_second_batch)
    with pytest.raises(RuntimeError, match="disk full"):
        retention(bot, batch_size=2).purge(older_than_years=6, actor="cli")
    (row,) = bot.audit("records.purged")
    assert row.detail["complete"] is False
    assert row.detail["refs"] == ["M-1", "M-3"]
    assert snapshot(bot)["episodes"] == [2, 4, 5, 6, 7, 8, 9]  # the failed batch rolled back


def test_big_purges_go_in_batches_of_500(database_url: str) -> None:
    """1,200 closed episodes: three short transactions, not one long one."""
    engine = make_engine(database_url)
    old = T0 - relativedelta(years=10)
    with engine.begin() as conn:
        conn.execute(
            insert(Child),
            [
                {
                    "id": i,
                    "full_name": f"Child {i}",
                    "name_key": f"child {i}",
                    "date_of_birth": datetime(2000, 1, 1).date(),
                    "created_at": old,
                }
                for i in range(1, 601)
            ],
        )
        conn.execute(
            insert(Episode),
            [_closed_episode(i, child_id=(i + 1) // 2, at=old) for i in range(1, 1201)],
        )
        conn.execute(insert(ReturnInterview), [_closed_rhi(i, at=old) for i in range(1, 1201)])
    from storage.db import Database

    db = Database(engine)
    commits: list[int] = []
    event.listen(engine, "commit", lambda _conn: commits.append(1))
    report = RetentionService(db=db, clock=FakeClock(T0)).purge(older_than_years=6, actor="cli")
    assert (report.episodes, report.children, report.rhis) == (1200, 600, 1200)
    assert len(commits) >= 3  # three batches and the audit row
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(Episode)) == 0
        assert conn.scalar(select(func.count()).select_from(Child)) == 0
    engine.dispose()


def test_a_child_who_goes_missing_again_during_the_purge_stays(database_url: str) -> None:
    """The purge removes Amy's old episodes while a call handler logs a new one for her: the
    new episode wins, Amy stays, and the purge carries on."""
    engine = make_engine(database_url)
    old = T0 - relativedelta(years=10)
    with engine.begin() as conn:
        conn.execute(
            insert(Child).values(
                id=1,
                full_name="Amy Adams",
                name_key="amy adams",
                date_of_birth=datetime(2012, 3, 4).date(),
                created_at=old,
            )
        )
        conn.execute(insert(Episode).values(**_closed_episode(1, child_id=1, at=old)))
    from storage.db import Database

    service = RetentionService(db=Database(engine), clock=FakeClock(T0))
    results: list[Any] = []
    with engine.connect() as logging_now:
        logging_now.execute(
            insert(Episode).values(
                {**_closed_episode(2, child_id=1, at=T0), "status": "missing", "returned_at": None}
            )
        )
        purge = threading.Thread(
            target=lambda: results.append(service.purge(older_than_years=6, actor="cli"))
        )
        purge.start()
        _wait_until_blocked(engine)
        logging_now.commit()
        purge.join(timeout=30)
    (report,) = results
    assert (report.episodes, report.children, report.refs) == (1, 0, ("M-1",))
    with engine.connect() as conn:
        assert list(conn.scalars(select(Episode.id))) == [2]
        assert list(conn.scalars(select(Child.full_name))) == ["Amy Adams"]
    engine.dispose()


def _wait_until_blocked(engine: Any) -> None:
    """Until the purge waits for the other transaction's lock (PostgreSQL shows it; SQLite's
    writer simply waits for the lock, so give it a moment to get there)."""
    if engine.dialect.name != "postgresql":
        time.sleep(0.3)
        return
    deadline = time.monotonic() + 10
    with engine.connect() as conn:
        while time.monotonic() < deadline:
            waiting = conn.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock'"
                )
            )
            conn.rollback()
            if waiting:
                return
            time.sleep(0.02)
    raise AssertionError("the purge never waited for the new episode's transaction")


def _closed_episode(i: int, *, child_id: int, at: datetime) -> dict[str, Any]:
    return {
        "id": i,
        "child_id": child_id,
        "status": "returned",
        "last_seen_at": at,
        "last_seen_place": "somewhere",
        "risk_level": "low",
        "looked_after": False,
        "risk_factors": [],
        "description": "",
        "reported_by": "",
        "officer_id": "UOFFICER",
        "logged_by": "UCONTROL1",
        "created_at": at,
        "returned_at": at + timedelta(hours=3),
    }


def _closed_rhi(i: int, *, at: datetime) -> dict[str, Any]:
    return {
        "id": i,
        "episode_id": i,
        "returned_at": at,
        "due_at": at + timedelta(hours=72),
        "status": "completed",
        "assignee_id": "UOFFICER",
        "created_at": at,
        "updated_at": at + timedelta(days=1),
    }


# -- the cut-off rule ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("years", "expected"),
    [
        (6, datetime(2020, 11, 24, 12, 0, tzinfo=UTC)),
        (7.5, datetime(2019, 5, 24, 12, 0, tzinfo=UTC)),
        (1, datetime(2025, 11, 24, 12, 0, tzinfo=UTC)),
        # A fraction of a month is rounded up: the cut-off is never later than asked.
        (1.01, datetime(2025, 10, 24, 12, 0, tzinfo=UTC)),
    ],
)
def test_cut_off_counts_calendar_months(years: float, expected: datetime) -> None:
    assert cutoff(T0, years) == expected


def test_cut_off_from_29_february_lands_on_28_february() -> None:
    leap = datetime(2028, 2, 29, 9, 0, tzinfo=UTC)
    assert cutoff(leap, 1) == datetime(2027, 2, 28, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize("text", ["0", "0.5", "0.99", "-1", "six", "nan", "inf", "1e3", "", "151"])
def test_bad_periods_are_refused(text: str) -> None:
    with pytest.raises(UserError):
        parse_years(text)


@pytest.mark.parametrize(("text", "years"), [("6", 6.0), ("7.5", 7.5), (" 1 ", 1.0)])
def test_good_periods(text: str, years: float) -> None:
    assert parse_years(text) == years


# -- the command, as an operator runs it ----------------------------------------------------------


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


@pytest.fixture
def old_closed_episode(fake_slack: FakeSlack, sqlite_url: str) -> Iterator[str]:
    """One episode closed eight years before the real clock (the command uses the real one)."""
    started = datetime.now(UTC) - relativedelta(years=8)
    running = start_bot(fake_slack, sqlite_url, clock=FakeClock(started))
    log(running, "Amy Adams", "2005-03-04")
    ok(running, "returned M-1")
    ok(running, "rhi M-1 done")
    running.stop()
    yield sqlite_url


def test_purge_command_dry_run_then_purge(old_closed_episode: str, tmp_path: Path) -> None:
    dry = cli(["purge", "--older-than", "6", "--dry-run"], old_closed_episode, tmp_path)
    assert dry.returncode == 0, dry.stderr
    lines = dry.stdout.splitlines()
    assert lines[0].startswith("dry run: would purge 1 episodes") and "1 children" in lines[0]
    assert "nothing was changed" in lines[0]
    assert lines[1:] == ["M-1"]
    engine = make_engine(old_closed_episode)
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(Episode)) == 1
        assert conn.scalar(select(func.count()).where(AuditEvent.action == "records.purged")) == 0

    done = cli(["purge", "--older-than", "6"], old_closed_episode, tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [done.stdout.strip()]
    assert done.stdout.startswith("purged 1 episodes") and "M-1" not in done.stdout
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(Episode)) == 0
        detail = conn.scalar(select(AuditEvent.detail).where(AuditEvent.action == "records.purged"))
        assert detail["refs"] == ["M-1"] and detail["episodes"] == 1
        actor = conn.scalar(select(AuditEvent.actor).where(AuditEvent.action == "records.purged"))
        assert actor == "cli"
    engine.dispose()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--older-than", "0"], "refusing to purge records closed less than 1 year ago"),
        (["--older-than", "0.5"], "refusing to purge"),
        (["--older-than", "six"], "six is not a number of years"),
        (["--older-than", "-1"], "is not a number of years"),
        ([], "the following arguments are required: --older-than"),
        (["--older-than", "6", "--now"], "unrecognized arguments: --now"),
    ],
)
def test_purge_command_refuses_bad_arguments_in_one_line(
    old_closed_episode: str, tmp_path: Path, args: list[str], message: str
) -> None:
    result = cli(["purge", *args], old_closed_episode, tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr
    assert result.stdout == ""


def test_purge_command_needs_an_existing_migrated_database(tmp_path: Path) -> None:
    missing = cli(["purge", "--older-than", "6"], f"sqlite:///{tmp_path}/none.sqlite3", tmp_path)
    assert missing.returncode == 2
    assert missing.stderr.strip().splitlines() == [
        f"missing-bot purge: no database at {tmp_path}/none.sqlite3: check DATABASE_URL"
    ]
    assert not (tmp_path / "none.sqlite3").exists()
    behind = f"sqlite:///{tmp_path}/old.sqlite3"
    engine = make_engine(behind)
    upgrade(engine, "0002")
    engine.dispose()
    result = cli(["purge", "--older-than", "6"], behind, tmp_path)
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert "database at revision 0002" in line and "run missing-bot migrate" in line


# -- migration 0004 on a database that already holds records ------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def database_at_0002(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A new database migrated only to 0002 (the shared test databases are already at head)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/at-0002.sqlite3"
        return
    if not PG_URL:
        pytest.skip("TEST_DATABASE_URL not set: PostgreSQL tests not run")
    name = f"missing_bot_mig_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_migration_0004_keeps_every_row_and_the_append_only_triggers(
    database_at_0002: str,
) -> None:
    engine = make_engine(database_at_0002)
    upgrade(engine, "0003")  # the revision before the one under test
    assert current_revision(engine) == "0003"
    old = T0 - relativedelta(years=10)
    with engine.begin() as conn:
        conn.execute(
            insert(Child).values(
                id=1,
                full_name="Amy Adams",
                name_key="amy adams",
                date_of_birth=datetime(2005, 3, 4).date(),
                created_at=old,
            )
        )
        conn.execute(insert(Episode).values(**_closed_episode(1, child_id=1, at=old)))
        conn.execute(insert(ReturnInterview).values(**_closed_rhi(1, at=old)))
        conn.execute(
            insert(AuditEvent),
            [
                {"at": old, "actor": "U1", "action": "child.created", "child_id": 1, "detail": {}},
                {
                    "at": old,
                    "actor": "U1",
                    "action": "episode.logged",
                    "episode_id": 1,
                    "child_id": 1,
                    "detail": {"risk": "low", "channel": "CCONTROL"},
                },
            ],
        )
        conn.execute(
            insert(OutboxMessage).values(
                key="episode:1:post",
                kind="episode_posted",
                target="CCONTROL",
                episode_id=1,
                in_thread=False,
                payload={"text": "M-1"},
                status="sent",
                attempts=1,
                not_before=old,
                created_at=old,
            )
        )
    audit_before = _rows(engine, "audit_events")
    others_before = {
        t: _rows(engine, t) for t in ("children", "episodes", "return_interviews", "outbox")
    }

    upgrade(engine)

    assert current_revision(engine) == head_revision()
    assert _rows(engine, "audit_events") == audit_before
    # Later migrations may add columns (0008: episodes.review_due_at): compare those there were.
    assert {t: _rows(engine, t, like=rows) for t, rows in others_before.items()} == others_before
    schema = inspect(engine)
    assert schema.get_foreign_keys("audit_events") == []
    assert {i["name"] for i in schema.get_indexes("audit_events")} >= {
        "ix_audit_events_at",
        "ix_audit_events_episode_id",
        "ix_audit_events_child_id",
    }
    # The outbox keeps its keys: the purge deletes its rows first.
    assert len(schema.get_foreign_keys("outbox")) == 2
    _assert_append_only(engine)
    # What the migration is for: the records can go, the trail that names them stays.
    with engine.begin() as conn:
        conn.execute(delete(OutboxMessage))
        conn.execute(delete(ReturnInterview))
        conn.execute(delete(Episode))
        conn.execute(delete(Child))
    assert _rows(engine, "audit_events") == audit_before
    engine.dispose()


def _rows(
    engine: Any, table: str, *, like: list[dict[str, Any]] | None = None
) -> list[dict[str, Any]]:
    """The table's rows as this revision of the database has them (reflected, not the models,
    which may know newer columns); with `like`, only the columns those rows had."""
    with engine.connect() as conn:
        reflected = Table(table, MetaData(), autoload_with=conn)
        rows = conn.execute(select(reflected).order_by(reflected.c.id)).mappings()
        kept = set(like[0]) if like else None
        return [{k: v for k, v in r.items() if kept is None or k in kept} for r in rows]


def _assert_append_only(engine: Any) -> None:
    for statement in (
        update(AuditEvent).values(actor="someone else"),
        delete(AuditEvent),
        delete(AuditEvent).where(AuditEvent.id == 1),
    ):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(statement)
