"""Synthetic data at scale for the scheduler benchmark, written straight into the tables.

    python -m bench.seed --backend sqlite|postgresql --size 1000000 [--open-rhis 20000] [--due 100]

`--size` is the number of *history* episodes: children who went missing over the last `--years`
years, most long since back with their return home interview (RHI) closed, a few still missing.
On top of those come `--open-rhis` returned episodes whose RHI is still open, so the scheduler's
real work (the open RHIs) is the same at every size and only the history grows: the issue asks
for 10,000 and 1,000,000 episodes *with 20,000 open RHIs*, which cannot be 10,000 episodes in
all (a return opens one RHI). So `--size 10000` seeds 30,000 episodes and `--size 1000000`
1,020,000.

What "due" means (the contract between this generator and the benchmark):

  Every open RHI has a follow-up row (`followups`, kind `rhi`) holding its next action, as the
  bot keeps it: the first rung of its ladder (`bot.domain.followup.ladder`, default policy:
  reminder 24 h before the 72-hour due time, at it, escalation 24 h after, lapse 14 days after
  the return) that has not been acted on. An open RHI is *due* at the seed's `now` when that
  next action fell in the hour before `now`. Exactly `--due` open RHIs are due; every other
  open RHI's next action is at least an hour after `now`, and the daily overdue-lists row is
  tomorrow at 09:00. So a pass run at any clock in [now, now + 1 h) finds the same due work:
  `summary["first_pass_rows"]` new outbox rows (1 for a reminder; 2 for an escalation or a
  lapse, each to the safeguarding channel and the episode's thread).

Speed: rows are generated as plain tuples and loaded in chunks: SQLite with one transaction per
chunk and `PRAGMA synchronous=OFF` (seeding only), PostgreSQL with COPY and foreign-key triggers
off (`session_replication_role = replica`) during the load. Deterministic: one seeded random
stream decides who went missing when (`make_plan`), and each table's details have their own, so
changing one table's generator leaves the other tables' data as it was.

Extending it when the schema changes: one `*_rows` function per table yields a dict per row;
a new column with a Python default, a server default or NULL allowed needs no change here.
Derived scheduling state (a "next action at" per open RHI, say) belongs in `after_seed`.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import IntEnum
from typing import Any

from sqlalchemy import JSON, Engine, Table, func, insert, select, text

from bot.domain import followup as rules
from bot.domain.episode import RISK_FACTORS
from bot.domain.states import (
    OPEN_RHI_STATUSES,
    DeliveryStatus,
    EpisodeStatus,
    FollowupKind,
    MessageKind,
    RhiStatus,
    Risk,
)
from storage.db import make_engine
from storage.migrate import upgrade
from storage.models import Child, Episode, Followup, OutboxMessage, ReturnInterview

# Bump when the generated data changes meaning: cached seeds made by older code are not reused.
GENERATOR_VERSION = 2

# A Tuesday at midday in November (GMT, no clock change near it): outside the default quiet
# hours (22:00-07:00 London), so reminders for every risk level go out. The tests' clock too.
BENCH_NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
CONTROL_CHANNEL = "CCONTROL"
SAFEGUARDING_CHANNEL = "CSAFEGUARD"
# The bot's defaults (bot.settings): the benchmark runs the bot with these.
POLICY = rules.RhiPolicy()
RHI_DUE_HOURS = 72
# Due work happened in the hour before now; nothing else comes due in the hour after it.
MARGIN_S = 3600

HOUR = 3600
DAY = 24 * HOUR


class Cat(IntEnum):
    """What an episode is in the seed: still missing, returned with its RHI closed, or one of
    the open-RHI situations (see the module docstring for what makes one due)."""

    MISSING = 0
    CLOSED = 1
    # Open and not due.
    FRESH = 2  # returned 1-47 h ago: next, the 24-hours-before reminder
    SOON_SENT = 3  # 49-71 h ago: that reminder sent; next, the due-now one
    NOW_SENT = 4  # 73-95 h ago: due-now sent; next, the escalation
    OVERDUE_SENT = 5  # 97-335 h ago: escalated; next, the lapse at 14 days
    SNOOZED = 6  # as OVERDUE_SENT, snoozed (a snooze never holds the lapse)
    # Open and due: the next action fell in the hour before now.
    DUE_SOON = 7  # 48-49 h ago: the 24-hours-before reminder (1 row)
    DUE_NOW = 8  # 72-73 h ago: the due-now reminder (1 row)
    DUE_ESCALATE = 9  # 96-97 h ago: the escalation (2 rows)
    DUE_LAPSE = 10  # 336-337 h ago: the last escalation, closed as lapsed (2 rows)


DUE_CATS = (Cat.DUE_SOON, Cat.DUE_NOW, Cat.DUE_ESCALATE, Cat.DUE_LAPSE)
OPEN_CATS = (Cat.FRESH, Cat.SOON_SENT, Cat.NOW_SENT, Cat.OVERDUE_SENT, Cat.SNOOZED, *DUE_CATS)
# Shares of the due RHIs (the rest lapse) and of the not-due ones (the rest are OVERDUE_SENT:
# many open RHIs in real life are overdue and already chased).
DUE_SHARES = {Cat.DUE_SOON: 0.30, Cat.DUE_NOW: 0.25, Cat.DUE_ESCALATE: 0.15}
NOT_DUE_SHARES = {Cat.FRESH: 0.20, Cat.SOON_SENT: 0.10, Cat.NOW_SENT: 0.10, Cat.SNOOZED: 0.05}
# The rungs already acted on (keys written) for each open category.
SENT: dict[Cat, tuple[str, ...]] = {
    Cat.FRESH: (),
    Cat.SOON_SENT: ("due_soon",),
    Cat.NOW_SENT: ("due_soon", "due_now"),
    Cat.OVERDUE_SENT: ("due_soon", "due_now", "escalation"),
    Cat.SNOOZED: ("due_soon", "due_now", "escalation"),
    Cat.DUE_SOON: (),
    Cat.DUE_NOW: ("due_soon",),
    Cat.DUE_ESCALATE: ("due_soon", "due_now"),
    Cat.DUE_LAPSE: ("due_soon", "due_now", "escalation"),
}
# New outbox rows each due category makes on the first pass.
FIRST_PASS_ROWS = {Cat.DUE_SOON: 1, Cat.DUE_NOW: 1, Cat.DUE_ESCALATE: 2, Cat.DUE_LAPSE: 2}


@dataclass(frozen=True)
class SeedConfig:
    size: int = 10_000
    open_rhis: int = 20_000
    due: int = 100
    years: float = 5.0
    now: datetime = BENCH_NOW
    seed: int = 20261124
    chunk: int = 50_000

    def check(self) -> None:
        if self.size < 0 or self.open_rhis < 0 or not 0 <= self.due <= self.open_rhis:
            raise ValueError("need size >= 0 and 0 <= due <= open_rhis")
        quiet = POLICY.quiet
        if quiet is not None and (
            quiet.contains(self.now) or quiet.contains(self.now + timedelta(seconds=MARGIN_S))
        ):
            raise ValueError("pick a `now` outside quiet hours, or reminders would be held")

    def identity(self) -> dict[str, Any]:
        """What decides the data (not the chunk size): the cache key is made from it."""
        values = asdict(self)
        values.pop("chunk")
        values["now"] = self.now.isoformat()
        return values


# ---- the plan: who went missing when (compact tuples, sorted in time) ------------------------

# fmt: off
GIRLS = (
    "Amelia", "Olivia", "Isla", "Ava", "Mia", "Ivy", "Lily", "Isabella", "Rosie", "Sophia",
    "Grace", "Willow", "Freya", "Florence", "Emily", "Ella", "Poppy", "Evie", "Elsie", "Charlotte",
    "Evelyn", "Sienna", "Daisy", "Phoebe", "Millie", "Ruby", "Alice", "Harper", "Matilda", "Layla",
    "Jessica", "Chloe", "Holly", "Leah", "Megan", "Bethany", "Jade", "Shannon", "Kayla", "Tia",
)
BOYS = (
    "Noah", "Oliver", "George", "Arthur", "Muhammad", "Leo", "Harry", "Oscar", "Archie", "Henry",
    "Theodore", "Freddie", "Jack", "Charlie", "Theo", "Alfie", "Jacob", "Thomas", "Finley",
    "Lucas", "Isaac", "Tommy", "Mason", "Kai", "Riley", "Jayden", "Tyler", "Kyle", "Connor",
    "Callum", "Reece", "Liam", "Ethan", "Dylan", "Lewis", "Owen", "Aaron", "Bradley", "Jordan",
    "Declan",
)
SURNAMES = (
    "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Patel",
    "Wright", "Robinson", "Thompson", "Evans", "Walker", "White", "Roberts", "Green", "Hall",
    "Thomas", "Clarke", "Jackson", "Wood", "Harris", "Edwards", "Turner", "Martin", "Cooper",
    "Hill", "Ward", "Hughes", "Moore", "Clark", "King", "Harrison", "Lewis", "Baker", "Lee",
    "Allen", "Morris", "Khan", "Scott", "Watson", "Davis", "Parker", "James", "Bennett", "Young",
    "Phillips", "Richardson", "Mitchell", "Bailey", "Carter", "Cook", "Singh", "Shaw", "Bell",
    "Collins", "Morgan", "Kelly", "Begum", "Miller", "Cox", "Marshall", "Simpson", "Ali",
)
# fmt: on
AUTHORITIES = (
    "London Borough of Hackney",
    "London Borough of Camden",
    "London Borough of Newham",
    "London Borough of Lambeth",
    "London Borough of Croydon",
    "Essex County Council",
    "Norfolk County Council",
    "Cambridgeshire County Council",
    "Kent County Council",
    "Birmingham City Council",
)
TOWNS = ("Ipswich", "Lowestoft", "Bury St Edmunds", "Felixstowe", "Sudbury", "Haverhill")
PLACES = (
    "care home",
    "foster placement",
    "family home",
    "school",
    "town centre",
    "railway station",
    "friend's address",
    "supported accommodation",
)
ORGS = ("Suffolk County Council", "Catch22", "The Children's Society", "Barnardo's")
NOT_DONE_REASONS = (
    "no contact after three attempts",
    "child missing again before the interview",
    "placement moved out of area",
    "child refused to engage",
)
RISKS = (Risk.HIGH, Risk.MEDIUM, Risk.LOW, Risk.NO_APPARENT_RISK)
RISK_WEIGHTS = (0.20, 0.60, 0.15, 0.05)
FACTORS = tuple(RISK_FACTORS)


@dataclass
class Plan:
    """Everything the row generators need, as compact parallel lists (a million dicts would not
    fit the memory budget; a million tuples do)."""

    config: SeedConfig
    officers: list[str]
    handlers: list[str]
    # Per child (index = id - 1).
    child_name: list[str] = field(default_factory=list)
    child_dob: list[date] = field(default_factory=list)
    child_looked_after: list[bool] = field(default_factory=list)
    child_authority: list[str | None] = field(default_factory=list)
    child_first: list[int] = field(default_factory=list)  # first episode's created_at
    # Per episode (index = id - 1), sorted by last seen: see `Ep`.
    episodes: list[tuple[int, int, int | None, int, int, int, int | None]] = field(
        default_factory=list
    )
    # Per RHI (index = id - 1), sorted by when the return was recorded: episode index.
    rhis: list[int] = field(default_factory=list)
    categories: dict[str, int] = field(default_factory=dict)


# An episode: (last_seen, created, returned or None, child index, Cat, officer index,
# snoozed_until or None); times are whole seconds since the epoch.
Ep = tuple[int, int, int | None, int, int, int, int | None]


def return_hours(rng: random.Random) -> float:
    """How long a child stays missing: P(<=24 h)=0.75, P(<=48 h)=0.87, P(<=7 d)=0.98."""
    u = rng.random()
    if u < 0.75:
        return float(10 ** rng.uniform(math.log10(0.5), math.log10(24)))
    if u < 0.87:
        return rng.uniform(24, 48)
    if u < 0.98:
        return rng.uniform(48, 168)
    return float(10 ** rng.uniform(math.log10(168), math.log10(60 * 24)))


def episodes_per_child(rng: random.Random) -> int:
    """Heavy-tailed: about 3 on average, half the children once, the top 6% giving about a third
    of all episodes, 1 in 100 over 23 (Suffolk: 16 of about 1,100 children, 23-56 times)."""
    return min(120, max(1, round(rng.lognormvariate(0.3, 1.2))))


def make_plan(config: SeedConfig) -> Plan:
    config.check()
    rng = random.Random(config.seed)
    now = int(config.now.timestamp())
    start = now - int(config.years * 365.25 * DAY)
    total = config.size + config.open_rhis
    plan = Plan(
        config=config,
        officers=[f"U0OIC{n:05d}" for n in range(max(10, total // 2000))],
        handlers=[f"U0CALL{n:04d}" for n in range(40)],
    )

    # Children, each with a "career" centred somewhere in the window: a child's episodes
    # cluster in time (risk of another episode is highest right after one).
    slots: list[int] = []
    centres: list[int] = []
    taken: set[tuple[str, date]] = set()
    while len(slots) < total:
        child = len(centres)
        count = min(episodes_per_child(rng), total - len(slots))
        slots.extend([child] * count)
        centre = rng.randint(start, now)
        centres.append(centre)
        age = rng.uniform(12, 18) if rng.random() < 0.93 else rng.uniform(9, 12)
        dob = (datetime.fromtimestamp(centre, UTC) - timedelta(days=age * 365.25)).date()
        names = GIRLS if rng.random() < 0.6 else BOYS
        name = f"{rng.choice(names)} {rng.choice(SURNAMES)}"
        while (name.casefold(), dob) in taken:  # the bot's identity is (name, date of birth)
            name = f"{rng.choice(names)} {rng.choice(names)} {rng.choice(SURNAMES)}"
        taken.add((name.casefold(), dob))
        looked_after = rng.random() < 0.5
        plan.child_name.append(name)
        plan.child_dob.append(dob)
        plan.child_looked_after.append(looked_after)
        plan.child_authority.append(
            rng.choice(AUTHORITIES) if looked_after and rng.random() < 0.35 else None
        )
    rng.shuffle(slots)

    categories = _open_categories(config, rng)
    episodes: list[Ep] = []
    for index, child in enumerate(slots):
        officer = rng.randrange(len(plan.officers))
        if index < config.open_rhis:
            episodes.append(_open_episode(categories[index], child, officer, now, rng))
        else:
            episodes.append(_history_episode(centres[child], child, officer, start, now, rng))
    # Ids follow the time each child was last seen; ties keep the generation order (stable).
    episodes.sort(key=lambda e: (e[0], e[1]))
    plan.episodes = episodes

    plan.child_first = [now] * len(centres)
    for ep in episodes:
        if ep[1] < plan.child_first[ep[3]]:
            plan.child_first[ep[3]] = ep[1]
    # RHIs get ids in the order the returns were recorded, as the bot would give them.
    plan.rhis = sorted(
        (i for i, ep in enumerate(episodes) if ep[2] is not None),
        key=lambda i: (_rhi_created(episodes[i], now), i),
    )
    counted: dict[str, int] = {}
    for ep in episodes:
        name = Cat(ep[4]).name.lower()
        counted[name] = counted.get(name, 0) + 1
    plan.categories = counted
    return plan


def _open_categories(config: SeedConfig, rng: random.Random) -> list[Cat]:
    """Exactly `due` due RHIs; the shares fixed, so that small seeds get every kind too."""
    cats: list[Cat] = []
    for shares, count, rest in (
        (DUE_SHARES, config.due, Cat.DUE_LAPSE),
        (NOT_DUE_SHARES, config.open_rhis - config.due, Cat.OVERDUE_SENT),
    ):
        some = [cat for cat, share in shares.items() for _ in range(round(share * count))]
        cats.extend(some[:count] + [rest] * max(0, count - len(some)))
    rng.shuffle(cats)
    return cats


def _history_episode(
    centre: int, child: int, officer: int, start: int, now: int, rng: random.Random
) -> Ep:
    seen = centre + int(rng.gauss(0, 90 * DAY))
    if seen > now:  # reflect at the window's edges: keeps the rate even up to now
        seen = 2 * now - seen
    if seen < start:
        seen = 2 * start - seen
    seen = min(max(seen, start), now - 60)
    missing_for = int(return_hours(rng) * HOUR)
    created = min(seen + rng.randint(300, 3 * HOUR), now - 30)
    created = max(created, seen)
    returned = seen + missing_for
    if returned >= now:
        return (seen, created, None, child, Cat.MISSING, officer, None)
    return (seen, created, max(returned, created), child, Cat.CLOSED, officer, None)


def _open_episode(cat: Cat, child: int, officer: int, now: int, rng: random.Random) -> Ep:
    """Return time chosen so that the category's rule holds (hours since the return, r):
    due-soon at r=48, due-now at r=72, escalation at r=96, lapse at r=336."""
    minute = 60
    snoozed: int | None = None
    if cat is Cat.FRESH:
        ago = rng.randint(1 * HOUR, 47 * HOUR)
    elif cat is Cat.SOON_SENT:
        ago = rng.randint(49 * HOUR, 71 * HOUR)
    elif cat is Cat.NOW_SENT:
        ago = rng.randint(73 * HOUR, 95 * HOUR)
    elif cat in (Cat.OVERDUE_SENT, Cat.SNOOZED):
        ago = rng.randint(97 * HOUR, 335 * HOUR)
        if cat is Cat.SNOOZED:
            snoozed = now + rng.randint(MARGIN_S + minute, 72 * HOUR)
    elif cat is Cat.DUE_SOON:
        ago = 48 * HOUR + rng.randint(minute, 59 * minute)
    elif cat is Cat.DUE_NOW:
        ago = 72 * HOUR + rng.randint(minute, 59 * minute)
    elif cat is Cat.DUE_ESCALATE:
        ago = 96 * HOUR + rng.randint(minute, 59 * minute)
    elif cat is Cat.DUE_LAPSE:
        ago = 336 * HOUR + rng.randint(minute, 59 * minute)
    else:
        raise ValueError(cat)
    returned = now - ago
    missing_for = max(HOUR, int(return_hours(rng) * HOUR))
    seen = returned - missing_for
    created = seen + min(rng.randint(300, 3 * HOUR), missing_for // 2)
    return (seen, created, returned, child, cat, officer, snoozed)


def _rhi_created(ep: Ep, now: int) -> int:
    """The return is recorded a little after it happened (never after now)."""
    assert ep[2] is not None
    return min(ep[2] + (ep[1] % 1800), now)


# ---- what the bot had already sent ---------------------------------------------------------

RUNG_HOURS = {"due_soon": 48, "due_now": 72, "escalation": 96}


def sent_keys(cat: Cat, rhi_id: int, returned: datetime) -> list[tuple[str, str, datetime]]:
    """(outbox key, "reminder" | "escalation" | "thread", when) of what the bot had sent for an
    open RHI of this category: the keys `RhiLadder` writes."""
    sent: list[tuple[str, str, datetime]] = []
    for rung in SENT[cat]:
        when = returned + timedelta(hours=RUNG_HOURS[rung])
        if rung == "escalation":
            sent.append((f"rhi:{rhi_id}:escalation", "escalation", when))
            sent.append((f"rhi:{rhi_id}:escalation:thread", "thread", when))
        else:
            sent.append((f"rhi:{rhi_id}:{rung}", "reminder", when))
    return sent


# ---- one row generator per table ------------------------------------------------------------


def _dt(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def children_rows(plan: Plan) -> Iterator[dict[str, Any]]:
    for i, name in enumerate(plan.child_name):
        yield {
            "id": i + 1,
            "full_name": name,
            "name_key": name.casefold(),
            "date_of_birth": plan.child_dob[i],
            "created_at": _dt(plan.child_first[i]),
        }


def episode_rows(plan: Plan) -> Iterator[dict[str, Any]]:
    rng = random.Random(plan.config.seed + 1)
    handlers = plan.handlers
    for i, (seen, created, returned, child, cat, officer, _snooze) in enumerate(plan.episodes):
        episode_id = i + 1
        seen_at = _dt(seen)
        factors = [f for f in FACTORS if rng.random() < 0.18]
        yield {
            "id": episode_id,
            "child_id": child + 1,
            "status": (
                EpisodeStatus.MISSING if cat == Cat.MISSING else EpisodeStatus.RETURNED
            ).value,
            "last_seen_at": seen_at,
            "last_seen_place": f"{rng.choice(PLACES).capitalize()}, {rng.choice(TOWNS)}",
            "risk_level": rng.choices(RISKS, RISK_WEIGHTS)[0].value,
            "looked_after": plan.child_looked_after[child],
            "placing_authority": plan.child_authority[child],
            "risk_factors": factors,
            "description": "Dark hoodie, grey joggers, white trainers",
            "reported_by": "Care staff, 01473 000000"
            if plan.child_looked_after[child]
            else "Parent, 07700 900000",
            "incident_ref": f"CAD-{seen_at:%y%m%d}-{episode_id % 10000:04d}",
            "officer_id": plan.officers[officer],
            "logged_by": handlers[episode_id % len(handlers)],
            "created_at": _dt(created),
            "returned_at": _dt(returned) if returned is not None else None,
            "returned_by": handlers[(episode_id + 7) % len(handlers)] if returned else None,
            "return_note": "found at a friend's address"
            if returned and rng.random() < 0.3
            else None,
            # Every episode was posted to the control room: see `outbox_rows`.
            "channel_id": CONTROL_CHANNEL,
            "channel_ts": _post_ts(episode_id, created),
        }


def rhi_rows(plan: Plan) -> Iterator[dict[str, Any]]:
    rng = random.Random(plan.config.seed + 2)
    now = int(plan.config.now.timestamp())
    for i, episode_index in enumerate(plan.rhis):
        ep = plan.episodes[episode_index]
        returned = ep[2]
        assert returned is not None
        cat = Cat(ep[4])
        created = _rhi_created(ep, now)
        officer = plan.officers[ep[5]]
        row: dict[str, Any] = {
            "id": i + 1,
            "episode_id": episode_index + 1,
            "returned_at": _dt(returned),
            "due_at": _dt(returned + RHI_DUE_HOURS * HOUR),
            "status": RhiStatus.PENDING.value,
            "status_reason": None,
            "completed_at": None,
            "completed_by_org": None,
            "assignee_id": officer,
            "snoozed_until": _dt(ep[6]) if ep[6] is not None else None,
            "created_at": _dt(created),
            "updated_at": _dt(created),
            "updated_by": plan.handlers[i % len(plan.handlers)],
        }
        if cat is Cat.CLOSED:
            row.update(_closed_outcome(rng, returned, now))
        elif rng.random() < 0.2:
            row["status"] = RhiStatus.OFFERED.value
        if cat is Cat.SNOOZED and ep[6] is not None:
            row["updated_at"] = _dt(max(created, min(now - 60, ep[6] - 72 * HOUR)))
            row["updated_by"] = officer
        yield row


def _closed_outcome(rng: random.Random, returned: int, now: int) -> dict[str, Any]:
    """63% of RHIs done within 72 h (England 2023/24), some later, some declined or not done."""
    u = rng.random()
    if u < 0.63:
        status, after = RhiStatus.COMPLETED, rng.randint(4 * HOUR, 72 * HOUR)
    elif u < 0.78:
        status, after = RhiStatus.COMPLETED, rng.randint(72 * HOUR, 14 * DAY)
    elif u < 0.90:
        status, after = RhiStatus.DECLINED, rng.randint(HOUR, 72 * HOUR)
    else:
        status, after = RhiStatus.NOT_DONE, rng.randint(48 * HOUR, 10 * DAY)
    at = _dt(max(returned, min(returned + after, now - 60)))
    return {
        "status": status.value,
        "status_reason": rng.choice(NOT_DONE_REASONS) if status is RhiStatus.NOT_DONE else None,
        "completed_at": at if status is RhiStatus.COMPLETED else None,
        "completed_by_org": rng.choice(ORGS) if status is RhiStatus.COMPLETED else None,
        "updated_at": at,
    }


def _post_ts(episode_id: int, created: int) -> str:
    return f"{created + 2}.{episode_id % 1_000_000:06d}"


def _payload(title: str, ref: str) -> dict[str, Any]:
    """A stand-in for the rendered message: the pass never reads a sent row's payload."""
    line = f"{title}: {ref}"
    return {"text": line, "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": line}}]}


