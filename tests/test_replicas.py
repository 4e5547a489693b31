"""Several real copies of the bot on one PostgreSQL: each reminder goes out once.

These tests start real `missing-bot` processes (the console script, with the system clock)
against the session's throwaway PostgreSQL database and a FakeSlack in this process. The data
is created through the real services with a FakeClock set hours in the past, so that, for the
processes' real clock, some return home interviews are owed a reminder or escalation *now*.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from bot.app import build_client, build_services
from bot.clock import FakeClock
from bot.domain.followup import RhiFacts, RhiPolicy, plan
from bot.domain.states import DeliveryStatus, RhiStep
from bot.services.messages import DeliveryFailed
from bot.services.outbox import Outbox
from bot.services.ports import Sent
from bot.settings import Settings
from fakeslack import Call, FakeSlack
from handlers.renderer import SlackRenderer
from storage.db import Database
from storage.models import Episode, OutboxMessage, ReturnInterview, SchedulerPass
from tests.conftest import _reset_postgres
from tests.support.blockkit import assert_all_valid
from tests.support.harness import CONTROL, SAFEGUARDING, Bot, start_bot

pytestmark = pytest.mark.slow

LONDON = ZoneInfo("Europe/London")

POST = "chat.postMessage"
REF = re.compile(r"\bM-\d+\b")
# How long before "now" each test RHI's child came back. With the default policy (72 h to do the
# interview, a reminder 24 h before, escalation 24 h after), the copies catch up at once:
#   100 h ago: due 28 h ago -> the latest reminder (due_now) + escalation, safeguarding + thread
#    75 h ago: due 3 h ago  -> due_now
#    50 h ago: due in 22 h  -> due_soon (2 h ago)
#     1 h ago: due in 71 h  -> nothing yet
RETURNED_HOURS_AGO = [100, 100, 75, 50, 50, 1, 1]


# -- processes -----------------------------------------------------------------------------


def _bot_command(*args: str) -> list[str]:
    """The installed console script when there is one (what operators run), else `-m bot`."""
    script = Path(sys.executable).with_name("missing-bot")
    if script.exists():
        return [str(script), *args]
    return [sys.executable, "-m", "bot", *args]


def _bot_env(fake: FakeSlack, database_url: str, **extra: object) -> dict[str, str]:
    """The environment of one copy: nothing inherited that the bot reads as a setting."""
    settings_names = {name.upper() for name in Settings.model_fields}
    env = {k: v for k, v in os.environ.items() if k.upper() not in settings_names}
    env.update(
        DATABASE_URL=database_url,
        SLACK_API_URL=fake.api_url,
        SLACK_BOT_TOKEN="xoxb-test",
        SLACK_SIGNING_SECRET="s",
        CONTROL_ROOM_CHANNEL=CONTROL,
        SAFEGUARDING_CHANNEL=SAFEGUARDING,
        TICK_SECONDS="1",
        QUIET_HOURS="off",
        PORT="0",
        LOG_LEVEL="INFO",
        PYTHONUNBUFFERED="1",
        ADMIN_USER_IDS="UCONTROL1",
    )
    env.update({k: str(v) for k, v in extra.items()})
    return env


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    def stop(self, timeout: float = 10) -> int:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout=timeout)
        return self.popen.returncode


def _show_logs(logs: list[Path]) -> None:
    """Printed always; pytest shows it only when the test fails."""
    for path in logs:
        text = path.read_text(errors="replace") if path.exists() else "(no output file)"
        print(f"\n===== {path.name} =====\n{text[-6000:]}")


@contextmanager
def serving(
    count: int, *, env: dict[str, str], cwd: Path, prefix: str = "serve"
) -> Iterator[list[Proc]]:
    """`count` `missing-bot serve` processes; always stopped (SIGTERM, then SIGKILL)."""
    procs: list[Proc] = []
    try:
        for n in range(count):
            log = cwd / f"{prefix}-{n + 1}.log"
            with log.open("wb") as out:
                popen = subprocess.Popen(
                    _bot_command("serve"),
                    env=env,
                    cwd=cwd,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                )
            procs.append(Proc(f"{prefix}-{n + 1}", popen, log))
        yield procs
    finally:
        for proc in procs:
            proc.stop()
        _show_logs([p.log for p in procs])


def _run(
    args: list[str], *, env: dict[str, str], cwd: Path, log_name: str, timeout: float = 30
) -> tuple[int, str]:
    """Run one short-lived process to the end; returns (exit code, its output)."""
    log = cwd / log_name
    try:
        with log.open("wb") as out:
            done = subprocess.run(
                args,
                env=env,
                cwd=cwd,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                timeout=timeout,
                check=False,
            )
        return done.returncode, log.read_text(errors="replace")
    finally:
        _show_logs([log])


def _wait_until(predicate: Callable[[], Any], *, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.1)


def _assert_alive(procs: list[Proc]) -> None:
    for proc in procs:
        assert proc.popen.poll() is None, f"{proc.name} exited early ({proc.popen.returncode})"


# -- data ----------------------------------------------------------------------------------


def _seed(fake: FakeSlack, url: str, now: datetime, hours_ago: list[int]) -> None:
    """Log one episode per entry through the real app, then record each return in the past.

    Episode M-n is child n, chased by officer UOFFICERn. The harness sends the control-room
    posts and thread replies as a user's actions would; afterwards nothing is left to send.
    """
    clock = FakeClock(now - timedelta(hours=max(hours_ago) + 10))
    bot = start_bot(fake, url, clock=clock)
    try:
        for n in range(1, len(hours_ago) + 1):
            bot.log_episode(
                child_name=f"Test Child {chr(ord('A') + n - 1)}ox",
                date_of_birth=f"2012-03-{n:02d}",
                last_seen_at=clock.now() - timedelta(hours=1),
                officer=f"UOFFICER{n}",
            )
        for n, ago in sorted(enumerate(hours_ago, start=1), key=lambda item: -item[1]):
            clock.set(now - timedelta(hours=ago))
            reply = bot.slash(f"returned M-{n} now")
            assert f"M-{n} returned at" in reply.text, reply.text
            # The police safe-and-well check is done at once: these tests are about the RHI.
            assert "recorded" in (bot.slash(f"safewell M-{n} done").text or "")
        _wait_until(lambda: _all_sent(bot), timeout=5, what="the harness's posts to be recorded")
    finally:
        bot.stop()


def _all_sent(bot: Bot) -> bool:
    with bot.services.db.transaction() as session:
        statuses = session.scalars(select(OutboxMessage.status)).all()
    return bool(statuses) and all(s == DeliveryStatus.SENT for s in statuses)


@dataclass(frozen=True)
class Expected:
    key: str
    channel: str  # as Slack reports it: D<user> for a DM
    ref: str
    escalation: bool
    thread_ts: str | None = None


def _expected(db: Database, *, now: datetime, policy: RhiPolicy) -> list[Expected]:
    """What the rules say is owed at `now`, one entry per message (not hard-coded)."""
    owed: list[Expected] = []
    with db.transaction() as session:
        rows = session.execute(
            select(ReturnInterview, Episode).join(Episode).order_by(ReturnInterview.id)
        ).all()
        for rhi, episode in rows:
            ref = f"M-{episode.id}"
            facts = RhiFacts(
                returned_at=rhi.returned_at,
                due_at=rhi.due_at,
                snoozed_until=rhi.snoozed_until,
                high_risk=episode.risk_level == "high",
            )
            step = plan(facts, policy, pending=RhiStep.DUE_SOON, now=now)
            if step.remind is not None:
                key = f"rhi:{rhi.id}:{step.remind.value}"
                owed.append(Expected(key, f"D{rhi.assignee_id}", ref, escalation=False))
            if step.escalate:
                key = f"rhi:{rhi.id}:escalation"
                owed.append(Expected(key, SAFEGUARDING, ref, escalation=True))
                owed.append(
                    Expected(f"{key}:thread", CONTROL, ref, True, thread_ts=episode.channel_ts)
                )
    return owed


def _policy() -> RhiPolicy:
    """The policy a copy with default settings (and QUIET_HOURS=off) uses."""
    defaults = Settings(_env_file=None)  # type: ignore[call-arg]
    return RhiPolicy(
        before_hours=defaults.rhi_reminder_before_hours,
        escalate_after_hours=defaults.rhi_escalate_after_hours,
        lapse_days=defaults.rhi_lapse_days,
        quiet=None,
    )


def _message_id(call: Call) -> tuple[str, str, bool, str | None]:
    """(channel, episode ref, is an escalation, thread) of one chat.postMessage."""
    assert call.ok, call
    text = str(call.args.get("text") or "")
    refs = REF.findall(text)
    assert len(refs) == 1, text
    thread = call.args.get("thread_ts") or None
    assert call.response is not None
    return str(call.response["channel"]), refs[0], text.startswith("Escalation"), thread


def _outbox_rows(db: Database) -> list[OutboxMessage]:
    with db.transaction() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def _passes(db: Database) -> dict[str, int]:
    with db.transaction() as session:
        rows = session.execute(select(SchedulerPass.instance_id, SchedulerPass.passes)).all()
    return {instance: passes or 0 for instance, passes in rows}


# -- tests ---------------------------------------------------------------------------------


def test_three_serve_processes_send_each_reminder_once(
    fake_slack: FakeSlack, pg_database: str, tmp_path: Path
) -> None:
    url = pg_database
    _reset_postgres(url)
    now = datetime.now(UTC)
    _seed(fake_slack, url, now, RETURNED_HOURS_AGO)

    db = Database.from_url(url)
    try:
        before = _outbox_rows(db)
        # For each of the 7: the control-room post, the private confirmation, the notice to the
        # officer in the case, the "returned" thread reply, the post's edit and the "safe and
        # well check done" reply, all delivered by the harness.
        assert len(before) == 6 * len(RETURNED_HOURS_AGO)
        assert {d.status for d in before} == {DeliveryStatus.SENT}
        expected = _expected(db, now=datetime.now(UTC), policy=_policy())
        # What the rules give for RETURNED_HOURS_AGO, reasoned out by hand (see the top).
        assert sorted(e.key for e in expected) == sorted(
            [
                "rhi:1:due_now",
                "rhi:1:escalation",
                "rhi:1:escalation:thread",
                "rhi:2:due_now",
                "rhi:2:escalation",
                "rhi:2:escalation:thread",
                "rhi:3:due_now",
                "rhi:4:due_soon",
                "rhi:5:due_soon",
            ]
        )
        assert all(e.thread_ts for e in expected if e.channel == CONTROL)
        mark = len(fake_slack.calls_to(POST))
        env = _bot_env(fake_slack, url)

        def new_posts() -> list[Call]:
            return fake_slack.calls_to(POST)[mark:]

        with serving(3, env=env, cwd=tmp_path) as procs:
            _wait_until(
                lambda: len(new_posts()) >= len(expected),
                timeout=20,
                what=f"{len(expected)} reminders and escalations at the fake Slack",
            )
            _wait_until(
                lambda: len(passes := _passes(db)) == 3 and min(passes.values()) >= 2,
                timeout=15,
                what="every copy to complete two scheduler passes",
            )
            time.sleep(3)  # more passes by every copy: time for any duplicate to show
            _assert_alive(procs)
            exit_codes = [proc.stop() for proc in procs]
        assert exit_codes == [0, 0, 0], "serve should exit cleanly on SIGTERM"

        # Each copy ran the scheduler, several times.
        passes = _passes(db)
        assert len(passes) == 3 and min(passes.values()) >= 2, passes

        # Slack saw each owed message exactly once, and nothing else.
        sent = Counter(_message_id(call) for call in new_posts())
        wanted = Counter((e.channel, e.ref, e.escalation, e.thread_ts) for e in expected)
        assert sent == wanted
        assert len(new_posts()) == 9
        assert len([c for c in new_posts() if c.response["channel"].startswith("D")]) == 5
        # Nobody was reminded about M-6 or M-7 (returned an hour ago).
        for officer in ("UOFFICER6", "UOFFICER7"):
            # Only the notice that the episode was theirs, when it was logged: no reminder.
            assert [p.text for p in fake_slack.dms_to(officer) if "RHI for" in (p.text or "")] == []

        # The outbox agrees: one row per owed key, every row sent once, each with its own ts.
        after = _outbox_rows(db)
        rows = {d.key: d for d in after if d.key.startswith("rhi:")}
        assert sorted(rows) == sorted(e.key for e in expected)
        assert len(after) == len(before) + len(expected)
        assert all(d.status == DeliveryStatus.SENT and d.attempts == 1 for d in after)
        # Each message its own ts (an edit of a post carries the post's own).
        posted = [d for d in after if d.kind != "episode_post_updated"]
        assert len({d.ts for d in posted}) == len(posted)
        posted_at = {(c.response["channel"], c.response["ts"]) for c in new_posts()}
        assert {(d.channel, d.ts) for d in rows.values()} == posted_at
        senders = Counter(d.claimed_by for d in rows.values())
        assert set(senders) <= set(passes)
        print(f"messages sent per copy: {dict(senders)}; passes per copy: {passes}")

        # Across a restart: a fresh copy finds nothing new to send.
        with serving(1, env=env, cwd=tmp_path, prefix="restart") as (fourth,):
            _wait_until(
                lambda: any(n >= 2 for i, n in _passes(db).items() if i not in passes),
                timeout=15,
                what="the restarted copy to complete two scheduler passes",
            )
            _assert_alive([fourth])
            assert fourth.stop() == 0
        assert len(_passes(db)) == 4
        assert len(new_posts()) == len(expected)
        assert [(d.key, d.status, d.ts) for d in _outbox_rows(db)] == [
            (d.key, d.status, d.ts) for d in after
        ]
    finally:
        db.dispose()
    assert_all_valid(fake_slack)


CLAIM_THEN_DIE = """
import os, signal, sys
from bot.app import build_client, build_services
from bot.settings import load_settings

