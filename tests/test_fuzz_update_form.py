"""The update form (`/missing update M-1`) submitted with random re-grades, reviews, sightings,
information and corrections, then broken: wrong types, control characters, junk and duplicate
options, huge values, inputs left out, other records' ids and stale fingerprints in the
metadata, people without a role or from another team. A model of the rules the README states
says what each submission must do: a valid form from someone allowed changes exactly the episode
its metadata names, as the model says; anything else is refused on a named field of the form and
changes nothing."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import strategies as st
from sqlalchemy import func, select

from fakeslack.interactions import VERIFICATION_TOKEN
from fakeslack.modal_state import values_for
from fakeslack.records import APP_ID
from storage.models import Episode, EpisodeNote
from tests.support.fuzzing import (
    NOBODY,
    OTHER_TEAM,
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
from tests.support.updates import open_update

pytestmark = pytest.mark.both_databases

RISKS = ["high", "medium", "low", "no_apparent_risk"]
FACTORS = ["cse", "cce", "mental_health", "self_harm", "medication", "other"]
# The details the form offers to correct, as the record names them.
DETAILS = {
    "last_seen_place": "last_seen_place",
    "placing_authority": "placing_authority",
    "risk_factors": "risk_factors",
    "description": "description",
    "reported_by": "reported_by",
    "incident_ref": "incident_ref",
    "officer": "officer_id",
}
TEXTS = {  # text inputs and what each holds
    "risk_reason": 1000,
    "sighting_place": 400,
    "information": 2000,
    "last_seen_place": 400,
    "placing_authority": 200,
    "description": 2000,
    "reported_by": 2000,
    "incident_ref": 60,
}
PEOPLE = ("decided_by", "officer")
INPUTS = {"risk_level", "decided_by", "sighting_at", "risk_factors", *TEXTS, *PEOPLE}
LAST_SEEN = int(datetime(2026, 11, 24, 9, 30, tzinfo=UTC).timestamp())
NOW = int(datetime(2026, 11, 24, 12, 0, tzinfo=UTC).timestamp())
_VIEW_IDS = iter(range(1, 10**9))


@dataclass
class Submission:
    payload: dict[str, Any]
    user: str
    team: str
    target: int | None  # the episode the metadata validly names
    answers: dict[str, Any]  # what the form says, input by input, as the bot must read it
    opened_risk: str  # the risk the metadata says the form opened with
    changed: set[str]  # the details the form says were changed (by the person, or forged)
    mutations: list[Mutation] = field(default_factory=list)
    personal: tuple[str, ...] = ()

    @property
    def breaks(self) -> bool:
        return any(m.breaks for m in self.mutations)

    def __repr__(self) -> str:  # a failing example without the form's blocks
        view = self.payload.get("view") or {}
        return repr(
            {
                "mutations": self.mutations,
                "user": (self.user, self.team, self.payload.get("user")),
                "target": self.target,
                "answers": self.answers,
                "changed": sorted(self.changed),
                "metadata": view.get("private_metadata"),
                "state": view.get("state"),
            }
        )


def _details(fuzz: FuzzBot) -> dict[int, dict[str, Any]]:
    with fuzz.bot.services.db.read() as session:
        return {
            e.id: {
                "risk_level": e.risk_level,
                "looked_after": e.looked_after,
                **{block: getattr(e, column) for block, column in DETAILS.items()},
            }
            for e in session.scalars(select(Episode))
        }


def _world(fuzz: FuzzBot) -> None:
    """M-1 (looked after, high risk) and M-2 (not looked after, medium) missing; M-3 returned;
    M-4 voided. The update form opened for M-1."""
    bot = fuzz.bot
    bot.log_episode()
    bot.log_episode(
        child_name="Ann Other",
        risk_level="medium",
        looked_after="no",
        risk_factors=[],
        description="Blue coat",
        incident_ref="CAD-2",
    )
    bot.log_episode(child_name="Bea Third")
    bot.log_episode(child_name="Cy Fourth")
    bot.slash("returned M-3 now")
    bot.slash("void M-4 logged in error")
    fuzz.facts["view"] = open_update(bot, "M-1").view
    fuzz.facts["metadata"] = json.loads(fuzz.facts["view"]["private_metadata"])
    assert fuzz.facts["metadata"]["episode_id"] == 1
    fuzz.facts["records"] = _details(fuzz)
    fuzz.facts["notes"] = 0
    fuzz.freeze()


_PRINTABLE = st.characters(codec="utf-8", exclude_categories=["Cc", "Cs", "Zl", "Zp"])
_PIECES = st.sampled_from(
    [*MARKUP, "12 Acacia Avenue", "Zebedee Quux", "07700 900123", "🚨", "ß", " ", "\n"]
)
_LONGER = st.tuples(_PIECES, st.integers(1, 40)).map(lambda t: t[0] * t[1])


def _typed(limit: int, *, blank: bool = True) -> st.SearchStrategy[str]:
    typed = st.one_of(st.text(_PRINTABLE, max_size=20), _PIECES, _LONGER).map(lambda s: s[:limit])
    return typed if blank else typed.filter(str.strip)


_TEXT = {block: _typed(limit) for block, limit in TEXTS.items()}
_SAID = {block: _typed(limit, blank=False) for block, limit in TEXTS.items()}
_FACTORS = st.lists(st.sampled_from(FACTORS), unique=True, max_size=4).map(
    lambda chosen: [f for f in FACTORS if f in chosen]  # in the form's order, as Slack sends
)
_SEEN = st.integers(LAST_SEEN, NOW)
_BAD_SEEN = st.one_of(
    SOMETHING_WRONG.filter(lambda v: not isinstance(v, int) or not LAST_SEEN <= v <= NOW),
    st.sampled_from(["soon", str(NOW - 60), 1.5, -1, 2**63, NOW + 60, LAST_SEEN - 60]),
)
_BAD_OPTIONS = st.one_of(
    WRONG_TYPES.filter(lambda v: v is not None),
    st.sampled_from([{"value": "extreme"}, {"value": 5}, {}, {"value": None}, {"value": "HIGH"}]),
)
_BAD_FACTORS = st.one_of(
    SOMETHING_WRONG.filter(lambda v: not isinstance(v, list)),
    st.sampled_from([[{"value": "teleported"}], [{"value": "cse"}, {}], [{"value": 5}], ["cse"]]),
    # The same box twice (Slack never sends it), with or without others.
    _FACTORS.map(lambda chosen: [{"value": f} for f in ["self_harm", *chosen, "self_harm"]]),
)
_BAD_USERS = st.one_of(
    SOMETHING_WRONG.filter(lambda v: not isinstance(v, str)),
    st.sampled_from(["<!channel>", "U" + "A" * 40, "uofficer", "C0CHANNEL", "U0 ", "@here"]),
)
_KINDS = st.lists(
    st.sampled_from(
        [
            "type",
            "control",
            "long",
            "seen",
            "option",
            "factors",
            "user",
            "drop",
            "state",
            "channel",
            "el",
            "risk",
            "opened",
        ]
    ),
    max_size=3,
)
# Mostly a form that would act, so that each mutation is judged where it alone decides.
_TARGETS = st.sampled_from(
    ["own"] * 6 + ["other"] * 2 + ["returned", "voided", "unknown", "junk", "form"]
)
_JUNK_IDS = st.one_of(WRONG_TYPES, st.sampled_from(["M-1", "1", 2**80, 0, -1, True]))
# Who submits: mostly someone allowed, so that each mutation is judged where it alone decides.
_USERS = st.sampled_from([*sorted(WITH_A_ROLE) * 2, NOBODY])
# Who the form names (who decided, the officer): anyone with a Slack id; the README asks no
# role of either.
_NAMED = st.sampled_from(USERS)
_TEAMS = st.sampled_from([TEAM] * 5 + [OTHER_TEAM])
_ONE_IN = st.integers(0, 19)


def _entry(values: Any, block_id: str) -> dict[str, Any]:
    if not isinstance(values, dict):
        return {}
    block = values.setdefault(block_id, {})
    if not isinstance(block, dict):
        return {}
    element = block.setdefault(block_id, {})
    return element if isinstance(element, dict) else {}


def _valid_answers(draw: st.DrawFn, opened: dict[str, Any]) -> tuple[dict[str, Any], set[str]]:
    """A form as a person could fill it in: any mix of a re-grade or review, a sighting, a line
    of information and corrections (each from the values the form opened with). The details
    changed on the form come with it."""
    answers: dict[str, Any] = {"risk_level": opened["risk_level"], "decided_by": LOGGER}
    answers.update({block: opened[block] for block in DETAILS})
    if draw(st.booleans()):
        answers["risk_level"] = draw(st.sampled_from(RISKS))
    if answers["risk_level"] != opened["risk_level"] or draw(st.booleans()):
        answers["risk_reason"] = draw(_SAID["risk_reason"])
        answers["decided_by"] = draw(_NAMED)
    if draw(st.booleans()):
        answers["sighting_at"] = draw(_SEEN)
        answers["sighting_place"] = draw(_SAID["sighting_place"])
    if draw(st.booleans()):
        answers["information"] = draw(_TEXT["information"])
    changed = set()
    for block in draw(st.lists(st.sampled_from(sorted(DETAILS)), unique=True, max_size=3)):
        if block == "risk_factors":
            answers[block] = draw(_FACTORS)
        elif block == "officer":
            answers[block] = draw(_NAMED)
        elif block == "last_seen_place":
            answers[block] = draw(_SAID[block])
        else:
            answers[block] = draw(_TEXT[block])
        if answers[block] != opened[block]:
            changed.add(block)
    return answers, changed


def submissions(fuzz: FuzzBot) -> st.SearchStrategy[Submission]:
    opened = {
        block: ("" if value is None else value) for block, value in fuzz.facts["records"][1].items()
    }

    @st.composite
    def draw_one(draw: st.DrawFn) -> Submission:
        view = dict(fuzz.facts["view"])
        view["id"] = f"VUPD{next(_VIEW_IDS)}"
        answers, changed = _valid_answers(draw, opened)
        shown = {k: v for k, v in answers.items() if k in INPUTS}
        values: Any = values_for(view, {k: (v or None) for k, v in shown.items()})
        metadata = dict(fuzz.facts["metadata"])
        metadata["opened"] = dict(metadata["opened"])
        mutations: list[Mutation] = []
        unread: set[str] = set()  # details whose fingerprint the metadata leaves out

        def breaks(block: str) -> bool:
            """A text or person not read at all (no fingerprint to compare) breaks nothing."""
            return block not in unread

        # Inputs and fingerprints left out first, so a later mutation lands on what is sent;
        # the state's shape last.
        order = {"drop": 0, "opened": 1, "state": 3}
        for kind in sorted(draw(_KINDS), key=lambda k: order.get(k, 2)):
            if kind == "type":
                block = draw(st.sampled_from(sorted(TEXTS)))
                bad = draw(SOMETHING_WRONG.filter(lambda v: not isinstance(v, str)))
                _entry(values, block)["value"] = bad
                mutations.append(Mutation(f"{block} value", bad, True))
            elif kind == "control":
                block = draw(st.sampled_from(sorted(TEXTS)))
                bad = f"Jane {draw(st.sampled_from(CONTROL_CHARS[:7]))} Smith"
                _entry(values, block)["value"] = bad
                mutations.append(Mutation(f"{block} control", bad, breaks(block)))
            elif kind == "long":
                block = draw(st.sampled_from(sorted(TEXTS)))
                bad = draw(st.sampled_from(["x", "ß", "🚨", "<!channel>"])) * (TEXTS[block] + 1)
                _entry(values, block)["value"] = bad
                mutations.append(Mutation(f"{block} too long", len(bad), breaks(block)))
            elif kind == "seen":
                bad = draw(_BAD_SEEN)
                _entry(values, "sighting_at")["selected_date_time"] = bad
                mutations.append(Mutation("sighting_at", bad, True))
            elif kind == "option":
                bad = draw(_BAD_OPTIONS)
                _entry(values, "risk_level")["selected_option"] = bad
                mutations.append(Mutation("risk_level", bad, True))
            elif kind == "factors":
                bad = draw(_BAD_FACTORS)
                _entry(values, "risk_factors")["selected_options"] = bad
                wrong_type = not isinstance(bad, list)
                mutations.append(
                    Mutation("risk_factors", bad, wrong_type or breaks("risk_factors"))
                )
            elif kind == "user":
                block = draw(st.sampled_from(PEOPLE))
                bad = draw(_BAD_USERS)
                _entry(values, block)["selected_user"] = bad
                wrong_type = not isinstance(bad, str)
                mutations.append(Mutation(block, bad, wrong_type or breaks(block)))
            elif kind == "drop" and isinstance(values, dict):
                block = draw(st.sampled_from(sorted(INPUTS)))
                values.pop(block, None)
                # An input left out is not answered: a detail is left as it was, not cleared.
                answers.pop(block, None)
                changed.discard(block)
                mutations.append(Mutation(f"{block} left out", None, False))
            elif kind == "state":
                values = draw(st.one_of(WRONG_TYPES, st.just({})))
                mutations.append(Mutation("state.values", values, True))
            elif kind == "channel":
                metadata["channel_id"] = draw(WRONG_TYPES)
                mutations.append(Mutation("metadata channel", "junk", False))
            elif kind == "el" and isinstance(values, dict) and values:
                _entry(values, draw(st.sampled_from(sorted(values))))["type"] = "button"
                mutations.append(Mutation("an element's type", "button", False))
            elif kind == "risk":
                # The form opened at another risk (re-graded since), or junk written there.
                metadata["risk"] = draw(st.one_of(st.sampled_from(RISKS), WRONG_TYPES))
                mutations.append(Mutation("metadata risk", metadata["risk"], False))
            elif kind == "opened":
                # A detail's fingerprint as it opened: stale (it then reads as changed, to what
                # the form shows) or left out (it then is not read at all).
                block = draw(st.sampled_from(sorted(DETAILS)))
                if draw(st.booleans()):
                    metadata["opened"][block] = "0" * 12
                    changed.add(block)
                    unread.discard(block)
                    mutations.append(Mutation(f"opened {block}", "stale", False))
                else:
                    metadata["opened"].pop(block, None)
                    changed.discard(block)
                    unread.add(block)
                    mutations.append(Mutation(f"opened {block}", "left out", False))
        target_kind = draw(_TARGETS)
        target: int | None = None
        if target_kind == "own":
            target = 1
        elif target_kind == "other":
            metadata["episode_id"] = target = 2
        elif target_kind == "returned":
            metadata["episode_id"] = 3
        elif target_kind == "voided":
            metadata["episode_id"] = 4
        elif target_kind == "unknown":
            metadata["episode_id"] = 99
        elif target_kind == "junk":
            metadata["episode_id"] = junk = draw(_JUNK_IDS)
            if type(junk) is int and junk in (1, 2):  # junk that happens to name an episode
                target = junk
        else:
            metadata["opened"] = draw(WRONG_TYPES.filter(lambda v: not isinstance(v, dict)))
        view["private_metadata"] = json.dumps(metadata)
        mutations.append(Mutation("episode", (target_kind, metadata["episode_id"]), False))
        view["state"] = {"values": values}
        user, team = draw(_USERS), draw(_TEAMS)
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
        personal = tuple(v for k, v in answers.items() if k in TEXTS)
        opened_risk = metadata.get("risk")
        return Submission(
            payload,
            user,
            team,
            target,
            answers,
            opened_risk if isinstance(opened_risk, str) else "",
            changed & set(answers),
            mutations,
            personal,
        )

    return draw_one()


# -- the model ------------------------------------------------------------------------------


def _stored(block: str, value: Any) -> Any:
    """A detail as the record keeps it: text trimmed; no incident or placing authority: None."""
    if block == "risk_factors":
        return list(value)
    if block in ("incident_ref", "placing_authority"):
        return value.strip() or None
    return value.strip() if isinstance(value, str) else value


def expected(case: Submission, record: dict[str, Any]) -> dict[str, Any] | None:
    """What a valid form does to `record` (the changed columns, plus "notes" added and whether a
    review is recorded), or None if the rules refuse it. The README's rules, written out."""
    answers = case.answers
    chosen = answers.get("risk_level")
    regrade = chosen is not None and chosen != case.opened_risk
    reason = answers.get("risk_reason", "").strip()
    if regrade and not reason:
        return None
    seen, place = answers.get("sighting_at"), answers.get("sighting_place", "").strip()
    if (seen is None) != (not place):
        return None
    done: dict[str, Any] = {}
    if regrade and chosen != record["risk_level"]:
        done["risk_level"] = chosen
    for block in case.changed:
        value = _stored(block, answers[block])
        if block == "last_seen_place" and not value:
            return None
        if block == "placing_authority" and value and not record["looked_after"]:
            return None
        if value != record[block]:
            done[block] = value
    notes = (seen is not None) + bool(answers.get("information", "").strip())
    if not (done or reason or notes):
        return None  # nothing to save
    return {**done, "notes": notes, "reviewed": bool(done.get("risk_level") or reason)}


