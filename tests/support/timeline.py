"""Steps on a fake clock for the return home interview tests: return, then time passes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fakeslack import Posted
from tests.support.harness import LOGGER, SAFEGUARDING, Bot

RETURN = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def dms(bot: Bot, user: str = LOGGER) -> list[str]:
    """Reminders and daily lists sent to this person (not confirmations)."""
    return [
        p.text or ""
        for p in bot.fake.dms_to(user)
        if "RHI for" in (p.text or "") or "overdue return home" in (p.text or "")
    ]


def escalations(bot: Bot) -> list[Posted]:
    return [
        p
        for p in bot.fake.posted
        if p.kind == "message" and ("Escalation" in (p.text or "") or "Lapsed" in (p.text or ""))
    ]


def log_and_return(bot: Bot, **answers: object) -> Posted:
    post = bot.log_episode(**answers)
    bot.slash("returned M-1 now")
    return post


def at(bot: Bot, hours: float) -> None:
    """Move the clock to `hours` after the return and run one scheduler pass."""
    bot.clock.set(RETURN + timedelta(hours=hours))
    bot.sweep()


def every_hour(bot: Bot, first: int, last: int) -> None:
    for hours in range(first, last + 1):
        at(bot, hours)


def reminders(bot: Bot, user: str = LOGGER) -> list[str]:
    """Direct messages about return home interviews (reminders, notices, daily lists)."""
    return dms(bot, user)


def is_digest(text: str | None) -> bool:
    return (text or "").startswith("Safeguarding digest")


def but_digests(posts: list[Posted]) -> list[Posted]:
    """Posts other than the daily digest and its chart: the digest goes every morning at
    08:00, so tests spanning days see one a day in the safeguarding channel."""
    digests = {p.ts for p in posts if p.channel == SAFEGUARDING and is_digest(p.text)}
    return [
        p
        for p in posts
        if not (p.channel == SAFEGUARDING and (p.ts in digests or p.thread_ts in digests))
    ]
