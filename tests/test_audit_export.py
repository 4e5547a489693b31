"""Reading the audit trail: `missing-bot audit` (CSV of local days, private file, audited) and
`AuditLog.for_episode` (newest first, audited)."""

from __future__ import annotations

import csv
import dataclasses
import json
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from dateutil.relativedelta import relativedelta
from sqlalchemy import func, insert, select, text

from bot.clock import FakeClock
from bot.domain.audit_trail import local_days, summarise_detail
from bot.domain.errors import UserError
from bot.private_file import PrivateFile
from bot.services.access import Caller
from bot.services.audit_log import CSV_HEADER, AuditEntry
from fakeslack import FakeSlack
from storage import audit_queries
from storage.db import make_engine
from storage.models import AuditEvent
from tests.support.harness import CONTROL, LOGGER, TEAM, Bot, start_bot

# Retention, streaming and the audit trigger differ between the databases.
pytestmark = pytest.mark.both_databases

LONDON = ZoneInfo("Europe/London")
ROOT = Path(__file__).resolve().parent.parent


def utc(text_: str) -> datetime:
    return datetime.fromisoformat(text_).replace(tzinfo=UTC)


def list_at(bot: Bot, when: datetime) -> None:
    """One audit row (`episodes.listed`) at exactly `when`."""
    bot.clock.set(when)
    bot.slash("list")


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert tuple(rows[0]) == CSV_HEADER
    return [dict(zip(CSV_HEADER, row, strict=True)) for row in rows[1:]]


def export(bot: Bot, first: date, last: date, path: Path, *, force: bool = False) -> int:
    return bot.services.audit_log.export(
        first, last, PrivateFile(path, overwrite=force), actor="cli"
    ).rows


@pytest.fixture
def out_dir(tmp_path: Path) -> Path:
    """A folder of its own (tmp_path also holds the test's SQLite database)."""
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


# -- local days ---------------------------------------------------------------------------------


def test_days_are_london_days_and_the_last_is_included(bot: Bot, out_dir: Path) -> None:
    for when in (
        "2026-06-30T22:59:59",  # 23:59:59 BST on 30 June: before
        "2026-06-30T23:00:00",  # 00:00 BST on 1 July: the first moment in
        "2026-07-02T22:59:59",  # 23:59:59 BST on 2 July: the last moment in
        "2026-07-02T23:00:00",  # 00:00 BST on 3 July: after
    ):
        list_at(bot, utc(when))
    out = out_dir / "july.csv"
    assert export(bot, date(2026, 7, 1), date(2026, 7, 2), out) == 2
    rows = read_csv(out)
    assert [r["at_utc"] for r in rows] == ["2026-06-30T23:00:00+00:00", "2026-07-02T22:59:59+00:00"]
    assert [r["at_local"] for r in rows] == [
        "2026-07-01T00:00:00+01:00",
        "2026-07-02T23:59:59+01:00",
    ]


def test_the_day_the_clocks_go_back_has_25_hours() -> None:
    start, end = local_days(date(2026, 10, 25), date(2026, 10, 25), LONDON)
    assert (start, end) == (utc("2026-10-24T23:00:00"), utc("2026-10-26T00:00:00"))
    assert end - start == timedelta(hours=25)
    start, end = local_days(date(2026, 3, 29), date(2026, 3, 29), LONDON)
    assert end - start == timedelta(hours=23)


def test_a_range_that_ends_before_it_starts_is_refused() -> None:
    with pytest.raises(UserError, match="before it starts"):
        local_days(date(2026, 7, 2), date(2026, 7, 1), LONDON)


# -- what a row says ----------------------------------------------------------------------------


def test_each_row_has_reference_child_channel_and_compact_detail(bot: Bot, out_dir: Path) -> None:
    bot.log_episode(child_name="Amy Adams")
    bot.slash("returned M-1 now")
    in_db = bot.audit()
    out = out_dir / "day.csv"
    export(bot, date(2026, 11, 24), date(2026, 11, 24), out)
    rows = read_csv(out)
    assert [r["id"] for r in rows] == [str(e.id) for e in in_db]
    assert [r["action"] for r in rows] == ["child.created", "episode.logged", "episode.returned"]
    created, logged, returned = rows
    assert (created["reference"], created["child_id"]) == ("", str(in_db[0].child_id))
    assert (logged["reference"], logged["actor"], logged["channel"]) == ("M-1", LOGGER, CONTROL)
    assert returned["channel"] == CONTROL  # every request from Slack says where it came from
    assert " " not in logged["detail"]  # compact JSON
    assert json.loads(logged["detail"]) == in_db[1].detail
    assert logged["at_utc"] == "2026-11-24T12:00:00+00:00"
    assert logged["at_local"] == "2026-11-24T12:00:00+00:00"  # GMT in November
    # The names are nowhere in the trail, so nowhere in its export.
    assert "Amy" not in out.read_text()


