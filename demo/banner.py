"""What the demo prints before the first prompt, and the console's own help."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.engine import make_url

from bot.domain.states import EpisodeStatus
from bot.services.container import Services
from demo.seed import SeedResult
from demo.terminal import Style
from storage.models import Episode

META_HELP = """Console commands (these are not Slack):
  :click <n> <button>     click a button on message n, e.g. :click 1 Done (n: the number shown)
  :advance <hours>        move the demo clock forward and run the scheduler at once: this is
                          how reminders and escalations show up without waiting for days
  :time                   the demo's date and time
  :channel control        the last 10 messages in #control-room (also: safeguarding, dm)
  :quit                   leave (Ctrl-D and Ctrl-C work too)
In a form: answer each question; Enter keeps the default or leaves an optional field empty,
- clears an optional field, :cancel abandons the form.
@name in a command (e.g. assign @pc.ashby) becomes a Slack mention, as in Slack."""


def describe_database(url: str) -> str:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database:
        return str(Path(parsed.database).resolve())
    return parsed.render_as_string(hide_password=True)


def banner(
    *,
    style: Style,
    database_url: str,
    log_file: str | None,
) -> str:
    lines = [
        style.bold("missing-bot offline demo"),
        "The real bot (same app, handlers, storage and scheduler) runs on this machine against",
        "a local fake Slack. Nothing is sent to Slack; no Slack credentials are used.",
        f"Database: {describe_database(database_url)}"
        + (f"   (bot log: {log_file})" if log_file else ""),
    ]
    return "\n".join(lines)


def seed_summary(result: SeedResult, caught_up: int) -> str:
    if result.seeded:
        return (
            f"Seeded {result.episodes} synthetic episodes ({result.still_missing} still missing); "
            f"the bot's {caught_up} messages about them are in the channels (:channel control)."
        )
    line = (
        f"Using the {result.episodes} episodes already in the database "
        f"({result.still_missing} still missing)."
    )
    if caught_up:
        line += f" While starting, the bot sent {caught_up} messages it owed (:channel control)."
    return line


def examples(services: Services, *, style: Style, tz: ZoneInfo, now: datetime) -> str:
    return "\n".join(
        [
            "You are @officer, typing in #control-room. Type /missing commands as in Slack:",
            "  /missing list",
            "  /missing new",
            "  " + return_example(services, tz=tz, now=now),
            f"{style.bold(':help')} lists everything; {style.bold(':quit')} leaves.",
        ]
    )


def return_example(services: Services, *, tz: ZoneInfo, now: datetime) -> str:
    """The latest still-missing episode, "found" ten minutes ago: the example then works."""
    with services.db.transaction() as session:
        episode = session.scalars(
            select(Episode)
            .where(Episode.status == EpisodeStatus.MISSING)
            .order_by(Episode.last_seen_at.desc())
            .limit(1)
        ).first()
        found = None if episode is None else (episode.id, episode.last_seen_at)
    at = (now - timedelta(minutes=10)).astimezone(tz)
    at -= timedelta(minutes=at.minute % 5)
    if found is None or found[1] >= at:
        return "/missing returned M-3 at 14:30 found at a friend's"
    return f"/missing returned M-{found[0]} at {at:%H:%M} found at a friend's"
