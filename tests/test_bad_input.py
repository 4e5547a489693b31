"""Bad input and hostile requests: a specific private answer, and nothing changes."""

from __future__ import annotations

import json
import time
import urllib.parse
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from storage.models import AuditEvent, Episode
from tests.support.harness import CONTROL, MISSING, Bot


def counts(bot: Bot) -> tuple[int, int]:
    with bot.services.db.transaction() as session:
        return (
            session.scalar(select(func.count()).select_from(Episode)) or 0,
            session.scalar(select(func.count()).select_from(AuditEvent)) or 0,
        )


def test_forged_unsigned_and_stale_requests_get_401(bot: Bot) -> None:
    before = counts(bot)
    assert bot.sender.slash("list", secret="not-the-secret").status == 401
    assert bot.sender.slash("list", timestamp=int(time.time()) - 6 * 60).status == 401
    body = b"command=%2Fmissing&text=list&user_id=U1&trigger_id=t"
    assert bot.sender.raw(body, "application/x-www-form-urlencoded", unsigned=True).status == 401
    assert (
        bot.sender.raw(body, "application/x-www-form-urlencoded", signature="v0=" + "0" * 64).status
        == 401
    )
    assert counts(bot) == before
    assert bot.fake.posted == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("returned", "Which episode?"),
        ("returned M-99", "There is no episode M-99"),
        ("returned banana", "`banana` is not an episode reference"),
        ("returned M-1 at", "`at` needs a time"),
        ("returned M-1 at teatime", "I couldn't read the time `teatime`"),
        ("returned M-1 at 31/02 10:00", "is not a real date"),
        ("returned M-1 at 25:99", "is not a real time of day"),
        ("returned M-1 at 24/11 11:59 wrong", "is 59 minutes in the future"),
        ("returned M-1 at 24/11 08:00", "before the child was last seen"),
        ("returned M-1 at 29/03/2026 01:30", "did not happen in UK time"),
        ("show", "Which episode?"),
        ("show M-0", "is not an episode reference"),
        ("show 12345678901234567890", "is not an episode reference"),
        ("reopen M-1", "Say why"),
    ],
)
def test_bad_commands_get_specific_answers(bot: Bot, text: str, expected: str) -> None:
    bot.log_episode(last_seen_at=bot.clock.now() - timedelta(hours=3, minutes=30))
    bot.clock.advance(minutes=1)
    before = counts(bot)
    if text.endswith("wrong"):
        bot.clock.set(bot.clock.now().replace(hour=11, minute=0))
    reply = bot.slash(text)
    assert reply.kind == "ack"
    assert expected in reply.text
    assert counts(bot) == before


@pytest.mark.both_databases  # string limits and encodings differ
def test_markup_long_text_emoji_and_accents_are_stored_and_escaped(bot: Bot) -> None:
    name = "<!channel> <@U999> Zoë & Ána >"
    long_place = "Ø" * 399
    post = bot.log_episode(
        child_name=name,
        last_seen_place=long_place,
        placing_authority="<!here> Borough & Co",
        description="🌧️" * 500,
    )
    channel_text = post.text + json.dumps(post.blocks)
    assert "<!here>" not in channel_text and "<!channel>" not in channel_text
    assert "&lt;!here&gt; Borough &amp; Co" in channel_text
    assert "Zoë" not in channel_text and "Ána" not in channel_text
    assert "Z.Á." in channel_text  # initials only from words that start with a letter
    shown = bot.slash("show M-1")
    body = json.dumps(shown.blocks, ensure_ascii=False)
    assert "&lt;!channel&gt; &lt;@U999&gt; Zoë &amp; Ána &gt;" in body
    assert "<!channel>" not in body and "<@U999>" not in body
    with bot.services.db.transaction() as session:
        episode = session.scalars(select(Episode)).one()
        assert episode.child.full_name == name and episode.last_seen_place == long_place
    # A note with markup on the return is escaped in the thread too.
    bot.slash("returned M-1 <!everyone> & co")
    bot.fake.wait_idle(quiet=0.1)
    assert all("<!everyone>" not in json.dumps(p.blocks) for p in bot.fake.posted)


@pytest.mark.parametrize(
    ("answers", "field", "message"),
    [
        ({"child_name": "   "}, "child_name", "Enter the child's name"),
        ({"child_name": "12345"}, "child_name", "must contain letters"),
        ({"child_name": "x" * 201}, "child_name", "under 200"),
        ({"date_of_birth": "2000-01-01"}, "date_of_birth", "under 18"),
        ({"date_of_birth": "2027-01-01"}, "date_of_birth", "in the future"),
        ({"date_of_birth": MISSING}, "date_of_birth", "Enter the date of birth"),
        ({"last_seen_at": MISSING}, "last_seen_at", "Enter when"),
        ({"last_seen_place": ""}, "last_seen_place", "Enter where"),
        ({"risk_level": MISSING}, "risk_level", "Choose a risk level"),
    ],
)
def test_form_errors_are_shown_on_the_field(
    bot: Bot, answers: dict, field: str, message: str
) -> None:
    view = bot.open_form()
    response = bot.submit_form(view, **answers)
    assert response.status == 200
    assert response.json and response.json["response_action"] == "errors"
    assert message in response.json["errors"][field]
    assert counts(bot) == (0, 0)


def test_last_seen_in_the_future_is_refused(bot: Bot) -> None:
    view = bot.open_form()
    response = bot.submit_form(view, last_seen_at=bot.clock.now() + timedelta(minutes=5))
    assert response.json and "future" in response.json["errors"]["last_seen_at"]
    assert counts(bot) == (0, 0)


