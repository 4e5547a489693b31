"""A return's details: where found, how, the police safe-and-well check, disclosures

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMNs (nullable): on SQLite no table rebuild.
    op.add_column("episodes", sa.Column("found_place", sa.String(400), nullable=True))
    op.add_column("episodes", sa.Column("return_how", sa.String(30), nullable=True))
    op.add_column("episodes", sa.Column("safe_well_status", sa.String(20), nullable=True))
    op.add_column("episodes", sa.Column("safe_well_by", sa.String(32), nullable=True))
    op.add_column(
        "episodes", sa.Column("safe_well_done_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column("episodes", sa.Column("disclosure", sa.Text(), nullable=True))


def downgrade() -> None:
    raise NotImplementedError("restore from a backup instead")
