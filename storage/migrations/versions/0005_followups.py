"""Follow-ups: the next action of every open return home interview, and indexes for hot paths

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26

Each open interview is carried over with its next action: the earliest rung of its ladder
(reminder before due, reminder at due, escalation a day after, lapse) that the old scheduler had
not yet acted on. The ladder is written out here with the defaults (24 h, 24 h, 14 days) rather
than imported, so this migration keeps meaning what it meant when it was written.
"""

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_UTC = sa.DateTime(timezone=True)
_BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_CHUNK = 1_000


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _next_action(
    rhi_id: int, returned_at: datetime, due_at: datetime, done: set[str], now: datetime
) -> tuple[datetime, str]:
    escalate = due_at + timedelta(hours=24)
    rungs = [
        ("due_soon", due_at - timedelta(hours=24), f"rhi:{rhi_id}:due_soon"),
        ("due_now", due_at, f"rhi:{rhi_id}:due_now"),
        ("escalate", escalate, f"rhi:{rhi_id}:escalation:thread"),
        ("lapse", max(returned_at + timedelta(days=14), escalate), None),
    ]
    for step, at, key in rungs:
        if at > now or key is None or key not in done:
            return at, step
    raise AssertionError("the lapse rung has no key")  # pragma: no cover


def upgrade() -> None:
    op.create_table(
        "followups",
        sa.Column("id", _BIG, nullable=False),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("subject", sa.String(64), nullable=False),
        sa.Column("next_at", _UTC, nullable=True),
        sa.Column("step", sa.String(30), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("leased_by", sa.String(120), nullable=True),
        sa.Column("leased_until", _UTC, nullable=True),
        sa.Column("updated_at", _UTC, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_followups")),
        sa.UniqueConstraint("kind", "subject", name="uq_followups_kind_subject"),
    )
    op.create_index(
        "ix_followups_due",
        "followups",
        ["next_at"],
        postgresql_where=sa.text("next_at IS NOT NULL"),
        sqlite_where=sa.text("next_at IS NOT NULL"),
    )
    # The reminder behind a clicked message, an interview's messages, an incident number.
    op.create_index("ix_outbox_rhi_id", "outbox", ["rhi_id"])
    op.create_index("ix_episodes_incident_ref", "episodes", ["incident_ref"])
    _carry_over_open_interviews()


def _carry_over_open_interviews() -> None:
    bind = op.get_bind()
    now = datetime.now(UTC)
    rhis = sa.table(
        "return_interviews",
        sa.column("id", sa.Integer),
        sa.column("episode_id", sa.Integer),
        sa.column("returned_at", _UTC),
        sa.column("due_at", _UTC),
        sa.column("status", sa.String),
    )
    episodes = sa.table("episodes", sa.column("id", sa.Integer), sa.column("status", sa.String))
    outbox = sa.table("outbox", sa.column("key", sa.String))
    followups = sa.table(
        "followups",
        sa.column("kind", sa.String),
        sa.column("subject", sa.String),
        sa.column("next_at", _UTC),
        sa.column("step", sa.String),
        sa.column("revision", sa.Integer),
        sa.column("updated_at", _UTC),
    )
    open_rows = bind.execute(
        sa.select(rhis.c.id, rhis.c.returned_at, rhis.c.due_at)
        .join(episodes, episodes.c.id == rhis.c.episode_id)
        .where(rhis.c.status.in_(("pending", "offered")), episodes.c.status == "returned")
        .order_by(rhis.c.id)
    ).all()
    for start in range(0, len(open_rows), _CHUNK):
        chunk = open_rows[start : start + _CHUNK]
        keys = [f"rhi:{r.id}:{suffix}" for r in chunk for suffix in ("due_soon", "due_now")]
        keys += [f"rhi:{r.id}:escalation:thread" for r in chunk]
        done = set(bind.execute(sa.select(outbox.c.key).where(outbox.c.key.in_(keys))).scalars())
        values = []
        for row in chunk:
            at, step = _next_action(row.id, _aware(row.returned_at), _aware(row.due_at), done, now)
            values.append(
                {
                    "kind": "rhi",
                    "subject": str(row.id),
                    "next_at": at,
                    "step": step,
                    "revision": 0,
                    "updated_at": now,
                }
            )
        if values:
            bind.execute(sa.insert(followups), values)


def downgrade() -> None:
    raise NotImplementedError("restore from a backup instead")