def outbox_rows(plan: Plan) -> Iterator[dict[str, Any]]:
    """The episode's control-room post for every episode (sent), and for every open RHI the
    reminders and escalations already sent (see `owed_keys` and `sent_cutoff`).

    Not generated: the private confirmations, return and status-change thread posts, and the
    reminders of RHIs closed long ago. The current pass reads none of them (it looks rows up
    by key and by status), so they would only cost seeding time.
    """
    # (created, order, what): ids follow creation time, as when the bot wrote them.
    events: list[tuple[int, int, int]] = [(ep[1] + 1, 0, i) for i, ep in enumerate(plan.episodes)]
    sent: dict[int, list[tuple[str, str, datetime]]] = {}
    for rhi_index, episode_index in enumerate(plan.rhis):
        if plan.episodes[episode_index][4] >= Cat.FRESH:
            sent[rhi_index] = _sent_for(plan, rhi_index)
            for n, (_key, _kind, when) in enumerate(sent[rhi_index]):
                events.append((int(when.timestamp()) + 5, 1 + n, rhi_index))
    events.sort()
    for outbox_id, (created, order, index) in enumerate(events, start=1):
        base: dict[str, Any] = {
            "id": outbox_id,
            "status": DeliveryStatus.SENT.value,
            "attempts": 1,
            "claimed_by": "bench-seed",
            "error": None,
        }
        if order == 0:
            episode_id = index + 1
            ep = plan.episodes[index]
            ref = f"M-{episode_id}"
            yield {
                **base,
                "key": f"episode:{episode_id}:post",
                "kind": MessageKind.EPISODE_POSTED.value,
                "target": CONTROL_CHANNEL,
                "episode_id": episode_id,
                "rhi_id": None,
                "in_thread": False,
                "payload": _payload("New missing episode logged", ref),
                "not_before": _dt(ep[1]),
                "claimed_at": _dt(created),
                "sent_at": _dt(created + 1),
                "channel": CONTROL_CHANNEL,
                "ts": _post_ts(episode_id, ep[1]),
                "created_at": _dt(ep[1]),
            }
            continue
        key, kind, when = sent[index][order - 1]
        episode_id = plan.rhis[index] + 1
        ep = plan.episodes[episode_id - 1]
        target = {
            "reminder": plan.officers[ep[5]],
            "escalation": SAFEGUARDING_CHANNEL,
            "thread": CONTROL_CHANNEL,
        }[kind]
        yield {
            **base,
            "key": key,
            "kind": (
                MessageKind.RHI_REMINDER if kind == "reminder" else MessageKind.RHI_ESCALATION
            ).value,
            "target": target,
            "episode_id": episode_id,
            "rhi_id": index + 1,
            "in_thread": kind == "thread",
            "payload": _payload("Return home interview", f"M-{episode_id}"),
            "not_before": when,
            "claimed_at": when + timedelta(seconds=5),
            "sent_at": when + timedelta(seconds=6),
            "channel": "D" + target if kind == "reminder" else target,
            "ts": f"{int(when.timestamp()) + 6}.{outbox_id % 1_000_000:06d}",
            "created_at": when,
        }


