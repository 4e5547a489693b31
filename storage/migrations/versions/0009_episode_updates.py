"""Updates while missing: risk changes, sightings and information, still-missing risk reviews

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28

Three tables hang off an episode (`risk_changes`, `reviews`, `episode_notes`) and the episode
carries when its next risk review falls due (`review_due_at`). Every episode still missing is
given its first review: the report time plus the default hours for its risk (high 2, medium 6,
low 12, no apparent risk 24, written out here so this migration keeps meaning what it meant),
and at the latest now, so that episodes open at the upgrade are asked for a review at once
rather than all said to be overdue. The follow-up row that sends the reminder goes with it.
"""

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_UTC = sa.DateTime(timezone=True)
_BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_HOURS = {"high": 2, "medium": 6, "low": 12, "no_apparent_risk": 24}
_CHUNK = 1_000


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _episode_table(name: str, *columns: sa.Column) -> None:
    op.create_table(
        name,
        sa.Column("id", _BIG, nullable=False),
        sa.Column("episode_id", _BIG, nullable=False),
        sa.Column("at", _UTC, nullable=False),
        sa.Column("actor", sa.String(32), nullable=False),
        *columns,
        sa.ForeignKeyConstraint(
            ["episode_id"], ["episodes.id"], name=op.f(f"fk_{name}_episode_id_episodes")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{name}")),
    )
    op.create_index(op.f(f"ix_{name}_episode_id"), name, ["episode_id"])


def upgrade() -> None:
    _episode_table(
        "risk_changes",
        sa.Column("decided_by", sa.String(32), nullable=False),
        sa.Column("from_risk", sa.String(20), nullable=False),
        sa.Column("to_risk", sa.String(20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
    )
    _episode_table(
        "reviews",
        sa.Column("decided_by", sa.String(32), nullable=False),
        sa.Column("risk", sa.String(20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("next_due", _UTC, nullable=False),
    )
    _episode_table(
        "episode_notes",
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("seen_at", _UTC, nullable=True),
        sa.Column("place", sa.String(400), nullable=True),
    )
    op.add_column("episodes", sa.Column("review_due_at", _UTC, nullable=True))
    _first_reviews_for_open_episodes()


def _first_reviews_for_open_episodes() -> None:
    bind = op.get_bind()
    now = datetime.now(UTC)
    episodes = sa.table(
        "episodes",
        sa.column("id", sa.Integer),
        sa.column("status", sa.String),
        sa.column("risk_level", sa.String),
        sa.column("created_at", _UTC),
        sa.column("review_due_at", _UTC),
    )
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
        sa.select(episodes.c.id, episodes.c.risk_level, episodes.c.created_at)
        .where(episodes.c.status == "missing")
        .order_by(episodes.c.id)
    ).all()
    for start in range(0, len(open_rows), _CHUNK):
        values = []
        for row in open_rows[start : start + _CHUNK]:
            hours = _HOURS.get(row.risk_level, min(_HOURS.values()))
            due = max(_aware(row.created_at) + timedelta(hours=hours), now)
            bind.execute(
                sa.update(episodes).where(episodes.c.id == row.id).values(review_due_at=due)
            )
            values.append(
                {
                    "kind": "review",
                    "subject": str(row.id),
                    "next_at": due,
                    "step": "due",
                    "revision": 0,
                    "updated_at": now,
                }
            )
        if values:
            bind.execute(sa.insert(followups), values)


def downgrade() -> None:
    raise NotImplementedError("restore from a backup instead")
