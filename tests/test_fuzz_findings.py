"""What the fuzz tests found, one example each, on both databases: PostgreSQL refuses inputs
SQLite accepts (U+0000, values longer than a column), so each must be refused by the bot first,
with a clear answer, and nothing changed."""

from __future__ import annotations

import json
import logging
import urllib.parse

import pytest
from sqlalchemy import func, select

from storage.models import AuditEvent, Episode, ReturnInterview, RoleGrant
from tests.support.harness import Bot

pytestmark = pytest.mark.both_databases
LONG_ID = "U" + "A" * 40  # a mention Slack would never send: longer than the id columns


def records(bot: Bot) -> tuple[object, ...]:
    """Everything a refused request must leave as it was (the audit trail may grow)."""
    with bot.services.db.read() as session:
        return (
            session.scalar(select(func.count()).select_from(Episode)),
            tuple(session.execute(select(Episode.status, Episode.return_note)).all()),
            tuple(
                session.execute(select(ReturnInterview.status, ReturnInterview.assignee_id)).all()
            ),
            session.scalar(select(func.count()).select_from(RoleGrant)),
        )


# M-1 is missing; M-2 returned, its interview open.
COMMANDS = [
    ("returned M-1 found\x00safe", "control character (U+0000)"),
    ("reopen M-2 returned in error\x07", "control character (U+0007)"),
    ("rhi M-2 done by Barnardo's\x00", "control character (U+0000)"),
    ("rhi M-2 notdone refused \x1b[31m", "control character (U+001B)"),
    ("rhi M-2 done by " + "x" * 201, "Keep the organisation under 200"),
    (f"rhi M-2 assign <@{LONG_ID}>", "Choose one person"),
    (f"admin grant <@{LONG_ID}> control_room", "Roles go to one person"),
    ("show <!channel>", "`&lt;!channel&gt;` is not an episode reference"),
    ("show M-١", "`M-١` is not an episode reference"),  # read as M-1 before
    ("returned ٢ now", "`٢` is not an episode reference"),
    ("returned M-1 at <!here>", "read the time `&lt;!here&gt;`"),
    ("rhi M-2 <@U1>", "I don't know `&lt;@u1&gt;`"),
]


def test_refused_with_a_clear_answer(bot: Bot) -> None:
    bot.log_episode()
    bot.log_episode(child_name="Ann Other")
    bot.slash("returned M-2 now")
    before = records(bot)
    for text, expected in COMMANDS:
        reply = bot.slash(text)
        assert expected in (reply.text or ""), (text, reply.text)
        assert "<!" not in json.dumps(reply.raw), text
        assert records(bot) == before, text


def test_a_command_containing_payload_is_not_mistaken_for_an_interaction(bot: Bot) -> None:
    """Bolt took any form body with the letters 'payload' for an interaction: 404."""
    bot.log_episode()
    reply = bot.slash("returned M-1 payload of the car park")
    assert "M-1 returned at" in (reply.text or "")
    with bot.services.db.read() as session:
        assert session.scalar(select(Episode.return_note)) == "payload of the car park"


FORMS = [
    ({"child_name": "Jane\x00Smith"}, "child_name", "control character (U+0000)"),
    # 101 characters as typed, 202 spelled out for matching: over the 200 of the key.
    ({"child_name": "ß" * 101}, "child_name", "spelled out for matching"),
    ({"child_name": "ﷺ" * 12 + " Ali"}, "child_name", "spelled out for matching"),
    ({"description": "Red coat\x00"}, "description", "control character (U+0000)"),
    ({"reported_by": "Mum \x7f"}, "reported_by", "control character (U+007F)"),
    ({"incident_ref": "CAD\x00-1"}, "incident_ref", "control character"),
    ({"officer": LONG_ID}, "officer", "choose the officer again"),
    ({"last_seen_at": -1}, "last_seen_at", "not a date and time"),
    # An ISO form date.fromisoformat reads, and Slack's date picker never sends.
    ({"date_of_birth": "20120304"}, "date_of_birth", "not a date"),
]


def test_form_refused_on_the_field(bot: Bot) -> None:
    view = bot.answer_care(bot.open_form(), "yes")
    for answers, field, expected in FORMS:
        response = bot.submit_form(view, **answers)
        assert response.status == 200 and response.json, (answers, response.body)
        assert expected in response.json["errors"][field], (answers, response.json)
    assert records(bot)[0] == 0


def _signed_payload(bot: Bot, payload: object) -> tuple[int, str]:
    body = b"payload=" + urllib.parse.quote(json.dumps(payload)).encode()
    response = bot.sender.raw(body, "application/x-www-form-urlencoded")
    return response.status, response.body


@pytest.mark.parametrize(
    "payload",
    [
        {"type": "block_actions", "user": True, "actions": [{"action_id": "rhi_done"}]},
        {"type": "block_actions", "user": {"id": "U1"}, "team": 5, "actions": [{}]},
        {"type": "block_actions", "user": {"id": "U1"}, "actions": {"action_id": "rhi_done"}},
        {"type": "view_submission", "user": {"id": "U1"}, "view": "new_episode"},
        {"type": 7, "user": {"id": "U1"}},
        ["block_actions"],
        {"type": "block_actions", "user": {"id": "U1"}, "response_url": "ftp://elsewhere"},
    ],
)
def test_misshapen_payloads_are_refused_before_bolt(
    sqlite_bot: Bot, payload: object, caplog: pytest.LogCaptureFixture
) -> None:
    """Each of these made Bolt raise while reading the request: a logged traceback."""
    caplog.set_level(logging.WARNING)
    status, body = _signed_payload(sqlite_bot, payload)
    assert (status, json.loads(body)) == (400, {"error": "malformed request"})
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    with sqlite_bot.services.db.read() as session:
        assert session.scalar(select(func.count()).select_from(AuditEvent)) == 0
