"""The benchmark's generator: its counts, and that exactly the seeded "due" RHIs are due."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from slack_sdk import WebClient
from sqlalchemy import func, select

from bench.seed import CONTROL_CHANNEL, SAFEGUARDING_CHANNEL, SeedConfig, make_plan, seed
from bot.app import build_services
from bot.clock import FakeClock
from bot.domain.states import OPEN_RHI_STATUSES, EpisodeStatus
from bot.settings import Settings
from storage.db import Database
from storage.models import Child, Episode, OutboxMessage, ReturnInterview

CONFIG = SeedConfig(size=200, open_rhis=20, due=5)


def test_seed_counts_and_due_work(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/seed.sqlite3"
    summary = seed(url, CONFIG, log=lambda _line: None)
    assert summary["open_rhis"] == 20 and summary["due_rhis"] == 5
    assert summary["counts"]["episodes"] == 220

    db = Database.from_url(url)
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(Episode)) == 220
        returned = session.scalar(
            select(func.count()).where(Episode.status == EpisodeStatus.RETURNED)
        )
        assert session.scalar(select(func.count()).select_from(ReturnInterview)) == returned
        open_count = session.scalar(
            select(func.count()).where(ReturnInterview.status.in_(OPEN_RHI_STATUSES))
        )
        assert open_count == 20
        children = session.scalar(select(func.count()).select_from(Child))
        assert children is not None and 0 < children < 220  # some children went missing again
        outbox_before = session.scalar(select(func.count()).select_from(OutboxMessage))

    # The bot's own scheduler, at the seed's clock, finds exactly the seeded due work...
    clock = FakeClock(CONFIG.now)
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        slack_bot_token="xoxb-test",
        database_url=url,
        control_room_channel=CONTROL_CHANNEL,
        safeguarding_channel=SAFEGUARDING_CHANNEL,
    )
    client = WebClient(base_url="http://127.0.0.1:9/")  # planning never calls Slack
    services = build_services(settings, client=client, clock=clock, db=db, migrate=False)
    runner = services.sweeper.runner
    first = runner.run_due()
    assert first.claimed == 5 and first.messages == summary["first_pass_rows"]
    with db.read() as session:
        new = session.scalars(select(OutboxMessage).where(OutboxMessage.status == "pending"))
        rhis = {row.rhi_id for row in new}
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == (
            outbox_before + summary["first_pass_rows"]
        )
    assert len(rhis) == 5
    # ... and nothing else comes due within the hour after it, nor again once written.
    assert runner.run_due().claimed == 0
    clock.advance(minutes=59)
    assert runner.run_due().claimed == 0
    db.dispose()


def test_plan_is_deterministic() -> None:
    first, second = make_plan(CONFIG), make_plan(CONFIG)
    assert first.episodes == second.episodes and first.child_name == second.child_name
    # Every episode is in the window, and none was reported before it started.
    start = CONFIG.now - timedelta(days=CONFIG.years * 366 + 400)
    assert all(start.timestamp() <= e[0] <= e[1] <= CONFIG.now.timestamp() for e in first.episodes)
