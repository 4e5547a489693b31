"""Void: an episode logged in error or a duplicate of another, kept but never counted

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    # Plain ADD COLUMNs of nullable columns: no table rebuild on SQLite, nothing to backfill
    # (no episode is void before this).
    op.add_column("episodes", sa.Column("voided_at", _UTC, nullable=True))
    op.add_column("episodes", sa.Column("voided_by", sa.String(32), nullable=True))
    op.add_column("episodes", sa.Column("void_reason", sa.Text(), nullable=True))
    op.add_column(
        "episodes",
        sa.Column(
            "duplicate_of", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
    )


def downgrade() -> None:
    raise NotImplementedError("restore from a backup instead")