settings = load_settings()
services = build_services(settings, client=build_client(settings), migrate=False)
delivery = services.outbox.claim(int(sys.argv[1]))
print("claimed" if delivery is not None else "missed", services.outbox.instance_id, flush=True)
os.kill(os.getpid(), signal.SIGKILL)  # dies here, between the claim and the send
print("still alive", flush=True)
"""


def test_killed_between_claim_and_send_is_delivered_after_timeout(
    fake_slack: FakeSlack, pg_database: str, tmp_path: Path
) -> None:
    url = pg_database
    _reset_postgres(url)
    timeout = 3
    now = datetime.now(UTC)
    _seed(fake_slack, url, now, [50])  # owed due_soon, nothing else

    db = Database.from_url(url)
    try:
        # Plan in-process: the reminder now has its outbox row, not yet sent.
        clock = FakeClock(datetime.now(UTC))
        planner = start_bot(fake_slack, url, clock=clock)
        try:
            assert planner.services.sweeper.runner.run_due().messages == 1
            with db.read() as session:
                delivery_id = session.scalars(
                    select(OutboxMessage.id).where(OutboxMessage.key == "rhi:1:due_soon")
                ).one()
        finally:
            planner.stop()
        with db.transaction() as session:
            row = session.get_one(OutboxMessage, delivery_id)
            assert (row.key, row.status, row.attempts) == ("rhi:1:due_soon", "pending", 0)
        mark = len(fake_slack.calls_to(POST))
        env = _bot_env(fake_slack, url, CLAIM_TIMEOUT_SECONDS=timeout)

        # A copy claims it for real, then is killed before it can send.
        code, output = _run(
            [sys.executable, "-c", CLAIM_THEN_DIE, str(delivery_id)],
            env=env,
            cwd=tmp_path,
            log_name="claim-then-die.log",
        )
        assert code == -signal.SIGKILL, output
        match = re.search(r"^claimed (\S+)$", output, re.MULTILINE)
        assert match, output
        dead = match.group(1)
        assert "still alive" not in output
        with db.transaction() as session:
            row = session.get_one(OutboxMessage, delivery_id)
            assert (row.status, row.claimed_by, row.attempts) == (DeliveryStatus.CLAIMED, dead, 1)
            assert row.claimed_at is not None
            stale_at = row.claimed_at + timedelta(seconds=timeout)
        assert fake_slack.calls_to(POST)[mark:] == []

        # Right away, another copy leaves the claim alone: it is not stale yet.
        code, output = _run(
            _bot_command("sweep"), env=env, cwd=tmp_path, log_name="sweep-early.log"
        )
        assert code == 0, output
        assert "0 sent" in output, output
        with db.transaction() as session:
            early = session.scalars(select(SchedulerPass.last_started_at)).one()
            row = session.get_one(OutboxMessage, delivery_id)
            assert early is not None
            if early >= stale_at:
                pytest.fail(f"the early sweep started {early - stale_at} after the timeout")
            assert (row.status, row.claimed_by, row.attempts) == (DeliveryStatus.CLAIMED, dead, 1)
        assert fake_slack.calls_to(POST)[mark:] == []

        # After the timeout the next pass takes the claim over and sends it, once.
        time.sleep(max((stale_at - datetime.now(UTC)).total_seconds(), 0) + 0.3)
        code, output = _run(_bot_command("sweep"), env=env, cwd=tmp_path, log_name="sweep-late.log")
        assert code == 0, output
        assert "1 sent" in output, output
        (call,) = fake_slack.calls_to(POST)[mark:]
        # The officer also had the "this episode is yours" notice when it was logged.
        (dm,) = [p for p in fake_slack.dms_to("UOFFICER1") if "RHI for" in (p.text or "")]
        assert call.response is not None and dm.ts == call.response["ts"]
        assert "RHI for M-1 due" in (dm.text or "")
        with db.transaction() as session:
            row = session.get_one(OutboxMessage, delivery_id)
            assert (row.status, row.attempts, row.ts) == (DeliveryStatus.SENT, 2, dm.ts)
            assert row.claimed_by not in (dead, None)
            # The post, its confirmation, the officer's notice, the return's thread reply, the
            # post's edit, the safe-and-well reply, and this reminder.
            assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 7

        # And once sent, it stays sent: the next pass finds nothing to do.
        code, output = _run(
            _bot_command("sweep"), env=env, cwd=tmp_path, log_name="sweep-after.log"
        )
        assert code == 0 and "0 planned, 0 sent" in output, output
        assert len(fake_slack.calls_to(POST)[mark:]) == 1
    finally:
        db.dispose()


class _NoSlack:
    def send(self, **_: Any) -> Sent:
        raise AssertionError("claiming must not send anything")


def _race(count: int, action: Callable[[int], Any]) -> list[Any]:
    """Run `action(i)` on `count` threads released at the same moment; results in order."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=10)
            results[i] = action(i)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors
    assert not any(t.is_alive() for t in threads)
    return results


