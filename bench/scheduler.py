"""The scheduler benchmark: what one pass costs, and what it does to everything else.

    python -m bench.scheduler --backend sqlite|postgresql --size 10000|1000000 \
        [--open-rhis 20000] [--due 100] [--runs 3] [--out docs/benchmarks.md]

On a cached seed (bench/seed.py; made first, in a child process, if missing) it measures, each
on a fresh working copy so that every run starts from the same state:

1. One scheduler pass, `services.sweeper.run_once()`, built by `bot.app.build_services` with a
   FakeClock at the seed's `now` and the fake Slack, pace 0: the first pass (does the due work)
   and a second one right after (nothing new is due, only the scan), median of `--runs` copies.
   The first pass's due work alone (`FollowupRunner.run_due`: claim, decide, enqueue) is
   reported beside it; the rest of the pass is the outbox sending the messages, with Slack's
   pace of one message a second per channel switched off. A first pass slower than `--slow`
   seconds is not repeated. Also: outbox rows written, the
   longest write transaction (on SQLite the write lock: from BEGIN IMMEDIATE returning to COMMIT
   returning), and the peak RSS of this process during the pass.
2. `/missing new` while a pass runs: the real Bolt app behind waitress, signed requests from
   `fakeslack.SlackSender`. The form is opened with `/missing new`, then submitted while a first
   pass is planning; the time to the HTTP answer (Slack's acknowledgement) and whether the
   episode was saved. The same without a pass running, for comparison.
3. `/healthz`: `missing-bot serve` started as a process (`bench.serve`: the real command with
   its clock moved to the seed's `now`) on a fresh copy, polled every 50 ms until the first
   200, giving up after `--healthz-timeout` seconds.

Figures are printed and appended as a Markdown row to `--out` (see bench/report.py). A pass
that runs past `--timeout` is recorded as "> N s" and the run stops there.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, event, func, select

from bench import databases, report
from bench.seed import (
    CONTROL_CHANNEL,
    SAFEGUARDING_CHANNEL,
    SeedConfig,
    add_seed_arguments,
    config_from_args,
)
from bot.app import build_app, build_client, build_services
from bot.clock import FakeClock
from bot.services.container import Services
from bot.services.followups import RunResult
from bot.settings import Settings
from bot.web import WebApp, make_server, run_until_closed
from fakeslack import FakeSlack, SentResponse, SlackSender, ViewRecord
from storage.db import Database
from storage.models import OutboxMessage

ROOT = databases.ROOT
SIGNING_SECRET = "bench-signing-secret"
CALL_HANDLER = "UCONTROL1"
T = TypeVar("T")


class PassTimeout(Exception):
    def __init__(self, seconds: float) -> None:
        super().__init__(f"a pass ran past {seconds:.0f} s")
        self.seconds = seconds


# ---- the bot, as the tests run it ------------------------------------------------------------


def bench_settings(fake: FakeSlack, database_url: str) -> Settings:
    """The bot's defaults (quiet hours, reminder policy, stale threshold), except that Slack's
    pace of a message a second per channel is off: the pass is measured, not Slack."""
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        slack_bot_token="xoxb-bench",
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=fake.api_url,
        database_url=database_url,
        control_room_channel=CONTROL_CHANNEL,
        safeguarding_channel=SAFEGUARDING_CHANNEL,
        slack_channel_pace_seconds=0,
        # The call handler who logs episodes during the pass may do so.
        admin_user_ids=CALL_HANDLER,
    )


@dataclass
class Stack:
    fake: FakeSlack
    clock: FakeClock
    services: Services
    sender: SlackSender | None = None
    server: Any = None
    thread: threading.Thread | None = None

    def stop(self) -> None:
        if self.server is not None:
            self.server.task_dispatcher.shutdown(timeout=5)
            self.server.close()
        if self.thread is not None:
            self.thread.join(timeout=5)
        self.services.close()


def start_stack(fake: FakeSlack, url: str, now: datetime, *, web: bool) -> Stack:
    """As tests/support/harness.py `start_bot`: real services, real Bolt app behind waitress
    (with the production thread count), a fake clock; `web=False` for the services alone."""
    settings = bench_settings(fake, url)
    client = build_client(settings)
    clock = FakeClock(now)
    services = build_services(
        settings,
        client=client,
        clock=clock,
        db=Database.from_url(url),
        migrate=False,
        instance_id="bench",
    )
    stack = Stack(fake, clock, services)
    if web:
        app = build_app(settings, services, client=client)
        # loop_timeout, not waitress's asyncore_loop_timeout, which takes whole seconds: 0.05
        # passed there became 0 and kept a core spinning during the measurements.
        server = make_server(
            WebApp(app, services, scheduler_expected=True),
            host="127.0.0.1",
            port=0,
            loop_timeout=0.05,
        )
        stack.server = server
        stack.thread = threading.Thread(target=run_until_closed, args=(server,), daemon=True)
        stack.thread.start()
        stack.sender = SlackSender(
            f"http://127.0.0.1:{server.effective_port}/slack/events",
            SIGNING_SECRET,
            fake=fake,
            user_id=CALL_HANDLER,
            channel_id=CONTROL_CHANNEL,
            timeout=120,
        )
    return stack


# ---- instruments -----------------------------------------------------------------------------


class WriteTimer:
    """How long each write transaction lasted: from its BEGIN having returned (on SQLite the
    bot's BEGIN IMMEDIATE, so the write lock is held from then) to its COMMIT or ROLLBACK having
    returned. Read-only transactions (the bot's `Database.read`) take no write lock: skipped."""

    def __init__(self, engine: Engine) -> None:
        self.durations: list[float] = []
        self.recording = False
        self._open: dict[int, float] = {}
        self._lock = threading.Lock()
        # Registered after storage.db's own listener, so it runs once BEGIN IMMEDIATE is done.
        event.listen(engine, "begin", self._begin)
        dialect = engine.dialect
        commit, rollback = dialect.do_commit, dialect.do_rollback

        def do_commit(connection: Any) -> None:
            commit(connection)
            self._end(connection)

        def do_rollback(connection: Any) -> None:
            rollback(connection)
            self._end(connection)

        # Instance attributes shadow the methods: this engine's dialect only.
        dialect.do_commit = do_commit  # type: ignore[method-assign,assignment]
        dialect.do_rollback = do_rollback  # type: ignore[method-assign,assignment]

    def _begin(self, conn: Any) -> None:
        if conn.get_execution_options().get("readonly"):
            return
        with self._lock:
            self._open[id(conn.connection.dbapi_connection)] = time.perf_counter()

    def _end(self, connection: Any) -> None:
        ended = time.perf_counter()
        # The dialect is handed the pool's proxy; `begin` saw the DBAPI connection behind it.
        dbapi_connection = getattr(connection, "dbapi_connection", connection)
        with self._lock:
            started = self._open.pop(id(dbapi_connection), None)
            if started is not None and self.recording:
                self.durations.append(ended - started)

    @contextmanager
    def record(self) -> Iterator[list[float]]:
        self.durations = []
        self.recording = True
        try:
            yield self.durations
        finally:
            self.recording = False


def _proc_status(field_name: str) -> int | None:
    try:
        found = re.search(rf"{field_name}:\s+(\d+) kB", Path("/proc/self/status").read_text())
    except OSError:
        return None
    return int(found.group(1)) if found else None


def reset_peak_rss() -> bool:
    """Linux: writing 5 to clear_refs resets the peak (VmHWM) to the current RSS."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def peak_rss_mib() -> float | None:
    kib = _proc_status("VmHWM")
    if kib is None:
        import resource

        kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kib / 1024


def timed(fn: Callable[[], T], timeout: float) -> tuple[float, T]:
    """Run `fn` on its own thread; (seconds, result), or PassTimeout after `timeout` (the
    thread cannot be stopped: the caller records the figure and ends the run)."""
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["result"] = fn()
        except BaseException as exc:
            box["error"] = exc

    thread = threading.Thread(target=target, daemon=True, name="bench-pass")
    started = time.perf_counter()
    thread.start()
    thread.join(timeout)
    elapsed = time.perf_counter() - started
    if thread.is_alive():
        raise PassTimeout(elapsed)
    if "error" in box:
        raise box["error"]
    return elapsed, box["result"]


def max_outbox_id(db: Database) -> int:
    with db.read() as session:
        return int(session.scalar(select(func.max(OutboxMessage.id))) or 0)


def outbox_rows_since(db: Database, last_id: int) -> int:
    with db.read() as session:
        return int(session.scalar(select(func.count()).where(OutboxMessage.id > last_id)) or 0)


# ---- the figures -----------------------------------------------------------------------------


@dataclass
class Sample:
    slash_seconds: float
    submit_seconds: float
    saved: bool
    during_pass: bool
    answer: str = ""


@dataclass
class Figures:
    backend: str
    config: SeedConfig
    summary: dict[str, Any]
    first: list[float] = field(default_factory=list)
    # Of the first pass, the due work alone (claim, decide, enqueue): the rest is sending.
    due_work: list[float] = field(default_factory=list)
    second: list[float] = field(default_factory=list)
    rows_written: list[int] = field(default_factory=list)
    sent: list[int] = field(default_factory=list)
    # Every write transaction's duration, over all runs; and how many there were per pass.
    writes_first: list[float] = field(default_factory=list)
    writes_second: list[float] = field(default_factory=list)
    writes_per_first_pass: list[int] = field(default_factory=list)
    writes_per_second_pass: list[int] = field(default_factory=list)
    rss_mib: list[float] = field(default_factory=list)
    samples: list[Sample] = field(default_factory=list)
    idle: list[Sample] = field(default_factory=list)
    concurrent_pass_seconds: list[float] = field(default_factory=list)
    healthz_first_answer: float | None = None
    healthz_first_status: str = ""
    healthz_first_200: float | None = None
    healthz_detail: str = ""
    notes: list[str] = field(default_factory=list)
    # Which measurement ran past --timeout ("first", "second", "concurrent"), and after how long.
    timed_out: str | None = None
    timed_out_seconds: float = 0.0

    def cells(self, measured: set[str]) -> list[str]:
        c = self.config
        summary = self.summary
        written = "-"
        if self.rows_written:
            written = f"{statistics.median(self.rows_written):.0f} ({summary['first_pass_rows']})"
            written += f", {statistics.median(self.sent):.0f} sent"
        during = [s for s in self.samples if s.during_pass]
        return [
            self.backend,
            f"{c.size:,} + {c.open_rhis:,}",
            f"{summary['open_rhis']:,} / {summary['due_rhis']:,}",
            self._pass_cell(self.first, "first", measured),
            self._pass_cell(self.due_work, "first", measured),
            self._pass_cell(self.second, "second", measured),
            written,
            f"{_fmt_max(self.writes_first, self.writes_per_first_pass)} / "
            f"{_fmt_max(self.writes_second, self.writes_per_second_pass)}"
            if self.writes_first
            else "-",
            _samples_cell(during) if "concurrent" in measured else "-",
            _fmt(statistics.median(s.submit_seconds for s in self.idle)) if self.idle else "-",
            self._healthz_cell(measured),
            f"{max(self.rss_mib):,.0f} MiB" if self.rss_mib else "-",
        ]

    def _pass_cell(self, values: list[float], what: str, measured: set[str]) -> str:
        if self.timed_out == what and not values:
            return f"> {self.timed_out_seconds:.0f} s (stopped)"
        if not values:
            return "not reached" if "pass" in measured else "-"
        cell = _fmt(statistics.median(values))
        if len(values) > 1:
            cell += f" (median of {len(values)}: {_fmt(min(values))}-{_fmt(max(values))})"
        else:
            cell += " (1 run)"
        return cell

    def _healthz_cell(self, measured: set[str]) -> str:
        if "healthz" not in measured:
            return "-"
        if self.healthz_first_200 is None:
            return self.healthz_detail or "not reached"
        cell = _fmt(self.healthz_first_200)
        if self.healthz_first_answer is not None and not self.healthz_first_status.startswith(
            "200"
        ):
            first = self.healthz_first_status.split(":")[0]
            cell += f" (first answer {first} at {_fmt(self.healthz_first_answer)})"
        return cell


def _fmt(seconds: float) -> str:
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 100:
        return f"{seconds:.1f} s"
    return f"{seconds:.0f} s"


def _fmt_max(values: list[float], per_pass: list[int] | None = None) -> str:
    """The longest, and how many write transactions a pass made (median over runs)."""
    if not values:
        return "none"
    count = statistics.median(per_pass) if per_pass else len(values)
    return f"{_fmt(max(values))} ({count:.0f} tx)"


def _samples_cell(samples: list[Sample]) -> str:
    if not samples:
        return "no sample overlapped a pass"
    times = [s.submit_seconds for s in samples]
    saved = sum(1 for s in samples if s.saved)
    return (
        f"{_fmt(statistics.median(times))} / {_fmt(max(times))} ({saved} of {len(samples)} saved)"
    )


# ---- 1. passes -------------------------------------------------------------------------------


def _timing(target: Any, method: str) -> list[float]:
    """Time every call of `target.method` (this instance only) into the list returned."""
    durations: list[float] = []
    original = getattr(target, method)

    def timed_call(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            durations.append(time.perf_counter() - started)

    setattr(target, method, timed_call)
    return durations


@contextmanager
def working_copy(seeded: databases.Seeded, tag: str) -> Iterator[str]:
    url = databases.work_copy(seeded, tag)
    try:
        yield url
    finally:
        databases.drop_copy(url)


def measure_passes(seeded: databases.Seeded, args: argparse.Namespace, figures: Figures) -> None:
    config = figures.config
    for run in range(args.runs):
        with working_copy(seeded, f"pass{run}") as url, FakeSlack() as fake:
            stack = start_stack(fake, url, config.now, web=False)
            try:
                db = stack.services.db
                timer = WriteTimer(db.engine)
                sweeper = stack.services.sweeper
                due_work = _timing(sweeper.runner, "run_due")
                before = max_outbox_id(db)
                reset_peak_rss()
                with timer.record() as writes:
                    try:
                        first, result = timed(sweeper.run_once, args.timeout)
                    except PassTimeout as exc:
                        figures.timed_out, figures.timed_out_seconds = "first", exc.seconds
                        raise
                figures.rss_mib.append(peak_rss_mib() or 0.0)
                figures.first.append(first)
                figures.due_work.append(sum(due_work))
                figures.writes_first.extend(writes)
                figures.writes_per_first_pass.append(len(writes))
                figures.rows_written.append(outbox_rows_since(db, before))
                figures.sent.append(result.sent)
                due_work.clear()  # the second pass's is not reported
                print(
                    f"  run {run + 1}: first pass {_fmt(first)} (due work "
                    f"{_fmt(figures.due_work[-1])}), {result.planned} planned, "
                    f"{result.sent} sent, longest write {_fmt_max(writes)}",
                    flush=True,
                )
                reset_peak_rss()
                with timer.record() as writes:
                    try:
                        second, result = timed(sweeper.run_once, args.timeout)
                    except PassTimeout as exc:
                        figures.timed_out, figures.timed_out_seconds = "second", exc.seconds
                        raise
                figures.rss_mib.append(peak_rss_mib() or 0.0)
                figures.second.append(second)
                figures.writes_second.extend(writes)
                figures.writes_per_second_pass.append(len(writes))
                print(
                    f"  run {run + 1}: second pass {_fmt(second)}, {result.planned} planned, "
                    f"longest write {_fmt_max(writes)}",
                    flush=True,
                )
            finally:
                stack.stop()
        if first > args.slow and run + 1 < args.runs:
            figures.notes.append(f"first pass over {args.slow:.0f} s: not repeated")
            print(f"  first pass over {args.slow:.0f} s: not repeated", flush=True)
            break


# ---- 2. /missing new during a pass -----------------------------------------------------------


def _answers(n: int, now: datetime) -> dict[str, Any]:
    """A valid form, as a call handler fills it (looked after: no, so no extra round trip)."""
    return {
        "child_name": f"Bench Child {n}",
        "date_of_birth": "2012-03-04",
        "last_seen_at": now - timedelta(hours=2, minutes=30),
        "last_seen_place": "12 Acacia Avenue, Ipswich",
        "risk_level": "high",
        "looked_after": "no",
        "risk_factors": ["cse"],
        "description": "Black hoodie, grey joggers",
        "reported_by": "Parent, 07700 900000",
        "incident_ref": f"CAD-BENCH-{n:04d}",
    }


def _open_form(stack: Stack) -> tuple[ViewRecord, float]:
    assert stack.sender is not None
    mark = len(stack.fake.views)
    started = time.perf_counter()
    response = stack.sender.slash("new")
    seconds = time.perf_counter() - started
    if response.status != 200:
        raise RuntimeError(f"/missing new answered {response.status}: {response.body[:200]}")
    return stack.fake.wait_for_view("new_episode", since=mark, timeout=120), seconds


def _submit(stack: Stack, view: ViewRecord, n: int, slash_seconds: float, running: bool) -> Sample:
    assert stack.sender is not None
    started = time.perf_counter()
    response: SentResponse = stack.sender.submit_answers(view, _answers(n, stack.clock.now()))
    seconds = time.perf_counter() - started
    saved = response.status == 200 and not response.body
    answer = "" if saved else f"{response.status} {response.body[:160]}"
    return Sample(slash_seconds, seconds, saved, running, answer)


def measure_concurrent(
    seeded: databases.Seeded, args: argparse.Namespace, figures: Figures
) -> None:
    config = figures.config
    with working_copy(seeded, "concurrent") as url, FakeSlack() as fake:
        stack = start_stack(fake, url, config.now, web=True)
        try:
            n = 0
            for i in range(4):  # the first warms Bolt and the pools up; not counted
                view, slash = _open_form(stack)
                sample = _submit(stack, view, n, slash, running=False)
                n += 1
                if i:
                    figures.idle.append(sample)
            stack.services.outbox.flush()
            planning = threading.Event()
            runner = stack.services.sweeper.runner
            run_due = runner.run_due

            def run_and_tell() -> RunResult:
                planning.set()
                return run_due()

            runner.run_due = run_and_tell  # type: ignore[method-assign]
            view, slash = _open_form(stack)
            passes = 0
            # Fast passes (after the redesign) may need several to overlap enough submissions.
            while sum(s.during_pass for s in figures.samples) < args.samples and passes < 50:
                planning.clear()
                pass_thread, box = _start_pass(stack)
                passes += 1
                planning.wait(args.timeout)
                while True:
                    sample = _submit(stack, view, n, slash, running=pass_thread.is_alive())
                    n += 1
                    figures.samples.append(sample)
                    print(
                        f"  /missing new during pass {passes}: ack {_fmt(sample.submit_seconds)}"
                        f" ({'saved' if sample.saved else 'NOT saved: ' + sample.answer})"
                        + ("" if sample.during_pass else " [pass had ended]"),
                        flush=True,
                    )
                    view, slash = _open_form(stack)
                    enough = sum(s.during_pass for s in figures.samples) >= args.samples
                    if enough or not pass_thread.is_alive():
                        break
                    time.sleep(args.gap)
                pass_thread.join(args.timeout)
                if pass_thread.is_alive():
                    figures.timed_out, figures.timed_out_seconds = "concurrent", args.timeout
                    raise PassTimeout(args.timeout)
                figures.concurrent_pass_seconds.append(box["result"])
        finally:
            stack.stop()


def _start_pass(stack: Stack) -> tuple[threading.Thread, dict[str, float]]:
    """A pass on its own thread; its duration lands in the dict under "result"."""
    box: dict[str, float] = {}

    def run() -> None:
        started = time.perf_counter()
        stack.services.sweeper.run_once()
        box["result"] = time.perf_counter() - started

    thread = threading.Thread(target=run, daemon=True, name="bench-pass")
    thread.start()
    return thread, box


# ---- 3. /healthz after start -----------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _poll(url: str) -> tuple[int | None, str]:
    # Longer than SQLite's busy timeout (5 s): a health check stuck behind a pass's write lock
    # answers 503 after it, and that answer is worth seeing.
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode()[:300]
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()[:300]
    except OSError:
        return None, ""


def measure_healthz(seeded: databases.Seeded, args: argparse.Namespace, figures: Figures) -> None:
    config = figures.config
    with working_copy(seeded, "healthz") as url, FakeSlack() as fake:
        port = _free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_"))}
        env.update(
            PYTHONPATH=str(ROOT),
            SLACK_BOT_TOKEN="xoxb-bench",
            SLACK_SIGNING_SECRET=SIGNING_SECRET,
            SLACK_API_URL=fake.api_url,
            DATABASE_URL=url,
            CONTROL_ROOM_CHANNEL=CONTROL_CHANNEL,
            SAFEGUARDING_CHANNEL=SAFEGUARDING_CHANNEL,
            SLACK_CHANNEL_PACE_SECONDS="0",
            # serve refuses to start with nobody able to grant roles.
            ADMIN_USER_IDS=CALL_HANDLER,
            PORT=str(port),
        )
        log_path = databases.CACHE_DIR / f"serve-{os.getpid()}.log"
        health = f"http://127.0.0.1:{port}/healthz"
        with log_path.open("w") as log:
            started = time.perf_counter()
            process = subprocess.Popen(
                [sys.executable, "-m", "bench.serve", "--now", config.now.isoformat()],
                env=env,
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            try:
                last = ""
                while True:
                    elapsed = time.perf_counter() - started
                    if elapsed > args.healthz_timeout:
                        figures.healthz_detail = f"> {args.healthz_timeout:.0f} s ({last})"
                        break
                    status, body = _poll(health)
                    elapsed = time.perf_counter() - started
                    if status is not None:
                        last = f"{status}: {_reason(body)}"
                        if figures.healthz_first_answer is None:
                            figures.healthz_first_answer = elapsed
                            figures.healthz_first_status = last
                    if status == 200:
                        figures.healthz_first_200 = elapsed
                        break
                    if process.poll() is not None:
                        figures.healthz_detail = f"serve exited ({process.returncode})"
                        break
                    time.sleep(0.05)
            finally:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=15)
        answer = figures.healthz_first_answer
        ok = figures.healthz_first_200
        print(
            f"  /healthz: first answer after {_fmt(answer) if answer is not None else '-'}, "
            f"first 200 after {_fmt(ok) if ok is not None else figures.healthz_detail}"
            f" (serve's log: {log_path})",
            flush=True,
        )


def _reason(body: str) -> str:
    try:
        report_json = json.loads(body)
    except ValueError:
        return body[:80]
    return str(report_json.get("scheduler") or report_json.get("database") or "")[:80]


# ---- command line ----------------------------------------------------------------------------

MEASUREMENTS = ("pass", "concurrent", "healthz")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.scheduler", description=__doc__.split("\n\n")[0]
    )
    add_seed_arguments(parser)
    parser.add_argument("--runs", type=int, default=3, help="fresh copies for the pass timing")
    parser.add_argument("--out", default=None, help="Markdown file to append the row to")
    parser.add_argument("--samples", type=int, default=5, help="/missing new during passes")
    parser.add_argument("--gap", type=float, default=0.5, help="seconds between those samples")
    parser.add_argument("--timeout", type=float, default=600, help="give up on a pass after")
    parser.add_argument("--slow", type=float, default=60, help="do not repeat a pass slower")
    parser.add_argument("--healthz-timeout", type=float, default=300)
    parser.add_argument(
        "--only", default=",".join(MEASUREMENTS), help="comma-separated: pass,concurrent,healthz"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    # Bolt explains an unacknowledged request at length (its App logger sets its own level, so
    # filter at the handler); the sample's line already says the request was not saved.
    for handler in logging.getLogger().handlers:
        handler.addFilter(
            lambda record: (
                not (record.name.startswith("slack_bolt") and record.levelno < logging.ERROR)
            )
        )
    measured = {m.strip() for m in args.only.split(",") if m.strip()}
    unknown = measured - set(MEASUREMENTS)
    if unknown:
        raise SystemExit(f"unknown measurement(s): {', '.join(sorted(unknown))}")
    config = config_from_args(args)
    print(f"== {args.backend}, {config.size:,} history episodes + {config.open_rhis:,} open RHIs")
    seeded = databases.seed_in_subprocess(
        args.backend, config, pg_url=args.pg_url, reseed=args.reseed
    )
    print(f"  seed: {seeded.url} ({json.dumps(seeded.summary['counts'])})", flush=True)
    figures = Figures(args.backend, config, seeded.summary)
    stopped = False
    try:
        if "pass" in measured:
            measure_passes(seeded, args, figures)
        if "concurrent" in measured:
            measure_concurrent(seeded, args, figures)
        if "healthz" in measured:
            measure_healthz(seeded, args, figures)
    except PassTimeout as exc:
        stopped = True
        figures.notes.append(f"stopped: {exc}")
        print(f"  stopped: {exc}", flush=True)
    cells = figures.cells(measured)
    print(" | ".join(cells), flush=True)
    if figures.notes:
        print("  notes: " + "; ".join(figures.notes))
    if args.out:
        report.append(Path(args.out), report.row(cells))
    if stopped:
        # A pass thread still runs and cannot be stopped; its work copy is already dropped.
        sys.stdout.flush()
        with suppress(Exception):
            logging.shutdown()
        os._exit(0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
