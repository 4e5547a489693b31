"""Faults: what the bot promises when its process dies, its database goes away or Slack is slow.

- The SQLite file is private.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from storage.db import Database
from storage.migrate import upgrade

# -- the SQLite file is private --------------------------------------------------------------


@pytest.mark.parametrize(
    "umask", [0o000, 0o022, 0o077], ids=["umask-000", "umask-022", "umask-077"]
)
def test_sqlite_file_wal_shm_and_new_folders_are_private(tmp_path: Path, umask: int) -> None:
    """Whatever the umask (0 is the worst case: nothing taken away), the database file, its
    -wal and -shm, and every folder the bot creates for them are the owner's alone."""
    existing = tmp_path / "existing"
    existing.mkdir(mode=0o755)
    existing.chmod(0o755)
    path = existing / "new" / "deeper" / "bot.sqlite3"
    previous = os.umask(umask)
    try:
        db = Database.from_url(f"sqlite:///{path}")
        try:
            upgrade(db.engine)
            with db.engine.connect() as conn:  # an open connection keeps -wal and -shm there
                conn.exec_driver_sql("SELECT count(*) FROM episodes").scalar()
                modes = {
                    p.relative_to(tmp_path).as_posix(): stat.S_IMODE(p.stat().st_mode)
                    for p in (
                        existing,
                        existing / "new",
                        existing / "new" / "deeper",
                        path,
                        path.with_name("bot.sqlite3-wal"),
                        path.with_name("bot.sqlite3-shm"),
                    )
                }
        finally:
            db.dispose()
    finally:
        os.umask(previous)
    assert modes == {
        "existing": 0o755,  # not created by the bot: left alone
        "existing/new": 0o700,
        "existing/new/deeper": 0o700,
        "existing/new/deeper/bot.sqlite3": 0o600,
        "existing/new/deeper/bot.sqlite3-wal": 0o600,
        "existing/new/deeper/bot.sqlite3-shm": 0o600,
    }


def test_an_existing_sqlite_file_keeps_its_mode(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    path.touch(mode=0o640)
    path.chmod(0o640)
    db = Database.from_url(f"sqlite:///{path}")
    try:
        db.ping()
    finally:
        db.dispose()
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
