"""The demo's moved clock, kept beside its database.

`:advance` moves the demo clock ahead of real time; the episodes, returns and reminders made
after it carry the moved times. Were the offset forgotten at a restart, those would lie in the
future (a return the interview is "before", an episode last seen tomorrow). So it is kept next
to the demo's SQLite file (`data/demo.sqlite3` -> `data/demo.clock.json`, mode 0600 like the
database): a file, because the demo must not add a table to the product's schema.
"""

from __future__ import annotations

import contextlib
import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy.engine import make_url

from bot.private_file import PrivateFile

log = logging.getLogger(__name__)

SUFFIX = ".clock.json"


@dataclass(frozen=True)
class ClockStore:
    path: Path
    database: Path

    @classmethod
    def beside(cls, database_url: str) -> ClockStore | None:
        """Next to a SQLite database file; None for any other database (nothing is kept)."""
        parsed = make_url(database_url)
        name = parsed.database
        if parsed.get_backend_name() != "sqlite" or not name or name == ":memory:":
            return None
        database = Path(name)
        return cls(database.with_name(database.stem + SUFFIX), database)

    def load(self) -> timedelta:
        """The offset kept for this database; none for a database that does not exist yet
        (the offset kept was for one since deleted, and goes with it)."""
        if not self.database.exists():
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()
            return timedelta()
        try:
            kept = json.loads(self.path.read_text(encoding="utf-8"))
            return timedelta(seconds=float(kept["offset_seconds"]))
        except FileNotFoundError:
            return timedelta()
        except (OSError, ValueError, KeyError, TypeError) as exc:
            # A damaged file must not stop the demo: real time, and say why in the log.
            log.warning("ignoring the demo clock in %s: %s", self.path, exc)
            return timedelta()

    def save(self, offset: timedelta) -> None:
        """Written whole or not at all (a temporary file moved into place), owner-only."""
        target = PrivateFile(self.path, overwrite=True)
        try:
            json.dump(
                {
                    "offset_seconds": offset.total_seconds(),
                    "saved_at": datetime.now(UTC).isoformat(timespec="seconds"),
                },
                target.stream,
            )
            target.publish()
        except BaseException:
            target.discard()
            raise
