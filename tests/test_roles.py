"""Who may do what, over signed HTTP: each role's allowed and refused commands and buttons,
refusals audited, another workspace refused, roles from Slack user groups, replays acting once."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import pytest
from sqlalchemy import func, select

from bot.domain.access import Role
from fakeslack import SlackSender
from fakeslack.interactions import FORM, Actor, slash_command_fields
from storage.models import Episode, RequestKey
from tests.support.harness import CONTROL, DEFAULT_ANSWERS, LOGGER, SIGNING_SECRET, Bot

USER = "U0PERSON"
REFUSED = "You need the *{}* role"


def episodes(bot: Bot) -> int:
    with bot.services.db.read() as session:
        return session.scalar(select(func.count()).select_from(Episode)) or 0


def setup_two_episodes(bot: Bot) -> None:
    """M-1 still missing, M-2 returned with its RHI chased by the person who logged it."""
    bot.log_episode()
    bot.log_episode(child_name="Ann Other")
    bot.slash("returned M-2 now")


# Commands that open a form when allowed: their answer is the form, not a message.
FORMS = {"update M-1": "episode_update"}


def as_user(bot: Bot, text: str) -> str:
    if text in FORMS:
        return form_or_answer(bot, text, FORMS[text])
    return bot.slash(text, user_id=USER).text or ""


def form_or_answer(bot: Bot, text: str, callback_id: str) -> str:
    """ "" once the form opened, else the private answer (a refusal)."""
    views, mark = len(bot.fake.views), bot.fake.mark()
    response = bot.sender.slash(text, user_id=USER)
    assert response.status == 200 and not response.body, response.body

    def outcome(fake: Any) -> str | None:
        if any(v.callback_id == callback_id for v in fake.views[views:]):
            return "opened"
        answers = [p for p in fake.posted[mark:] if p.kind.startswith("response")]
        return (answers[0].text or "") if answers else None

    found = bot.fake.wait_for(outcome)
    return "" if found == "opened" else found


# (command, the least role that may run it)
COMMANDS: list[tuple[str, Role | None]] = [
    ("help", None),
    ("list", Role.CONTROL_ROOM),
    ("show M-1", Role.CONTROL_ROOM),
    ("update M-1", Role.CONTROL_ROOM),  # opens the update form
    ("list returned", Role.CONTROL_ROOM),
    ("rhi", Role.CONTROL_ROOM),
    ("rhi M-2 offered", Role.SAFEGUARDING),  # not theirs: needs safeguarding
    ("returned M-1 now", Role.CONTROL_ROOM),
    ("reopen M-1 returned in error", Role.CONTROL_ROOM),
    ("admin roles", Role.ADMIN),
    ("audit M-1", Role.ADMIN),
    ("admin grant <@U0OTHER> control_room", Role.ADMIN),
    # Last: it closes M-1 for good. Not theirs (LOGGER logged it): needs safeguarding.
    ("void M-1 logged in error", Role.SAFEGUARDING),
]


@pytest.mark.parametrize("role", [None, Role.CONTROL_ROOM, Role.SAFEGUARDING, Role.ADMIN])
def test_each_role_may_run_exactly_its_commands(sqlite_bot: Bot, role: Role | None) -> None:
    bot = sqlite_bot
    setup_two_episodes(bot)
    if role is not None:
        bot.grant(USER, role)
    refusals = 0
    for text, needed in COMMANDS:
        answer = as_user(bot, text)
        allowed = needed is None or (role is not None and role.rank >= needed.rank)
        if allowed:
            assert "You need the" not in answer, (role, text, answer)
        else:
            refusals += 1
            assert REFUSED.format(needed.label) in answer, (role, text, answer)
            assert "nothing was done" in answer
    audited = bot.audit("access.refused")
    assert len(audited) == refusals
    assert all(a.actor == USER and a.channel == CONTROL for a in audited)


@pytest.mark.parametrize(
    ("role", "history"), [(Role.CONTROL_ROOM, False), (Role.SAFEGUARDING, True)]
)
def test_the_history_needs_safeguarding(sqlite_bot: Bot, role: Role, history: bool) -> None:
    sqlite_bot.log_episode()
    sqlite_bot.grant(USER, role)
    answer = sqlite_bot.slash("show M-1", user_id=USER)
    assert "Jane Mary Smith" in (answer.text or "") + json.dumps(answer.blocks)
    assert ("*History*" in json.dumps(answer.blocks)) is history


def test_the_form_does_not_open_for_someone_without_a_role(sqlite_bot: Bot) -> None:
    views = len(sqlite_bot.fake.views)
    answer = sqlite_bot.slash("new", user_id=USER)
    assert REFUSED.format("control room") in (answer.text or "")
    assert len(sqlite_bot.fake.views) == views
    sqlite_bot.grant(USER)
    sqlite_bot.open_form(user_id=USER)


def test_a_forged_submission_without_a_role_logs_nothing(sqlite_bot: Bot) -> None:
    view = sqlite_bot.answer_care(sqlite_bot.open_form(), "yes")
    response = sqlite_bot.sender.submit_answers(view, DEFAULT_ANSWERS, user_id=USER)
    assert response.status == 200
    answer = response.json or {}
    assert answer.get("response_action") == "errors"
    assert any("control room" in e for e in answer["errors"].values())
    assert episodes(sqlite_bot) == 0


BUTTONS = ["rhi_done", "rhi_declined", "rhi_snooze", "rhi_reassign"]


@pytest.mark.parametrize(
    ("who", "allowed"),
    [
        ("nobody", False),
        ("control room, not theirs", False),
        ("control room, chasing it", True),
        ("safeguarding", True),
    ],
)
@pytest.mark.parametrize("button", BUTTONS)
def test_buttons_follow_the_same_rule(
    sqlite_bot: Bot, who: str, allowed: bool, button: str
) -> None:
    bot = sqlite_bot
    bot.log_episode()
    bot.slash("returned M-1 now")
    if who == "control room, chasing it":
        bot.grant(USER)
        bot.slash(f"rhi M-1 assign <@{USER}>")
    elif who == "control room, not theirs":
        bot.grant(USER)
    elif who == "safeguarding":
        bot.grant(USER, Role.SAFEGUARDING)
    bot.clock.advance(hours=48)
    bot.sweep()
    reminder = next(p for p in bot.fake.posted if "RHI for M-1 due" in (p.text or ""))
    mark, views = bot.fake.mark(), len(bot.fake.views)
    bot.sender.click(button, message=reminder, user_id=USER)
    bot.settle()
    if allowed:
        if button == "rhi_reassign":
            bot.fake.wait_for_view("rhi_reassign", since=views)
        else:
            bot.fake.wait_for(lambda f: [p for p in f.posted[mark:] if p.kind == "update"])
        assert bot.audit("access.refused") == []
    else:
        answer = bot.fake.wait_for_posted(kind="response", since=mark)[0]
        assert REFUSED.format("safeguarding") in (answer.text or "")
        assert len(bot.audit("access.refused")) == 1
        assert len(bot.fake.views) == views


def test_a_request_from_another_workspace_is_refused(sqlite_bot: Bot) -> None:
    sqlite_bot.log_episode()
    stranger = SlackSender(
        sqlite_bot.sender.events_url,
        SIGNING_SECRET,
        fake=sqlite_bot.fake,
        team_id="T0ELSEWHERE",
        user_id=LOGGER,  # even an admin's id, from another workspace
        channel_id=CONTROL,
    )
    response = stranger.slash("show M-1")
    assert response.status == 200 and response.json
    assert "one Slack workspace only" in response.json["text"]
    assert "Jane" not in json.dumps(response.json)
    (refusal,) = sqlite_bot.audit("access.refused")
    assert refusal.detail["team"] == "T0ELSEWHERE"


def test_roles_follow_slack_user_groups(
    bot_at: Callable[..., Bot],
) -> None:
    bot = bot_at(
        datetime.fromisoformat("2026-11-24T12:00:00+00:00"),
        role_usergroups="control_room=S0CONTROL,safeguarding=S0MASH",
    )
    bot.log_episode()
    bot.slash("returned M-1 now")
    bot.fake.set_usergroup("S0CONTROL", [USER])
    bot.fake.set_usergroup("S0MASH", [])
    assert REFUSED.format("control room") in as_user(bot, "list")
    bot.sweep()  # the scheduler reads the groups
    assert "You need" not in as_user(bot, "list")
    assert REFUSED.format("safeguarding") in as_user(bot, "rhi M-1 offered")
    # Moved to the safeguarding group: seen after the next refresh, not before.
    bot.fake.set_usergroup("S0CONTROL", [])
    bot.fake.set_usergroup("S0MASH", [USER])
    bot.clock.advance(minutes=2)
    bot.sweep()
    assert REFUSED.format("safeguarding") in as_user(bot, "rhi M-1 offered")
    bot.clock.advance(minutes=4)
    bot.sweep()
    assert "M-1: offered. Recorded." in as_user(bot, "rhi M-1 offered")
    # Slack unreachable for over an hour: the last list is no longer trusted.
    bot.fake.fail("usergroups.users.list", status=500, times=None)
    bot.clock.advance(minutes=61)
    bot.sweep()
    assert REFUSED.format("control room") in as_user(bot, "list")


def test_admin_grants_and_revokes(sqlite_bot: Bot) -> None:
    bot = sqlite_bot
    assert (
        "now has the *safeguarding* role" in bot.slash(f"admin grant <@{USER}> safeguarding").text
    )
    assert "already had" in bot.slash(f"admin grant <@{USER}> Safeguarding").text
    roles = bot.slash("admin roles")
    assert f"<@{USER}>: *safeguarding*" in json.dumps(roles.blocks)
    assert f"<@{LOGGER}>: *admin* (ADMIN_USER_IDS)" in json.dumps(roles.blocks)
    assert "no longer has" in bot.slash(f"admin revoke <@{USER}> safeguarding").text
    assert "Nothing was changed" in bot.slash(f"admin revoke <@{USER}> safeguarding").text
    assert "is not a role" in bot.slash(f"admin grant <@{USER}> superuser").text
    assert "needs one person" in bot.slash("admin grant safeguarding").text
    assert [a.action for a in bot.audit() if a.action.startswith("role.")] == [
        "role.granted",
        "role.revoked",
    ]


def test_a_replayed_command_acts_once(sqlite_bot: Bot) -> None:
    bot = sqlite_bot
    bot.log_episode()
    fields = slash_command_fields(
        Actor("T0MISSING", LOGGER, "pc"),
        command="/missing",
        text="returned M-1 now",
        channel_id=CONTROL,
        response_url=bot.fake.new_response_url(),
        trigger_id="trig-captured-1",
    )
    body = urlencode(fields).encode()
    first = bot.sender.raw(body, FORM)
    assert first.json and "M-1 returned at" in first.json["text"]
    bot.clock.advance(minutes=1)
    for _ in range(5):
        again = bot.sender.raw(body, FORM)
        assert again.status == 200 and again.json
        assert "already handled" in again.json["text"]
    assert len(bot.audit("episode.returned")) == 1


def test_a_form_submitted_twice_logs_one_episode(sqlite_bot: Bot) -> None:
    bot = sqlite_bot
    view = bot.answer_care(bot.open_form(), "yes")
    for _ in range(6):
        response = bot.submit_form(view)
        assert response.status == 200 and not response.body
    bot.settle()
    assert episodes(bot) == 1
    posts = [p for p in bot.fake.messages_in(CONTROL) if not p.thread_ts]
    assert len(posts) == 1


def test_request_keys_are_forgotten_after_a_day(sqlite_bot: Bot) -> None:
    bot = sqlite_bot
    bot.slash("list")
    bot.clock.advance(days=1, minutes=1)
    bot.sweep()
    with bot.services.db.read() as session:
        assert session.scalar(select(func.count()).select_from(RequestKey)) == 0


def test_an_admin_reads_an_episodes_audit_trail(sqlite_bot: Bot) -> None:
    sqlite_bot.log_episode()
    sqlite_bot.slash("returned M-1 now")
    answer = sqlite_bot.slash("audit M-1")
    shown = json.dumps(answer.blocks)
    assert "Audit trail of M-1" in shown
    assert "episode.returned" in shown and "episode.logged" in shown
    assert "Jane" not in shown  # the trail never holds the child's name
    assert [a.actor for a in sqlite_bot.audit("audit.viewed")] == [LOGGER]
    assert "There is no episode M-99" in (sqlite_bot.slash("audit M-99").text or "")


@pytest.mark.parametrize("button", ["review_stays", "review_update"])
def test_review_buttons_need_the_control_room_role(sqlite_bot: Bot, button: str) -> None:
    bot = sqlite_bot
    bot.log_episode()
    bot.clock.advance(hours=2)  # high risk: the review falls due
    bot.sweep()
    reminder = next(p for p in bot.fake.dms_to(LOGGER) if "Risk review" in (p.text or ""))
    mark, views = bot.fake.mark(), len(bot.fake.views)
    bot.sender.click(button, message=reminder, user_id=USER)
    answer = bot.fake.wait_for_posted(kind="response", since=mark)[0]
    assert REFUSED.format("control room") in (answer.text or "")
    assert len(bot.fake.views) == views and bot.audit("episode.reviewed") == []
    bot.grant(USER)
    bot.sender.click(button, message=reminder, user_id=USER)
    if button == "review_update":
        bot.fake.wait_for_view("episode_update", since=views)
    else:
        bot.fake.wait_for(lambda f: bot.audit("episode.reviewed"))
