"""PostgreSQL privileges for a bot that owns nothing.

Migrations run as the owner role; the bot runs as a login role with only row privileges on the
bot's tables. Without ownership it cannot TRUNCATE, ALTER, DROP, or disable or drop the
trigger that keeps `audit_events` append-only, and it gets no UPDATE or DELETE on that table.
See docs/database-roles.md.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from sqlalchemy import Connection, text

from storage.models import Base

ROW_PRIVILEGES = "SELECT, INSERT, UPDATE, DELETE"
# Tables the bot may read and add to, never change: the trail, and the migration marker (the
# bot checks it on start and must not move it).
LIMITED = {
    "audit_events": "SELECT, INSERT",
    "alembic_version": "SELECT",
}
BOT_TABLES = (*Base.metadata.tables, "alembic_version")


class GrantRefused(Exception):
    """The grants cannot or must not be made; the message is one line."""


@dataclass(frozen=True)
class Layout:
    """The bot's tables as they exist in this database, and who is connected."""

    database: str
    schema: str
    current_user: str
    is_superuser: bool
    tables: dict[str, str]  # name -> owner
    sequences: tuple[str, ...]


def inspect(conn: Connection) -> Layout:
    database, schema, user, superuser = conn.execute(
        text(
            "SELECT current_database(), current_schema(), current_user, "
            "(SELECT rolsuper FROM pg_roles WHERE rolname = current_user)"
        )
    ).one()
    rows = conn.execute(
        text("SELECT tablename, tableowner FROM pg_tables WHERE schemaname = :schema"),
        {"schema": schema},
    )
    tables = {name: owner for name, owner in rows if name in BOT_TABLES}
    if not tables:
        raise GrantRefused(f"no missing-bot tables in {database}: run `missing-bot migrate` first")
    sequences = []
    for table in sorted(tables):
        # Only serial id columns have sequences; pg_get_serial_sequence says which.
        column = Base.metadata.tables[table].c.get("id") if table in Base.metadata.tables else None
        if column is None:
            continue
        sequence = conn.scalar(
            text("SELECT pg_get_serial_sequence(:table, 'id')"),
            {"table": f"{_quote(conn, schema)}.{_quote(conn, table)}"},
        )
        if sequence:
            sequences.append(str(sequence))
    return Layout(database, schema, user, bool(superuser), tables, tuple(sequences))


def check_role(conn: Connection, role: str, layout: Layout) -> None:
    """Refuse a role that would own (or act as owner of) the tables anyway."""
    found = conn.execute(
        text("SELECT rolsuper FROM pg_roles WHERE rolname = :role"), {"role": role}
    ).first()
    if found is None:
        raise GrantRefused(f"role {role} does not exist: create it first (docs/database-roles.md)")
    if found[0]:
        raise GrantRefused(f"role {role} is a superuser: privileges would not restrain it")
    for owner in sorted(set(layout.tables.values())):
        # pg_has_role(..., 'MEMBER'): also true for the owner itself and its members, who could
        # act as the owner (SET ROLE) and drop the trigger.
        member = conn.scalar(
            text("SELECT pg_has_role(:role, :owner, 'MEMBER')"), {"role": role, "owner": owner}
        )
        if member:
            raise GrantRefused(f"role {role} is, or can act as, the table owner {owner}")


def check_may_apply(layout: Layout) -> None:
    """Grants are made by the owner: anyone else's GRANT is only a warning, not an error."""
    owners = set(layout.tables.values())
    if len(owners) != 1:
        raise GrantRefused(f"the bot's tables have several owners ({', '.join(sorted(owners))})")
    if not layout.is_superuser and owners != {layout.current_user}:
        raise GrantRefused(
            f"connected as {layout.current_user}, but the tables belong to {owners.pop()}: "
            "run db-grant --apply with DATABASE_URL set to the owner role"
        )


def grant_statements(conn: Connection, layout: Layout, role: str) -> list[str]:
    """Idempotent: each table's privileges are revoked and granted afresh, so a privilege given
    by hand (UPDATE on the trail, TRUNCATE anywhere) does not survive a re-run."""
    q = functools.partial(_quote, conn)
    grantee = q(role)
    schema = q(layout.schema)
    statements = [
        f"GRANT CONNECT ON DATABASE {q(layout.database)} TO {grantee};",
        f"GRANT USAGE ON SCHEMA {schema} TO {grantee};",
    ]
    for table in sorted(layout.tables):
        name = f"{schema}.{q(table)}"
        statements.append(f"REVOKE ALL ON TABLE {name} FROM {grantee};")
        statements.append(
            f"GRANT {LIMITED.get(table, ROW_PRIVILEGES)} ON TABLE {name} TO {grantee};"
        )
    for sequence in layout.sequences:
        # pg_get_serial_sequence gives the name already quoted where needed.
        statements.append(f"REVOKE ALL ON SEQUENCE {sequence} FROM {grantee};")
        statements.append(f"GRANT USAGE ON SEQUENCE {sequence} TO {grantee};")
    # Tables a later migration creates are the owner's too: grant row privileges on them in
    # advance. A new append-only table must REVOKE UPDATE, DELETE in its own migration.
    for owner in sorted(set(layout.tables.values())):
        default = f"ALTER DEFAULT PRIVILEGES FOR ROLE {q(owner)} IN SCHEMA {schema}"
        statements.append(f"{default} GRANT {ROW_PRIVILEGES} ON TABLES TO {grantee};")
        statements.append(f"{default} GRANT USAGE ON SEQUENCES TO {grantee};")
    return statements


def apply(conn: Connection, statements: list[str]) -> None:
    for statement in statements:
        conn.exec_driver_sql(statement)


def _quote(conn: Connection, name: str) -> str:
    return str(conn.dialect.identifier_preparer.quote(name))
