"""Synthetic episodes for the demo, written through the bot's own services.

Every record goes through `EpisodeService.log`, `record_return` and `RhiService.set_status` with
a clock set to the moment it happened, so the audit trail, the outbox and the reminder state are
what the bot itself would have produced over the last 30 days.

The figures follow /work/shared/notes/domain.md: children aged 12-17 (one 11), 9 girls of 15,
about half the episodes from looked-after children, several placed by London boroughs, a few
children missing again and again, most back within 24 h and nearly all within 48 h, a handful
still missing, most interviews done within 72 hours and a few overdue. Names are made up and
meant to look it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from slack_sdk import WebClient
from sqlalchemy import func, select

from bot.app import build_services
from bot.clock import FakeClock
from bot.domain.access import Role
from bot.domain.episode import NewEpisode
from bot.domain.states import EpisodeStatus, RhiStatus
from bot.services.access import Caller
from bot.services.container import Services
from demo.runtime import DEMO_USER, OFFICERS
from storage.models import Episode

ASHBY, MORROW, OKAFOR = OFFICERS
HACKNEY = "London Borough of Hackney"
CAMDEN = "London Borough of Camden"
ESSEX = "Essex County Council"

# (days ago, local time last seen, hours missing or None if still missing, RHI outcome)
# RHI outcome: "done:<hours after return>", "declined", "notdone", "offered" or "open".
Ep = tuple[int, str, float | None, str]
# One thing that happened, and when: run with the services' clock set to that moment.
Step = tuple[datetime, Callable[[Services], None]]


@dataclass(frozen=True)
class ChildSpec:
    name: str
    age: int
    birthday: tuple[int, int]  # (month, day)
    looked_after: bool
    placed_by: str
    risk: str
    factors: tuple[str, ...]
    officer: str
    episodes: tuple[Ep, ...]


# fmt: off
CHILDREN: tuple[ChildSpec, ...] = (
    ChildSpec("Ruby Testwell", 15, (3, 14), True, HACKNEY, "high", ("cse", "cce"), DEMO_USER, (
        (29, "22:40", 14, "done:30"), (25, "19:15", 31, "done:50"), (21, "23:05", 9, "declined"),
        (16, "20:30", 52, "done:100"), (11, "21:50", 18, "done:40"), (6, "22:15", 11, "open"),
        (1, "23:30", None, ""),
    )),
    ChildSpec("Kayden Mockford", 16, (7, 2), True, CAMDEN, "high", ("cce",), OKAFOR, (
        (28, "16:20", 20, "done:26"), (22, "18:45", 6, "done:20"), (15, "21:10", 40, "notdone"),
        (9, "17:30", 26, "done:60"), (3, "20:05", None, ""),
    )),
    ChildSpec("Ellie Sampleton", 14, (11, 30), False, "", "medium", ("mental_health", "self_harm"),
              ASHBY, (
        (27, "15:40", 5, "done:22"), (19, "22:00", 12, "done:45"), (12, "21:20", 8, "done:70"),
        (4, "19:50", 22, "open"),
    )),
    ChildSpec("Maya Fauxley", 13, (5, 9), False, "", "medium", (), DEMO_USER, (
        (24, "20:15", 16, "done:30"), (13, "22:30", 10, "declined"), (2, "21:00", 7, "open"),
    )),
    ChildSpec("Tyler Demoson", 15, (1, 21), True, "", "high", ("cce",), MORROW, (
        (26, "23:50", 36, "done:55"), (17, "22:10", 70, "done:96"), (7, "21:40", 19, "open"),
    )),
    ChildSpec("Skye Notreal", 16, (9, 3), False, "", "medium", ("cse",), OKAFOR, (
        (20, "18:30", 13, "done:28"), (1, "19:45", None, ""),
    )),
    ChildSpec("Leah Madeup", 12, (12, 12), False, "", "low", (), ASHBY, (
        (23, "17:10", 4, "declined"), (8, "16:50", 3, "done:26"),
    )),
    ChildSpec("Jordan Fictor", 17, (2, 27), True, ESSEX, "medium", ("cce",), MORROW, (
        (18, "22:20", 28, "done:48"), (5, "23:15", None, ""),
    )),
    ChildSpec("Amelia Synthe", 14, (6, 18), False, "", "high", ("mental_health", "medication"),
              ASHBY, ((10, "14:30", 6, "done:20"),)),
    ChildSpec("Harvey Dummyworth", 13, (10, 5), False, "", "medium", (), MORROW, (
        (14, "20:00", 110, "notdone"),
    )),
    ChildSpec("Chloe Pretendall", 15, (4, 22), True, "", "medium", ("self_harm",), OKAFOR, (
        (9, "21:45", 17, "offered"),
    )),
    ChildSpec("Riley Sampleby", 11, (8, 16), False, "", "high", (), DEMO_USER, (
        (0, "15:10", None, ""),
    )),
    ChildSpec("Keira Mockett", 16, (3, 30), True, HACKNEY, "medium", ("cse",), MORROW, (
        (12, "22:50", 45, "done:52"),
    )),
    ChildSpec("Lacey Examplar", 17, (1, 8), False, "", "low", (), ASHBY, (
        (15, "18:00", 2, "done:24"),
    )),
    ChildSpec("Ocean Testcase", 14, (6, 1), False, "", "no_apparent_risk", (), OKAFOR, (
        (4, "15:15", 8, "done:30"),
    )),
)
# fmt: on

PLACES = (
    "Bus station, Old Cattle Market",
    "Outside school, Orchard Lane",
    "Care home, 4 Maple Road",
    "Town centre, Cornhill",
    "Railway station forecourt",
    "Home address, Birchwood Close",
    "Retail park car park",
    "Friend's address, Fern Street",
)
# Who rings in: carers for a looked-after child, family or school for the others.
CARERS = ("Care home manager, placement phone", "Foster carer, mobile", "Residential key worker")
FAMILY = ("Mother, by phone", "School safeguarding lead", "Father, by phone")
DESCRIPTIONS = (
    "Black puffer jacket, grey joggers, white trainers",
    "School uniform, navy backpack",
    "Red hoodie, blue jeans, phone with cracked screen",
    "Long dark hair in a bun, green parka",
    "Grey tracksuit, black cap",
)
RHI_BY = ("Local authority RHI team", "Commissioned RHI service")
NOT_DONE = (
    "Could not be contacted within 72 hours despite three visits",
    "Moved placement before the interview",
)


@dataclass(frozen=True)
class SeedResult:
    episodes: int
    still_missing: int
    seeded: bool


def episode_counts(services: Services) -> tuple[int, int]:
    """(episodes in the database, still missing)."""
    with services.db.transaction() as session:
        total = session.scalar(select(func.count()).select_from(Episode)) or 0
        missing = (
            session.scalar(select(func.count()).where(Episode.status == EpisodeStatus.MISSING)) or 0
        )
        return total, missing


def seed_if_empty(services: Services, client: WebClient) -> SeedResult:
    """Seed when the database has no episodes; otherwise leave it as it is."""
    total, missing = episode_counts(services)
    if total:
        return SeedResult(total, missing, seeded=False)
    now = services.clock.now()
    clock = FakeClock(now)
    # The same services, on the same database, with their own clock: each call is "then".
    past = build_services(
        services.settings,
        client=client,
        clock=clock,
        db=services.db,
        migrate=False,
        instance_id="demo-seed",
    )
    # The fictional officers work in the control room: the demo's admin (you) grants it.
    for officer in OFFICERS:
        past.access.grant(Caller(DEMO_USER), user_id=officer, role=Role.CONTROL_ROOM)
    for at, step in sorted(_steps(now, services.tz), key=lambda step: step[0]):
        clock.set(at)
        step(past)
    past.outbox.close(wait=True)  # what the history posted has gone out before the prompt
    total, missing = episode_counts(services)
    return SeedResult(total, missing, seeded=True)


def _steps(now: datetime, tz: ZoneInfo) -> list[Step]:
    """Every log, return and interview outcome, each with the moment it happened."""
    steps: list[Step] = []
    counter = 0
    for child in CHILDREN:
        dob = _birth_date(child, now.astimezone(tz).date())
        for days_ago, seen_text, hours_missing, outcome in child.episodes:
            counter += 1
            seen = _last_seen(now, tz, days_ago, seen_text)
            logged_at = seen + timedelta(minutes=25 + counter % 5 * 15)
            if logged_at > now:  # reported a few minutes ago
                logged_at = now
            new = NewEpisode(
                child_name=child.name,
                date_of_birth=dob,
                last_seen_at=seen,
                last_seen_place=PLACES[counter % len(PLACES)],
                risk_level=child.risk,
                looked_after=child.looked_after,
                placing_authority=child.placed_by,
                risk_factors=list(child.factors),
                description=DESCRIPTIONS[counter % len(DESCRIPTIONS)],
                reported_by=(CARERS if child.looked_after else FAMILY)[counter % 3],
                incident_ref=f"CAD-{seen.astimezone(tz):%d%m}-{40 + counter * 7:04d}",
                officer_id=child.officer,
            )
            # The id exists once the log step has run; the later steps read it from here.
            box: dict[str, int] = {}
            steps.append((logged_at, _log_step(new, box)))
            if hours_missing is None:
                continue
            returned = seen + timedelta(hours=hours_missing)
            if returned > now - timedelta(minutes=30):
                continue  # not yet (the times are relative to now): still missing
            note = "Returned to placement" if child.looked_after else "Returned home"
            steps.append(
                (returned + timedelta(minutes=20), _return_step(box, returned, child.officer, note))
            )
            steps.extend(_rhi_steps(outcome, box, returned, counter, child, now))
    return steps


def _log_step(new: NewEpisode, box: dict[str, int]) -> Callable[[Services], None]:
    def run(services: Services) -> None:
        box["id"] = services.episodes.log(new, Caller(new.officer_id)).card.episode_id

    return run


def _return_step(
    box: dict[str, int], returned: datetime, actor: str, note: str
) -> Callable[[Services], None]:
    def run(services: Services) -> None:
        services.episodes.record_return(box["id"], Caller(actor), returned_at=returned, note=note)

    return run


def _rhi_steps(
    outcome: str,
    box: dict[str, int],
    returned: datetime,
    counter: int,
    child: ChildSpec,
    now: datetime,
) -> list[Step]:
    kind, _, hours = outcome.partition(":")
    if kind in ("", "open"):
        return []
    at = returned + timedelta(hours=float(hours) if hours else 10)
    if at > now:
        return []  # not happened yet: the interview stays pending
    status = {
        "done": RhiStatus.COMPLETED,
        "declined": RhiStatus.DECLINED,
        "notdone": RhiStatus.NOT_DONE,
        "offered": RhiStatus.OFFERED,
    }[kind]
    organisation = ""
    if status is RhiStatus.COMPLETED:
        organisation = child.placed_by or RHI_BY[counter % len(RHI_BY)]
    reason = NOT_DONE[counter % len(NOT_DONE)] if status is RhiStatus.NOT_DONE else ""

    def run(services: Services) -> None:
        services.rhi.set_status(
            box["id"],
            status,
            Caller(child.officer),
            when=at if status is RhiStatus.COMPLETED else None,
            organisation=organisation,
            reason=reason,
        )

    return [(at, run)]


def _birth_date(child: ChildSpec, today: date) -> date:
    month, day = child.birthday
    year = today.year - child.age - (1 if (month, day) > (today.month, today.day) else 0)
    return date(year, month, day)


def _last_seen(now: datetime, tz: ZoneInfo, days_ago: int, clock_text: str) -> datetime:
    local_day = now.astimezone(tz).date() - timedelta(days=days_ago)
    naive = datetime.combine(local_day, time.fromisoformat(clock_text))
    seen = naive.replace(tzinfo=tz).astimezone(UTC)
    # "Today 23:30" may not have come yet when the demo starts in the morning: a day earlier.
    while seen > now - timedelta(hours=1):
        seen -= timedelta(days=1)
    return seen