@pytest.mark.both_databases
def test_racing_enqueues_and_claims_have_one_winner(database_url: str) -> None:
    db = Database.from_url(database_url)
    count = 8
    clock = FakeClock(datetime.now(UTC))
    workers = [
        Outbox(
            db=db,
            clock=clock,
            renderer=SlackRenderer(LONDON),
            notifier=_NoSlack(),  # type: ignore[arg-type]
            instance_id=f"copy-{i}",
            safeguarding_channel=SAFEGUARDING,
            tz=LONDON,
            claim_timeout=timedelta(minutes=5),
        )
        for i in range(count)
    ]
    try:

        def add(i: int) -> int | None:
            with db.transaction() as session:
                return workers[i].enqueue(
                    session,
                    key="race:1",
                    message=DeliveryFailed(what="race", target=SAFEGUARDING, reason="x", ref=None),
                    target=SAFEGUARDING,
                    now=clock.now(),
                )

        ids = [i for i in _race(count, add) if i is not None]
        assert len(ids) == 1
        (delivery_id,) = ids
        with db.transaction() as session:
            assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 1

        def claim(i: int) -> str | None:
            return workers[i].instance_id if workers[i].claim(delivery_id) else None

        winners = [w for w in _race(count, claim) if w]
        assert len(winners) == 1
        assert [w for w in workers if w.claim(delivery_id)] == []  # a fresh claim is kept

        # Once the claim is stale, exactly one copy takes it over.
        clock.advance(minutes=5, seconds=1)
        takers = [w for w in _race(count, claim) if w]
        assert len(takers) == 1
        with db.transaction() as session:
            row = session.get_one(OutboxMessage, delivery_id)
            assert (row.status, row.claimed_by, row.attempts) == (
                DeliveryStatus.CLAIMED,
                takers[0],
                2,
            )
    finally:
        db.dispose()


