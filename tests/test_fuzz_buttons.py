"""Clicks on the reminder buttons (Done, Declined, Snooze, Reassign) with forged values,
containers and messages: a button acts only on the interview it was rendered for, only for
someone allowed to, and the reminder is edited from what the bot posted, never from the click."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import strategies as st

from fakeslack.interactions import VERIFICATION_TOKEN
from fakeslack.records import APP_ID
from tests.support.fuzzing import (
    CROOM,
    OTHER_TEAM,
    SAFE,
    USERS,
    FuzzBot,
    Sent,
    actor,
    answer_text,
    check_common,
    in_process_then_over_http,
    misshapen,
)
from tests.support.harness import CONTROL, LOGGER, TEAM
from tests.support.strategies import JSON_VALUES, WRONG_TYPES

pytestmark = pytest.mark.both_databases

BUTTONS = ["rhi_done", "rhi_declined", "rhi_snooze", "rhi_reassign"]
CHANGES = {"rhi_done", "rhi_declined", "rhi_snooze"}
UNKNOWN_ACTIONS = ["rhi_undo", "", "RHI_DONE", "rhi_done ", "looked_after", "new_episode"]
FORGED = "FORGED <!channel> text"


@dataclass(frozen=True)
class Reminder:
    """A reminder the bot sent, as Slack shows it: where, and the buttons' value."""

    rhi_id: int
    episode_id: int
    channel: str
    ts: str
    message: dict[str, Any]

    @property
    def value(self) -> str:
        return f"{self.rhi_id}:{self.episode_id}"


def _world(fuzz: FuzzBot) -> None:
    """Interview 1 (M-2) chased by the admin, 2 (M-3) by the control-room user, 3 (M-4)
    cancelled by a reopen; reminders for 1 and 2 sent two days after the returns."""
    bot = fuzz.bot
    for name in ("Jane Mary Smith", "Ann Other", "Bea Third", "Cy Fourth"):
        bot.log_episode(child_name=name)
    for ref in ("M-2", "M-3", "M-4"):
        bot.slash(f"returned {ref} now")
    bot.slash(f"rhi M-3 assign <@{CROOM}>")
    bot.slash("reopen M-4 returned in error")
    bot.clock.advance(hours=48)
    bot.sweep()
    bot.settle()
    reminders = []
    for rhi_id, episode_id, user in ((1, 2, LOGGER), (2, 3, CROOM)):
        post = next(p for p in bot.fake.dms_to(user) if f"RHI for M-{episode_id}" in p.text)
        assert post.channel and post.ts
        message = bot.fake.message(post.channel, post.ts)
        assert message is not None
        reminders.append(Reminder(rhi_id, episode_id, post.channel, post.ts, message))
    channel_post = next(
        p for p in bot.fake.messages_in(CONTROL, kinds=("message",)) if not p.thread_ts
    )
    fuzz.facts.update(reminders=reminders, channel_post=(CONTROL, channel_post.ts))
    fuzz.freeze()


@dataclass
class Click:
    payload: dict[str, Any]
    action_id: str
    user: str  # "" when the payload names nobody usable
    team: str
    acting: int | None  # the interview the value validly names, if any
    container_rhi: int | None  # the interview whose reminder the container points at
    trigger_ok: bool
    answerable: bool  # has a response URL the bot can answer on
    notes: tuple[str, ...]
    misshapen: bool  # a field of a type Slack never sends it as: refused before Bolt


