"""Roles, Slack user group membership, request keys against replays, the channel in the audit

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "role_grants",
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("granted_by", sa.String(32), nullable=False),
        sa.Column("granted_at", _UTC, nullable=False),
        sa.PrimaryKeyConstraint("user_id", "role", name=op.f("pk_role_grants")),
    )
    op.create_table(
        "usergroup_members",
        sa.Column("usergroup_id", sa.String(32), nullable=False),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("usergroup_id", "user_id", name=op.f("pk_usergroup_members")),
    )
    op.create_index(
        op.f("ix_usergroup_members_user_id"), "usergroup_members", ["user_id"], unique=False
    )
    op.create_table(
        "usergroup_refreshes",
        sa.Column("usergroup_id", sa.String(32), nullable=False),
        sa.Column("refreshed_at", _UTC, nullable=False),
        sa.PrimaryKeyConstraint("usergroup_id", name=op.f("pk_usergroup_refreshes")),
    )
    op.create_table(
        "request_keys",
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("created_at", _UTC, nullable=False),
        sa.Column("result", sa.String(40), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_request_keys")),
    )
    op.create_index(op.f("ix_request_keys_created_at"), "request_keys", ["created_at"])
    # A plain ADD COLUMN: on SQLite no table rebuild, so the audit triggers stay as they are.
    op.add_column("audit_events", sa.Column("channel", sa.String(32), nullable=True))


def downgrade() -> None:
    raise NotImplementedError("restore from a backup instead")
