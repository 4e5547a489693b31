"""The busy day the digest tests and the docs' example use: something in every list, and
things that must not count."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from storage.db import Database
from tests.support.digest_seed import Ep, Rhi, failed_message, seed

# The digest falls due at 08:00 on Wed 25/11/2026 (GMT: UTC); the pass runs 30 s later.
AT = datetime(2026, 11, 25, 8, 0, 30, tzinfo=UTC)
SINCE = AT - timedelta(hours=24)


def h(hours: float) -> datetime:
    """`hours` before the digest."""
    return AT - timedelta(hours=hours)


def busy_day() -> list[Ep]:
    """A busy day and the week before it: something in every list, and things that must not
    count (a void episode, a repeat outside its window, a review not yet overdue)."""
    camden = "London Borough of Camden"
    gus = date(2012, 2, 2)
    hal = date(2013, 3, 3)
    return [
        # Logged since the last digest.
        Ep("Amy Adams", h(20), "high", looked_after=True, authority=camden, review_due=h(5)),
        Ep("Ben Brown", h(18), returned=h(10), rhi=Rhi(), safe_well="to_be_done"),
        Ep(
            "Cal Cole",
            h(16),
            "low",
            looked_after=True,
            authority=camden.upper() + " ",
            returned=h(12),
            rhi=Rhi(),
        ),
        Ep(
            "Dee Dunn",
            h(6),
            "high",
            looked_after=True,
            authority="Hackney Council",
            review_due=h(0.5),
        ),
        Ep("Eve Earl", h(3), "no_apparent_risk"),
        Ep("Fay Ford", h(9), void=True),
        Ep("Gus Gray", h(2), "high", dob=gus, looked_after=True, authority="Essex County Council"),
        Ep("Hal Hart", h(4), "low", dob=hal),
        # Gus's two earlier episodes in the last 30 days (a repeat), Hal's one (not).
        Ep(
            "Gus Gray",
            h(24 * 10),
            "high",
            dob=gus,
            returned=h(24 * 10 - 20),
            rhi=Rhi("completed", closed_at=h(24 * 9)),
        ),
        Ep(
            "Gus Gray",
            h(24 * 20),
            "high",
            dob=gus,
            returned=h(24 * 20 - 20),
            rhi=Rhi("completed", closed_at=h(24 * 19)),
        ),
        Ep(
            "Hal Hart",
            h(24 * 40),
            "low",
            dob=hal,
            returned=h(24 * 40 - 5),
            rhi=Rhi("completed", closed_at=h(24 * 39)),
        ),
        Ep(
            "Hal Hart",
            h(24 * 5),
            "low",
            dob=hal,
            returned=h(24 * 5 - 5),
            rhi=Rhi("declined", closed_at=h(24 * 4)),
        ),
        # Missing since before the period.
        Ep("Ivy Irwin", h(72), looked_after=True, authority=camden, review_due=h(30)),
        Ep("Jon Jones", h(30), "high", review_due=h(-1)),
        # Back in the period after going missing earlier.
        Ep("Kay King", h(48), returned=h(1), rhi=Rhi()),
        # Interviews overdue, one of them completed since (it was overdue yesterday).
        Ep("Lee Lamb", h(120), returned=h(96), rhi=Rhi()),
        Ep("May Moss", h(100), "high", returned=h(80), rhi=Rhi("offered")),
        Ep("Ned Nash", h(150), returned=h(100), rhi=Rhi("completed", closed_at=h(2))),
        # Interviews due in the next 24 hours.
        Ep("Oli Owen", h(70), returned=h(60), rhi=Rhi()),
        Ep("Pat Page", h(55), "low", returned=h(50), rhi=Rhi(assignee="UOFFICER2")),
        # Lapsed since the last digest.
        Ep(
            "Quin Quay",
            h(24 * 16),
            returned=h(24 * 15),
            rhi=Rhi("not_done", closed_at=h(5), reason="lapsed"),
        ),
        # The week before: new episodes and returns for the averages.
        *[
            Ep(
                f"Ray{n} Reed",
                h(24 * n + 3),
                returned=h(24 * n - 2),
                rhi=Rhi("completed", closed_at=h(24 * n - 30)),
            )
            for n in range(2, 8)
        ],
    ]


def seed_busy_day(db: Database) -> list[Ep]:
    episodes = busy_day()
    seed(db, episodes)
    lee = named(episodes, "Lee Lamb")
    failed_message(db, at=h(3), episode_id=lee.id, reason="user_not_found")
    return episodes


def named(episodes: list[Ep], name: str) -> Ep:
    """The latest episode of the child with this name."""
    return max((e for e in episodes if e.name == name), key=lambda e: e.created)
