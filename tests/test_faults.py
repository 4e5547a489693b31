"""Faults: what the bot promises when its process dies, its database goes away or Slack is slow.

- No acknowledged command is lost: copies of `serve` are SIGKILLed at random moments under a
  burst of signed commands; every command acknowledged as recorded is in the database, whole.
- Two people return the same episode at the same moment: one return is recorded, the other
  person is told it was already returned.
- The database goes away (frozen with the TCP connection open, or stopped): every command gets
  "nothing was saved" within Slack's 3 seconds, /healthz answers within a second, the bot
  recovers by itself, nothing partial is stored. The database is broken through a TCP proxy
  (tests/support/tcpproxy.py), never the shared server itself.
- Slack slow or rate-limited never holds up an acknowledgement.
- The SQLite file is private.

The figures each test measures are printed (`pytest -s`, or shown when it fails).
"""

from __future__ import annotations

import http.client
import os
import random
import stat
import statistics
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text

from bot.domain.errors import StorageUnavailable
from bot.domain.states import AuditAction, EpisodeStatus
from fakeslack import FakeSlack, SentResponse, SlackSender
from storage.db import HEALTH_PING_SECONDS, REQUEST_DEADLINE_SECONDS, Database
from storage.migrate import upgrade
from storage.models import AuditEvent, Episode, OutboxMessage, ReturnInterview
from tests.conftest import _reset_postgres
from tests.support.forkserver import ForkServer
from tests.support.harness import DEFAULT_ANSWERS, SIGNING_SECRET, Bot
from tests.support.serving import (
    Served,
    all_stopped,
    bot_env,
    health,
    seed_open_episodes,
    spawn_serve,
    start_serve,
)
from tests.support.tcpproxy import TcpProxy, proxied

# Acknowledgements within Slack's 3 s and health within 1 s are timed here: run alone.
pytestmark = pytest.mark.serial

NOTHING_SAVED = "nothing was saved"
CANNOT_TELL = "cannot tell whether this was saved"


# -- helpers ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Timed:
    seconds: float
    response: SentResponse | None
    error: str | None = None
    started: float = 0.0  # time.monotonic()

    @property
    def ended(self) -> float:
        return self.started + self.seconds

    @property
    def text(self) -> str:
        if self.response is None or self.response.json is None:
            return ""
        return str(self.response.json.get("text") or "")


def timed(call: Callable[[], SentResponse]) -> Timed:
    start = time.monotonic()
    try:
        response = call()
    except (OSError, http.client.HTTPException) as exc:  # refused, reset, cut: no answer
        return Timed(time.monotonic() - start, None, type(exc).__name__, start)
    return Timed(time.monotonic() - start, response, None, start)


def slash(sender: SlackSender, text: str) -> Callable[[], Timed]:
    return lambda: timed(lambda: sender.slash(text))


def together(calls: list[Callable[[], Timed]]) -> list[Timed]:
    """Run the calls on their own threads, released at the same moment."""
    barrier = threading.Barrier(len(calls))
    results: list[Timed | None] = [None] * len(calls)

    def run(i: int) -> None:
        barrier.wait(timeout=10)
        results[i] = calls[i]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert all(r is not None for r in results)
    return [r for r in results if r is not None]


def timed_health(url: str) -> tuple[float, int]:
    start = time.monotonic()
    status, _report = health(url, timeout=5)
    return time.monotonic() - start, status


