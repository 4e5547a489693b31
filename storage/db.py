"""Engine and session set-up for SQLite (default) and PostgreSQL."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, sessionmaker

from bot.domain.errors import StorageUnavailable

# A statement that runs longer than this on the request path is a fault, not a slow answer:
# the person is told nothing was saved instead of waiting on a frozen database.
STATEMENT_TIMEOUT_MS = 10_000
# How long SQLite waits for another writer; transactions are short, so this is generous.
SQLITE_BUSY_MS = 5_000


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
    kwargs.setdefault("pool_timeout", 3)
    connect_args = {
        "connect_timeout": 3,
        # A database frozen with the TCP connection open is noticed within seconds.
        "keepalives": 1,
        "keepalives_idle": 5,
        "keepalives_interval": 2,
        "keepalives_count": 2,
        "tcp_user_timeout": 5_000,
        "options": f"-c statement_timeout={statement_timeout_ms} -c lock_timeout=5000",
    }
    return create_engine(url, connect_args=connect_args, **kwargs)


def _create_private_file(database: str) -> None:
    """Children's records: the file (and the folder we create for it) is the owner's alone."""
    path = os.path.abspath(database)
    directory = os.path.dirname(path)
    if not os.path.isdir(directory):
        os.makedirs(directory, mode=0o700, exist_ok=True)
    if not os.path.exists(path):
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin(conn: Any) -> None:
    """pysqlite defers BEGIN; take control. A write transaction starts at BEGIN IMMEDIATE so it
    never upgrades a read lock mid-way (and fails at once instead of deadlocking); a read-only
    one starts with a plain BEGIN and takes no write lock at all (WAL readers never block)."""
    if conn.get_execution_options().get("readonly"):
        conn.exec_driver_sql("BEGIN")
    else:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


class Database:
    """Holds the engine and hands out short transactions."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self._read_sessions = sessionmaker(
            engine.execution_options(readonly=True), expire_on_commit=False
        )

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> Database:
        return cls(make_engine(url, **kwargs))

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work: commits on success, rolls back on any error.

        A database that cannot be reached becomes StorageUnavailable, so callers can tell the
        person that nothing was saved.
        """
        with _unavailable_as_error(), self._sessions() as session, session.begin():
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only unit of work: on SQLite it takes no write lock, so it never waits for a
        writer (health checks, lists); anything it changes is rolled back."""
        with _unavailable_as_error(), self._read_sessions() as session:
            session.begin()
            try:
                yield session
            finally:
                # Rows read stay readable afterwards, as after a commit (expire_on_commit off).
                session.expunge_all()
                session.rollback()

    def ping(self) -> None:
        """Raise StorageUnavailable unless the database answers (without any write lock)."""
        with self.read() as session:
            session.execute(text("SELECT 1"))

    def dispose(self) -> None:
        self.engine.dispose()


@contextmanager
def _unavailable_as_error() -> Iterator[None]:
    try:
        yield
    except PoolTimeout as exc:
        raise StorageUnavailable("no database connection free") from exc
    except (OperationalError, DBAPIError) as exc:
        if _is_connection_problem(exc):
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
