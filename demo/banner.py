"""What the demo prints before the first prompt, and the console's own help."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.engine import make_url

from bot.domain.states import EpisodeStatus
from bot.domain.timetext import fmt_duration
from bot.services.container import Services
from demo.seed import SeedResult
from demo.terminal import Style
from storage import queries
from storage.models import Episode

META_HELP = """Console commands (these are not Slack):
  :click <n> <button>     click a button on message n, e.g. :click 1 Done (n: the number shown)
  :advance <hours>        move the demo clock forward and run the scheduler at once: this is
                          how reminders and escalations show up without waiting for days
  :time                   the demo's date and time, and how far :advance has moved it (kept
                          with the demo's data across restarts)
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
            *(f"  {line}" for line in suggestions(services, tz=tz, now=now)),
            f"{style.bold(':help')} lists everything; {style.bold(':quit')} leaves.",
        ]
    )


def suggestions(services: Services, *, tz: ZoneInfo, now: datetime) -> list[str]:
    """Commands to try, with references that exist in this database and fit them: a child
    still missing to return, an open return home interview to record. Fixed references would
    name an episode already returned, or none at all, after a few sessions."""
    lines = ["/missing list", "/missing new"]
    with services.db.read() as session:
        missing = session.scalars(
            select(Episode)
            .where(Episode.status == EpisodeStatus.MISSING)
            .order_by(Episode.last_seen_at.desc(), Episode.id.desc())
            .limit(1)
        ).first()
        found = None if missing is None else (missing.id, missing.last_seen_at)
        open_rhis = queries.open_rhis(session, limit=1)
        interview = open_rhis[0].episode_id if open_rhis else None
    if found is not None:
        lines.append(return_example(found[0], found[1], tz=tz, now=now))
    if interview is not None:
        lines.append(f"/missing rhi M-{interview} done")
    return lines


def return_example(episode_id: int, last_seen_at: datetime, *, tz: ZoneInfo, now: datetime) -> str:
    """The child found ten minutes ago (on a five-minute mark) when that is after they were
    last seen; otherwise the return is now."""
    at = (now - timedelta(minutes=10)).astimezone(tz)
    at -= timedelta(minutes=at.minute % 5, seconds=at.second, microseconds=at.microsecond)
    when = f" at {at:%H:%M}" if at > last_seen_at else ""
    return f"/missing returned M-{episode_id}{when} found at a friend's"


def clock_line(offset: timedelta, kept_in: Path | None) -> str:
    """How far the demo clock is ahead of real time, and where that is kept."""
    if not offset:
        return "Demo clock: real time (:advance <hours> moves it on)."
    hours = offset.total_seconds() / 3600
    kept = f" (kept in {kept_in})" if kept_in else " (not kept: the database is not a file)"
    return f"Demo clock: {hours:g} h ahead of real time ({fmt_duration(offset)}){kept}."
