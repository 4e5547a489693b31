"""The query plans of the hot paths on PostgreSQL at a million episodes.

    python -m bench.explain [--size 1000000] [--out docs/benchmarks.md]

On a working copy of the cached seed (bench/seed.py), the real bot does what a busy minute
does: a scheduler pass with work due (the day's digest among it, late at the seed's noon), a
second pass with nothing due, `/missing new` (the incident-reference and child lookups), a
reminder's button looked up by its message (`outbox (channel, ts)`), `/missing list`,
`/missing show`, `/missing rhi`, `/missing digest`. Every statement it
sends is recorded as sent (SQL and parameters), and each distinct one is then run again under
`EXPLAIN (ANALYZE, BUFFERS)` in a transaction that is rolled back, on a second copy of the
seed (so in the state the statements first met). The report lists, per
statement, the plan's top access paths, rows read, shared buffers touched and execution time,
and flags a sequential scan of a large table: the thing this benchmark exists to catch.

Statements are recorded from the bot itself, not written here, so a query changed in the code
is the query explained.
"""

from __future__ import annotations

import argparse
import json
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, select

from bench import databases, report
from bench.scheduler import _answers, _open_form, start_stack
from bench.seed import add_seed_arguments, config_from_args
from fakeslack import FakeSlack
from storage import queries
from storage.models import OutboxMessage

# A sequential scan over more rows than this is a hot path that does not scale.
LARGE_TABLE_ROWS = 10_000


@dataclass
class Recorded:
    step: str
    sql: str
    params: Any