# -- judging -------------------------------------------------------------------------------


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
    what = (case.mutations, case.user, case.team, case.answers, case.changed)
    check_common(fuzz, sent, log_mark, what, case.personal)
    assert sent.response.status == 200, (what, sent.response.body[:300])
    answer = sent.response.json or {}
    allowed = case.user in WITH_A_ROLE and case.team == TEAM
    effect = None
    if case.target is not None and not case.breaks:
        effect = expected(case, fuzz.facts["records"][case.target])
    acts = allowed and effect is not None
    assert fuzz.baseline is not None
    assert (after != fuzz.baseline) == acts, (
        what,
        effect,
        answer,
        after.differences(fuzz.baseline),
    )
    if acts:
        assert effect is not None and case.target is not None
        # Saved: the form closes. Only the episode the metadata names changed, as the model says.
        assert sent.response.body == "", (what, sent.response.body[:300])
        assert after.episodes_touched(fuzz.baseline) == {case.target}, what
        _check_record(fuzz, case, case.target, effect)
        return
    assert_field_errors(answer, INPUTS, (what, effect))


def _check_record(fuzz: FuzzBot, case: Submission, target: int, effect: dict[str, Any]) -> None:
    before = fuzz.facts["records"][target]
    now = _details(fuzz)[target]
    for block in now:
        assert now[block] == effect.get(block, before[block]), (block, case.answers, effect)
    with fuzz.bot.services.db.read() as session:
        notes = session.scalar(
            select(func.count()).select_from(EpisodeNote).where(EpisodeNote.episode_id == target)
        )
    assert notes == effect["notes"], (case.answers, effect)


def test_random_update_forms(fuzz_bot: FuzzBot) -> None:
    fuzz = fuzz_bot
    _world(fuzz)

    in_process_then_over_http(fuzz, submissions(fuzz), lambda case: _judge(fuzz, case))
