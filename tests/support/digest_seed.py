"""Episodes for the digest tests, written straight into the tables, and the figures they should
give, counted here in plain Python from the same specifications (never by the bot's queries).

The digest reads only the database, so these tests seed it directly: hundreds of episodes in
milliseconds, each with exactly the times a scenario needs. The Slack path (the digest posted,
its chart uploaded, `/missing digest`) is what the tests drive through the real bot.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import insert, text

from bot.domain.states import DeliveryStatus, RhiStatus
from storage.db import Database
from storage.models import Child, Episode, OutboxMessage, ReturnInterview

LONDON = ZoneInfo("Europe/London")
OPEN = ("pending", "offered")
RISKS = ("high", "medium", "low", "no_apparent_risk")


@dataclass
class Rhi:
    status: str = "pending"
    due_at: datetime | None = None  # default: 72 h after the return
    assignee: str = "UOFFICER1"
    closed_at: datetime | None = None  # when a closed status was recorded
    reason: str | None = None  # "lapsed" for a lapse


@dataclass
class Ep:
    name: str
    created: datetime
    risk: str = "medium"
    dob: date = date(2011, 6, 1)
    seen_before: timedelta = timedelta(hours=1)  # last seen this long before it was logged
    looked_after: bool = False
    authority: str | None = None
    returned: datetime | None = None
    void: bool = False
    rhi: Rhi | None = None
    review_due: datetime | None = None
    safe_well: str | None = None
    id: int = 0  # set by `seed`

    @property
    def last_seen(self) -> datetime:
        return self.created - self.seen_before

    @property
    def ref(self) -> str:
        return f"M-{self.id}"

    @property
    def initials(self) -> str:
        return "".join(f"{w[0]}." for w in self.name.split())

    @property
    def counted(self) -> bool:
        return not self.void

    @property
    def rhi_due(self) -> datetime | None:
        if self.rhi is None or self.returned is None:
            return None
        return self.rhi.due_at or self.returned + timedelta(hours=72)


def seed(db: Database, episodes: Sequence[Ep], *, first_id: int = 1) -> None:
    """Insert the episodes (one child per distinct name and birth date), numbering them from
    `first_id` in order, with their interviews."""
    children: dict[tuple[str, date], int] = {}
    with db.transaction() as session:
        for offset, ep in enumerate(episodes):
            key = (ep.name, ep.dob)
            if key not in children:
                child = Child(
                    full_name=ep.name,
                    name_key=ep.name.casefold(),
                    date_of_birth=ep.dob,
                    created_at=ep.created,
                )
                session.add(child)
                session.flush()
                children[key] = child.id
            ep.id = first_id + offset
            status = "void" if ep.void else ("returned" if ep.returned else "missing")
            session.execute(
                insert(Episode).values(
                    id=ep.id,
                    child_id=children[key],
                    status=status,
                    last_seen_at=ep.last_seen,
                    last_seen_place="somewhere",
                    risk_level=ep.risk,
                    looked_after=ep.looked_after,
                    placing_authority=ep.authority,
                    risk_factors=[],
                    description="",
                    reported_by="",
                    officer_id="UOFFICER1",
                    logged_by="UCONTROL1",
                    created_at=ep.created,
                    returned_at=ep.returned,
                    safe_well_status=ep.safe_well,
                    voided_at=ep.created if ep.void else None,
                    review_due_at=ep.review_due if status == "missing" else None,
                )
            )
            if ep.rhi is not None and ep.returned is not None:
                due = ep.rhi_due
                assert due is not None
                session.execute(
                    insert(ReturnInterview).values(
                        episode_id=ep.id,
                        returned_at=ep.returned,
                        due_at=due,
                        status=ep.rhi.status,
                        status_reason=ep.rhi.reason,
                        assignee_id=ep.rhi.assignee,
                        created_at=ep.returned,
                        updated_at=ep.rhi.closed_at or ep.returned,
                        updated_by="UOFFICER1",
                    )
                )
        if db.dialect == "postgresql":
            # Ids given by hand: the sequence moves past them for episodes logged later.
            session.execute(
                text(
                    "SELECT setval(pg_get_serial_sequence('episodes', 'id'), max(id)) FROM episodes"
                )
            )


def failed_message(db: Database, *, at: datetime, episode_id: int | None, reason: str) -> None:
    """A message Slack refused for good at `at` (what the outbox records)."""
    with db.transaction() as session:
        session.execute(
            insert(OutboxMessage).values(
                key=f"test-failed:{at.isoformat()}",
                kind="rhi_reminder",
                target="UGONE",
                episode_id=episode_id,
                in_thread=False,
                payload={"text": "x"},
                status=DeliveryStatus.FAILED.value,
                attempts=1,
                not_before=at,
                created_at=at,
                error=reason,
                failed_at=at,
            )
        )


# -- the figures, counted from the specifications ----------------------------------------


def new_in(episodes: Iterable[Ep], since: datetime, until: datetime) -> list[Ep]:
    return [e for e in episodes if e.counted and since <= e.created < until]


def returned_in(episodes: Iterable[Ep], since: datetime, until: datetime) -> list[Ep]:
    return [
        e for e in episodes if e.counted and e.returned is not None and since <= e.returned < until
    ]


def missing_at(episodes: Iterable[Ep], at: datetime) -> list[Ep]:
    return [
        e
        for e in episodes
        if e.counted and e.created <= at and (e.returned is None or e.returned > at)
    ]


def rhi_open_at(ep: Ep, at: datetime) -> bool:
    if not ep.counted or ep.rhi is None or ep.returned is None or ep.returned > at:
        return False
    if ep.rhi.status in OPEN:
        return True
    return ep.rhi.status != RhiStatus.CANCELLED and (ep.rhi.closed_at or ep.returned) > at


def rhis_overdue_at(episodes: Iterable[Ep], at: datetime) -> list[Ep]:
    return [e for e in episodes if rhi_open_at(e, at) and e.rhi_due and e.rhi_due < at]


def rhis_due_at(episodes: Iterable[Ep], at: datetime, within: timedelta) -> list[Ep]:
    return [
        e for e in episodes if rhi_open_at(e, at) and e.rhi_due and at <= e.rhi_due < at + within
    ]


def same_time_days_before(at: datetime, days: int) -> datetime:
    local = at.astimezone(LONDON)
    wall = datetime.combine(local.date() - timedelta(days=days), local.time())
    return wall.replace(tzinfo=LONDON).astimezone(UTC)


@dataclass
class Expected:
    """The headline and its 7-day averages, as the digest should give them."""

    new_by_risk: dict[str, int] = field(default_factory=dict)
    returns: int = 0
    missing: int = 0
    overdue: int = 0
    due: int = 0
    avg_new: float = 0.0
    avg_returns: float = 0.0
    avg_missing: float = 0.0
    avg_overdue: float = 0.0
    avg_due: float = 0.0


def expected(episodes: Sequence[Ep], since: datetime, until: datetime) -> Expected:
    day = timedelta(hours=24)
    new = new_in(episodes, since, until)
    week = same_time_days_before(since, 7)
    moments = [same_time_days_before(until, n) for n in range(1, 8)]
    return Expected(
        new_by_risk={r: sum(1 for e in new if e.risk == r) for r in RISKS},
        returns=len(returned_in(episodes, since, until)),
        missing=len(missing_at(episodes, until)),
        overdue=len(rhis_overdue_at(episodes, until)),
        due=len(rhis_due_at(episodes, until, day)),
        avg_new=len(new_in(episodes, week, since)) / 7,
        avg_returns=len(returned_in(episodes, week, since)) / 7,
        avg_missing=sum(len(missing_at(episodes, m)) for m in moments) / 7,
        avg_overdue=sum(len(rhis_overdue_at(episodes, m)) for m in moments) / 7,
        avg_due=sum(len(rhis_due_at(episodes, m, day)) for m in moments) / 7,
    )