@pytest.mark.parametrize(
    "fault",
    [
        {"status": 500, "times": 1},
        # The SDK's RateLimitErrorRetryHandler waits Retry-After and tries once more itself.
        {"status": 429, "retry_after": 1, "times": 2},
        {"status": 200, "error": "channel_not_found", "times": 1},
    ],
)
def test_channel_post_failure_keeps_the_episode_and_tells_the_logger(bot: Bot, fault: dict) -> None:
    bot.fake.fail("chat.postMessage", when=lambda a: a.get("channel") == CONTROL, **fault)
    view = bot.open_form()
    assert bot.submit_form(view).status == 200
    dm = bot.fake.wait_for(lambda f: f.dms_to("UCONTROL1"))[0]
    assert "Logged *M-1*" in dm.text and "has not gone out yet" in dm.text
    assert counts(bot)[0] == 1
    assert not bot.fake.messages_in(CONTROL, kinds=("message",))
    bot.clock.advance(minutes=20)
    bot.sweep()
    posts = bot.fake.messages_in(CONTROL, kinds=("message",))
    if fault.get("error"):
        # A permanent error is not retried: the safeguarding channel is told instead.
        assert posts == []
        alert = bot.fake.messages_in("CSAFEGUARD")
        assert len(alert) == 1 and "channel_not_found" in alert[0].text + str(alert[0].blocks)
    else:
        assert len(posts) == 1 and "M-1" in posts[0].text


@pytest.mark.both_databases  # each driver fails in its own way
def test_database_unreachable_says_nothing_was_saved(bot: Bot) -> None:
    view = bot.open_form()
    bot.services.db.engine.dispose()
    # Point the live services at a database that cannot be reached.
    from storage.db import make_engine

    unreachable = make_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")
    bot.services.db.engine = unreachable
    bot.services.db._sessions.configure(bind=unreachable)
    bot.services.db._read_sessions.configure(bind=unreachable.execution_options(readonly=True))
    response = bot.submit_form(view)
    assert response.json and "nothing was saved" in response.json["errors"]["child_name"]
    reply = bot.slash("returned M-1 now")
    assert "nothing was saved" in reply.text
    status, report = bot.web.health()
    assert status == 503 and report["database"].startswith("unreachable")


def test_usage_placeholders_reach_slack_escaped(bot: Bot) -> None:
    # Slack reads `<ref>` as a link; every answer must carry it as `&lt;ref&gt;`.
    for text in ("help", "rhi M-1 notdone", "rhi M-1 dance", "reopen"):
        reply = bot.slash(text)
        shown = reply.text + json.dumps(reply.blocks)
        assert "&lt;" in shown, text
        assert "<ref>" not in shown and "<when>" not in shown and "<reason>" not in shown


def _payload(data: dict) -> bytes:
    return b"payload=" + urllib.parse.quote(json.dumps(data)).encode()


MALFORMED = {
    "payload is not JSON": b"payload=%7Bnot-json",
    "empty body": b"",
    "slash command without a user": b"command=%2Fmissing&text=list",
    "another slash command": b"command=%2Fother&text=list&user_id=U1",
    "view without a type": _payload(
        {"type": "view_submission", "user": {"id": "U1"}, "view": {"callback_id": "zzz"}}
    ),
    "form with impossible values": _payload(
        {
            "type": "view_submission",
            "user": {"id": "U1"},
            "view": {
                "type": "modal",
                "callback_id": "new_episode",
                "state": {
                    "values": {
                        "date_of_birth": {"date_of_birth": {"selected_date": "31-31-31"}},
                        "last_seen_at": {"last_seen_at": {"selected_date_time": "soon"}},
                    }
                },
            },
        }
    ),
    "reassign form with broken metadata": _payload(
        {
            "type": "view_submission",
            "user": {"id": "U1"},
            "view": {
                "type": "modal",
                "callback_id": "rhi_reassign",
                "private_metadata": "{",
                "state": {"values": {"assignee": {"assignee": {"selected_user": "U2"}}}},
            },
        }
    ),
    "button with a huge id": _payload(
        {
            "type": "block_actions",
            "user": {"id": "U1"},
            "response_url": "{response_url}",
            "actions": [{"action_id": "rhi_done", "value": "9" * 30 + ":1", "type": "button"}],
        }
    ),
}


@pytest.mark.parametrize("name", list(MALFORMED))
def test_malformed_signed_requests_never_get_a_server_error(bot: Bot, name: str) -> None:
    # Where the bot answers a button: the fake's response URL (quoted, as in the body).
    url = urllib.parse.quote(json.dumps(bot.fake.new_response_url())[1:-1]).encode()
    body = MALFORMED[name].replace(b"%7Bresponse_url%7D", url)
    response = bot.sender.raw(body, "application/x-www-form-urlencoded")
    assert response.status in (200, 400, 404), response.body
    if name == "form with impossible values":
        assert response.json and response.json["response_action"] == "errors"
        errors = response.json["errors"]
        assert "not a date" in errors["date_of_birth"] and "last_seen_at" in errors
    if name == "reassign form with broken metadata":
        assert response.json and response.json["response_action"] == "errors"
    if name == "button with a huge id":
        answer = bot.fake.wait_for_posted(kind="response")[0]
        assert "not one of mine" in answer.text
    assert counts(bot) == (0, 0)
