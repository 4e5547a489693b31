"""The audit trail keeps references to records that are gone: no foreign keys on audit_events

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27

A retention purge deletes old closed episodes and their children, but the audit trail is
append-only and must outlive them: `audit_events.episode_id` and `child_id` stay (with their
indexes) as plain numbers, so the trail still says which `M-<id>` was logged, viewed or purged.

The outbox keeps its foreign keys. Its rows are working data about a live episode (its thread,
its reminders) and hold rendered messages with the child's initials and age, so they must go
with the episode rather than outlive it: the purge deletes them first, and the keys guarantee
none is left pointing at an episode that no longer exists.

SQLite cannot drop a constraint in place: batch mode rebuilds the table, and a rebuild drops
the table's triggers with it. The append-only triggers are recreated here, in the same
transaction, so there is no moment at which audit rows could be changed.
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_AUDIT_FOREIGN_KEYS = (
    "fk_audit_events_episode_id_episodes",
    "fk_audit_events_child_id_children",
)
_SQLITE_TRIGGERS = ("audit_events_no_update", "audit_events_no_delete")


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        # Plain ALTER TABLE: the table, its grants and its trigger stay as they are.
        for name in _AUDIT_FOREIGN_KEYS:
            op.drop_constraint(name, "audit_events", type_="foreignkey")
        return
    with op.batch_alter_table(
        "audit_events",
        recreate="always",
        naming_convention={"fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s"},
    ) as batch:
        for name in _AUDIT_FOREIGN_KEYS:
            batch.drop_constraint(name, type_="foreignkey")
    _recreate_sqlite_triggers(bind)


def _recreate_sqlite_triggers(bind: sa.engine.Connection) -> None:
    """The same triggers as migration 0001, after the rebuild dropped them."""
    for name in _SQLITE_TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    for verb in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER audit_events_no_{verb.lower()} BEFORE {verb} ON audit_events "
            "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END"
        )
    present = {
        row[0]
        for row in bind.execute(
            sa.text("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = :t"),
            {"t": "audit_events"},
        )
    }
    missing = set(_SQLITE_TRIGGERS) - present
    if missing:  # never leave the trail editable: fail the whole migration instead
        raise RuntimeError(f"audit_events triggers missing after rebuild: {sorted(missing)}")


def downgrade() -> None:
    raise NotImplementedError(
        "foreign keys cannot come back once records they point to were purged: "
        "restore from a backup instead"
    )
