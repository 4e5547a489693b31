"""Engine and session set-up for SQLite (default) and PostgreSQL.

On PostgreSQL the bot's request path has a client-side deadline (see `Database(deadline=...)`):
Slack shows a request as failed unless it is acknowledged within 3 seconds, and a command is
acknowledged only once its work is saved, so the database work must end, one way or the other,
before then. The server's `statement_timeout` is not enough: a server that is frozen (SIGSTOP,
a hung VM, a network path that swallows packets while the kernel still acknowledges TCP) never
answers at all, and psycopg then waits forever.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import psycopg
from psycopg.abc import PQGen
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, sessionmaker

from bot.domain.errors import OutcomeUnknown, StorageUnavailable

# The server's own limit on a statement (and on waiting for a lock, below): a statement that
# runs longer is a fault, not a slow answer. A frozen server enforces nothing, which is what
# the client-side deadline below is for.
STATEMENT_TIMEOUT_MS = 10_000
# How long SQLite waits for another writer; transactions are short, so this is generous.
SQLITE_BUSY_MS = 5_000
# Pages (4 KiB each) the WAL may grow to before a commit checkpoints it: only a process whose
# scheduler does not run (an operator command, a long purge) gets there; see _sqlite_pragmas.
SQLITE_WAL_BACKSTOP_PAGES = 10_000
# The client-side deadline of one unit of work on the request path (PostgreSQL): under Slack's
# 3 seconds, with room for Bolt and the HTTP answer.
REQUEST_DEADLINE_SECONDS = 2.5
# /healthz waits this long for the database, however the database fails.
HEALTH_PING_SECONDS = 0.8
# psycopg's smallest connect timeout (it raises anything lower to 2 s, as libpq does). A unit
# of work starts a new connection only while it has this long left, so connecting can never
# carry it past its deadline.
CONNECT_TIMEOUT_SECONDS = 2
# Waiting for a free pooled connection happens inside a unit of work, so it is bounded by less
# than the deadline: a request gets an answer, not a queue.
POOL_TIMEOUT_SECONDS = 2

RV = TypeVar("RV")


class StorageError(Exception):
    """The database refused a statement (a constraint, a value a column cannot hold).

    Its message is the driver's first line and no more: PostgreSQL adds the values involved
    ("DETAIL: Failing row contains (..., 'Jane Smith', '12 Acacia Avenue', ...)"), which must
    not reach a log with the traceback of what is, after validation, a bug.
    """


class _NoRows(logging.Filter):
    """SQLAlchemy logs each row it reads at DEBUG ("Row (1, 'Jane Smith', ...)"), whatever
    `hide_parameters` says: rows hold children's details, so they never reach a log."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (isinstance(record.msg, str) and record.msg.startswith("Row "))


_NO_ROWS = _NoRows()


