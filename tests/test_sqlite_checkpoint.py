"""SQLite's WAL is copied back into the database by the scheduler's tick, not inside whichever
commit crosses 1,000 pages (at a million episodes that commit held up its caller 0.7-0.9 s)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy import text

from bot.scheduler import _tick
from storage.db import Database

ROWS_PER_COMMIT = 200
COMMITS = 30  # 6,000 rows of ~2 KiB: about 3,000 pages, three times SQLite's own threshold


def _in_database_file(path: Path) -> int:
    """Rows as the database file alone holds them (`immutable` reads no WAL)."""
    reader = sqlite3.connect(f"file:{path}?immutable=1", uri=True)
    try:
        return int(reader.execute("SELECT count(*) FROM filler").fetchone()[0])
    finally:
        reader.close()


class _Pass:
    """The scheduler's view of a sweeper: a pass that writes, and the database it uses."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.passes = 0

    def run_once(self) -> None:
        self.passes += 1
        for _ in range(COMMITS):
            with self.db.transaction() as session:
                session.execute(
                    text("INSERT INTO filler (body) VALUES (:body)"),
                    [{"body": "x" * 2000} for _ in range(ROWS_PER_COMMIT)],
                )


def test_commits_leave_the_wal_to_the_tick(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    db = Database.from_url(f"sqlite:///{path}")
    try:
        with db.transaction() as session:
            session.execute(text("CREATE TABLE filler (id INTEGER PRIMARY KEY, body TEXT)"))
        db.checkpoint()
        sweeper = _Pass(db)
        sweeper.run_once()
        # No commit copied the WAL back, although it grew far past SQLite's default 1,000 pages.
        wal_pages = (tmp_path / "bot.sqlite3-wal").stat().st_size // 4096
        assert wal_pages > 2_000, wal_pages
        assert _in_database_file(path) == 0

        _tick(sweeper)  # type: ignore[arg-type]
        assert sweeper.passes == 2
        assert _in_database_file(path) == 2 * COMMITS * ROWS_PER_COMMIT
    finally:
        db.dispose()


def test_an_idle_file_checkpoints_quietly_and_keeps_the_backstop(tmp_path: Path) -> None:
    db = Database.from_url(f"sqlite:///{tmp_path / 'idle.sqlite3'}")
    try:
        db.checkpoint()  # nothing written yet: no error
        with db.read() as session:
            assert session.execute(text("PRAGMA wal_autocheckpoint")).scalar() == 10_000
    finally:
        db.dispose()
