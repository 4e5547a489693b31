"""The daily safeguarding digest and the shift handovers

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30

- `digests`: one row per digest or handover posted, unique per (kind, channel, occasion): the
  claim that makes each go once across copies, and the period the next one starts from.
- `outbox.parent_key` (a digest's chart goes in the digest's thread; an edit names the message
  it edits) and `outbox.failed_at` (the digest lists messages given up since the last one).
- Indexes for the digest's figures, so each is a range scan over the period, not the history:
  episodes by (`status`, `created_at`) (new in the period, the chart, repeat missing, placed
  from other areas) and by (`status`, `returned_at`) (returns in the period; missing at an
  earlier moment): status first, since every figure filters on it and a planner without
  statistics would otherwise read all of one status through the older status index; the
  handover's outstanding safe-and-well checks by (`safe_well_status`, `returned_at`),
  interviews by (`status`, `updated_at`) (closed or lapsed after a moment), and failed
  messages by `failed_at` (partial: most messages never fail).
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_UTC = sa.DateTime(timezone=True)
_BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "digests",
        sa.Column("id", _BIG, nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("occasion", sa.String(20), nullable=False),
        sa.Column("period_start", _UTC, nullable=False),
        sa.Column("period_end", _UTC, nullable=False),
        sa.Column("posted_key", sa.String(120), nullable=False),
        sa.Column("created_at", _UTC, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_digests")),
        sa.UniqueConstraint("kind", "channel", "occasion", name="uq_digests_occasion"),
    )
    op.add_column("outbox", sa.Column("parent_key", sa.String(120), nullable=True))
    op.add_column("outbox", sa.Column("failed_at", _UTC, nullable=True))
    op.create_index(
        "ix_outbox_failed_at",
        "outbox",
        ["failed_at"],
        postgresql_where=sa.text("failed_at IS NOT NULL"),
        sqlite_where=sa.text("failed_at IS NOT NULL"),
    )
    op.create_index("ix_episodes_status_created", "episodes", ["status", "created_at"])
    op.create_index("ix_episodes_status_returned", "episodes", ["status", "returned_at"])
    op.create_index(
        "ix_episodes_safe_well_returned", "episodes", ["safe_well_status", "returned_at"]
    )
    op.create_index(
        "ix_return_interviews_status_updated", "return_interviews", ["status", "updated_at"]
    )


def downgrade() -> None:
    raise NotImplementedError("restore from a backup instead")
