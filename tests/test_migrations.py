"""Migrations: they build exactly the models' schema, and carry data across on both databases."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from storage.db import make_engine
from storage.migrate import current_revision, head_revision, upgrade
from storage.models import Base

PG_URL = os.environ.get("TEST_DATABASE_URL", "")
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database with no tables at all."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.sqlite3'}"
        return
    if not PG_URL:
        pytest.skip("TEST_DATABASE_URL not set: PostgreSQL tests not run")
    name = f"missing_bot_mig_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_head_builds_exactly_the_models(empty_url: str) -> None:
    engine = make_engine(empty_url)
    try:
        upgrade(engine)
        assert current_revision(engine) == head_revision()
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        assert diff == []
    finally:
        engine.dispose()


def test_0002_keeps_queued_messages_and_renames_the_outbox(empty_url: str) -> None:
    engine = make_engine(empty_url)
    try:
        upgrade(engine, "0001")
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO children (id, full_name, name_key, date_of_birth, created_at) "
                    "VALUES (1, 'Jane Smith', 'jane smith', :dob, :now)"
                ),
                {"dob": date(2012, 3, 4), "now": NOW},
            )
            conn.execute(
                text(
                    "INSERT INTO episodes (id, child_id, status, last_seen_at, last_seen_place, "
                    "risk_level, looked_after, risk_factors, description, reported_by, "
                    "officer_id, logged_by, created_at) VALUES (1, 1, 'missing', :now, 'x', "
                    "'high', false, '[]', '', '', 'U1', 'U1', :now)"
                ),
                {"now": NOW},
            )
            for key, status in (("episode:1:post", "pending"), ("old:sent", "sent")):
                conn.execute(
                    text(
                        "INSERT INTO deliveries (key, kind, target, episode_id, in_thread, "
                        "payload, status, attempts, not_before, created_at) VALUES (:key, "
                        "'episode_posted', 'C1', 1, false, :payload, :status, 0, :now, :now)"
                    ),
                    {"key": key, "payload": '{"ref": "M-1"}', "status": status, "now": NOW},
                )
        upgrade(engine)
        names = set(inspect(engine).get_table_names())
        assert "outbox" in names and "deliveries" not in names
        with engine.connect() as conn:
            rows = dict(conn.execute(text("SELECT key, payload FROM outbox")).all())
        pending = rows["episode:1:post"]
        pending = pending if isinstance(pending, dict) else json.loads(pending)
        assert pending["text"] == "New missing episode logged: M-1."
        assert pending["blocks"][0]["text"]["text"] == pending["text"]
        sent = rows["old:sent"]
        assert "text" not in (sent if isinstance(sent, dict) else json.loads(sent))
        indexes = {i["name"] for i in inspect(engine).get_indexes("outbox")}
        assert {"ix_outbox_channel_ts", "ix_outbox_status_not_before"} <= indexes
    finally:
        engine.dispose()


def test_0005_carries_open_interviews_over_with_their_next_action(empty_url: str) -> None:
    """Made by the previous migration, with interviews the old scheduler had reached different
    rungs of: each gets the first rung it had not acted on (defaults: 24 h, 24 h, 14 days)."""
    engine = make_engine(empty_url)
    now = datetime.now(UTC).replace(microsecond=0)
    # (hours since the return, status, keys the old scheduler had sent)
    cases = {
        1: (1, "pending", []),
        2: (50, "pending", ["due_soon"]),
        3: (50, "offered", []),  # the old scheduler had not sent it yet: still owed
        4: (80, "pending", ["due_soon", "due_now"]),
        5: (100, "pending", ["due_soon", "due_now", "overdue_1", "escalation:thread"]),
        6: (100, "completed", ["due_soon", "due_now"]),  # closed: not carried over
    }
    try:
        upgrade(engine, "0004")
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO children (id, full_name, name_key, date_of_birth, created_at) "
                    "VALUES (1, 'A B', 'a b', :dob, :now)"
                ),
                {"dob": date(2012, 3, 4), "now": now},
            )
            for n, (hours, status, sent) in cases.items():
                returned = now - timedelta(hours=hours)
                conn.execute(
                    text(
                        "INSERT INTO episodes (id, child_id, status, last_seen_at, "
                        "last_seen_place, risk_level, looked_after, risk_factors, description, "
                        "reported_by, officer_id, logged_by, created_at, returned_at) VALUES "
                        "(:n, 1, 'returned', :seen, 'x', 'high', false, '[]', '', '', 'U1', "
                        "'U1', :seen, :returned)"
                    ),
                    {"n": n, "seen": returned - timedelta(hours=1), "returned": returned},
                )
                conn.execute(
                    text(
                        "INSERT INTO return_interviews (id, episode_id, returned_at, due_at, "
                        "status, assignee_id, created_at, updated_at) VALUES (:n, :n, "
                        ":returned, :due, :status, 'U1', :returned, :returned)"
                    ),
                    {
                        "n": n,
                        "returned": returned,
                        "due": returned + timedelta(hours=72),
                        "status": status,
                    },
                )
                for suffix in sent:
                    conn.execute(
                        text(
                            "INSERT INTO outbox (key, kind, target, episode_id, rhi_id, "
                            "in_thread, payload, status, attempts, not_before, created_at) "
                            "VALUES (:key, 'rhi_reminder', 'U1', :n, :n, false, '{}', 'sent', "
                            "1, :now, :now)"
                        ),
                        {"key": f"rhi:{n}:{suffix}", "n": n, "now": now},
                    )
        upgrade(engine)
        with engine.connect() as conn:
            rows = {
                int(subject): (step, at)
                for subject, step, at in conn.execute(
                    text("SELECT subject, step, next_at FROM followups WHERE kind = 'rhi'")
                )
            }
        assert sorted(rows) == [1, 2, 3, 4, 5]

        def due(n: int, hours: float) -> datetime:
            return now - timedelta(hours=cases[n][0]) + timedelta(hours=hours)

        def utc(value: datetime | str) -> datetime:
            # SQLite hands raw SQL its stored text: naive UTC.
            value = datetime.fromisoformat(value) if isinstance(value, str) else value
            return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

        assert {n: (step, utc(at)) for n, (step, at) in rows.items()} == {
            1: ("due_soon", due(1, 48)),
            2: ("due_now", due(2, 72)),
            3: ("due_soon", due(3, 48)),
            4: ("escalate", due(4, 96)),
            5: ("lapse", due(5, 14 * 24)),
        }
    finally:
        engine.dispose()


def test_0008_gives_every_missing_episode_its_first_review(empty_url: str) -> None:
    """Episodes open at the upgrade are due their first review at the report plus the default
    hours for their risk, and at the latest at the upgrade; returned ones get none."""
    engine = make_engine(empty_url)
    # (status, risk, hours since the report)
    cases = {1: ("missing", "high", 1), 2: ("missing", "low", 30), 3: ("returned", "high", 1)}
    try:
        upgrade(engine, "0006")
        now = datetime.now(UTC).replace(microsecond=0)
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO children (id, full_name, name_key, date_of_birth, created_at) "
                    "VALUES (1, 'A B', 'a b', :dob, :now)"
                ),
                {"dob": date(2012, 3, 4), "now": now},
            )
            for n, (status, risk, hours) in cases.items():
                conn.execute(
                    text(
                        "INSERT INTO episodes (id, child_id, status, last_seen_at, "
                        "last_seen_place, risk_level, looked_after, risk_factors, description, "
                        "reported_by, officer_id, logged_by, created_at) VALUES (:n, 1, "
                        ":status, :at, 'x', :risk, false, '[]', '', '', 'U1', 'U1', :at)"
                    ),
                    {"n": n, "status": status, "risk": risk, "at": now - timedelta(hours=hours)},
                )
        upgrade(engine)
        after = datetime.now(UTC)
        with engine.connect() as conn:
            due = {
                n: _utc(at)
                for n, at in conn.execute(text("SELECT id, review_due_at FROM episodes"))
                if at is not None
            }
            followups = {
                int(subject): (step, _utc(at))
                for subject, step, at in conn.execute(
                    text("SELECT subject, step, next_at FROM followups WHERE kind = 'review'")
                )
            }
        assert sorted(due) == [1, 2] and followups == {n: ("due", due[n]) for n in due}
        assert due[1] == now + timedelta(hours=1)  # reported an hour ago, high: 2 h
        assert now <= due[2] <= after  # 30 h ago at low risk (12 h): due at the upgrade
    finally:
        engine.dispose()


def _utc(value: datetime | str) -> datetime:
    # SQLite hands raw SQL its stored text: naive UTC.
    value = datetime.fromisoformat(value) if isinstance(value, str) else value
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
