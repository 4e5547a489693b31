"""The rig the fuzz tests share: a bot whose listeners run inline, a log watcher, a cheap
fingerprint of the database, and the example budget per database.

Hypothesis draws thousands of requests; each is signed and handed to the bot's WSGI app in
process (see `tests.support.direct`), and its effects are judged at once: the listeners ran on
the calling thread, so the database and the fake Slack already show everything it did.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, delete, func, insert, select, update
from sqlalchemy.pool import NullPool

from fakeslack import FakeSlack, Posted
from fakeslack.interactions import FORM, Actor, slash_command_fields
from fakeslack.sender import SentResponse
from storage.models import Base, Episode, ReturnInterview, RoleGrant
from tests.support.direct import call_wsgi, form_body, payload_body
from tests.support.harness import CONTROL, LOGGER, SIGNING_SECRET, TEAM, Bot

# The people the fuzz acts as, and what each may do.
SAFE = "U0SAFE"  # safeguarding: any interview
CROOM = "U0CROOM"  # control room: chases one interview
NOBODY = "U0NOBODY"  # no role at all
OTHER_TEAM = "T0ELSEWHERE"
USERS = [LOGGER, SAFE, CROOM, NOBODY]
WITH_A_ROLE = {LOGGER, SAFE, CROOM}

# Answers that say nothing happened: the database must agree.
NOTHING_DONE = (
    "nothing was changed",
    "nothing was done",
    "nothing was saved",
    "nothing more was done",
    "Nothing was changed",
)
# What the bot never writes itself: seen raw in an answer, it came from the request.
RAW_MARKUP = ("<!channel", "<!here", "<!everyone", "<#C", "<https://", "<http://")

# Details the worlds and the strategies type again and again: never in the log.
PERSONAL_SENTINELS = ("Jane Mary Smith", "Zebedee Quux", "12 Acacia Avenue", "07700 900123")

PG_EXAMPLES = 50
_TRIGGERS = itertools.count(1)


def budget(backend: str) -> settings:
    """The profile's examples (2,000 in CI) on SQLite; a short run on PostgreSQL, which refuses
    inputs SQLite accepts (NUL bytes, strings longer than a column) and so needs its own run."""
    current = settings.default
    assert current is not None
    if backend == "postgresql":
        return settings(current, max_examples=min(current.max_examples, PG_EXAMPLES))
    return settings(current)


def http_budget() -> settings:
    """A handful of examples per entry point over a real socket, through waitress."""
    current = settings.default
    assert current is not None
    return settings(current, max_examples=5)


class LogWatch(logging.Handler):
    """Every record at WARNING and above, from any logger (Bolt's included), while attached.
    (DEBUG would make each example pay for formatting SQLAlchemy's statements; the logs at
    DEBUG are searched for personal data in test_log_privacy.py.)"""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []
        self._lock2 = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        with self._lock2:
            self.records.append(record)

    def mark(self) -> int:
        with self._lock2:
            return len(self.records)

    def errors_since(self, mark: int) -> list[str]:
        """Records at ERROR or carrying a traceback: a bug got as far as the log."""
        with self._lock2:
            found = self.records[mark:]
        return [
            f"{r.levelname} {r.name}: {r.getMessage()[:300]}"
            + (f" [{r.exc_info[0].__name__}: {str(r.exc_info[1])[:200]}]" if r.exc_info else "")
            for r in found
            if r.levelno >= logging.ERROR or r.exc_info
        ]

    def mentioning(self, mark: int, words: Iterable[str]) -> list[str]:
        """Records since `mark` whose message, arguments or traceback contain any of `words`."""
        with self._lock2:
            found = self.records[mark:]
        wanted = [w for w in words if len(w.strip()) >= 6]
        if not found or not wanted:
            return []
        hits = []
        for record in found:
            text = f"{record.msg} {record.args!r} {record.exc_info[1] if record.exc_info else ''}"
            hits.extend(f"{record.name}: {w!r}" for w in wanted if w in text)
        return hits


@contextmanager
def watch_logs() -> Iterator[LogWatch]:
    """Attach a LogWatch to the root logger for the duration of a test."""
    watch = LogWatch()
    root = logging.getLogger()
    root.addHandler(watch)
    try:
        yield watch
    finally:
        root.removeHandler(watch)


@dataclass(frozen=True)
class Fingerprint:
    """Row counts and highest ids of every table but the audit trail and request keys, the
    state of episodes, interviews and role grants, and every row of those tables in full: a
    change to any column of any record moves it (a correction, a check recorded in place)."""

    tables: tuple[Any, ...]
    episodes: tuple[Any, ...]
    rhis: tuple[Any, ...]
    grants: tuple[Any, ...]
    rows: tuple[tuple[Any, ...], ...] = ()

    def differences(self, other: Fingerprint) -> dict[str, list[str]]:
        """The rows, by table, in one fingerprint and not the other: for a failure's message."""
        found = {}
        for table, mine, theirs in zip(_TABLES, self.rows, other.rows, strict=True):
            changed = sorted(set(map(repr, mine)) ^ set(map(repr, theirs)))
            if changed:
                found[table.name] = [row[:300] for row in changed]
        return found

    def episodes_touched(self, other: Fingerprint) -> set[int]:
        """The episodes whose rows differ between the two: an episode's own row, rows that
        name it (`episode_id`), and follow-ups about it or its interviews. -1 stands for a
        changed row that names no episode."""
        interviews = {}  # return interview id -> its episode
        for table, mine, theirs in zip(_TABLES, self.rows, other.rows, strict=True):
            if table.name == "return_interviews":
                names = list(table.c.keys())
                for row in mine + theirs:
                    values = dict(zip(names, row, strict=True))
                    interviews[str(values["id"])] = int(values["episode_id"])
        touched: set[int] = set()
        for table, mine, theirs in zip(_TABLES, self.rows, other.rows, strict=True):
            names = list(table.c.keys())
            shown = {repr(row): row for row in mine + theirs}
            for key in set(map(repr, mine)) ^ set(map(repr, theirs)):
                values = dict(zip(names, shown[key], strict=True))
                touched.add(_episode_of(table.name, values, interviews))
        return touched


_SKIPPED = {"audit_events", "request_keys"}
_TABLES = [t for t in Base.metadata.sorted_tables if t.name not in _SKIPPED]
_EPISODE_SUBJECTS = ("review", "safe_well")


def _episode_of(table: str, values: dict[str, Any], interviews: dict[str, int]) -> int:
    if table == "episodes":
        return int(values["id"])
    if values.get("episode_id") is not None:
        return int(values["episode_id"])
    if table == "followups" and values["kind"] in _EPISODE_SUBJECTS:
        return int(values["subject"])
    if table == "followups" and values["kind"] == "rhi":
        return interviews.get(values["subject"], -1)
    return -1


def _fingerprint_queries() -> list[Any]:
    columns: list[Any] = []
    for table in _TABLES:
        columns.append(select(func.count()).select_from(table).scalar_subquery())
        if "id" in table.c:
            columns.append(select(func.max(table.c.id)).scalar_subquery())
    return [
        select(*columns),
        select(Episode.status, func.count(), func.sum(Episode.id))
        .group_by(Episode.status)
        .order_by(Episode.status),
        select(
            ReturnInterview.id,
            ReturnInterview.status,
            ReturnInterview.assignee_id,
            ReturnInterview.snoozed_until,
            ReturnInterview.completed_at,
        ).order_by(ReturnInterview.id),
        select(RoleGrant.user_id, RoleGrant.role).order_by(RoleGrant.user_id, RoleGrant.role),
    ]


def _row_queries() -> list[Any]:
    """Every row of every table the fingerprint counts, in a stable order."""
    return [select(table).order_by(*table.primary_key.columns) for table in _TABLES]


class Fingerprinter:
    """Takes fingerprints on a connection of its own, with plain SQL on the driver: the fuzz
    takes two per example, so it must cost a fraction of a millisecond, not several."""

    def __init__(self, url: str) -> None:
        self.engine = create_engine(url, poolclass=NullPool)
        self.sql = [
            str(q.compile(dialect=self.engine.dialect, compile_kwargs={"literal_binds": True}))
            for q in _fingerprint_queries()
        ]
        self.row_sql = [
            str(q.compile(dialect=self.engine.dialect, compile_kwargs={"literal_binds": True}))
            for q in _row_queries()
        ]
        self.connection = self.engine.raw_connection()
        driver = self.connection.driver_connection
        if self.engine.dialect.name == "postgresql":
            # Each statement then sees what is committed now, and no transaction stays open.
            driver.autocommit = True  # type: ignore[union-attr]

    def take(self) -> Fingerprint:
        cursor = self.connection.cursor()
        try:
            results = []
            for sql in self.sql:
                cursor.execute(sql)
                results.append(tuple(tuple(row) for row in cursor.fetchall()))
            rows = []
            for sql in self.row_sql:
                cursor.execute(sql)
                rows.append(tuple(tuple(row) for row in cursor.fetchall()))
        finally:
            cursor.close()
        return Fingerprint(*results, rows=tuple(rows))

    def close(self) -> None:
        self.connection.close()
        self.engine.dispose()


class Snapshot:
    """The records as they were, put back after an example that changed them, so every example
    meets the same world: what a valid one does can be told exactly, and a failing example
    replays the same way while Hypothesis shrinks it.

    Every table the fingerprint counts is put back, so a table added to the schema is covered
    without a change here: rows with an id are trimmed to the snapshot's highest id and edited
    back in place; tables keyed otherwise (role grants, pauses) are emptied and refilled.
    """

    def __init__(self, bot: Bot, prints: Fingerprinter) -> None:
        self.engine = prints.engine
        # Children before parents when deleting: reversed dependency order.
        self.tables = list(reversed(_TABLES))
        self.rows: dict[str, list[dict[str, Any]]] = {}
        with self.engine.connect() as conn:
            for table in self.tables:
                rows = conn.execute(select(table)).mappings().all()
                self.rows[table.name] = [dict(row) for row in rows]

    def restore(self) -> None:
        with self.engine.begin() as conn:
            for table in self.tables:
                rows = self.rows[table.name]
                if "id" not in table.c:
                    conn.execute(delete(table))
                    if rows:
                        conn.execute(insert(table), rows)
                    continue
                top = max((row["id"] for row in rows), default=0)
                conn.execute(delete(table).where(table.c.id > top))
                for row in rows:
                    conn.execute(update(table).where(table.c.id == row["id"]).values(**row))


@dataclass
class Sent:
    """One request and everything it caused at the fake Slack."""

    response: SentResponse
    posted: list[Posted]
    views: list[Any]
    calls: list[Any]
    marks: tuple[int, int, int]

    @property
    def responses(self) -> list[Posted]:
        return [p for p in self.posted if p.kind.startswith("response")]

    @property
    def updates(self) -> list[Posted]:
        return [p for p in self.posted if p.kind == "update"]


@dataclass(repr=False)
class FuzzBot:
    """The bot under fuzzing and how to reach it: in process, or over HTTP when `http`."""

    bot: Bot
    backend: str
    logs: LogWatch
    prints: Fingerprinter
    http: bool = False
    facts: dict[str, Any] = field(default_factory=dict)
    snapshot: Snapshot | None = None
    baseline: Fingerprint | None = None

    def __repr__(self) -> str:  # shown in every failing example: keep it short
        return f"FuzzBot({self.backend})"

    @property
    def fake(self) -> FakeSlack:
        return self.bot.fake

    def fingerprint(self) -> Fingerprint:
        return self.prints.take()

    def freeze(self) -> None:
        """Remember the world as set up: every example starts from it.

        From here on, messages the examples queue in the outbox stay queued: sending them is
        the outbox's business, on its own thread, not the request's; the examples' records are
        put back anyway, and posting them would only compete for the two cores. (What reaches
        Slack is judged in test_markup_escaping.py.) Reminder edits still go out.
        """
        self.bot.settle()
        self.bot.services.outbox.deliver_soon = lambda ids: None  # type: ignore[method-assign]
        self.snapshot = Snapshot(self.bot, self.prints)
        self.baseline = self.fingerprint()

    def thaw(self, seen: Fingerprint) -> None:
        """After an example that changed the records, put them back as they were."""
        assert self.snapshot is not None
        if seen != self.baseline:
            self.snapshot.restore()
            assert self.fingerprint() == self.baseline, "the world could not be restored"

    def trigger(self) -> str:
        """A fresh trigger id: a repeated one would be a replay, which acts once."""
        return f"fuzz.{next(_TRIGGERS)}"

    def response_url(self, user: str, channel: str = CONTROL) -> str:
        return self.fake.new_response_url(channel_id=channel, user_id=user)

    def post(self, body: bytes) -> Sent:
        """Send a signed form body; what it caused at the fake Slack comes with the answer."""
        mark, views, calls = self.fake.mark(), len(self.fake.views), len(self.fake.calls)
        if self.http:
            response = self.bot.sender.raw(body, FORM)
        else:
            response = call_wsgi(self.bot.web, body, secret=SIGNING_SECRET)
        return Sent(
            response,
            self.fake.posted[mark:],
            self.fake.views[views:],
            self.fake.calls[calls:],
            (mark, views, calls),
        )

    def settled(self, sent: Sent) -> Sent:
        """`sent` once the outbox's thread has done what the request handed it (an edit)."""
        self.bot.services.outbox.flush()
        mark, views, calls = sent.marks
        posted, seen, made = self.fake.posted[mark:], self.fake.views[views:], self.fake.calls
        return Sent(sent.response, posted, seen, made[calls:], sent.marks)

    def slash(self, text: str, *, user: str, team: str = TEAM) -> Sent:
        fields = slash_command_fields(
            Actor(team, user, "fuzz"),
            command="/missing",
            text=text,
            channel_id=CONTROL,
            response_url=self.response_url(user),
            trigger_id=self.trigger(),
        )
        return self.post(form_body(fields))

    def interaction(self, payload: object) -> Sent:
        return self.post(payload_body(payload))


def actor(user: str, team: str = TEAM) -> dict[str, Any]:
    return {"id": user, "username": "fuzz", "name": "fuzz", "team_id": team}


def answer_text(sent: Sent) -> str:
    """Everything the person was told, as one string: the ack and any respond() posts."""
    parts = [sent.response.body]
    for post in sent.responses:
        parts.append(post.text or "")
        parts.append(repr(post.blocks))
    return "\n".join(parts)


def check_common(
    fuzz: FuzzBot, sent: Sent, log_mark: int, what: object, personal: Iterable[str] = ()
) -> None:
    """What holds for every example: no server error, no logged bug, no raw markup echoed,
    and none of the example's personal details (names, places, descriptions) in the log."""
    assert sent.response.status < 500, (what, sent.response.status, sent.response.body[:500])
    errors = fuzz.logs.errors_since(log_mark)
    assert not errors, (what, errors)
    leaked = fuzz.logs.mentioning(log_mark, personal)
    assert not leaked, (what, "personal data in the log", leaked)
    told = answer_text(sent)
    echoed = [m for m in RAW_MARKUP if m in told]
    assert not echoed, (what, echoed, told[:1000])


# Slack's interaction envelope: these fields are objects, lists of objects, or text (or are
# left out). A payload with another type there is refused before Bolt reads it (bot.envelope).
_OBJECTS = ("user", "team", "enterprise", "channel", "container", "view", "message", "state")
_TEXTS = ("type", "response_url", "trigger_id")


def misshapen(payload: dict[str, Any]) -> bool:
    """True if a field of the envelope has a type Slack never sends it as."""
    if any(payload.get(k) is not None and not isinstance(payload[k], dict) for k in _OBJECTS):
        return True
    if any(payload.get(k) is not None and not isinstance(payload[k], str) for k in _TEXTS):
        return True
    url = payload.get("response_url")
    if url and not url.startswith(("https://", "http://")):
        return True
    actions = payload.get("actions")
    return actions is not None and not (
        isinstance(actions, list) and actions and all(isinstance(a, dict) for a in actions)
    )


def in_process_then_over_http(
    fuzz: FuzzBot, cases: st.SearchStrategy[Any], judge: Callable[[Any], None]
) -> None:
    """Every entry point's run: the profile's examples in process, then a handful over a real
    socket through waitress, each judged the same way."""

    @budget(fuzz.backend)
    @given(case=cases)
    def in_process(case: Any) -> None:
        judge(case)

    in_process()
    fuzz.http = True

    @http_budget()
    @given(case=cases)
    def over_http(case: Any) -> None:
        judge(case)

    over_http()


def assert_field_errors(answer: Any, inputs: Iterable[str], what: object) -> None:
    """Refused inside the form: every error names an input of the form, in words."""
    assert isinstance(answer, dict) and answer.get("response_action") == "errors", (what, answer)
    errors = answer.get("errors")
    assert isinstance(errors, dict) and errors, (what, answer)
    allowed = set(inputs)
    for block_id, message in errors.items():
        assert block_id in allowed, (what, errors)
        assert isinstance(message, str) and message.strip(), (what, errors)
        assert "Something went wrong" not in message, (what, errors)
