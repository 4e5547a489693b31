"""Every query the digest and the handover run reads an index range, never a whole table: so
they cost what the period holds, the same at a million episodes as at a thousand.

Checked with SQLite's own planner (EXPLAIN QUERY PLAN) on every statement a digest, its
chart and a handover actually run. A full scan shows as `SCAN <table>`; a lookup as
`SEARCH <table> USING ... INDEX <name> (<constraints>)`. A search constrained by a status
alone reads every row of that status: allowed only for the statuses that are open work by
nature (an episode still missing, an interview still open, a check still to do), never for
`returned` or the counted statuses, which are the whole history.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
from sqlalchemy import event

from tests.services.conftest import LOGGER, World, as_, make_world
from tests.support.digest_seed import Ep, Rhi, seed

BIG_TABLES = ("episodes", "return_interviews", "outbox", "children", "audit_events", "digests")
FULL_SCAN = re.compile(r"^SCAN (\w+)")
SEARCH = re.compile(r"^SEARCH (\w+) USING (?:COVERING )?INDEX \w+ \((.*)\)$")
# Rows of these statuses are work still open: few, whatever the history holds.
OPEN_WORK = {"missing", "pending", "offered", "to_be_done"}


@pytest.fixture
def statements(sqlite_url: str) -> Iterator[tuple[World, list[tuple[str, Any]]]]:
    world = make_world(sqlite_url)
    now = world.clock.now()
    seed(
        world.services.db,
        [
            Ep("Amy Adams", now - timedelta(hours=5), "high", looked_after=True, authority="X"),
            Ep(
                "Ben Brown",
                now - timedelta(hours=50),
                returned=now - timedelta(hours=2),
                rhi=Rhi(),
                safe_well="to_be_done",
            ),
        ],
    )
    seen: list[tuple[str, Any]] = []

    def remember(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, parameters))

    engine = world.services.db.engine
    event.listen(engine, "before_cursor_execute", remember)
    yield world, seen
    event.remove(engine, "before_cursor_execute", remember)
    world.services.close()


def unbounded_reads(world: World, seen: list[tuple[str, Any]]) -> list[str]:
    found = []
    with world.services.db.engine.connect() as conn:
        raw = conn.connection.dbapi_connection
        assert raw is not None
        for statement, parameters in seen:
            for row in raw.execute(f"EXPLAIN QUERY PLAN {statement}", parameters):
                detail = str(row[-1])
                if not _bounded(detail, statement, parameters):
                    found.append(f"{detail}  <-  {' '.join(statement.split())[:200]}")
    return found


def _bounded(detail: str, statement: str, parameters: Any) -> bool:
    scan = FULL_SCAN.match(detail)
    if scan:
        return scan.group(1).rstrip("_0123456789") not in BIG_TABLES
    search = SEARCH.match(detail)
    if search is None or search.group(2) not in ("status=?", "safe_well_status=?"):
        return True  # a key, or a range on a time or an id
    # Constrained by a status alone: every status the statement asks for must be open work.
    column = "safe_well_status" if search.group(2).startswith("safe") else "status"
    table = search.group(1).rstrip("_0123456789")
    return set(_bound_values(statement, parameters, f"{table}.{column}")) <= OPEN_WORK


def _bound_values(statement: str, parameters: Any, column: str) -> list[Any]:
    """The values bound to `column = ?` or `column IN (?, ...)` in the statement."""
    values = []
    for found in re.finditer(rf"{re.escape(column)} (?:= \?|IN \(([?, ]+)\))", statement):
        first = statement[: found.start()].count("?")
        count = found.group(1).count("?") if found.group(1) else 1
        values += list(parameters[first : first + count])
    return values


def test_digest_chart_and_handover_queries_use_indexes(
    statements: tuple[World, list[tuple[str, Any]]],
) -> None:
    world, seen = statements
    services = world.services
    services.digests.preview(as_(LOGGER))
    with services.db.read() as session:
        services.digests.builder.chart_days(session, occasion=world.clock.now().date())
        now = world.clock.now()
        services.digests.builder.handover(
            session,
            moment=now,
            as_of=now,
            previous_until=None,
            previous_moment=now - timedelta(hours=12),
            missed=(),
            next_at=datetime.combine(now.date() + timedelta(days=1), time(7), tzinfo=UTC),
        )
    touching = [s for s, _ in seen if any(t in s for t in ("episodes", "return_interviews"))]
    assert len(touching) > 30  # the digest's figures, lists, averages, chart; the handover's
    assert unbounded_reads(world, seen) == []
