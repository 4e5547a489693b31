"""Delivery pauses: Slack refusing the bot itself (a revoked token, a missing scope)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "delivery_pauses",
        sa.Column("name", sa.String(40), nullable=False),
        sa.Column("reason", sa.String(80), nullable=False),
        sa.Column("since", _UTC, nullable=False),
        sa.Column("probe_at", _UTC, nullable=False),
        sa.Column("held", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_delivery_pauses")),
    )


def downgrade() -> None:
    raise NotImplementedError("restore from a backup instead")