# Weighted so that most examples reach a listener: junk refused at the door teaches little.
_ACTION_IDS = st.sampled_from([*BUTTONS * 6, *UNKNOWN_ACTIONS])
_VALUE_KINDS = st.sampled_from(
    ["own", "own", "other", "stale", "crossed", "wrong_episode", "text", "junk", "missing"]
)
_TEXT_VALUES = st.one_of(
    st.sampled_from(
        [
            "1:2:3",
            " 1:2",
            "+1:+2",
            "1_0:2",
            "١:٢",
            "-1:2",
            "0:0",
            "9" * 30 + ":1",
            "1:" + "9" * 19,
            "<!channel>",
            "1;2",
            "",
            "\x00",
        ]
    ),
    st.text(max_size=20),
)
_FORGED_USERS = st.one_of(
    WRONG_TYPES,
    st.sampled_from([{"id": "U" + "A" * 40}, {"id": "<!channel>"}, {"name": "x"}, {"id": 5}]),
)
_CONTAINER_KINDS = st.sampled_from(
    ["own", "own", "own", "own", "other", "channel_post", "forged", "missing", "junk"]
)
_FORGED_CHANNELS = st.sampled_from(["C" + "X" * 40, "<!here>", "CNOWHERE", "\x00"])
_FORGED_TS = st.sampled_from(["1.2", "x" * 50, "<@U1>", "1700000000.001300"])
_MESSAGE_KINDS = st.sampled_from(["own", "own", "own", "forged", "forged", "missing", "junk"])
_URL_KINDS = st.sampled_from(["fresh"] * 8 + ["missing", "junk"])
# Not an unreachable URL: slack_sdk logs that at ERROR itself (Slack is down).
_JUNK_URLS = st.one_of(WRONG_TYPES, st.sampled_from(["not a url", "ftp://x", ""]))
_JUNK_TRIGGERS = st.one_of(WRONG_TYPES, st.sampled_from(["<!channel>", "x" * 300, ""]))
_TEAMS = st.sampled_from([TEAM, TEAM, TEAM, OTHER_TEAM])
_USERS = st.sampled_from(USERS)
_ONE_IN_TEN = st.integers(0, 9)
_ONE_IN_TWENTY = st.integers(0, 19)
_ENVELOPE_FIELDS = st.sampled_from(["channel", "team", "state", "enterprise"])


def clicks(fuzz: FuzzBot) -> st.SearchStrategy[Click]:
    reminders: list[Reminder] = fuzz.facts["reminders"]
    targets = st.sampled_from(reminders)

    @st.composite
    def draw_one(draw: st.DrawFn) -> Click:
        own = draw(targets)
        other = next(r for r in reminders if r is not own)
        notes: list[str] = []
        action_id = draw(_ACTION_IDS)
        value_kind = draw(_VALUE_KINDS)
        acting: int | None = None
        value: Any
        if value_kind == "own":
            value, acting = own.value, own.rhi_id
        elif value_kind == "other":
            value, acting = other.value, other.rhi_id
        elif value_kind == "stale":
            value = "3:4"  # the interview cancelled by the reopen
        elif value_kind == "crossed":
            value = f"{own.rhi_id}:{other.episode_id}"  # its own interview, another episode
        elif value_kind == "wrong_episode":
            value = f"{own.episode_id}:{own.episode_id}"
        elif value_kind == "text":
            value = draw(_TEXT_VALUES)
        else:
            value = draw(WRONG_TYPES)
        notes.append(f"value {value_kind}: {value!r}"[:80])

        user, team = draw(_USERS), draw(_TEAMS)
        user_field: Any = actor(user, team)
        if draw(_ONE_IN_TEN) == 0:
            user_field, user = draw(_FORGED_USERS), ""
            notes.append(f"user {user_field!r}"[:80])

        container_kind = draw(_CONTAINER_KINDS)
        container: Any = None
        container_rhi: int | None = None
        if container_kind in ("own", "other"):
            shown = own if container_kind == "own" else other
            container = {"type": "message", "channel_id": shown.channel, "message_ts": shown.ts}
            container_rhi = shown.rhi_id
        elif container_kind == "channel_post":
            channel, ts = fuzz.facts["channel_post"]
            container = {"type": "message", "channel_id": channel, "message_ts": ts}
        elif container_kind == "forged":
            container = {
                "type": "message",
                "channel_id": draw(_FORGED_CHANNELS),
                "message_ts": draw(_FORGED_TS),
            }
        elif container_kind == "junk":
            container = draw(WRONG_TYPES)
        notes.append(f"container {container_kind}")

        message_kind = draw(_MESSAGE_KINDS)
        message: Any = own.message
        if message_kind == "forged":
            message = {
                **own.message,
                "text": FORGED,
                "blocks": [
                    {"type": "section", "text": {"type": "mrkdwn", "text": FORGED}},
                    *own.message.get("blocks", [])[2:],
                ],
            }
        elif message_kind == "junk":
            message = draw(JSON_VALUES)
        notes.append(f"message {message_kind}")

        url_kind = draw(_URL_KINDS)
        response_url: Any = fuzz.response_url(user or LOGGER, own.channel)
        if url_kind == "junk":
            response_url = draw(_JUNK_URLS)
        trigger_kind = draw(_URL_KINDS)
        trigger: Any = fuzz.trigger()
        if trigger_kind == "junk":
            trigger = draw(_JUNK_TRIGGERS)
        notes.append(f"url {url_kind}, trigger {trigger_kind}")

        action: dict[str, Any] = {
            "action_id": action_id,
            "block_id": f"rhi_actions:{own.rhi_id}",
            "type": "button",
            "value": value,
            "action_ts": "1700000000.000001",
        }
        if value_kind == "missing":
            del action["value"]
        payload: dict[str, Any] = {
            "type": "block_actions",
            "user": user_field,
            "api_app_id": APP_ID,
            "token": VERIFICATION_TOKEN,
            "container": container,
            "trigger_id": trigger,
            "team": {"id": team, "domain": "missing-test"},
            "enterprise": None,
            "is_enterprise_install": False,
            "channel": {"id": own.channel, "name": "directmessage"},
            "message": message,
            "state": {"values": {}},
            "response_url": response_url,
            "actions": [action],
        }
        for key, kind in (
            ("container", container_kind),
            ("message", message_kind),
            ("response_url", url_kind),
            ("trigger_id", trigger_kind),
        ):
            if kind == "missing":
                del payload[key]
        if draw(_ONE_IN_TWENTY) == 0:
            name = draw(_ENVELOPE_FIELDS)
            payload[name] = draw(WRONG_TYPES)
            notes.append(f"{name} junk")
        return Click(
            payload,
            action_id,
            user,
            team,
            acting,
            container_rhi,
            trigger_kind == "fresh",
            url_kind == "fresh",
            tuple(notes),
            misshapen(payload),
        )

    return draw_one()