def wait_for(predicate: Callable[[], Any], *, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


@dataclass(frozen=True)
class Stored:
    """What the database holds about some episodes."""

    returned: set[int]
    rhis: dict[int, int]  # episode id -> number of RHI rows
    audits: dict[int, int]  # episode id -> number of "returned" audit rows
    updates: dict[int, int]  # episode id -> number of "returned" thread updates queued


def stored(db: Database, ids: list[int]) -> Stored:
    with db.read() as session:
        returned = set(
            session.scalars(
                select(Episode.id).where(
                    Episode.id.in_(ids), Episode.status == EpisodeStatus.RETURNED
                )
            )
        )

        def counts(column: Any, *where: Any) -> dict[int, int]:
            rows = session.execute(
                select(column, func.count()).where(column.in_(ids), *where).group_by(column)
            )
            return {int(episode): int(n) for episode, n in rows}

        return Stored(
            returned,
            counts(ReturnInterview.episode_id),
            counts(AuditEvent.episode_id, AuditEvent.action == AuditAction.EPISODE_RETURNED),
            counts(OutboxMessage.episode_id, OutboxMessage.key.like("episode:%:returned:%")),
        )


def assert_whole(state: Stored, ids: list[int]) -> None:
    """Nothing partial: a returned episode has exactly one RHI, one audit row and one queued
    thread update; an episode still missing has none of them."""
    for episode in ids:
        expected = 1 if episode in state.returned else 0
        got = (
            state.rhis.get(episode, 0),
            state.audits.get(episode, 0),
            state.updates.get(episode, 0),
        )
        assert got == (expected,) * 3, f"M-{episode}: returned={bool(expected)} but {got}"


def recorded(answer: Timed, episode: int) -> bool:
    return (
        answer.response is not None
        and answer.response.status == 200
        and f"M-{episode} returned at" in answer.text
    )


def summary(values: list[float]) -> str:
    if not values:
        return "-"
    ordered = sorted(values)
    return f"n={len(values)} median {statistics.median(ordered):.3f} s, max {ordered[-1]:.3f} s"


# -- the database goes away ------------------------------------------------------------------


@pytest.fixture
def pg_url(pg_database: str) -> str:
    _reset_postgres(pg_database)
    return pg_database


@pytest.fixture
def direct_db(pg_url: str) -> Iterator[Database]:
    db = Database.from_url(pg_url)
    yield db
    db.dispose()


@pytest.fixture
def proxy(pg_url: str) -> Iterator[TcpProxy]:
    with proxied(pg_url) as (running, _url):
        yield running


def _serve_through(
    proxy: TcpProxy, pg_url: str, fake: FakeSlack, tmp_path: Path, **env: object
) -> Served:
    return start_serve(bot_env(fake, proxy.url(pg_url), **env), tmp_path, name="serve")


def _wait_healthy(proc: Served) -> None:
    """Healthy, and its first scheduler pass over: /healthz says 200 as soon as the copy can
    serve, but a pass still running would be the one holding a connection the test arms."""

    def settled() -> bool:
        status, report = health(proc.url)
        return status == 200 and "pass completed" in str(report.get("scheduler"))

    wait_for(settled, timeout=20, what="/healthz to say 200 after a completed pass")


def test_a_unit_of_work_ends_by_its_deadline_and_the_pool_recovers(
    pg_url: str, proxy: TcpProxy
) -> None:
    """storage.db on its own: against a frozen server a transaction, a read and a ping each
    end on time with StorageUnavailable; no connection stays checked out; after the freeze
    the same Database works again."""
    with pytest.raises(ValueError):
        Database.from_url(pg_url, deadline=1.0)
    db = Database.from_url(proxy.url(pg_url), deadline=REQUEST_DEADLINE_SECONDS)
    try:
        db.ping()
        proxy.freeze()
        took = []
        for unit in (db.transaction, db.read):
            start = time.monotonic()
            with pytest.raises(StorageUnavailable), unit() as session:
                session.execute(text("SELECT 1"))
            took.append(time.monotonic() - start)
        start = time.monotonic()
        with pytest.raises(StorageUnavailable):
            db.ping()
        pinged = time.monotonic() - start
        assert all(seconds < REQUEST_DEADLINE_SECONDS + 0.2 for seconds in took), took
        assert pinged < HEALTH_PING_SECONDS + 0.1, pinged
        # The ping's own thread gives up by its deadline too, and returns its connection.
        pool: Any = db.engine.pool
        wait_for(lambda: pool.checkedout() == 0, timeout=3, what="every connection back")
        proxy.resume()
        wait_for(_answers(db), timeout=5, what="the database to answer again")
        with db.transaction() as session:
            assert session.execute(text("SELECT 2")).scalar() == 2
    finally:
        db.dispose()
    print(f"frozen: units ended after {[round(t, 2) for t in took]} s, ping {pinged:.2f} s")


def _answers(db: Database) -> Callable[[], bool]:
    def check() -> bool:
        try:
            db.ping()
        except StorageUnavailable:
            return False
        return True

    return check


def test_the_deadline_is_for_postgresql_only(sqlite_url: str) -> None:
    db = Database.from_url(sqlite_url, deadline=REQUEST_DEADLINE_SECONDS)
    try:
        assert db.deadline is None
        db.ping()
    finally:
        db.dispose()


@pytest.mark.slow
def test_database_frozen_or_stopped_nothing_saved_in_time_and_recovers(
    fake_slack: FakeSlack, pg_url: str, direct_db: Database, proxy: TcpProxy, tmp_path: Path
) -> None:
    ids = seed_open_episodes(direct_db, 40, now=datetime.now(UTC))
    todo = iter(ids)
    proc = _serve_through(proxy, pg_url, fake_slack, tmp_path)
    figures: dict[str, Any] = {}
    with all_stopped([proc]):
        proc.wait_ready()
        _wait_healthy(proc)
        sender = proc.sender(fake_slack, timeout=15)

        def returned(episode: int) -> Timed:
            return timed(lambda: sender.slash(f"returned M-{episode} now"))

        first = next(todo)
        assert recorded(returned(first), first)
        acknowledged = [first]
        refused: list[int] = []
        forms = {}
        for fault in ("frozen", "stopped"):  # opened while the database is there
            mark = len(fake_slack.views)
            assert sender.slash("new").status == 200
            forms[fault] = fake_slack.wait_for_view("new_episode", since=mark)
        form_answers = _form_answers(0, datetime.now(UTC))

        for fault in ("frozen", "stopped"):
            proxy.freeze() if fault == "frozen" else proxy.stop()
            # One at a time (the first finds the pool's idle connections, frozen or closed),
            # then as many at once as the server has threads.
            one_ids = [next(todo), next(todo)]
            one = [returned(e) for e in one_ids]
            burst_ids = [next(todo) for _ in range(8)]
            burst = together([slash(sender, f"returned M-{e} now") for e in burst_ids])
            health_times = [timed_health(proc.url) for _ in range(4)]
            for answer in one + burst:
                assert answer.response is not None, answer.error
                assert answer.response.status == 200, answer.response.body
                assert NOTHING_SAVED in answer.text, answer.text
                assert answer.seconds < 3.0, answer.seconds
            assert all(seconds < 1.0 and status == 503 for seconds, status in health_times), (
                health_times
            )
            refused += one_ids + burst_ids
            # A form submitted meanwhile stays open, saying so, with everything typed kept.
            form = timed(lambda f=forms[fault]: sender.submit_answers(f, form_answers))  # type: ignore[misc]
            assert form.response is not None and form.response.json is not None, form
            assert form.response.json.get("response_action") == "errors"
            assert NOTHING_SAVED in form.response.json["errors"]["child_name"]
            assert form.seconds < 3.0, form.seconds
            figures[f"{fault}: form submitted"] = f"{form.seconds:.3f} s"
            figures[f"{fault}: one at a time"] = summary([a.seconds for a in one])
            figures[f"{fault}: 8 at once"] = summary([a.seconds for a in burst])
            figures[f"{fault}: /healthz"] = summary([s for s, _ in health_times])

            # Back: the bot recovers by itself, without a restart.
            proxy.resume()
            back = time.monotonic()
            wait_for(lambda: health(proc.url)[0] == 200, timeout=10, what="/healthz back to 200")
            figures[f"{fault}: /healthz 200 again after"] = f"{time.monotonic() - back:.2f} s"
            episode = next(todo)
            answer = returned(episode)
            assert recorded(answer, episode), answer.text
            acknowledged.append(episode)
            figures[f"{fault}: first command after"] = f"{answer.seconds:.3f} s"
            again = sender.submit_answers(forms[fault], form_answers)  # the same form, again
            assert (again.status, again.body) == (200, ""), again

        assert "unhandled request" not in proc.text().lower()
        assert proc.alive()
        state = stored(direct_db, ids)
        assert state.returned == set(acknowledged)
        assert not state.returned & set(refused)
        assert_whole(state, ids)
        with direct_db.read() as session:
            logged = session.scalar(
                select(func.count()).select_from(Episode).where(Episode.id.not_in(ids))
            )
        assert logged == 2  # each form once, when submitted again
    for name, value in figures.items():
        print(f"{name}: {value}")


@pytest.mark.slow
def test_database_stops_answering_mid_transaction_or_at_commit(
    fake_slack: FakeSlack, pg_url: str, direct_db: Database, proxy: TcpProxy, tmp_path: Path
) -> None:
    """One connection stops answering at a chosen statement, the server itself carrying on.

    After the episode's row is locked: nothing is saved (the server rolls back when the bot
    drops the connection), and someone else's try on the same episode, waiting on that lock,
    is answered in time too. After COMMIT is sent: the server commits and only its answer is
    lost, so the bot says it cannot tell, and trying again says it was already returned.
    """
    first, second = seed_open_episodes(direct_db, 2, now=datetime.now(UTC))
    # No scheduler passes after the first (their COMMITs would be the ones held).
    proc = _serve_through(proxy, pg_url, fake_slack, tmp_path, TICK_SECONDS=3600)
    figures: dict[str, str] = {}
    with all_stopped([proc]):
        proc.wait_ready()
        _wait_healthy(proc)
        sender = proc.sender(fake_slack, timeout=15)

        def returned(episode: int) -> Timed:
            return timed(lambda: sender.slash(f"returned M-{episode} now"))

        proxy.hold_after(b"FOR UPDATE")
        locked = returned(first)
        assert proxy.held.is_set()
        waiting = returned(first)  # the row is still locked by the connection held open
        for answer in (locked, waiting):
            assert NOTHING_SAVED in answer.text and answer.seconds < 3.0, answer
        figures["held after FOR UPDATE"] = f"{locked.seconds:.3f} s"
        figures["waiting on that lock"] = f"{waiting.seconds:.3f} s"
        assert stored(direct_db, [first]).returned == set()
        proxy.resume()

        def try_again() -> Timed | None:
            answer = returned(first)
            return answer if recorded(answer, first) else None

        again = wait_for(
            try_again, timeout=10, what="the return to be recorded once the connection is released"
        )
        figures["recorded after release"] = f"{again.seconds:.3f} s"
        # Its thread update goes out (and commits) before the next hold is armed.
        wait_for(lambda: _sent(direct_db, first), timeout=10, what="the outbox to send the update")

        proxy.hold_after(b"COMMIT")
        committing = returned(second)
        assert proxy.held.is_set()
        assert CANNOT_TELL in committing.text and committing.seconds < 3.0, committing
        assert NOTHING_SAVED not in committing.text
        figures["held after COMMIT"] = f"{committing.seconds:.3f} s"
        # The server did commit: whole, and the second try says so instead of doing it twice.
        state = stored(direct_db, [first, second])
        assert state.returned == {first, second}
        assert_whole(state, [first, second])
        proxy.resume()
        retry = returned(second)
        assert f"M-{second} was already returned" in retry.text, retry.text
        assert "unhandled request" not in proc.text().lower()
    for name, value in figures.items():
        print(f"{name}: {value}")


def _sent(db: Database, episode: int) -> bool:
    with db.read() as session:
        statuses = session.scalars(
            select(OutboxMessage.status).where(OutboxMessage.episode_id == episode)
        ).all()
    # Sent, or dropped for good (an edit of a post these directly inserted episodes never had).
    return bool(statuses) and all(s in ("sent", "cancelled") for s in statuses)


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


# -- two people return the same episode at the same moment -----------------------------------


def test_two_people_return_the_same_episode_at_once_one_wins(bot: Bot) -> None:
    """100 trials over HTTP, two people released together by a barrier: each time exactly one
    return is recorded, and the other person is told it was already returned."""
    trials = 100
    other = "UCONTROL2"
    bot.grant(other)
    ids = seed_open_episodes(bot.services.db, trials, now=bot.clock.now())
    people = [bot.sender, SlackSender(bot.sender.events_url, SIGNING_SECRET, user_id=other)]
    winners: list[str] = []
    overlapping = 0
    for episode in ids:
        results = together([slash(p, f"returned M-{episode} now") for p in people])
        texts = [r.text for r in results]
        assert all(r.response is not None and r.response.status == 200 for r in results), texts
        won = [
            p.user_id
            for p, r in zip(people, results, strict=True)
            if r.text.startswith(f":white_check_mark: M-{episode} returned at")
        ]
        told = [t for t in texts if t.startswith(f"M-{episode} was already returned at")]
        assert len(won) == 1 and len(told) == 1, texts
        winners += won
        first, second = results
        overlapping += first.started < second.ended and second.started < first.ended
    state = stored(bot.services.db, ids)
    assert state.returned == set(ids)
    assert_whole(state, ids)
    print(
        f"{trials} trials, both in flight at once in {overlapping}: wins {dict(Counter(winners))}"
    )
    assert overlapping >= trials * 0.9


# -- Slack slow or rate-limited --------------------------------------------------------------

SLACK_FAULTS: dict[str, dict[str, Any]] = {
    # Every message refused with 429 and a long Retry-After: a client that honours it sleeps.
    "rate-limited": {"status": 429, "retry_after": 30},
    # Every message accepted, its answer held back past the outbox client's 10 s timeout.
    "slow": {"delay": 20.0},
}
MESSAGE_METHODS = ("chat.postMessage", "chat.postEphemeral", "chat.update")


def _form_answers(n: int, now: datetime) -> dict[str, Any]:
    answers = {k: v for k, v in DEFAULT_ANSWERS.items() if k != "placing_authority"}
    answers.update(
        child_name=f"Slow Slack Child {n}",
        looked_after="no",
        last_seen_at=now - timedelta(hours=1),
    )
    return answers


@pytest.mark.slow
@pytest.mark.parametrize("fault", list(SLACK_FAULTS))
def test_slack_slow_or_rate_limited_never_holds_up_an_acknowledgement(
    fake_slack: FakeSlack, database_url: str, tmp_path: Path, fault: str
) -> None:
    """A burst of 50 (25 returns, 25 forms submitted) from 5 client threads while Slack
    refuses or sits on every message: each is acknowledged, as recorded, in under a second."""
    db = Database.from_url(database_url)
    now = datetime.now(UTC)
    try:
        ids = seed_open_episodes(db, 25, now=now)
        proc = start_serve(bot_env(fake_slack, database_url), tmp_path, name="serve")
        with all_stopped([proc]):
            proc.wait_ready()
            sender = proc.sender(fake_slack)
            views = []
            for _ in range(25):  # forms opened while Slack is well
                mark = len(fake_slack.views)
                assert sender.slash("new").status == 200
                views.append(fake_slack.wait_for_view("new_episode", since=mark))
            for method in MESSAGE_METHODS:
                fake_slack.fail(method, times=None, **SLACK_FAULTS[fault])
            posts_before = len(fake_slack.calls_to("chat.postMessage"))

            def submit(view: Any, n: int) -> Callable[[], Timed]:
                return lambda: timed(lambda: sender.submit_answers(view, _form_answers(n, now)))

            returns = [slash(sender, f"returned M-{e} now") for e in ids]
            forms = [submit(v, n) for n, v in enumerate(views)]
            burst = [call for pair in zip(returns, forms, strict=True) for call in pair]
            with ThreadPoolExecutor(5) as clients:
                answers = list(clients.map(lambda call: call(), burst))

            returned, submitted = answers[0::2], answers[1::2]
            for episode, answer in zip(ids, returned, strict=True):
                assert recorded(answer, episode), (answer.error, answer.text)
            for answer in submitted:
                assert answer.response is not None, answer.error
                assert (answer.response.status, answer.response.body) == (200, ""), answer
            slowest = max(a.seconds for a in answers)
            assert slowest < 1.0, summary([a.seconds for a in answers])
            # Slack was being asked meanwhile (by the outbox, on its own thread), and failing.
            wait_for(
                lambda: len(fake_slack.calls_to("chat.postMessage")) > posts_before,
                timeout=5,
                what="the outbox to try Slack",
            )
            assert "unhandled request" not in proc.text().lower()
            assert proc.alive()
        state = stored(db, ids)
        assert state.returned == set(ids)
        assert_whole(state, ids)
        with db.read() as session:
            logged = session.scalar(
                select(func.count()).select_from(Episode).where(Episode.id.not_in(ids))
            )
        assert logged == 25
    finally:
        db.dispose()
    print(f"{fault}: 50 acknowledgements, {summary([a.seconds for a in answers])}")


# -- no acknowledged command is lost ---------------------------------------------------------


class _KillBurst:
    """A burst of `/missing returned` from several client threads at whichever copy of the bot
    is current, while that copy is SIGKILLed at random moments and the next takes over.

    Copies are started ahead (each on its own port) so that the burst is not mostly refused
    while one starts up: at each kill the next ready copy becomes current. Each copy is given
    up to `per_copy` requests; the kill comes once a random number of them has started, plus
    a random few milliseconds, so most kills land with requests in flight. Between the kill and
    the next copy taking over, clients wait (a person would not type faster than that).
    """

    def __init__(
        self, start: Callable[[str], Served], fake: FakeSlack, *, kills: int, per_copy: int
    ) -> None:
        self.start, self.fake = start, fake
        self.kills, self.per_copy = kills, per_copy
        self.procs: list[Served] = []
        self.waiting: list[Served] = []  # started, not yet current
        self.current: Served | None = None
        self.budget = 0  # requests the current copy may still be sent
        self.started = 0  # requests started at the current copy
        self.in_flight = 0
        self.killed_with_in_flight = 0
        self.cond = threading.Condition()
        self.answers: dict[int, Timed] = {}

    def _start(self) -> None:
        proc = self.start(f"serve-{len(self.procs) + 1}")
        self.procs.append(proc)
        self.waiting.append(proc)

    def _next_copy(self, budget: int) -> None:
        proc = self.waiting.pop(0)
        proc.wait_ready()
        if len(self.procs) <= self.kills:
            self._start()  # another copy starts now, while this one serves
        with self.cond:
            self.current, self.budget, self.started = proc, budget, 0
            self.cond.notify_all()

    def _take(self) -> Served:
        with self.cond:
            self.cond.wait_for(lambda: self.current is not None and self.budget > 0)
            assert self.current is not None
            self.budget -= 1
            self.started += 1
            self.in_flight += 1
            self.cond.notify_all()
            return self.current

    def client(self, todo: list[int]) -> None:
        while True:
            with self.cond:
                if not todo:
                    return
                episode = todo.pop(0)
            proc = self._take()
            sender = proc.sender(self.fake, timeout=5)
            answer = timed(lambda s=sender, e=episode: s.slash(f"returned M-{e} now"))  # type: ignore[misc]
            with self.cond:
                self.in_flight -= 1
                self.answers[episode] = answer

    def _started_at_least(self, count: int) -> bool:
        return self.started >= count

    def run(self, ids: list[int], *, clients: int, rng: random.Random) -> None:
        for _ in range(2):
            self._start()
        self._next_copy(self.per_copy)
        todo = list(ids)
        threads = [
            threading.Thread(target=self.client, args=(todo,), daemon=True) for _ in range(clients)
        ]
        for thread in threads:
            thread.start()
        for _ in range(self.kills):
            after = rng.randint(1, self.per_copy)
            with self.cond:
                self.cond.wait_for(partial(self._started_at_least, after), timeout=10)
            time.sleep(rng.uniform(0, 0.03))
            with self.cond:
                assert self.current is not None
                victim, self.current = self.current, None
                self.killed_with_in_flight += self.in_flight > 0
            victim.kill()
            self._next_copy(self.per_copy)
        with self.cond:  # the rest go to the last copy, which is left alive
            self.budget = len(ids)
            self.cond.notify_all()
        for thread in threads:
            thread.join(timeout=60)
        assert not any(t.is_alive() for t in threads)


@pytest.mark.slow
def test_no_acknowledged_command_is_lost_when_the_process_is_killed(
    fake_slack: FakeSlack, database_url: str, tmp_path: Path
) -> None:
    """200 `/missing returned` from 4 client threads over signed HTTP, 20 SIGKILLs: every
    command acknowledged as recorded is in the database, whole; every other one either was
    not saved or, asked again, is said to be already returned.

    The 21 copies are forked from a process that has already imported the bot and run
    `missing-bot serve`'s own main() (tests/support/forkserver.py): started as the console
    script, their imports alone would take 20 s of CPU on this 2-core machine."""
    commands, kills = 200, 20
    db = Database.from_url(database_url)
    rng = random.Random(20261124)
    try:
        ids = seed_open_episodes(db, commands, now=datetime.now(UTC))
        forks = ForkServer(bot_env(fake_slack, database_url), tmp_path)
        burst = _KillBurst(
            lambda name: spawn_serve(forks, tmp_path, name=name),
            fake_slack,
            kills=kills,
            per_copy=10,
        )
        began = time.monotonic()
        with forks, all_stopped(burst.procs):
            burst.run(ids, clients=4, rng=rng)
            took = time.monotonic() - began
            answers = burst.answers
            assert sorted(answers) == sorted(ids)
            acknowledged = {e for e, a in answers.items() if recorded(a, e)}
            refused = {e for e, a in answers.items() if a.response is None}
            other = {
                e: (a.response.status, a.text)
                for e, a in answers.items()
                if a.response is not None and e not in acknowledged
            }
            assert not other, other  # every answer that came said "recorded"

            state = stored(db, ids)
            assert acknowledged <= state.returned  # nothing acknowledged is lost
            assert state.returned <= acknowledged | refused
            assert_whole(state, ids)  # and nothing is partial

            # Asked again, each refused command's fate shows: saved before the kill, or not.
            assert burst.current is not None
            sender = burst.current.sender(fake_slack)
            saved_unacknowledged = 0
            for episode in sorted(refused):
                text = str((sender.slash(f"returned M-{episode} now").json or {}).get("text"))
                if episode in state.returned:
                    assert f"M-{episode} was already returned" in text, text
                    saved_unacknowledged += 1
                else:
                    assert text.startswith(f":white_check_mark: M-{episode} returned at"), text
            logs = "".join(p.text() for p in burst.procs).lower()
            assert "unhandled request" not in logs
            assert len(burst.procs) >= kills + 1
        errors = Counter(a.error for a in answers.values() if a.error)
        print(
            f"{commands} commands, {kills} kills ({burst.killed_with_in_flight} with requests "
            f"in flight), {took:.1f} s: {len(acknowledged)} acknowledged as recorded, "
            f"{len(refused)} refused by a connection error {dict(errors)}, "
            f"{len(state.returned)} recorded ({saved_unacknowledged} of them unacknowledged)"
        )
    finally:
        db.dispose()
