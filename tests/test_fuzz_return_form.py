"""The return form (`/missing returned M-1` with no time) submitted with random and wrong-typed
answers, junk metadata and other records' ids: a valid form from someone allowed records the
return of exactly the episode its metadata names; anything else is refused on a named field of
the form and changes nothing."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import strategies as st

from fakeslack.interactions import VERIFICATION_TOKEN
from fakeslack.modal_state import values_for
from fakeslack.records import APP_ID
from tests.support.fuzzing import (
    CROOM,
    NOBODY,
    OTHER_TEAM,
    SAFE,
    USERS,
    WITH_A_ROLE,
    Fingerprint,
    FuzzBot,
    Sent,
    actor,
    assert_field_errors,
    check_common,
    in_process_then_over_http,
)
from tests.support.harness import LOGGER, TEAM
from tests.support.strategies import CONTROL_CHARS, MARKUP, SOMETHING_WRONG, WRONG_TYPES, Mutation

pytestmark = pytest.mark.both_databases

INPUTS = {"returned_at", "found_place", "return_how", "safe_well", "safe_well_by", "disclosure"}
LIMITS = {"found_place": 400, "disclosure": 2000}
_VIEW_IDS = iter(range(1, 10**9))


@dataclass
class Submission:
    payload: dict[str, Any]
    user: str
    team: str
    target: int | None  # the episode the metadata validly names
    mutations: list[Mutation] = field(default_factory=list)
    personal: tuple[str, ...] = ()

    @property
    def breaks(self) -> bool:
        return any(m.breaks for m in self.mutations)


def _world(fuzz: FuzzBot) -> None:
    """M-1 and M-2 missing, M-3 returned; the return form opened for M-1."""
    bot = fuzz.bot
    for name in ("Jane Mary Smith", "Ann Other", "Bea Third"):
        bot.log_episode(child_name=name)
    bot.slash("returned M-3 now")
    views = len(bot.fake.views)
    assert bot.sender.slash("returned M-1").status == 200
    fuzz.facts["view"] = bot.fake.wait_for_view("record_return", since=views).view
    fuzz.facts["metadata"] = json.loads(fuzz.facts["view"]["private_metadata"])
    assert fuzz.facts["metadata"]["episode_id"] == 1
    fuzz.freeze()


_PRINTABLE = st.characters(codec="utf-8", exclude_categories=["Cc", "Cs", "Zl", "Zp"])
_PIECES = st.sampled_from([*MARKUP, "12 Acacia Avenue", "Zebedee Quux", "07700 900123", "🚨"])
_TYPED = st.one_of(st.text(_PRINTABLE, max_size=20), _PIECES)
# When the child came back: after they were last seen (09:30), not after now (12:00).
_WHEN = st.sampled_from(["now", "NOW", " now", "11:00", "10:15", "at 11:59", "24/11 11:00"])
_HOW = st.sampled_from([None, "self_returned", "found_by_police", "returned_by_carer", "other"])
_SAFE_WELL = st.sampled_from(["done", "to_be_done"])
_BY = st.sampled_from([LOGGER, SAFE, CROOM, NOBODY])
_BAD_WHEN = st.sampled_from(["25:99", "<!here>", "soon", "31/02 10:00", "tomorrow", "08:00 x"])
_BAD_OPTIONS = st.one_of(
    WRONG_TYPES.filter(lambda v: v is not None and not isinstance(v, dict)),
    st.sampled_from([{"value": "teleported"}, {"value": 5}, {}, {"value": None}]),
)
_BAD_USERS = st.one_of(
    SOMETHING_WRONG.filter(lambda v: not isinstance(v, str)),
    st.sampled_from(["<!channel>", "U" + "A" * 40, "uofficer", "C0CHANNEL"]),
)
_KINDS = st.lists(
    st.sampled_from(
        ["type", "control", "long", "when", "option", "user", "drop", "state", "channel", "el"]
    ),
    max_size=3,
)
_TARGETS = st.sampled_from(["own", "own", "own", "other", "returned", "unknown", "junk"])
_JUNK_IDS = st.one_of(WRONG_TYPES, st.sampled_from(["M-1", "1", 2**80, 0, -1]))
_TEAMS = st.sampled_from([TEAM, TEAM, TEAM, OTHER_TEAM])
_ONE_IN = st.integers(0, 19)


def _entry(values: Any, block_id: str) -> dict[str, Any]:
    if not isinstance(values, dict):
        return {}
    block = values.setdefault(block_id, {})
    if not isinstance(block, dict):
        return {}
    element = block.setdefault(block_id, {})
    return element if isinstance(element, dict) else {}


def submissions(fuzz: FuzzBot) -> st.SearchStrategy[Submission]:
    @st.composite
    def draw_one(draw: st.DrawFn) -> Submission:
        view = dict(fuzz.facts["view"])
        view["id"] = f"VRET{next(_VIEW_IDS)}"
        answers: dict[str, Any] = {
            "returned_at": draw(_WHEN),
            "found_place": draw(_TYPED),
            "safe_well": draw(_SAFE_WELL),
            "safe_well_by": draw(_BY),
            "disclosure": draw(_TYPED),
        }
        # Someone with no role cannot be named for the check (unless they are the caller, who
        # is refused anyway): refused on the field, as `/missing safewell ... done by` is.
        no_role = answers["safe_well_by"] == NOBODY
        how = draw(_HOW)
        if how is not None:
            answers["return_how"] = how
        values: Any = values_for(view, answers)
        if not fuzz.http:
            del view["blocks"]  # nothing reads them on submission (see test_fuzz_forms.py)
        mutations: list[Mutation] = [Mutation("safe_well_by", NOBODY, True)] if no_role else []
        # Inputs left out first: a later mutation then lands on what is sent, and a junk value
        # is not taken away again by dropping its input. The state's shape last.
        for kind in sorted(draw(_KINDS), key=lambda k: (k != "drop", k == "state")):
            if kind == "type":
                block = draw(st.sampled_from(["returned_at", "found_place", "disclosure"]))
                bad = draw(SOMETHING_WRONG.filter(lambda v: not isinstance(v, str)))
                _entry(values, block)["value"] = bad
                mutations.append(Mutation(f"{block} value", bad, True))
            elif kind == "control":
                block = draw(st.sampled_from(["returned_at", "found_place", "disclosure"]))
                bad = f"Jane {draw(st.sampled_from(CONTROL_CHARS[:7]))} Smith"
                _entry(values, block)["value"] = bad
                mutations.append(Mutation(f"{block} control", bad, True))
            elif kind == "long":
                block = draw(st.sampled_from(sorted(LIMITS)))
                bad = draw(st.sampled_from(["x", "ß", "🚨"])) * (LIMITS[block] + 1)
                _entry(values, block)["value"] = bad
                mutations.append(Mutation(f"{block} too long", len(bad), True))
            elif kind == "when":
                bad = draw(_BAD_WHEN)
                _entry(values, "returned_at")["value"] = bad
                mutations.append(Mutation("returned_at", bad, True))
            elif kind == "option":
                block = draw(st.sampled_from(["return_how", "safe_well"]))
                bad = draw(_BAD_OPTIONS)
                _entry(values, block)["selected_option"] = bad
                mutations.append(Mutation(block, bad, True))
            elif kind == "user":
                bad = draw(_BAD_USERS)
                _entry(values, "safe_well_by")["selected_user"] = bad
                mutations.append(Mutation("safe_well_by", bad, True))
            elif kind == "drop" and isinstance(values, dict):
                block = draw(st.sampled_from(sorted(INPUTS)))
                values.pop(block, None)
                # Leaving out an optional input is not answering it.
                required = block in ("returned_at", "safe_well", "safe_well_by")
                mutations.append(Mutation(f"{block} left out", None, required))
            elif kind == "state":
                values = draw(st.one_of(WRONG_TYPES, st.just({})))
                mutations.append(Mutation("state.values", values, True))
            elif kind == "channel":
                view["private_metadata"] = json.dumps(
                    {**fuzz.facts["metadata"], "channel_id": draw(WRONG_TYPES)}
                )
                mutations.append(Mutation("metadata channel", "junk", False))
            elif kind == "el":
                _entry(values, draw(st.sampled_from(sorted(INPUTS))))["type"] = "button"
                mutations.append(Mutation("an element's type", "button", False))
        target_kind = draw(_TARGETS)
        target: int | None = None
        metadata = json.loads(view.get("private_metadata") or "{}")
        if target_kind == "own":
            target = 1
        elif target_kind == "other":
            metadata["episode_id"] = target = 2
        elif target_kind == "returned":
            metadata["episode_id"] = 3  # already returned: said so, nothing changes
        elif target_kind == "unknown":
            metadata["episode_id"] = 99
        else:
            metadata["episode_id"] = junk = draw(_JUNK_IDS)
            if type(junk) is int and junk in (1, 2):  # junk that happens to name an episode
                target = junk
        view["private_metadata"] = json.dumps(metadata)
        mutations.append(Mutation("episode", metadata["episode_id"], False))
        view["state"] = {"values": values}
        user, team = draw(st.sampled_from(USERS)), draw(_TEAMS)
        payload: dict[str, Any] = {
            "type": "view_submission",
            "team": {"id": team, "domain": "missing-test"},
            "user": actor(user, team),
            "api_app_id": APP_ID,
            "token": VERIFICATION_TOKEN,
            "trigger_id": fuzz.trigger(),
            "view": view,
        }
        if draw(_ONE_IN) == 0:
            payload["user"] = {"id": draw(WRONG_TYPES), "team_id": team}
            user = ""
        personal = (answers["found_place"], answers["disclosure"])
        return Submission(payload, user, team, target, mutations, personal)

    return draw_one()


def _judge(fuzz: FuzzBot, case: Submission) -> None:
    log_mark = fuzz.logs.mark()
    sent = fuzz.interaction(case.payload)
    after = fuzz.fingerprint()
    try:  # a failing example must not leave its change to the next (shrinking replays it)
        _judge_sent(fuzz, case, sent, after, log_mark)
    finally:
        fuzz.thaw(after)


def _judge_sent(
    fuzz: FuzzBot, case: Submission, sent: Sent, after: Fingerprint, log_mark: int
) -> None:
    what = (case.mutations, case.user, case.team)
    check_common(fuzz, sent, log_mark, what, case.personal)
    assert sent.response.status == 200, (what, sent.response.body[:300])
    answer = sent.response.json or {}
    allowed = case.user in WITH_A_ROLE and case.team == TEAM
    acts = allowed and not case.breaks and case.target is not None
    assert (after != fuzz.baseline) == acts, (what, after.differences(fuzz.baseline))
    if acts:
        # Only the episode the form was opened for (or its metadata names), nothing else.
        assert fuzz.baseline is not None
        assert after.episodes_touched(fuzz.baseline) == {case.target}, what
        assert answer.get("response_action") == "update", (what, answer)
        assert "returned at" in json.dumps(answer), (what, answer)
    elif answer.get("response_action") == "update":
        # Only a return recorded before is answered so (M-3), and it says so.
        assert allowed and not case.breaks, (what, answer)
        assert "M-3 was already returned at" in json.dumps(answer), (what, answer)
    else:
        assert_field_errors(answer, INPUTS, what)


def test_random_return_forms(fuzz_bot: FuzzBot) -> None:
    fuzz = fuzz_bot
    _world(fuzz)

    in_process_then_over_http(fuzz, submissions(fuzz), lambda case: _judge(fuzz, case))
