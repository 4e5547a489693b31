"""Three real `missing-bot serve` processes on one PostgreSQL: one digest, one chart.

The digest's follow-up is planned (with a fake clock) for today's DIGEST_TIME, a minute that
has just passed on the real clock, before the copies start; each copy's first pass then finds
the digest due at the same moment, and all three race for it.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from bot.clock import FakeClock
from bot.domain.states import MessageKind
from fakeslack import FakeSlack
from storage.db import Database
from storage.models import DigestRecord, OutboxMessage
from tests.conftest import _reset_postgres
from tests.support.digest_reading import digests, headline
from tests.support.digest_seed import Ep, seed
from tests.support.harness import SAFEGUARDING, start_bot
from tests.support.serving import all_stopped, bot_env, start_serve

pytestmark = pytest.mark.slow
LONDON = ZoneInfo("Europe/London")


def test_three_copies_post_one_digest(
    fake_slack: FakeSlack, pg_database: str, tmp_path: Path
) -> None:
    _reset_postgres(pg_database)
    now = datetime.now(UTC)
    # DIGEST_TIME: this minute, local (it has begun, so the digest is due now, today).
    digest_time = now.astimezone(LONDON).replace(second=0, microsecond=0)
    env = bot_env(fake_slack, pg_database, DIGEST_TIME=digest_time.strftime("%H:%M"))
    # Plan it with a clock a minute before that time: the follow-up falls due at it.
    planner = start_bot(
        fake_slack,
        pg_database,
        clock=FakeClock(digest_time.astimezone(UTC) - timedelta(minutes=1)),
        digest_time=digest_time.strftime("%H:%M"),
        digest_chart=True,  # as the three processes below (their environment's default)
    )
    try:
        planner.sweep()
        seed(planner.services.db, [Ep("Amy Adams", now - timedelta(hours=2), "high")])
    finally:
        planner.stop()

    served = [start_serve(env, tmp_path, name=f"copy-{n}") for n in range(3)]
    with all_stopped(served):
        for copy in served:
            copy.wait_ready(timeout=60)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not (digests(fake_slack) and fake_slack.uploads):
            time.sleep(0.2)
        time.sleep(3)  # several more passes by every copy (TICK_SECONDS=1): nothing more
        for copy in served:
            assert copy.alive(), copy.text()

    [post] = digests(fake_slack)
    assert headline(post.text or "").missing == 1
    [upload] = fake_slack.uploads
    assert (upload.channels, upload.thread_ts) == ((SAFEGUARDING,), post.ts)
    db = Database.from_url(pg_database)
    try:
        with db.read() as session:
            assert session.scalar(select(func.count()).select_from(DigestRecord)) == 1
            kinds = session.scalars(
                select(OutboxMessage.kind).where(
                    OutboxMessage.kind.in_([MessageKind.DIGEST, MessageKind.DIGEST_CHART])
                )
            ).all()
            assert sorted(kinds) == [MessageKind.DIGEST, MessageKind.DIGEST_CHART]
    finally:
        db.dispose()