def test_three_copies_walk_the_whole_ladder_once(fake_slack: FakeSlack, pg_database: str) -> None:
    """Three copies on one PostgreSQL, sharing a fake clock, each running a pass at the same
    moment at every step: the interview's whole ladder still goes out once, in order."""
    url = pg_database
    _reset_postgres(url)
    returned = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
    clock = FakeClock(returned)
    bot = start_bot(fake_slack, url, clock=clock)
    copies = [
        build_services(
            bot.settings,
            client=build_client(bot.settings),
            clock=clock,
            db=Database.from_url(url),
            migrate=False,
            instance_id=f"copy-{i}",
        )
        for i in range(3)
    ]
    try:
        bot.log_episode()
        bot.slash("returned M-1 now")
        mark = fake_slack.mark()
        # Every rung, and the hours around them: due soon +48, due +72, lists at 09:00 from
        # +93 each day, escalation +96, lapse +336.
        steps = sorted({h + d for h in (47, 48, 71, 72, 93, 96, 335, 336) for d in (0, 1)})
        steps += [93 + 24 * day for day in range(1, 12)] + [400]
        for hours in sorted(set(steps)):
            clock.set(returned + timedelta(hours=hours))
            _race(3, lambda i: copies[i].sweeper.run_once())
        keys = Counter(
            (p.raw.get("metadata") or {}).get("event_payload", {}).get("key")
            for p in fake_slack.posted[mark:]
            if "files" not in p.raw  # a daily digest's chart: a file share, keyed by its name
        )
        assert all(n == 1 for n in keys.values()), keys
        charts = Counter(u.filename for u in fake_slack.uploads)
        assert all(n == 1 for n in charts.values()), charts
        lists = [k for k in keys if str(k).startswith("overdue:")]
        assert len(lists) == 11
        assert {k for k in keys if str(k).startswith("rhi:1:")} == {
            "rhi:1:due_soon",
            "rhi:1:due_now",
            "rhi:1:escalation",
            "rhi:1:escalation:thread",
            "rhi:1:lapsed",
            "rhi:1:lapsed:thread",
        }
        with bot.services.db.read() as session:
            rows = session.scalars(select(OutboxMessage)).all()
            assert all(r.status == DeliveryStatus.SENT and r.attempts == 1 for r in rows)
    finally:
        for copy in copies:
            copy.close()
        bot.stop()