def _sent_for(plan: Plan, rhi_index: int) -> list[tuple[str, str, datetime]]:
    ep = plan.episodes[plan.rhis[rhi_index]]
    assert ep[2] is not None
    return sent_keys(Cat(ep[4]), rhi_index + 1, _dt(ep[2]))


def first_pass_rows(plan: Plan) -> int:
    """New outbox rows the bot's first pass at `now` writes."""
    return sum(FIRST_PASS_ROWS.get(Cat(plan.episodes[i][4]), 0) for i in plan.rhis)


# The tables in load order (parents first), each with its row generator.
TABLES: list[tuple[Table, Callable[[Plan], Iterator[dict[str, Any]]]]] = [
    (Child.__table__, children_rows),  # type: ignore[list-item]
    (Episode.__table__, episode_rows),  # type: ignore[list-item]
    (ReturnInterview.__table__, rhi_rows),  # type: ignore[list-item]
    (OutboxMessage.__table__, outbox_rows),  # type: ignore[list-item]
]


def after_seed(engine: Engine, now: datetime) -> None:
    """The scheduling state the bot keeps: each open RHI's next action, computed with the bot's
    own rule (`bot.domain.followup.ladder`) from the RHI and the outbox rows already written,
    and the daily overdue-lists row (tomorrow 09:00)."""
    keys = {"due_soon": "due_soon", "due_now": "due_now", "escalate": "escalation:thread"}
    rows: list[dict[str, Any]] = []
    with engine.connect() as conn:
        sent = set(
            conn.execute(select(OutboxMessage.key).where(OutboxMessage.key.like("rhi:%"))).scalars()
        )
        open_rhis = conn.execute(
            select(ReturnInterview.id, ReturnInterview.returned_at, ReturnInterview.due_at)
            .join(Episode, Episode.id == ReturnInterview.episode_id)
            .where(
                ReturnInterview.status.in_(OPEN_RHI_STATUSES),
                Episode.status == EpisodeStatus.RETURNED,
            )
        ).all()
    for rhi_id, returned, due in open_rhis:
        facts = rules.RhiFacts(returned_at=_aware(returned), due_at=_aware(due))
        for step, at in rules.ladder(facts, POLICY):
            key = keys.get(step.value)
            if at > now or key is None or f"rhi:{rhi_id}:{key}" not in sent:
                rows.append(_followup(FollowupKind.RHI, str(rhi_id), at, step.value, now))
                break
    tomorrow = rules.next_local_time(now, POLICY.overdue_list_time, POLICY.tz, strictly_after=True)
    rows.append(_followup(FollowupKind.OVERDUE_LISTS, "daily", tomorrow, "daily", now))
    with engine.begin() as conn:
        for start in range(0, len(rows), 10_000):
            conn.execute(insert(Followup), rows[start : start + 10_000])


