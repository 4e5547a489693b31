"""Logging for the bot's processes: its own loggers at LOG_LEVEL, libraries held back.

Logs must never carry a child's name, date of birth, address or description, or a reporter's
details. The bot's own log lines name references and ids only. Three libraries would print
personal data at DEBUG, so LOG_LEVEL=DEBUG does not reach them:

- slack_bolt logs every answer it sends Slack ("Responding with status: 200 body: ..."), and
  `/missing show` answers with a child's full details;
- slack_sdk logs every request to Slack and every answer (a form pre-filled with the name
  typed after `/missing new`, a private answer through a response URL);
- SQLAlchemy logs every statement at INFO and every row it reads at DEBUG (`hide_parameters`
  hides bound values, not rows; storage.db also filters rows out, in case someone turns its
  logger up by hand).

They log at INFO (SQLAlchemy at WARNING) at most, or at LOG_LEVEL if that is higher.
"""

from __future__ import annotations

import logging
import sys

LIBRARY_FLOORS = {
    "slack_bolt": logging.INFO,
    "slack_sdk": logging.INFO,
    "sqlalchemy": logging.WARNING,
    # Alembic announces every plugin it loads at INFO: noise for an operator.
    "alembic": logging.WARNING,
}


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    hold_back_libraries(logging.getLogger().getEffectiveLevel())


def hold_back_libraries(level: int) -> None:
    """Never below each library's floor; above it when the bot's own level is higher."""
    for name, floor in LIBRARY_FLOORS.items():
        logging.getLogger(name).setLevel(max(floor, level))