def make_engine(
    url: str, *, statement_timeout_ms: int = STATEMENT_TIMEOUT_MS, **kwargs: Any
) -> Engine:
    """An engine that never logs bound parameters or rows: they hold children's names and
    addresses (bot.log_setup keeps SQLAlchemy's logger at WARNING besides)."""
    kwargs.setdefault("hide_parameters", True)
    engine_log = logging.getLogger("sqlalchemy.engine.Engine")
    if _NO_ROWS not in engine_log.filters:
        engine_log.addFilter(_NO_ROWS)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            _create_private_file(database)
        engine = create_engine(
            url,
            connect_args={"timeout": SQLITE_BUSY_MS / 1000, "check_same_thread": False},
            **kwargs,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("pool_size", 5)
    kwargs.setdefault("max_overflow", 10)
    # Waiting for a free connection is bounded too: a request gets an answer, not a hang.
    kwargs.setdefault("pool_timeout", POOL_TIMEOUT_SECONDS)
    connect_args = {
        "connect_timeout": CONNECT_TIMEOUT_SECONDS,
        # A peer that is gone (host down, network cut) is noticed within seconds. A server that
        # is frozen is not: its kernel still acknowledges both keepalives and data, and that is
        # what the unit of work's deadline is for.
        "keepalives": 1,
        "keepalives_idle": 5,
        "keepalives_interval": 2,
        "keepalives_count": 2,
        "tcp_user_timeout": 5_000,
        "options": f"-c statement_timeout={statement_timeout_ms} -c lock_timeout=5000",
    }
    engine = create_engine(url, connect_args=connect_args, **kwargs)
    event.listen(engine, "do_connect", _postgres_connect)
    event.listen(engine, "commit", _postgres_commit)
    return engine


def _create_private_file(database: str) -> None:
    """Children's records: the file (and every folder we create for it) is the owner's alone,
    whatever the process's umask. SQLite gives its -wal and -shm files the database file's
    mode. A file or folder that already exists keeps the mode its owner gave it."""
    path = os.path.abspath(database)
    _create_private_folders(os.path.dirname(path))
    try:
        # O_EXCL: created here, now, or not at all (no window between a check and the open).
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        return
    try:
        os.fchmod(fd, 0o600)  # the umask may have taken bits from the mode asked for
    finally:
        os.close(fd)


def _create_private_folders(directory: str) -> None:
    """Like os.makedirs, but every folder it creates is 0700 (makedirs gives the ones above
    the last the umask's default, 0755 or even 0777)."""
    missing: list[str] = []
    while not os.path.isdir(directory):
        missing.append(directory)
        parent = os.path.dirname(directory)
        if parent == directory:
            break
        directory = parent
    for folder in reversed(missing):
        try:
            os.mkdir(folder, 0o700)
        except FileExistsError:
            continue  # made meanwhile by someone else: theirs
        os.chmod(folder, 0o700)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # SQLite copies the WAL back into the database ("checkpoints") inside whichever COMMIT
    # crosses the threshold: at a million episodes that one commit took 0.7-0.9 s (a form
    # submitted then waits for it). The scheduler checkpoints after each pass instead
    # (Database.checkpoint); the threshold stays, far higher, for a process that never does.
    cursor.execute(f"PRAGMA wal_autocheckpoint={SQLITE_WAL_BACKSTOP_PAGES}")
    cursor.close()


def _sqlite_begin(conn: Any) -> None:
    """pysqlite defers BEGIN; take control. A write transaction starts at BEGIN IMMEDIATE so it
    never upgrades a read lock mid-way (and fails at once instead of deadlocking); a read-only
    one starts with a plain BEGIN and takes no write lock at all (WAL readers never block)."""
    if conn.get_execution_options().get("readonly"):
        conn.exec_driver_sql("BEGIN")
    else:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


# -- the deadline of a unit of work (PostgreSQL) -------------------------------------------
#
# Each `Database.transaction()` / `read()` is a unit of work, noted on its thread with the
# moment it must be over. psycopg does every wait on the server's socket in
# `Connection.wait()`; the bot's connections bound that wait by what is left of the unit's
# time, close the connection when it runs out (on the thread that owns it, so no other thread
# ever touches a socket libpq is using), and fail the statement. SQLAlchemy sees a closed
# connection, discards it from the pool, and the caller gets StorageUnavailable. That covers
# statements, COMMIT, ROLLBACK and the pool's pre-ping on checkout alike; connecting is bounded
# by `connect_timeout` and is not started without the time for it (`_postgres_connect`).
#
# What the bot can promise when the deadline (or a dropped connection) cuts a COMMIT short:
# nothing either way. The server may have committed and lost only its answer, or never have
# seen the COMMIT. So a unit that fails after sending COMMIT raises OutcomeUnknown instead of
# "nothing was saved", and the person is told to check or simply try again: every command
# that changes something refuses to do it twice (a return already recorded, an interview
# already closed, the same form submitted again) and says so. A unit whose time is up before
# COMMIT is sent does not send it (`_postgres_commit`): then nothing was saved, for certain.


@dataclass
class _Unit:
    """One unit of work on this thread."""

    expires: float | None  # time.monotonic() by which it must be over; None: no deadline
    committing: bool = False  # COMMIT was (about to be) sent
    outcome_unknown: bool = False  # ... and its answer never came

    def left(self) -> float | None:
        return None if self.expires is None else self.expires - time.monotonic()


_units = threading.local()


def _current_unit() -> _Unit | None:
    stack: list[_Unit] | None = getattr(_units, "stack", None)
    return stack[-1] if stack else None


@contextmanager
def _unit_of_work(seconds: float | None) -> Iterator[_Unit]:
    outer = _current_unit()
    expires = None if seconds is None else time.monotonic() + seconds
    if outer is not None and outer.expires is not None:
        # A unit inside another (on the same thread) cannot outlive it.
        expires = outer.expires if expires is None else min(expires, outer.expires)
    unit = _Unit(expires)
    stack: list[_Unit] = getattr(_units, "stack", None) or []
    _units.stack = stack
    stack.append(unit)
    try:
        yield unit
    finally:
        stack.pop()


class _DeadlineConnection(psycopg.Connection[Any]):
    """A psycopg connection whose waits on the server end with the unit of work's deadline."""

    def wait(self, gen: PQGen[RV], interval: float = 0.1, timeout: float | None = None) -> RV:
        unit = _current_unit()
        left = unit.left() if unit is not None else None
        if unit is None or left is None:
            return super().wait(gen, interval, timeout)
        # At or past the deadline, a wait that needs the server polls once and gives up; one
        # that needs nothing from it (a ROLLBACK with no transaction open) still completes.
        bound = max(left, 0.0)
        if timeout is not None and timeout < bound:
            return super().wait(gen, interval, timeout)  # the caller's own, shorter, timeout
        try:
            return super().wait(gen, interval, bound)
        except psycopg.errors._WaitTimeout:  # psycopg's own "wait timed out"
            if unit.committing:
                unit.outcome_unknown = True
            # The protocol was cut mid-exchange: this connection can never be used again.
            self.close()
            raise psycopg.OperationalError(
                "the database did not answer within the request's deadline"
            ) from None
        except psycopg.OperationalError:
            # The connection failed during COMMIT (not COMMIT itself failing, which leaves the
            # connection usable and means nothing was saved).
            if unit.committing and (self.broken or self.closed):
                unit.outcome_unknown = True
            raise


def _postgres_connect(
    _dialect: Any, _record: Any, cargs: tuple[Any, ...], cparams: dict[str, Any]
) -> psycopg.Connection[Any]:
    unit = _current_unit()
    left = unit.left() if unit is not None else None
    if left is not None and left < CONNECT_TIMEOUT_SECONDS:
        # Typically: the pre-ping of a pooled connection hung until the deadline (a frozen
        # server), and the pool would now open a new connection and wait `connect_timeout`
        # for it, well past the time the person was promised an answer.
        raise StorageUnavailable("no time left to connect to the database")
    return _DeadlineConnection.connect(*cargs, **cparams)


def _postgres_commit(conn: Any) -> None:
    unit = _current_unit()
    if unit is None:
        return
    left = unit.left()
    if left is not None and left <= 0:
        # Too late to commit within the deadline: do not send COMMIT at all, so that "nothing
        # was saved" stays true. Closing the connection makes the server roll back.
        conn.invalidate()
        raise StorageUnavailable("the database was too slow; the transaction was rolled back")
    unit.committing = True


class Database:
    """Holds the engine and hands out short transactions.

    `deadline` (seconds, PostgreSQL only) bounds every unit of work: the request path of
    `serve` and `socket` uses REQUEST_DEADLINE_SECONDS; operator commands (purge, audit
    export) have none, their statements being bounded by the server's statement timeout.
    """

    def __init__(self, engine: Engine, *, deadline: float | None = None) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self._read_sessions = sessionmaker(
            engine.execution_options(readonly=True), expire_on_commit=False
        )
        # SQLite is a local file: its waits are bounded by its busy timeout, as before.
        self.deadline = deadline if self.dialect == "postgresql" else None
        if self.deadline is not None and self.deadline < CONNECT_TIMEOUT_SECONDS:
            # No unit of work could ever open a connection (see _postgres_connect).
            raise ValueError(f"a deadline must leave {CONNECT_TIMEOUT_SECONDS} s to connect")
        self._ping_lock = threading.Lock()
        self._ping: Future[None] | None = None
        # SQLite has one writer at a time, and a writer kept waiting polls for the lock on a
        # back-off that reaches 100 ms a try: under a burst of requests one of them could lose
        # the race again and again, for a second or more (measured: 0.35-1.09 s, in steps of
        # exactly 0.1 s). The writers of this process queue here instead and go the moment the
        # lock is free; SQLite's own wait remains between processes.
        self._sqlite_writer = threading.RLock() if self.dialect == "sqlite" else None

    @classmethod
    def from_url(cls, url: str, *, deadline: float | None = None, **kwargs: Any) -> Database:
        return cls(make_engine(url, **kwargs), deadline=deadline)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work: commits on success, rolls back on any error.

        A database that cannot be reached (or does not answer by the deadline) becomes
        StorageUnavailable, so callers can tell the person that nothing was saved; when that
        happened after COMMIT was sent, OutcomeUnknown (see above).
        """
        with (
            self._one_writer(),
            _unit_of_work(self.deadline) as unit,
            _unavailable_as_error(unit),
            self._sessions() as session,
            session.begin(),
        ):
            yield session

    @contextmanager
    def _one_writer(self) -> Iterator[None]:
        writer = self._sqlite_writer
        if writer is None:
            yield
            return
        # As long as SQLite itself would wait for another writer, then as SQLite would fail.
        if not writer.acquire(timeout=SQLITE_BUSY_MS / 1000):
            raise StorageUnavailable("the database was busy; the transaction was not started")
        try:
            yield
        finally:
            writer.release()

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only unit of work: on SQLite it takes no write lock, so it never waits for a
        writer (health checks, lists); anything it changes is rolled back."""
        with self._read(self.deadline) as session:
            yield session

    @contextmanager
    def _read(self, deadline: float | None) -> Iterator[Session]:
        with (
            _unit_of_work(deadline) as unit,
            _unavailable_as_error(unit),
            self._read_sessions() as session,
        ):
            session.begin()
            try:
                yield session
            finally:
                # Rows read stay readable afterwards, as after a commit (expire_on_commit off).
                session.expunge_all()
                session.rollback()

    def ping(self, *, within: float | None = HEALTH_PING_SECONDS) -> None:
        """Raise StorageUnavailable unless the database answers within `within` seconds
        (None: as long as it takes). Takes no write lock.

        On PostgreSQL the check runs on its own thread and the caller waits `within` at most,
        whatever the database does: opening a connection alone may take `connect_timeout`
        (2 s). One check is in flight at a time; callers meanwhile share it.
        """
        if within is None or self.dialect != "postgresql":
            self._ping_now()
            return
        with self._ping_lock:
            check = self._ping
            if check is None or check.done():
                check = self._ping = Future()
                threading.Thread(
                    target=self._ping_into, args=(check,), name="db-ping", daemon=True
                ).start()
        try:
            check.result(timeout=within)
        except FutureTimeout:
            raise StorageUnavailable(f"no answer from the database within {within:g} s") from None

    def _ping_now(self) -> None:
        # The check's own unit always has a deadline, so a frozen server cannot keep it.
        with self._read(self.deadline or REQUEST_DEADLINE_SECONDS) as session:
            session.execute(text("SELECT 1"))

    def _ping_into(self, check: Future[None]) -> None:
        try:
            self._ping_now()
        except BaseException as exc:
            check.set_exception(exc)
        else:
            check.set_result(None)

    def checkpoint(self) -> None:
        """SQLite: copy the WAL back into the database file, off every transaction. PASSIVE
        waits for no reader and no writer, and holds no write lock. PostgreSQL: nothing."""
        if self.dialect != "sqlite":
            return
        raw = self.engine.raw_connection()
        try:
            # Outside SQLAlchemy's transaction (whose BEGIN IMMEDIATE would take the write lock).
            cursor = raw.cursor()
            cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")
            cursor.close()
        finally:
            raw.close()

    def dispose(self) -> None:
        self.engine.dispose()


@contextmanager
def _unavailable_as_error(unit: _Unit) -> Iterator[None]:
    try:
        yield
    except PoolTimeout as exc:
        raise StorageUnavailable("no database connection free") from exc
    except (OperationalError, DBAPIError) as exc:
        if _is_connection_problem(exc):
            if unit.outcome_unknown:
                raise OutcomeUnknown(_brief(exc)) from exc
            raise StorageUnavailable(_brief(exc)) from exc
        # `from None`: the original's message carries the statement and the values involved.
        raise StorageError(f"{type(exc.orig or exc).__name__}: {_brief(exc)}") from None


def _brief(exc: DBAPIError) -> str:
    """The driver's message without the statement or parameters (no personal data in logs)."""
    return str(exc.orig or exc).splitlines()[0][:200]


def _is_connection_problem(exc: DBAPIError) -> bool:
    if exc.connection_invalidated:
        return True
    if isinstance(exc, OperationalError):
        text = str(exc.orig).lower()
        return any(
            marker in text
            for marker in (
                "connect",
                "unable to open",
                "server closed",
                "timeout",
                "locked",
                "statement timeout",
                "canceling statement",
                "terminating connection",
            )
        )
    return False
