"""The arguments of each command-line command, read and checked before anything heavy loads:
a mistyped date or number is answered at once, in one line, having touched nothing."""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable
from datetime import date
from typing import TypeVar

from bot.cli_errors import message_of
from bot.domain.audit_trail import parse_day
from bot.domain.errors import UserError
from bot.domain.retention import parse_years

T = TypeVar("T")

# A PostgreSQL role name as `db-grant` will write it unquoted into GRANT statements.
_ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def no_arguments(_parser: argparse.ArgumentParser) -> None:
    pass


def _checked_by(parse: Callable[[str], T]) -> Callable[[str], T]:
    """An argument type from a domain parser: its refusal becomes argparse's one-line error."""

    def read(text: str) -> T:
        try:
            return parse(text)
        except UserError as exc:
            raise argparse.ArgumentTypeError(message_of(exc)) from None

    return read


def purge_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--older-than",
        required=True,
        type=_checked_by(parse_years),
        metavar="YEARS",
        help="remove episodes closed longer ago than this many years (at least 1; e.g. 6, 7.5)",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="only say what would be removed; change nothing"
    )


def audit_export_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--from", dest="first", required=True, type=_checked_by(parse_day), metavar="YYYY-MM-DD"
    )
    parser.add_argument(
        "--to",
        dest="last",
        required=True,
        type=_checked_by(parse_day),
        metavar="YYYY-MM-DD",
        help="included",
    )
    parser.add_argument("--out", required=True, metavar="FILE.csv", help="created with mode 0600")
    parser.add_argument("--force", action="store_true", help="replace FILE.csv if it exists")


def _role(text: str) -> str:
    if not _ROLE_NAME.match(text):
        raise argparse.ArgumentTypeError(
            f"{text[:70]!r} is not a role name: lower-case letters, digits and _ only"
        )
    return text


def db_grant_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--role", required=True, type=_role, help="the bot's login role")
    parser.add_argument(
        "--apply",
        action="store_true",
        help="run the statements, connected as DATABASE_URL's role (the tables' owner)",
    )


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text[:30]!r} is not a date like 2026-03-30") from None


def digest_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--date", type=_date, metavar="YYYY-MM-DD", help="the local date (default: today)"
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="print the digest as text; post nothing"
    )
    parser.add_argument(
        "--force", action="store_true", help="post even if that date's digest was posted"
    )
