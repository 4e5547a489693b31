"""Logs never carry a child's name, date of birth, address or description, or a reporter's
details: not at DEBUG, not in a database error's traceback, on either database."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from datetime import timedelta

import pytest

from bot.app import build_app, build_client
from bot.domain.episode import NewEpisode
from bot.log_setup import LIBRARY_FLOORS, hold_back_libraries
from bot.services import episodes as episode_service
from storage.db import StorageError
from tests.support.harness import DEFAULT_ANSWERS, Bot

# Distinctive enough that any occurrence in a log is a leak.
PERSONAL = {
    "child_name": "Zebedee Quux",
    "date_of_birth": "2013-07-29",
    "last_seen_place": "17 Quuxbridge Lane, Ipswich",
    "description": "Zebra-striped anorak",
    "reported_by": "Yolanda Vexley, 07700 900123",
    "placing_authority": "Quuxshire County Council",
}
NEEDLES = [
    "Zebedee",
    "Quux",
    "zebedee quux",
    "2013-07-29",
    "29/07/2013",
    "2013, 7, 29",
    "Quuxbridge",
    "Zebra-striped",
    "Yolanda",
    "Vexley",
    "07700 900123",
    "07700900123",
]
# The fake Slack stands in for Slack itself: what it logs is not the bot's log.
NOT_THE_BOT = ("fakeslack",)


class Everything(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def texts(self) -> Iterator[tuple[logging.LogRecord, str]]:
        formatter = logging.Formatter()
        for record in self.records:
            if record.name.startswith(NOT_THE_BOT):
                continue
            parts = [str(record.msg), repr(record.args)]
            # A record whose arguments do not fit its message is still searched, as above.
            with contextlib.suppress(Exception):
                parts.append(record.getMessage())
            if record.exc_info:
                parts.append(formatter.formatException(record.exc_info))
            if record.exc_text:
                parts.append(record.exc_text)
            if record.stack_info:
                parts.append(record.stack_info)
            yield record, "\n".join(parts)


@pytest.fixture
def debug_logs() -> Iterator[Everything]:
    """Logging as `missing-bot serve` sets it up with LOG_LEVEL=DEBUG, and then SQLAlchemy and
    the bot's own loggers turned up to DEBUG by hand as well."""
    root = logging.getLogger()
    names = ["bot", "handlers", "storage", "sqlalchemy", *LIBRARY_FLOORS]
    saved = {name: logging.getLogger(name).level for name in names}
    saved_root = root.level
    handler = Everything()
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    hold_back_libraries(logging.DEBUG)
    for name in ("bot", "handlers", "storage", "sqlalchemy"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(saved_root)
        for name, level in saved.items():
            logging.getLogger(name).setLevel(level)


def assert_no_personal_data(logs: Everything) -> None:
    leaks = [
        f"{record.name} {record.levelname}: {needle!r} in {text[:300]!r}"
        for record, text in logs.texts()
        for needle in NEEDLES
        if needle.lower() in text.lower()
    ]
    assert not leaks, "\n".join(leaks[:10])


def test_no_personal_data_in_any_log(
    bot: Bot, debug_logs: Everything, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Valid: the episode is logged, posted, shown, returned, reminded about, reopened.
    post = bot.log_episode(**PERSONAL)
    assert "Zebedee" not in post.text and "Z.Q." in post.text
    shown = bot.slash("show M-1")
    assert "Zebedee Quux" in str(shown.blocks)
    bot.slash("returned M-1 found with Yolanda Vexley, 07700 900123")
    bot.slash("rhi M-1 notdone Zebedee Quux moved to 17 Quuxbridge Lane")
    bot.slash("reopen M-1 Zebedee Quux is still missing, says Yolanda Vexley")
    bot.slash("returned M-1 now")
    bot.clock.advance(hours=48)
    bot.sweep()
    bot.settle()
    # Invalid: each refused on a field, with the same details typed.
    view = bot.open_form("new Zebedee Quux")
    view = bot.answer_care(view, "yes")
    for wrong in (
        {"last_seen_at": bot.clock.now() + timedelta(hours=1)},
        {"description": "Zebra-striped anorak\x00"},
        {"last_seen_place": "17 Quuxbridge Lane " * 30},
        {"child_name": "Zebedee Quux" + "ß" * 180},
    ):
        response = bot.submit_form(view, **{**PERSONAL, **wrong})
        assert response.json and response.json["response_action"] == "errors", wrong
    assert "Quux" in str(bot.fake.views[-1].view), "the form was pre-filled with the name"

    # A database error, forced past validation: PostgreSQL's message names the failing row
    # ("DETAIL: Failing row contains (..., 'Zebedee Quux', ...)").
    real = episode_service.Episode

    def without_place(**values: object) -> object:
        return real(**{**values, "last_seen_place": None})

    monkeypatch.setattr(episode_service, "Episode", without_place)
    view = bot.open_form()
    response = bot.submit_form(view, **PERSONAL)
    assert response.json and "Something went wrong" in response.json["errors"]["child_name"]
    monkeypatch.undo()
    if bot.services.db.dialect == "postgresql":
        # And a value longer than its column, which only PostgreSQL refuses.
        monkeypatch.setattr(NewEpisode, "validate", lambda self, **_: {})
        view = bot.open_form()
        response = bot.submit_form(view, **{**PERSONAL, "incident_ref": "Quux " * 20})
        assert response.json and "Something went wrong" in response.json["errors"]["child_name"]
        monkeypatch.undo()

    failures = [r for r in debug_logs.records if r.exc_info and r.levelno >= logging.ERROR]
    assert failures, "the forced database error was not logged"
    assert any(r.name.startswith("sqlalchemy") for r in debug_logs.records)
    assert_no_personal_data(debug_logs)
    assert all(r.exc_info and r.exc_info[0] is StorageError for r in failures), failures


def test_bolt_debug_logging_would_leak_which_is_why_it_is_held_back(
    sqlite_bot: Bot, debug_logs: Everything
) -> None:
    """Bolt at DEBUG logs every answer it sends: `/missing show` carries the child's details.
    The bot's logging keeps Bolt (and slack_sdk) at INFO whatever LOG_LEVEL says."""
    sqlite_bot.log_episode(**PERSONAL)
    assert logging.getLogger("slack_bolt").getEffectiveLevel() == logging.INFO
    assert logging.getLogger("slack_sdk").getEffectiveLevel() == logging.INFO
    logging.getLogger("slack_bolt").setLevel(logging.DEBUG)
    sqlite_bot.slash("show M-1")
    bolt = [text for record, text in debug_logs.texts() if record.name.startswith("slack_bolt")]
    assert any("Zebedee Quux" in text for text in bolt)


def test_bolt_built_under_debug_logging_stays_at_info(
    sqlite_bot: Bot, debug_logs: Everything
) -> None:
    """Bolt copies the root level into its own loggers when an app is built unless it is given
    one: built while the root logs at DEBUG, the bot's app must still not log at DEBUG."""
    app = build_app(
        sqlite_bot.settings, sqlite_bot.services, client=build_client(sqlite_bot.settings)
    )
    assert logging.getLogger().level == logging.DEBUG
    assert app.logger.getEffectiveLevel() == logging.INFO


def test_default_answers_are_not_the_personal_ones() -> None:
    # The other tests' data must not mask a leak of these.
    assert not any(needle in str(DEFAULT_ANSWERS) for needle in NEEDLES)