def _allowed(click: Click) -> bool:
    """Safeguarding (and admins) act on any interview; the control-room user on the one they
    chase; nobody without a role, and nobody from another workspace."""
    if click.acting is None or not click.user or click.team != TEAM:
        return False
    return click.user in (LOGGER, SAFE) or (click.user == CROOM and click.acting == 2)


def _judge(fuzz: FuzzBot, click: Click) -> None:
    log_mark = fuzz.logs.mark()
    sent = fuzz.interaction(click.payload)
    after = fuzz.fingerprint()
    try:  # a failing example must not leave its change to the next (shrinking replays it)
        what = (*click.notes, click.action_id, click.user, click.team)
        check_common(fuzz, sent, log_mark, what)
        if click.misshapen:
            assert sent.response.status == 400, what
            assert sent.response.json == {"error": "malformed request"}, what
            assert after == fuzz.baseline and not sent.posted and not sent.views, what
            return
        assert sent.response.status != 400, (what, sent.response.body)
        if click.action_id not in BUTTONS:
            # No such button: Bolt's own "unhandled request", and nothing happens.
            assert sent.response.status in (200, 404), what
            assert after == fuzz.baseline and not sent.updates and not sent.views, what
            return
        assert sent.response.status == 200 and not sent.response.body, what
        allowed = _allowed(click)
        acts = allowed and click.action_id in CHANGES
        assert (after != fuzz.baseline) == acts, (
            what,
            "records changed" if not acts else "no change",
        )
        if acts:  # the reminder is edited on the outbox's thread
            sent = fuzz.settled(sent)
        _judge_edit(fuzz, click, sent, acts, what)
        opened = [v for v in sent.views if v.callback_id == "rhi_reassign"]
        if click.action_id == "rhi_reassign" and allowed and click.trigger_ok:
            assert len(opened) == 1, what
            metadata = json.loads(opened[0].view["private_metadata"])
            assert metadata["ids"] == next(
                r.value for r in fuzz.facts["reminders"] if r.rhi_id == click.acting
            ), what
        else:
            assert not opened, what
            if not acts and click.answerable:
                # Refused or not one of ours: told so, privately, once.
                told = [p for p in sent.responses if (p.text or "").strip()]
                assert len(told) == 1, (what, answer_text(sent)[:500])
                assert "Something went wrong" not in (told[0].text or ""), what
    finally:
        fuzz.thaw(after)


def _judge_edit(fuzz: FuzzBot, click: Click, sent: Sent, acts: bool, what: object) -> None:
    """Only a reminder about the interview acted on is edited, re-rendered from the outbox."""
    if not (acts and click.container_rhi == click.acting):
        assert not sent.updates, (what, "edited a message it should not have")
        return
    (update,) = sent.updates
    reminder = next(r for r in fuzz.facts["reminders"] if r.rhi_id == click.acting)
    assert (update.channel, update.ts) == (reminder.channel, reminder.ts), what
    shown = json.dumps(update.raw)
    assert "FORGED" not in shown and f"RHI for M-{reminder.episode_id}" in shown, what


def test_random_button_clicks(fuzz_bot: FuzzBot) -> None:
    fuzz = fuzz_bot
    _world(fuzz)

    in_process_then_over_http(fuzz, clicks(fuzz), lambda case: _judge(fuzz, case))
