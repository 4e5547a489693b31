"""`/missing <text>` with thousands of random texts: a clear private answer every time, no bug in
the log, and the records changed only by a valid command from someone allowed to give it."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from handlers.command_text import split_command
from tests.support.fuzzing import (
    CROOM,
    NOTHING_DONE,
    OTHER_TEAM,
    USERS,
    WITH_A_ROLE,
    FuzzBot,
    Sent,
    answer_text,
    budget,
    check_common,
    http_budget,
)
from tests.support.harness import TEAM
from tests.support.strategies import SlashCase, slash_texts

pytestmark = pytest.mark.both_databases
EPISODES = 4
FORM_FOR = {"returned": "record_return", "return": "record_return", "update": "episode_update"}


def _world(fuzz: FuzzBot) -> None:
    """M-1 missing; M-2 and M-3 returned (M-3's interview chased by the control-room user);
    M-4 returned in error and reopened. Every example starts from this."""
    bot = fuzz.bot
    for name in ("Jane Mary Smith", "Ann Other", "Bea Third", "Cy Fourth"):
        bot.log_episode(child_name=name)
    for ref in ("M-2", "M-3", "M-4"):
        bot.slash(f"returned {ref} now")
    bot.slash(f"rhi M-3 assign <@{CROOM}>")
    bot.slash("reopen M-4 returned in error")
    fuzz.freeze()


def _judge(fuzz: FuzzBot, case: SlashCase, user: str, team: str) -> None:
    before = fuzz.baseline
    log_mark = fuzz.logs.mark()
    sent = fuzz.slash(case.text, user=user, team=team)
    after = fuzz.fingerprint()
    try:  # a failing example must not leave its change to the next (shrinking replays it)
        what = (case, user, team)
        check_common(fuzz, sent, log_mark, what)
        assert sent.response.status == 200, what
        told = answer_text(sent)
        assert "Something went wrong" not in told, (what, told[:500])
        allowed = user in WITH_A_ROLE and team == TEAM
        if case.sure_junk or not allowed:
            assert after == before, (what, "changed the records", told[:500])
        sub, args = split_command(case.text)
        if sub == "new":
            _judge_form_opened(sent, allowed, what)
        elif sub in FORM_FOR and len(args) == 1 and not sent.response.body:
            # `returned M-2` and `update M-2` open a form for an episode this person may change;
            # otherwise they say why not, in the acknowledgement or just after it.
            opened = [v for v in sent.views if v.callback_id == FORM_FOR[sub]]
            if opened:
                assert allowed and len(opened) == 1, what
            else:
                assert [p for p in sent.responses if (p.text or "").strip()], what
        else:
            answer = sent.response.json or {}
            assert str(answer.get("text") or "").strip(), (what, sent.response.body[:300])
            assert answer.get("response_type", "ephemeral") == "ephemeral", what
        if any(phrase in told for phrase in NOTHING_DONE):
            assert after == before, (what, "said nothing was done, yet changed the records")
    finally:
        fuzz.thaw(after)


def _judge_form_opened(sent: Sent, allowed: bool, what: object) -> None:
    """`new` acknowledges at once and opens the form, or says privately why not."""
    assert not sent.response.body, what
    opened = [v for v in sent.views if v.callback_id == "new_episode"]
    if allowed:
        assert len(opened) == 1, what
    else:
        assert not opened, what
        assert [p for p in sent.responses if (p.text or "").strip()], what


def test_random_commands(fuzz_bot: FuzzBot) -> None:
    fuzz = fuzz_bot
    _world(fuzz)
    mentioned = [*USERS, "U0OTHER"]

    @budget(fuzz.backend)
    @given(
        case=slash_texts(EPISODES, mentioned),
        user=st.sampled_from(USERS),
        team=st.sampled_from([TEAM, TEAM, TEAM, OTHER_TEAM]),
    )
    def in_process(case: SlashCase, user: str, team: str) -> None:
        _judge(fuzz, case, user, team)

    in_process()

    # The same judgement over a real socket, through waitress, for a few examples.
    fuzz.http = True

    @http_budget()
    @given(case=slash_texts(EPISODES, mentioned), user=st.sampled_from(USERS))
    def over_http(case: SlashCase, user: str) -> None:
        _judge(fuzz, case, user, TEAM)

    over_http()