def _followup(
    kind: FollowupKind, subject: str, at: datetime, step: str, now: datetime
) -> dict[str, Any]:
    return {
        "kind": kind.value,
        "subject": subject,
        "next_at": at,
        "step": step,
        "revision": 0,
        "updated_at": now,
    }


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# ---- loading -------------------------------------------------------------------------------


class Sink:
    """Writes chunks of rows (tuples, columns in a given order) into one table."""

    def write(self, table: Table, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
        raise NotImplementedError

    def finish(self, tables: Iterable[Table]) -> None:
        """After the load: anything the database needs to be used normally."""

    def close(self) -> None:
        raise NotImplementedError


class SqliteSink(Sink):
    def __init__(self, engine: Engine) -> None:
        self.raw = engine.raw_connection()
        cursor = self.raw.cursor()
        # Seeding only: a crash mid-seed means reseeding anyway, so skip the fsyncs.
        cursor.execute("PRAGMA synchronous=OFF")
        cursor.execute("PRAGMA cache_size=-262144")  # 256 MiB: index builds stay in memory
        cursor.close()

    def write(self, table: Table, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
        marks = ", ".join("?" for _ in columns)
        statement = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({marks})"
        cursor = self.raw.cursor()
        cursor.execute("BEGIN")
        cursor.executemany(statement, rows)
        cursor.execute("COMMIT")
        cursor.close()

    def close(self) -> None:
        cursor = self.raw.cursor()
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()
        self.raw.close()


class PostgresSink(Sink):
    def __init__(self, engine: Engine) -> None:
        self.raw = engine.raw_connection()
        driver = self.raw.driver_connection
        assert driver is not None
        self.conn: Any = driver  # psycopg's own connection: COPY is not in the DBAPI
        with self.conn.cursor() as cursor:
            # Seeding only: foreign keys are checked by construction, not row by row.
            cursor.execute("SET session_replication_role = replica")
        self.conn.commit()

    def write(self, table: Table, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
        with (
            self.conn.cursor() as cursor,
            cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)
        self.conn.commit()

    def finish(self, tables: Iterable[Table]) -> None:
        with self.conn.cursor() as cursor:
            for table in tables:
                if "id" in table.c and table.c.id.autoincrement:
                    # Ids were given explicitly: move the sequence past them for the bot's rows.
                    cursor.execute(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                        f"(SELECT coalesce(max(id), 0) + 1 FROM {table.name}), false)"
                    )
            cursor.execute("SET session_replication_role = DEFAULT")
        self.conn.commit()

    def close(self) -> None:
        self.raw.close()


def _converters(table: Table, columns: list[str], engine: Engine) -> list[Any]:
    """Per column, how a Python value becomes what the driver takes: SQLAlchemy's own bind
    processing (UTC datetimes, booleans, JSON on SQLite), JSON as text for COPY."""
    converters = []
    for name in columns:
        column = table.c[name]
        process: Callable[[Any], Any] | None = column.type.bind_processor(engine.dialect)
        if isinstance(column.type, JSON) and engine.dialect.name == "postgresql":
            process = json.dumps
        converters.append(process)
    return converters


def _with_defaults(table: Table, generated: list[str]) -> tuple[list[str], list[Any]]:
    """Columns to write: the generated ones, plus those with a Python-side default (filled in
    here, as the ORM would). Server defaults and nullable columns are left to the database."""
    extra: list[str] = []
    defaults: list[Any] = []
    for column in table.columns:
        if column.name in generated:
            continue
        default = column.default
        if default is not None and getattr(default, "is_scalar", False):
            extra.append(column.name)
            defaults.append(default.arg)  # type: ignore[attr-defined]
        elif default is not None and getattr(default, "is_callable", False):
            extra.append(column.name)
            defaults.append(default.arg(None))  # type: ignore[attr-defined]
        elif not column.nullable and column.server_default is None and not column.primary_key:
            raise ValueError(
                f"{table.name}.{column.name} is NOT NULL with no default: "
                f"generate it in bench/seed.py"
            )
    return generated + extra, defaults


def load_table(
    sink: Sink, table: Table, rows: Iterator[dict[str, Any]], engine: Engine, chunk: int
) -> int:
    first = next(rows, None)
    if first is None:
        return 0
    columns, defaults = _with_defaults(table, list(first))
    generated = len(first)
    converters = _converters(table, columns, engine)
    pairs = list(enumerate(converters))
    count = 0
    batch: list[tuple[Any, ...]] = []

    def convert(row: dict[str, Any]) -> tuple[Any, ...]:
        values = [*row.values(), *defaults]
        assert len(row) == generated, f"{table.name}: every row needs the same columns"
        for i, process in pairs:
            if process is not None and values[i] is not None:
                values[i] = process(values[i])
        return tuple(values)

    for row in _chain(first, rows):
        batch.append(convert(row))
        if len(batch) >= chunk:
            sink.write(table, columns, batch)
            count += len(batch)
            batch = []
    if batch:
        sink.write(table, columns, batch)
        count += len(batch)
    return count


def _chain(first: dict[str, Any], rest: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    yield first
    yield from rest


def seed(url: str, config: SeedConfig, *, log: Callable[[str], None] = print) -> dict[str, Any]:
    """Migrate an empty database at `url` and fill it; returns the summary (counts, timing)."""
    started = time.perf_counter()
    # No statement timeout while seeding: VACUUM ANALYZE of a million rows takes a while.
    engine = make_engine(url, statement_timeout_ms=0)
    try:
        upgrade(engine)
        with engine.connect() as conn:
            for table, _rows in TABLES:
                if conn.scalar(select(func.count()).select_from(table)):
                    raise RuntimeError(f"{table.name} is not empty: seed an empty database")
        plan = make_plan(config)
        log(
            f"planned {len(plan.episodes):,} episodes of {len(plan.child_name):,} children, "
            f"{len(plan.rhis):,} RHIs in {time.perf_counter() - started:.1f} s"
        )
        sink: Sink = (
            PostgresSink(engine) if engine.dialect.name == "postgresql" else SqliteSink(engine)
        )
        counts: dict[str, int] = {}
        rows_total = 0
        load_started = time.perf_counter()
        try:
            for table, generate in TABLES:
                t0 = time.perf_counter()
                n = load_table(sink, table, generate(plan), engine, config.chunk)
                seconds = time.perf_counter() - t0
                counts[table.name] = n
                rows_total += n
                rate = n / max(seconds, 1e-9)
                log(f"  {table.name}: {n:,} rows in {seconds:.1f} s ({rate:,.0f} rows/s)")
            sink.finish(t for t, _ in TABLES)
        finally:
            sink.close()
        load_seconds = time.perf_counter() - load_started
        after_seed(engine, config.now)
        _settle(engine)
        seconds = time.perf_counter() - started
        summary = {
            "generator_version": GENERATOR_VERSION,
            "config": config.identity(),
            "counts": counts,
            "categories": plan.categories,
            "open_rhis": sum(plan.categories.get(c.name.lower(), 0) for c in OPEN_CATS),
            "due_rhis": sum(plan.categories.get(c.name.lower(), 0) for c in DUE_CATS),
            "first_pass_rows": first_pass_rows(plan),
            "rows": rows_total,
            "load_seconds": round(load_seconds, 1),
            "seconds": round(seconds, 1),
            "rows_per_second": round(rows_total / load_seconds),
        }
        log(
            f"seeded {rows_total:,} rows in {seconds:.1f} s "
            f"(load {load_seconds:.1f} s, {summary['rows_per_second']:,} rows/s)"
        )
        return summary
    finally:
        engine.dispose()


def _settle(engine: Engine) -> None:
    """Leave the database as a running bot would find it: on PostgreSQL, vacuumed and analysed
    (autovacuum would have done it); on SQLite, checkpointed into one file that can be copied
    (the bot never runs ANALYZE on SQLite, so neither does this)."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    else:
        # Outside any transaction (engine.connect() would begin one): the raw connection.
        raw = engine.raw_connection()
        try:
            cursor = raw.cursor()
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            cursor.close()
        finally:
            raw.close()


# ---- command line ---------------------------------------------------------------------------


def config_from_args(args: argparse.Namespace) -> SeedConfig:
    return SeedConfig(
        size=args.size,
        open_rhis=args.open_rhis,
        due=args.due,
        years=args.years,
        now=datetime.fromisoformat(args.now).astimezone(UTC),
        seed=args.seed,
    )


def add_seed_arguments(parser: argparse.ArgumentParser) -> None:
    defaults = SeedConfig()
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--size", type=int, default=defaults.size, help="history episodes")
    parser.add_argument("--open-rhis", type=int, default=defaults.open_rhis)
    parser.add_argument("--due", type=int, default=defaults.due)
    parser.add_argument("--years", type=float, default=defaults.years)
    parser.add_argument("--now", default=defaults.now.isoformat(), help="the benchmark clock")
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument(
        "--pg-url",
        default=None,
        help="PostgreSQL server to seed on (any database on it; default $BENCH_PG_URL or "
        "postgresql+psycopg://postgres@127.0.0.1:5432/postgres)",
    )
    parser.add_argument("--reseed", action="store_true", help="seed again even if cached")


def main(argv: list[str] | None = None) -> int:
    from bench import databases

    parser = argparse.ArgumentParser(
        prog="python -m bench.seed", description=__doc__.split("\n\n")[0]
    )
    add_seed_arguments(parser)
    parser.add_argument(
        "--clean", action="store_true", help="drop every cached seed and work copy, then exit"
    )
    args = parser.parse_args(argv)
    if args.clean:
        for line in databases.clean(args.pg_url):
            print(line)
        return 0
    config = config_from_args(args)
    handle = databases.ensure_seeded(args.backend, config, pg_url=args.pg_url, reseed=args.reseed)
    print(json.dumps({"url": handle.url, **handle.summary}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
