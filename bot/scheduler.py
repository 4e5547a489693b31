"""APScheduler only ticks; the database says what is due and what was already sent."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.services.sweep import Sweeper

log = logging.getLogger(__name__)


def _tick(sweeper: Sweeper) -> None:
    try:
        sweeper.run_once()
    except Exception:
        # A failed pass is retried by the next tick; /healthz reports it if it persists.
        log.exception("scheduler pass failed")
    try:
        sweeper.db.checkpoint()
    except Exception:
        # Only the WAL's size is at stake; the next tick (or SQLite's own threshold) does it.
        log.warning("SQLite checkpoint failed; the next tick tries again", exc_info=True)


def start_scheduler(sweeper: Sweeper, *, tick_seconds: int) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(timezone=UTC)
    scheduler.add_job(
        _tick,
        IntervalTrigger(seconds=tick_seconds, timezone=UTC),
        args=[sweeper],
        id="sweep",
        max_instances=1,
        coalesce=True,
        misfire_grace_time=tick_seconds,
        next_run_time=datetime.now(UTC),
    )
    scheduler.start()
    return scheduler
