"""Clicks on the safe-and-well Done button and the risk review's buttons ("risk stays",
"Re-grade / update") with forged values, users and response URLs: a button acts only on the
record its value names exactly as the bot wrote it, only for someone allowed, and says why not
otherwise; a click with no response URL is not an error."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import strategies as st
from sqlalchemy import select

from fakeslack.interactions import VERIFICATION_TOKEN
from fakeslack.records import APP_ID
from storage.models import Episode
from tests.support.fuzzing import (
    OTHER_TEAM,
    USERS,
    WITH_A_ROLE,
    Fingerprint,
    FuzzBot,
    Sent,
    actor,
    answer_text,
    check_common,
    in_process_then_over_http,
    misshapen,
)
from tests.support.harness import CONTROL, TEAM
from tests.support.strategies import WRONG_TYPES

pytestmark = pytest.mark.both_databases

STAYS, UPDATE, DONE = "review_stays", "review_update", "safe_well_done"
UNKNOWN_ACTIONS = ["review_stay", "REVIEW_STAYS", "safe_well_done ", ""]
_WRITTEN = re.compile(r"([1-9][0-9]{0,17}):([1-9][0-9]{9})")


def _world(fuzz: FuzzBot) -> None:
    """M-1 and M-4 missing (their reviews due); M-2 returned (its safe-and-well check to do);
    M-3 returned with its check done."""
    bot = fuzz.bot
    for name in ("Jane Mary Smith", "Ann Other", "Bea Third", "Cy Fourth"):
        bot.log_episode(child_name=name)
    bot.slash("returned M-2 now")
    bot.slash("returned M-3 now")
    bot.slash("safewell M-3 done")
    with bot.services.db.read() as session:
        rows = {e.id: e for e in session.scalars(select(Episode))}
        due = {i: int(rows[i].review_due_at.timestamp()) for i in (1, 4)}  # type: ignore[union-attr]
        back = {i: int(rows[i].returned_at.timestamp()) for i in (2, 3)}  # type: ignore[union-attr]
    # value -> the episode it validly names, per button
    fuzz.facts["valid"] = {
        STAYS: {f"1:{due[1]}": 1, f"4:{due[4]}": 4},
        UPDATE: {f"1:{due[1]}": 1, f"4:{due[4]}": 4},
        DONE: {f"2:{back[2]}": 2},
    }
    # Values that name records but are stale or crossed, or written otherwise: never act.
    fuzz.facts["near"] = [
        f"1:{due[4]}",
        f"1:{due[1] - 3600}",
        f"2:{due[1]}",
        f"3:{back[3]}",  # its check is already recorded
        f"2:{back[2] - 60}",
        f"4:{back[2]}",
        f" 1:{due[1]}",
        f"+1:{due[1]}",
        f"01:{due[1]}",
        f"2:0{back[2]}",
        f"1:{due[1]}:{due[1]}",
        f"1:{str(due[1])[:1]}_{str(due[1])[1:]}",
        "١:" + "".join(chr(0x0660 + int(c)) for c in str(due[1])),
        "٢:" + "".join(chr(0x0660 + int(c)) for c in str(back[2])),
        "1:0",
        "9" * 30 + ":1",
    ]
    fuzz.freeze()


@dataclass
class Click:
    payload: dict[str, Any]
    action_id: str
    user: str
    team: str
    target: int | None  # the episode the value validly names for this button
    answerable: bool
    trigger_ok: bool
    notes: tuple[str, ...]


_ACTIONS = st.sampled_from([STAYS] * 4 + [UPDATE] * 3 + [DONE] * 4 + UNKNOWN_ACTIONS)
_KINDS = st.sampled_from(["valid", "valid", "valid", "near", "near", "text", "junk", "missing"])
_URLS = st.sampled_from(["fresh"] * 6 + ["missing", "junk"])
_JUNK_URLS = st.one_of(WRONG_TYPES, st.sampled_from(["not a url", "ftp://x", ""]))
_TEAMS = st.sampled_from([TEAM, TEAM, TEAM, OTHER_TEAM])
_ONE_IN_TEN = st.integers(0, 9)


def clicks(fuzz: FuzzBot) -> st.SearchStrategy[Click]:
    @st.composite
    def draw_one(draw: st.DrawFn) -> Click:
        action_id = draw(_ACTIONS)
        valid: dict[str, int] = fuzz.facts["valid"].get(action_id, {})
        kind = draw(_KINDS)
        value: Any = None
        target: int | None = None
        if kind == "valid" and valid:
            value = draw(st.sampled_from(sorted(valid)))
            target = valid[value]
        elif kind in ("valid", "near"):
            value = draw(st.sampled_from(fuzz.facts["near"]))
            target = valid.get(value)  # two reviews due at once: another's value is valid
        elif kind == "text":
            value = draw(st.text(max_size=24))
        elif kind == "junk":
            value = draw(WRONG_TYPES)
        user, team = draw(st.sampled_from(USERS)), draw(_TEAMS)
        user_field: Any = actor(user, team)
        if draw(_ONE_IN_TEN) == 0:
            user_field, user = {"id": draw(WRONG_TYPES), "team_id": team}, ""
        url_kind = draw(_URLS)
        url: Any = fuzz.response_url(user or "U0NOBODY")
        if url_kind == "junk":
            url = draw(_JUNK_URLS)
        trigger_ok = draw(_ONE_IN_TEN) != 0
        action: dict[str, Any] = {
            "action_id": action_id,
            "block_id": "b",
            "type": "button",
            "value": value,
            "action_ts": "1700000000.000001",
        }
        if kind == "missing":
            del action["value"]
        if action_id == UPDATE:
            # The form is about the episode, whichever of its reviews the value names: any
            # value written as the bot writes them, naming a child still missing, opens it.
            written = _WRITTEN.fullmatch(value) if isinstance(value, str) else None
            target = int(written[1]) if written and int(written[1]) in (1, 4) else None
        payload: dict[str, Any] = {
            "type": "block_actions",
            "user": user_field,
            "api_app_id": APP_ID,
            "token": VERIFICATION_TOKEN,
            "trigger_id": fuzz.trigger() if trigger_ok else "",
            "team": {"id": team, "domain": "missing-test"},
            "channel": {"id": CONTROL, "name": "control"},
            "container": {"type": "message", "channel_id": CONTROL, "message_ts": "1.000001"},
            "response_url": url,
            "actions": [action],
        }
        if url_kind == "missing":
            del payload["response_url"]
        notes = (f"value {kind}: {value!r}"[:80], f"url {url_kind}", f"trigger ok {trigger_ok}")
        return Click(payload, action_id, user, team, target, url_kind == "fresh", trigger_ok, notes)

    return draw_one()


def _judge(fuzz: FuzzBot, click: Click) -> None:
    log_mark = fuzz.logs.mark()
    sent = fuzz.interaction(click.payload)
    after = fuzz.fingerprint()
    try:  # a failing example must not leave its change to the next (shrinking replays it)
        _judge_sent(fuzz, click, sent, after, log_mark)
    finally:
        fuzz.thaw(after)


def _judge_sent(fuzz: FuzzBot, click: Click, sent: Sent, after: Fingerprint, mark: int) -> None:
    what = (*click.notes, click.action_id, click.user, click.team)
    check_common(fuzz, sent, mark, what)
    assert fuzz.baseline is not None
    if misshapen(click.payload):  # refused at the door, before Bolt
        assert sent.response.status == 400 and after == fuzz.baseline, what
        return
    if click.action_id in UNKNOWN_ACTIONS:
        assert sent.response.status in (200, 404), what
        assert after == fuzz.baseline and not sent.views and not sent.responses, what
        return
    assert sent.response.status == 200 and not sent.response.body, (what, sent.response.body)
    allowed = click.user in WITH_A_ROLE and click.team == TEAM and click.target is not None
    acts = allowed and click.action_id in (STAYS, DONE)
    assert (after != fuzz.baseline) == acts, (what, after.differences(fuzz.baseline))
    if acts:
        assert after.episodes_touched(fuzz.baseline) == {click.target}, what
    opened = [v for v in sent.views if v.callback_id == "episode_update"]
    opens = allowed and click.action_id == UPDATE and click.trigger_ok
    assert len(opened) == (1 if opens else 0), what
    if opens:
        shown = opened[0].view["private_metadata"]
        assert f'"episode_id": {click.target},' in shown, (what, shown)
    told = [p for p in sent.responses if (p.text or p.blocks)]
    if not click.answerable or not click.payload.get("response_url"):
        assert not told, what
    elif acts or opens:
        # The reminder replaced by who recorded it, or the check confirmed privately.
        assert len(told) == (0 if opens else 1), (what, answer_text(sent)[:500])
        assert "not one of mine" not in answer_text(sent), what
    else:
        assert len(told) == 1 and (told[0].text or "").strip(), (what, answer_text(sent)[:500])
        assert "Something went wrong" not in (told[0].text or ""), what


def test_random_follow_up_button_clicks(fuzz_bot: FuzzBot) -> None:
    fuzz = fuzz_bot
    _world(fuzz)

    in_process_then_over_http(fuzz, clicks(fuzz), lambda case: _judge(fuzz, case))