def test_an_export_is_itself_recorded(bot: Bot, out_dir: Path) -> None:
    list_at(bot, utc("2026-11-24T12:00:00"))
    bot.clock.set(utc("2026-11-25T09:00:00"))
    out = out_dir / "trail.csv"
    export(bot, date(2026, 11, 24), date(2026, 11, 24), out)
    (row,) = bot.audit("audit.exported")
    assert (row.actor, row.at) == ("cli", utc("2026-11-25T09:00:00"))
    assert row.detail == {
        "first_day": "2026-11-24",
        "last_day": "2026-11-24",
        "rows": 1,
        "file": str(out),
    }


def test_rows_are_streamed_in_chunks(
    bot: Bot, out_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Chunks of 7 over 50 rows: every row once, in order, whatever the chunk boundaries."""
    monkeypatch.setattr(audit_queries, "STREAM_CHUNK", 7)
    start = utc("2026-11-24T00:00:00")
    with bot.services.db.transaction() as session:
        session.execute(
            insert(AuditEvent),
            [
                {"at": start + timedelta(minutes=i), "actor": "U1", "action": "x", "detail": {}}
                for i in range(50)
            ],
        )
    out = out_dir / "many.csv"
    assert export(bot, date(2026, 11, 24), date(2026, 11, 24), out) == 50
    assert [int(r["id"]) for r in read_csv(out)] == list(range(1, 51))


def test_on_postgresql_the_rows_come_through_a_server_side_cursor(pg_bot: Bot) -> None:
    with pg_bot.services.db.transaction() as session:
        session.execute(
            insert(AuditEvent),
            [{"at": utc("2026-11-24T10:00:00"), "actor": "U1", "action": "x", "detail": {}}] * 3,
        )
    start, end = local_days(date(2026, 11, 24), date(2026, 11, 24), LONDON)
    with pg_bot.services.db.read() as session:
        rows = audit_queries.between(session, start=start, end=end)
        next(rows)
        open_cursors = session.scalar(text("SELECT count(*) FROM pg_cursors"))
        assert open_cursors and open_cursors >= 1
        assert len(list(rows)) == 2


@pytest.fixture
def pg_bot(fake_slack: FakeSlack, pg_database: str) -> Iterator[Bot]:
    from tests.conftest import _reset_postgres

    _reset_postgres(pg_database)
    running = start_bot(fake_slack, pg_database)
    yield running
    running.stop()


# -- the file -----------------------------------------------------------------------------------


def test_the_file_is_private_and_appears_only_when_complete(bot: Bot, out_dir: Path) -> None:
    list_at(bot, utc("2026-11-24T12:00:00"))
    old_umask = os.umask(0)  # even a careless umask does not widen the file
    try:
        out = out_dir / "private.csv"
        export(bot, date(2026, 11, 24), date(2026, 11, 24), out)
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert sorted(p.name for p in out_dir.iterdir()) == ["private.csv"]  # no temporary left


def test_an_existing_file_is_kept_unless_forced(bot: Bot, out_dir: Path) -> None:
    list_at(bot, utc("2026-11-24T12:00:00"))
    out = out_dir / "trail.csv"
    out.write_text("someone's notes\n")
    out.chmod(0o644)
    with pytest.raises(FileExistsError):
        export(bot, date(2026, 11, 24), date(2026, 11, 24), out)
    assert out.read_text() == "someone's notes\n"
    assert bot.audit("audit.exported") == []
    export(bot, date(2026, 11, 24), date(2026, 11, 24), out, force=True)
    assert len(read_csv(out)) == 1
    assert stat.S_IMODE(out.stat().st_mode) == 0o600  # a new file, not the old one rewritten


def test_a_failed_export_leaves_no_file_and_no_record(
    bot: Bot, out_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    list_at(bot, utc("2026-11-24T12:00:00"))

    def broken(*_args: object, **_kwargs: object) -> Iterator[object]:
        yield from ()
        raise RuntimeError("connection lost")

    monkeypatch.setattr(audit_queries, "between", broken)
    out = out_dir / "trail.csv"
    with pytest.raises(RuntimeError):
        export(bot, date(2026, 11, 24), date(2026, 11, 24), out)
    assert list(out_dir.iterdir()) == []
    assert bot.audit("audit.exported") == []


# -- one episode's trail ------------------------------------------------------------------------


def test_for_episode_newest_first_summarised_and_audited(bot: Bot) -> None:
    bot.log_episode(child_name="Amy Adams")
    bot.clock.advance(hours=1)
    bot.slash("returned M-1 found at a friend's")
    bot.clock.advance(hours=1)
    bot.slash("show M-1")
    bot.log_episode(child_name="Ben Brown")  # M-2: not in M-1's trail
    bot.clock.advance(hours=1)

    entries = bot.services.audit_log.for_episode(1, actor="UAUDITOR")

    assert [e.action for e in entries] == ["episode.viewed", "episode.returned", "episode.logged"]
    assert all(isinstance(e, AuditEntry) for e in entries)
    with pytest.raises(dataclasses.FrozenInstanceError):
        entries[0].actor = "someone"  # type: ignore[misc]
    logged = entries[-1]
    assert (logged.actor, logged.at) == (LOGGER, utc("2026-11-24T12:00:00"))
    assert "risk=high" in logged.summary and f"channel={CONTROL}" in logged.summary
    (viewed,) = bot.audit("audit.viewed")
    assert (viewed.actor, viewed.episode_id, viewed.detail) == ("UAUDITOR", 1, {"rows": 3})
    assert viewed.at == bot.clock.now()
    # Looking at the trail is in the trail, but not in the episode's own history.
    assert bot.services.audit_log.for_episode(1, actor="UAUDITOR", limit=1)[0].action == (
        "audit.viewed"
    )
    history = bot.services.episodes.show(1, Caller(LOGGER, TEAM)).history
    assert "audit.viewed" not in [h.action for h in history]


def test_for_episode_limits_and_refuses_silly_limits(bot: Bot) -> None:
    bot.log_episode()
    for _ in range(4):
        bot.slash("show M-1")
    assert len(bot.services.audit_log.for_episode(1, actor="U1", limit=2)) == 2
    for limit in (0, 1001):
        with pytest.raises(ValueError):
            bot.services.audit_log.for_episode(1, actor="U1", limit=limit)


def test_a_summary_never_runs_long() -> None:
    detail = {
        "refs": [f"M-{i}" for i in range(1000)],
        "reason": "x" * 500,
        "nested": {"a": 1},
        "none": None,
        "risk": "high",
    }
    summary = summarise_detail(detail)
    assert len(summary) <= 120
    assert summary.startswith("nested={…}, reason=xxx")
    assert "refs=[1000 items]" in summarise_detail({"refs": detail["refs"]})
    assert summarise_detail({"a": None, "b": ""}) == ""


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
        umask=0o022,
    )


@pytest.fixture
def trail(fake_slack: FakeSlack, sqlite_url: str) -> str:
    """A database with a few audit rows from yesterday (real time: the command's clock)."""
    yesterday = datetime.now(UTC) - relativedelta(days=1)
    running = start_bot(fake_slack, sqlite_url, clock=FakeClock(yesterday))
    running.log_episode(last_seen_at=yesterday - timedelta(hours=1))
    running.stop()
    return sqlite_url


def test_audit_command_writes_a_private_csv(trail: str, tmp_path: Path) -> None:
    today = datetime.now(LONDON).date()
    first = (today - timedelta(days=3)).isoformat()
    result = cli(
        ["audit", "--from", first, "--to", today.isoformat(), "--out", "trail.csv"],
        trail,
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    out = tmp_path / "trail.csv"
    assert result.stdout.strip() == (
        f"exported 2 audit rows for {first} to {today} (Europe/London days) to {out}"
    )
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert [r["action"] for r in read_csv(out)] == ["child.created", "episode.logged"]
    engine = make_engine(trail)
    with engine.connect() as conn:
        exported = conn.scalar(
            select(AuditEvent.detail).where(AuditEvent.action == "audit.exported")
        )
        assert exported == {"first_day": first, "last_day": str(today), "rows": 2, "file": str(out)}
    engine.dispose()

    again = cli(
        ["audit", "--from", first, "--to", str(today), "--out", "trail.csv"], trail, tmp_path
    )
    assert again.returncode == 2
    assert again.stderr.strip().splitlines() == [
        f"missing-bot audit: {out} already exists (use --force to replace it)"
    ]
    forced = cli(
        ["audit", "--from", first, "--to", str(today), "--out", "trail.csv", "--force"],
        trail,
        tmp_path,
    )
    assert forced.returncode == 0, forced.stderr
    # The second export includes the first one's record.
    assert [r["action"] for r in read_csv(out)][-1] == "audit.exported"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--from", "2026-13-01", "--to", "2026-12-01"],
            "2026-13-01 is not a date: use YYYY-MM-DD",
        ),
        (["--from", "24/11/2026", "--to", "2026-12-01"], "24/11/2026 is not a date"),
        (
            ["--from", "2026-12-02", "--to", "2026-12-01"],
            "--to 2026-12-01 is before --from 2026-12-02",
        ),
        (["--from", "2026-12-01"], "the following arguments are required: --to"),
        (["--from", "2026-12-01", "--to", "2026-12-01", "--out", "no/such/dir/x.csv"], "no folder"),
    ],
)
def test_audit_command_refuses_bad_arguments_in_one_line(
    trail: str, tmp_path: Path, args: list[str], message: str
) -> None:
    if "--out" not in args:
        args = [*args, "--out", "x.csv"]
    result = cli(["audit", *args], trail, tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr
    assert not (tmp_path / "x.csv").exists()
    engine = make_engine(trail)
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).where(AuditEvent.action == "audit.exported")) == 0
    engine.dispose()
