"""One name for the outbox: `deliveries` becomes `outbox`, holding rendered messages

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26

Rows still waiting to go out held the data their template was rendered from at send time; from
now on a row holds the message itself. Waiting rows are rendered here into a plain message that
keeps their reference, so an upgrade never strands or garbles what was queued.
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_WHAT = {
    "episode_posted": "New missing episode logged",
    "episode_returned": "Child returned",
    "episode_reopened": "Episode reopened: the child is missing again",
    "rhi_status_changed": "Return home interview updated",
    "rhi_reminder": "Return home interview reminder",
    "rhi_escalation": "Escalation: return home interview overdue",
    "delivery_failed": "A message could not be delivered",
}


def _render_waiting(bind: sa.engine.Connection) -> None:
    outbox = sa.table(
        "outbox",
        sa.column("id", sa.Integer),
        sa.column("kind", sa.String),
        sa.column("payload", sa.JSON),
        sa.column("status", sa.String),
    )
    rows = bind.execute(
        sa.select(outbox.c.id, outbox.c.kind, outbox.c.payload).where(
            outbox.c.status.in_(("pending", "claimed"))
        )
    ).all()
    for row_id, kind, payload in rows:
        data = payload if isinstance(payload, dict) else json.loads(payload or "{}")
        if "text" in data:
            continue
        ref = str(data.get("ref") or "")
        text = f"{_WHAT.get(kind, 'Update')}{': ' + ref if ref else ''}."
        message = {
            "text": text,
            "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}],
        }
        bind.execute(sa.update(outbox).where(outbox.c.id == row_id).values(payload=message))


def upgrade() -> None:
    bind = op.get_bind()
    op.rename_table("deliveries", "outbox")
    if bind.dialect.name == "postgresql":
        for old, new in (
            ("pk_deliveries", "pk_outbox"),
            ("uq_deliveries_key", "uq_outbox_key"),
            ("fk_deliveries_episode_id_episodes", "fk_outbox_episode_id_episodes"),
            ("fk_deliveries_rhi_id_return_interviews", "fk_outbox_rhi_id_return_interviews"),
        ):
            op.execute(f"ALTER TABLE outbox RENAME CONSTRAINT {old} TO {new}")
        op.execute(
            "ALTER INDEX ix_deliveries_status_not_before RENAME TO ix_outbox_status_not_before"
        )
        op.execute("ALTER INDEX ix_deliveries_episode_id RENAME TO ix_outbox_episode_id")
        op.execute("ALTER SEQUENCE deliveries_id_seq RENAME TO outbox_id_seq")
        op.create_index("ix_outbox_channel_ts", "outbox", ["channel", "ts"])
    else:
        # SQLite keeps constraint names inside the table's definition: rebuild it with new ones.
        with op.batch_alter_table(
            "outbox",
            recreate="always",
            naming_convention={"fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s"},
        ) as batch:
            batch.drop_index("ix_deliveries_status_not_before")
            batch.drop_index("ix_deliveries_episode_id")
            batch.drop_constraint("uq_deliveries_key", type_="unique")
            batch.drop_constraint("fk_deliveries_episode_id_episodes", type_="foreignkey")
            batch.drop_constraint("fk_deliveries_rhi_id_return_interviews", type_="foreignkey")
            batch.create_unique_constraint("uq_outbox_key", ["key"])
            batch.create_foreign_key(
                "fk_outbox_episode_id_episodes", "episodes", ["episode_id"], ["id"]
            )
            batch.create_foreign_key(
                "fk_outbox_rhi_id_return_interviews", "return_interviews", ["rhi_id"], ["id"]
            )
            batch.create_index("ix_outbox_status_not_before", ["status", "not_before"])
            batch.create_index("ix_outbox_episode_id", ["episode_id"])
            batch.create_index("ix_outbox_channel_ts", ["channel", "ts"])
    _render_waiting(bind)


def downgrade() -> None:
    raise NotImplementedError("the outbox is not renamed back: restore from a backup instead")