class StatementLog:
    """Every statement the engine sends while `step` is set, with its parameters."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.step = ""
        self.seen: dict[str, Recorded] = {}
        event.listen(engine, "before_cursor_execute", self._record)

    def _record(
        self, conn: Any, cursor: Any, sql: str, params: Any, context: Any, many: bool
    ) -> None:
        if not self.step or many:
            return
        verb = sql.lstrip().split(None, 1)[0].upper()
        if verb not in ("SELECT", "UPDATE", "DELETE", "INSERT", "WITH"):
            return
        key = re.sub(r"\s+", " ", sql).strip()
        self.seen.setdefault(key, Recorded(self.step, sql, params))

    @contextmanager
    def during(self, step: str) -> Iterator[None]:
        self.step = step
        try:
            yield
        finally:
            self.step = ""

    def close(self) -> None:
        event.remove(self.engine, "before_cursor_execute", self._record)


@dataclass
class Plan:
    step: str
    statement: str
    access: list[str]
    rows_read: int
    buffers: int
    ms: float
    seq_scans: list[str]
    ran: bool


def _walk(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("Plans", []):
        yield from _walk(child)


def _access(node: dict[str, Any]) -> str | None:
    kind = node["Node Type"]
    if "Scan" not in kind:
        return None
    relation = node.get("Relation Name", "?")
    index = node.get("Index Name")
    return f"{kind} on {relation}" + (f" using {index}" if index else "")


def _scanned(node: dict[str, Any]) -> int:
    """Rows a scan node read: those it returned and those its filter threw away, every loop."""
    loops = node.get("Actual Loops", 1)
    return int((node.get("Actual Rows", 0) + node.get("Rows Removed by Filter", 0)) * loops)


def explain(engine: Engine, recorded: Recorded) -> Plan:
    # An INSERT of one row has no plan worth reading, and run again it would meet the row it
    # already inserted: its plan is shown without running it.
    verb = recorded.sql.lstrip().split(None, 1)[0].upper()
    options = "FORMAT JSON" if verb == "INSERT" else "ANALYZE, BUFFERS, FORMAT JSON"
    with engine.connect() as conn:
        transaction = conn.begin()
        try:
            raw = conn.exec_driver_sql(
                f"EXPLAIN ({options}) " + recorded.sql, recorded.params
            ).scalar_one()
        finally:
            transaction.rollback()
    found = raw if isinstance(raw, list) else json.loads(raw)
    top = found[0]
    nodes = list(_walk(top["Plan"]))
    scans = [n for n in nodes if "Scan" in n["Node Type"]]
    access = sorted({a for n in scans if (a := _access(n))})
    seq = [
        f"{n.get('Relation Name')} ({_scanned(n):,} rows)"
        for n in scans
        if n["Node Type"] == "Seq Scan" and _scanned(n) > LARGE_TABLE_ROWS
    ]
    rows_read = sum(_scanned(n) for n in scans)
    plan = top["Plan"]
    buffers = int(plan.get("Shared Hit Blocks", 0) + plan.get("Shared Read Blocks", 0))
    return Plan(
        recorded.step,
        _label(recorded.sql),
        access,
        rows_read,
        buffers,
        float(top.get("Execution Time", 0.0)),
        seq,
        "Execution Time" in top,
    )


def _label(sql: str) -> str:
    """The statement, shortened for a table cell: verb, tables and conditions."""
    flat = re.sub(r"\s+", " ", sql).strip()
    flat = re.sub(r"SELECT .*? FROM ", "SELECT ... FROM ", flat, count=1)
    return (flat[:220] + " ...") if len(flat) > 220 else flat


def exercise(stack: Any, log: StatementLog) -> None:
    """What a busy minute asks of the database, through the real app where it can."""
    services = stack.services
    with log.during("scheduler pass (work due)"):
        services.sweeper.run_once()
    with log.during("scheduler pass (nothing new due)"):
        services.sweeper.run_once()
    view, _ = _open_form(stack)
    with log.during("/missing new (submit)"):
        response = stack.sender.submit_answers(view, _answers(1, stack.clock.now()))
        if response.status != 200 or response.body:
            raise RuntimeError(f"/missing new was not saved: {response.status} {response.body}")
    with services.db.read() as session:
        posted = session.execute(
            select(OutboxMessage.channel, OutboxMessage.ts)
            .where(OutboxMessage.ts.is_not(None))
            .order_by(OutboxMessage.id.desc())
            .limit(1)
        ).one()
    with log.during("button: message -> outbox row"), services.db.read() as session:
        queries.outbox_by_message(session, channel=posted.channel, ts=posted.ts)
    for text in ("list", "show M-1", "rhi", "digest"):
        with log.during(f"/missing {text}"):
            response = stack.sender.slash(text)
            if response.status != 200:
                raise RuntimeError(f"/missing {text} answered {response.status}")


def markdown(plans: list[Plan], *, size: int, seconds: float) -> str:
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "",
        f"## Query plans, PostgreSQL, {size:,} history episodes ({when})",
        "",
        f"`python -m bench.explain --size {size}`: every statement the bot sent during a pass",
        "with work due, a pass with nothing due, `/missing new`, a button's message lookup,",
        "`/missing list`, `show`, `rhi` and `digest`, each re-run under",
        "`EXPLAIN (ANALYZE, BUFFERS)` on a fresh copy of the seed and rolled back",
        f"({len(plans)} distinct statements, {seconds:.0f} s in all). A sequential",
        f"scan reading more than {LARGE_TABLE_ROWS:,} rows is flagged.",
        "",
        "| step | statement | access paths | rows read | buffers | time | flag |",
        "|---|---|---|---|---|---|---|",
    ]
    for p in sorted(plans, key=lambda p: -p.ms):
        flag = "**seq scan: " + ", ".join(p.seq_scans) + "**" if p.seq_scans else ""
        statement = p.statement.replace("|", "\\|")
        paths = "; ".join(p.access) or "-"
        measured = f"{p.rows_read:,} | {p.buffers:,} | {p.ms:.2f} ms" if p.ran else "not run | | "
        lines.append(f"| {p.step} | `{statement}` | {paths} | {measured} | {flag} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_seed_arguments(parser)
    parser.add_argument("--out", default=None, help="Markdown file to append the table to")
    parser.set_defaults(size=1_000_000, backend="postgresql")
    args = parser.parse_args(argv)
    config = config_from_args(args)
    started = time.perf_counter()
    seeded = databases.seed_in_subprocess("postgresql", config, pg_url=args.pg_url, reseed=False)
    # The statements are recorded on one copy and explained on another, still as seeded: the
    # pass's claim is then explained with its 100 follow-ups due, as when it ran, not on the
    # state the pass left behind (nothing due, which the planner treats quite differently).
    url = databases.work_copy(seeded, "explain-run")
    fresh = databases.work_copy(seeded, "explain-plans")
    try:
        with FakeSlack() as fake:
            stack = start_stack(fake, url, config.now, web=True)
            log = StatementLog(stack.services.db.engine)
            try:
                exercise(stack, log)
            finally:
                log.close()
                stack.stop()
        engine = create_engine(fresh)
        try:
            plans = [explain(engine, recorded) for recorded in log.seen.values()]
        finally:
            engine.dispose()
    finally:
        databases.drop_copy(url)
        databases.drop_copy(fresh)
    text = markdown(plans, size=config.size, seconds=time.perf_counter() - started)
    print(text)
    flagged = [p for p in plans if p.seq_scans]
    print(f"{len(plans)} statements, {len(flagged)} with a large sequential scan")
    if args.out:
        report.append(Path(args.out), text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
