"""Operator commands on the records: retention (`purge`), the audit export (`audit`) and the
database grants for a bot role that owns nothing (`db-grant`)."""

from __future__ import annotations

import argparse
import os

from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from bot.cli_errors import CLI_ACTOR, CommandError
from bot.clock import SystemClock
from bot.domain.errors import StorageUnavailable
from bot.domain.timetext import fmt_local
from bot.private_file import PrivateFile
from bot.services.audit_log import AuditLog
from bot.services.retention import RetentionService
from bot.settings import Settings
from storage import grants
from storage.db import Database, make_engine
from storage.migrate import current_revision, head_revision

# Operator commands run outside the request path, in small batches or as one streamed read:
# a statement may take longer than a Slack request may, never without bound.
OPERATOR_STATEMENT_TIMEOUT_MS = 300_000


def _operator_database(settings: Settings) -> Database:
    """The database, which must exist and be migrated: these commands never create or migrate
    it (the bot's role may not be allowed to, and a typo in DATABASE_URL must not make a new
    empty database that a purge then reports as clean)."""
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and not os.path.exists(url.database or ""):
        raise CommandError(f"no database at {url.database}: check DATABASE_URL")
    engine = make_engine(settings.database_url, statement_timeout_ms=OPERATOR_STATEMENT_TIMEOUT_MS)
    try:
        revision = current_revision(engine)
    except OperationalError as exc:
        engine.dispose()
        raise StorageUnavailable(str(exc.orig or exc).splitlines()[0]) from None
    if revision != head_revision():
        engine.dispose()
        raise CommandError(
            f"database at revision {revision or 'none'}, this version needs {head_revision()}: "
            "run `missing-bot migrate` (as the owner role) first"
        )
    return Database(engine)


def cmd_purge(settings: Settings, args: argparse.Namespace) -> int:
    db = _operator_database(settings)
    try:
        report = RetentionService(db=db, clock=SystemClock()).purge(
            older_than_years=args.older_than, actor=CLI_ACTOR, dry_run=args.dry_run
        )
    finally:
        db.dispose()
    what = (
        f"{report.episodes} episodes closed before {fmt_local(report.cutoff, settings.tz)} "
        f"(older than {report.years:g} years), {report.children} children, "
        f"{report.rhis} return home interviews, {report.outbox} outbox messages"
    )
    if report.dry_run:
        print(f"dry run: would purge {what}; nothing was changed")
        for ref in report.refs:
            print(ref)
    else:
        print(f"purged {what}; recorded in the audit trail")
    return 0


def cmd_audit_export(settings: Settings, args: argparse.Namespace) -> int:
    if args.last < args.first:
        raise CommandError(f"--to {args.last} is before --from {args.first}")
    db = _operator_database(settings)
    try:
        audit_log = AuditLog(db=db, clock=SystemClock(), tz=settings.tz)
        try:
            target = PrivateFile(args.out, overwrite=args.force)
            exported = audit_log.export(args.first, args.last, target, actor=CLI_ACTOR)
        except OSError as exc:  # the file: exists, no folder, no permission
            raise CommandError(str(exc)) from None
    finally:
        db.dispose()
    print(
        f"exported {exported.rows} audit rows for {exported.first_day} to {exported.last_day} "
        f"({settings.bot_timezone} days) to {exported.destination}"
    )
    return 0


def cmd_db_grant(settings: Settings, args: argparse.Namespace) -> int:
    if make_url(settings.database_url).get_backend_name() != "postgresql":
        raise CommandError("db-grant is for PostgreSQL: SQLite has no roles")
    engine = make_engine(settings.database_url)
    try:
        with engine.connect() as conn:
            layout = grants.inspect(conn)
            grants.check_role(conn, args.role, layout)
            statements = grants.grant_statements(conn, layout, args.role)
            if args.apply:
                grants.check_may_apply(layout)
                grants.apply(conn, statements)
                conn.commit()
    except grants.GrantRefused as exc:
        raise CommandError(str(exc)) from None
    except OperationalError as exc:
        raise StorageUnavailable(str(exc.orig or exc).splitlines()[0]) from None
    finally:
        engine.dispose()
    if args.apply:
        print(
            f"granted {args.role} row privileges on {len(layout.tables)} tables of "
            f"{layout.database} ({len(statements)} statements); it owns nothing"
        )
    else:
        print(f"-- missing-bot db-grant: run as {sorted(set(layout.tables.values()))[0]}")
        for statement in statements:
            print(statement)
    return 0
