"""The new-episode form (and its 'looked after' choice) and the reassign form, submitted with
random and wrong-typed values, junk metadata and other records' ids: a valid form from someone
allowed logs exactly one episode; anything else is refused on a named field and changes nothing."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import strategies as st

from fakeslack.interactions import VERIFICATION_TOKEN, Actor, view_choice_payload
from fakeslack.modal_state import values_for
from fakeslack.records import APP_ID
from handlers.shapes import dig
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
    misshapen,
)
from tests.support.harness import LOGGER, TEAM
from tests.support.strategies import (
    BAD_TEXTS,
    JSON_VALUES,
    TEXT_FIELDS,
    WRONG_TYPES,
    Mutation,
    bad_dates,
    bad_moments,
    valid_answers,
)

FORM_FIELDS = {
    "child_name",
    "date_of_birth",
    "last_seen_at",
    "last_seen_place",
    "risk_level",
    "looked_after",
    "placing_authority",
    "risk_factors",
    "description",
    "reported_by",
    "incident_ref",
    "officer",
}
pytestmark = pytest.mark.both_databases

REQUIRED = ["child_name", "date_of_birth", "last_seen_at", "last_seen_place", "risk_level"]
_VIEW_IDS = iter(range(1, 10**9))


@dataclass
class Submission:
    payload: dict[str, Any]
    user: str
    team: str
    mutations: list[Mutation] = field(default_factory=list)
    personal: tuple[str, ...] = ()  # what was typed about the child and the reporter

    @property
    def breaks(self) -> bool:
        return any(m.breaks for m in self.mutations)


def _form_world(fuzz: FuzzBot) -> None:
    """One episode already logged; the form as the bot opens it, with and without the
    placing authority (shown once 'looked after' is Yes)."""
    bot = fuzz.bot
    bot.log_episode(child_name="Jane Mary Smith")
    view = bot.open_form()
    fuzz.facts["views"] = {
        "no": copy.deepcopy(bot.answer_care(view, "no").view),
        "yes": copy.deepcopy(bot.answer_care(view, "yes").view),
    }
    fuzz.freeze()


def _entry(values: Any, block_id: str) -> dict[str, Any]:
    """The state entry of an input, made anew where a change broke it (or a throwaway one
    once the whole state is junk)."""
    if not isinstance(values, dict):
        return {}
    block = values.get(block_id)
    if not isinstance(block, dict):
        block = values[block_id] = {}
    element = block.get(block_id)
    if not isinstance(element, dict):
        element = block[block_id] = {}
    return element


_KINDS = st.lists(
    st.sampled_from(
        [
            "text",
            "date",
            "moment",
            "risk",
            "factors",
            "officer",
            "block",
            "state",
            "placing",
            "element_type",
            "metadata",
            "view_id",
        ]
    ),
    max_size=3,
)
_BAD_RISKS = st.one_of(
    WRONG_TYPES.filter(lambda v: not isinstance(v, dict)),
    st.sampled_from([{"value": "extreme"}, {"value": 5}, {}, {"value": None}]),
)
_BAD_FACTORS = st.one_of(
    WRONG_TYPES.filter(lambda v: v is not None and not isinstance(v, list)),
    st.lists(
        st.one_of(
            WRONG_TYPES.filter(lambda v: not isinstance(v, dict)),
            st.sampled_from([{"value": "gangs"}, {"value": 3}, {}]),
        ),
        min_size=1,
        max_size=3,
    ),
)
_BAD_OFFICERS = st.one_of(
    WRONG_TYPES, st.sampled_from(["", "<!channel>", "U" + "A" * 40, "uofficer", "C0CHANNEL"])
)
_BAD_BLOCKS = WRONG_TYPES.filter(lambda v: v is not None and not isinstance(v, dict))
_BAD_STATES = JSON_VALUES.filter(lambda v: not isinstance(v, dict) or not v)
_BAD_METADATA = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["[]", "null", "5", "{", "[" * 5000, json.dumps({"channel_id": "C" * 99})]),
    JSON_VALUES.map(lambda v: json.dumps({"channel_id": v})),
)
_BAD_VIEW_IDS = st.one_of(WRONG_TYPES, st.sampled_from(["", "<!here>", "V" * 300]))
_ELEMENT_TYPES = st.sampled_from(["button", "", "datepicker"])
_FORGED_USERS = st.one_of(WRONG_TYPES, st.sampled_from([{"id": "<!channel>"}, {"id": 7}]))
_CALLBACKS = st.sampled_from(["new_episod", "", "NEW_EPISODE"])
_ONE_IN = st.integers(0, 19)
_TEXT_BLOCKS = st.sampled_from(TEXT_FIELDS)
_ALL_BLOCKS = st.sampled_from(sorted(FORM_FIELDS))
_REQUIRED_BLOCKS = st.sampled_from(REQUIRED)
_TEAMS = st.sampled_from([TEAM, TEAM, TEAM, TEAM, OTHER_TEAM])
_USERS = st.sampled_from(USERS)


def submissions(fuzz: FuzzBot) -> st.SearchStrategy[Submission]:
    """Valid forms, each changed in up to three places; each change knows if it breaks it."""
    now = fuzz.bot.clock.now()
    answers_drawn = valid_answers(now, [LOGGER, SAFE, CROOM])
    dates, moments = bad_dates(now.date()), bad_moments(now)
    placing = st.text(min_size=1, max_size=20).filter(str.strip)

    @st.composite
    def draw_one(draw: st.DrawFn) -> Submission:
        answers = draw(answers_drawn)
        # A shallow copy: the blocks are shared, only the id and metadata change.
        view = dict(fuzz.facts["views"][answers["looked_after"]])
        view["id"] = f"VFUZZ{next(_VIEW_IDS)}"
        values: Any = values_for(view, answers)
        if not fuzz.http:
            # Slack sends the view's blocks back too; nothing reads them on submission (Bolt
            # or the bot), and encoding and decoding them is most of an example's cost in
            # process. The examples over HTTP keep them.
            del view["blocks"]
        mutations: list[Mutation] = []
        user, team = draw(_USERS), draw(_TEAMS)
        # Changes that break the state's structure go last, so the others find their inputs.
        for kind in sorted(draw(_KINDS), key=lambda k: k in ("block", "state")):
            if kind == "text":
                block = draw(_TEXT_BLOCKS)
                bad = draw(BAD_TEXTS[block])
                _entry(values, block)["value"] = bad
                mutations.append(Mutation(f"{block} value", bad, True))
            elif kind == "date":
                bad = draw(dates)
                _entry(values, "date_of_birth")["selected_date"] = bad
                mutations.append(Mutation("date_of_birth", bad, True))
            elif kind == "moment":
                bad = draw(moments)
                _entry(values, "last_seen_at")["selected_date_time"] = bad
                mutations.append(Mutation("last_seen_at", bad, True))
            elif kind == "risk":
                bad = draw(_BAD_RISKS)
                _entry(values, "risk_level")["selected_option"] = bad
                mutations.append(Mutation("risk_level", bad, True))
            elif kind == "factors":
                bad = draw(_BAD_FACTORS)
                _entry(values, "risk_factors")["selected_options"] = bad
                mutations.append(Mutation("risk_factors", bad, True))
            elif kind == "officer":
                bad = draw(_BAD_OFFICERS)
                _entry(values, "officer")["selected_user"] = bad
                mutations.append(Mutation("officer", bad, True))
            elif kind == "block" and isinstance(values, dict):
                block = draw(_ALL_BLOCKS)
                bad = draw(_BAD_BLOCKS)
                values[block] = bad
                # What an earlier change did inside this block went with it.
                mutations = [m for m in mutations if m.where.split(" ")[0] != block]
                # An optional input in another shape reads as not answered; 'looked after' not
                # answered reads as No, and then a placing authority typed is refused.
                breaks = block in (*REQUIRED, "officer")
                breaks = breaks or (
                    block == "looked_after" and bool(_typed(values, "placing_authority"))
                )
                mutations.append(Mutation(f"{block} block", bad, breaks))
            elif kind == "state":
                values = draw(_BAD_STATES)
                mutations.append(Mutation("state.values", values, True))
            elif kind == "placing" and answers["looked_after"] == "no":
                # A placing authority the form never asked for (the child is not looked after).
                text = draw(placing)
                values["placing_authority"] = {
                    "placing_authority": {"type": "plain_text_input", "value": text}
                }
                mutations.append(Mutation("placing_authority", text, True))
            elif kind == "element_type":
                _entry(values, draw(_REQUIRED_BLOCKS))["type"] = draw(_ELEMENT_TYPES)
                mutations.append(Mutation("an element's type", "changed", False))
            elif kind == "metadata":
                view["private_metadata"] = draw(_BAD_METADATA)
                mutations.append(Mutation("private_metadata", view["private_metadata"][:40], False))
            elif kind == "view_id":
                view["id"] = draw(_BAD_VIEW_IDS)
                mutations.append(Mutation("view.id", view["id"], False))
        view["state"] = {"values": values}
        payload: dict[str, Any] = {
            "type": "view_submission",
            "team": {"id": team, "domain": "missing-test"},
            "user": actor(user, team),
            "api_app_id": APP_ID,
            "token": VERIFICATION_TOKEN,
            "trigger_id": fuzz.trigger(),
            "view": view,
            "response_urls": [],
            "is_enterprise_install": False,
            "enterprise": None,
        }
        if draw(_ONE_IN) == 0:
            payload["user"] = draw(_FORGED_USERS)
            user = ""
            mutations.append(Mutation("user", payload["user"], True))
        if draw(_ONE_IN) == 0:
            view["callback_id"] = draw(_CALLBACKS)
            mutations.append(Mutation("callback_id", view["callback_id"], True))
        personal = tuple(
            str(answers.get(k) or "")
            for k in ("child_name", "last_seen_place", "description", "reported_by")
        )
        return Submission(payload, user, team, mutations, personal)

    return draw_one()


def _typed(values: Any, block: str) -> str:
    """The text an input holds, as the bot reads it ('' if it is not text)."""
    value = dig(values, block, block, "value")
    return value.strip() if isinstance(value, str) else ""


def _judge_submission(fuzz: FuzzBot, submission: Submission) -> None:
    before = fuzz.baseline
    assert before is not None
    log_mark = fuzz.logs.mark()
    sent = fuzz.interaction(submission.payload)
    after = fuzz.fingerprint()
    try:  # a failing example must not leave its change to the next (shrinking replays it)
        what = (submission.mutations, submission.user, submission.team)
        check_common(fuzz, sent, log_mark, what, submission.personal)
        response = sent.response
        if misshapen(submission.payload):
            assert response.status == 400 and after == before, what
            return
        if any(m.where == "callback_id" for m in submission.mutations):
            assert response.status == 404 and after == before, what  # no such form
            return
        assert response.status == 200, (what, response.body[:300])
        allowed = submission.user in WITH_A_ROLE and submission.team == TEAM
        if allowed and not submission.breaks:
            assert not response.body, (what, "refused a valid form", response.body[:500])
            _judge_logged(before, after, what)
        else:
            assert after == before, (what, "changed the records")
            _judge_field_errors(response.json, what)
    finally:
        fuzz.thaw(after)


def _judge_logged(before: Fingerprint, after: Fingerprint, what: object) -> None:
    """One new episode, and its channel post and confirmation queued in the outbox."""
    assert after.episodes != before.episodes and after.tables != before.tables, what


def _judge_field_errors(answer: dict[str, Any] | None, what: object) -> None:
    assert_field_errors(answer, FORM_FIELDS, what)


def test_random_new_episode_forms(fuzz_bot: FuzzBot) -> None:
    fuzz = fuzz_bot
    _form_world(fuzz)

    in_process_then_over_http(fuzz, submissions(fuzz), lambda case: _judge_submission(fuzz, case))


# -- 'looked after': a choice inside the open form ------------------------------------------


_CARE_PLACES = st.sampled_from(
    [
        "view",
        "view.id",
        "view.hash",
        "view.state",
        "view.private_metadata",
        "view.callback_id",
        "name",
        "officer",
        "action",
        "user",
    ]
)
_CARE_CHANGES = st.lists(st.tuples(_CARE_PLACES, JSON_VALUES, WRONG_TYPES), max_size=3)


def care_choices(fuzz: FuzzBot) -> st.SearchStrategy[dict[str, Any]]:
    """'Looked after' chosen in the open form, with up to three parts of the payload junk."""
    payloads = {
        (form, user, choice): view_choice_payload(
            Actor(TEAM, user, "fuzz"),
            fuzz.facts["views"][form],
            "looked_after",
            choice,
            trigger_id="fuzz",
            now=1_700_000_000.0,
        )
        for form in ("no", "yes")
        for user in USERS
        for choice in ("yes", "no")
    }
    keys = st.sampled_from(sorted(payloads))

    @st.composite
    def draw_one(draw: st.DrawFn) -> dict[str, Any]:
        payload = copy.deepcopy(payloads[draw(keys)])
        payload["trigger_id"] = fuzz.trigger()
        payload["view"]["id"] = fuzz.facts["live_view"]
        for where, junk, wrong in draw(_CARE_CHANGES):
            view = payload.get("view")
            values = dig(view, "state", "values")
            if where == "view":
                payload["view"] = junk
            elif where == "action":
                payload["actions"][0]["selected_option"] = junk
            elif where == "user":
                payload["user"] = junk if not isinstance(junk, dict) else {"id": junk}
            elif where == "name" and isinstance(values, dict):
                values["child_name"] = {"child_name": {"type": "plain_text_input", "value": wrong}}
            elif where == "officer" and isinstance(values, dict):
                values["officer"] = {"officer": {"type": "users_select", "selected_user": junk}}
            elif where.startswith("view.") and isinstance(view, dict):
                view[where.split(".", 1)[1]] = junk
        return payload

    return draw_one()


def test_random_looked_after_choices(fuzz_bot: FuzzBot) -> None:
    """The choice only redraws the form: never a server error, a bug in the log or a change
    to the records, and the form Slack is sent stays valid Block Kit (checked on teardown)."""
    fuzz = fuzz_bot
    _form_world(fuzz)
    fuzz.facts["live_view"] = fuzz.bot.open_form().id

    def judge(payload: dict[str, Any]) -> None:
        log_mark = fuzz.logs.mark()
        sent = fuzz.interaction(payload)
        after = fuzz.fingerprint()
        try:  # a failing example must not leave its change to the next
            check_common(fuzz, sent, log_mark, payload.get("view"))
            expected = 400 if misshapen(payload) else 200
            assert sent.response.status == expected, (payload, sent.response.body[:300])
            assert after == fuzz.baseline
            assert not sent.responses
        finally:
            fuzz.thaw(after)

    in_process_then_over_http(fuzz, care_choices(fuzz), judge)


# -- the reassign form -----------------------------------------------------------------------


@dataclass
class Reassignment:
    payload: dict[str, Any]
    user: str
    acting: int | None  # the interview the metadata validly names
    assignee: str | None  # a person with a role, chosen in the form
    notes: tuple[str, ...]
    message_intact: bool  # the metadata still names the reminder the form was opened from


def _reassign_world(fuzz: FuzzBot) -> None:
    """Interviews 1 (M-2, chased by the admin) and 2 (M-3, by the control-room user), their
    reminders, and a reassign form opened from the first."""
    bot = fuzz.bot
    for name in ("Jane Mary Smith", "Ann Other", "Bea Third"):
        bot.log_episode(child_name=name)
    bot.slash("returned M-2 now")
    bot.slash("returned M-3 now")
    bot.slash(f"rhi M-3 assign <@{CROOM}>")
    bot.clock.advance(hours=48)
    bot.sweep()
    bot.settle()
    reminder = next(p for p in bot.fake.dms_to(LOGGER) if "RHI for M-2" in p.text)
    views = len(bot.fake.views)
    bot.sender.click("rhi_reassign", message=reminder, user_id=LOGGER)
    fuzz.facts["view"] = bot.fake.wait_for_view("rhi_reassign", since=views).view
    fuzz.facts["metadata"] = json.loads(fuzz.facts["view"]["private_metadata"])
    fuzz.facts["assignees"] = {1: LOGGER, 2: CROOM}
    fuzz.freeze()


_IDS_KINDS = st.sampled_from(["own", "own", "other", "stale", "crossed", "junk"])
_JUNK_IDS = st.one_of(WRONG_TYPES, st.sampled_from(["1:2:3", "١:٢", " 1:2", "1_0:2"]))
_JUNK_CHANNELS = st.one_of(JSON_VALUES, st.sampled_from(["C" * 50, "<!here>", "C0CONTROL"]))
_JUNK_PRIVATE = st.one_of(st.text(max_size=20), st.sampled_from(["[]", "5", "{", ""]))
_ASSIGNEES = st.sampled_from([SAFE, CROOM, LOGGER, NOBODY])
_JUNK_ASSIGNEES = st.one_of(WRONG_TYPES, st.sampled_from(["", "U" + "A" * 40, "<!here>"]))
_ONE_IN_SIX, _ONE_IN_TEN = st.integers(0, 5), st.integers(0, 9)


def reassignments(fuzz: FuzzBot) -> st.SearchStrategy[Reassignment]:
    """The reassign form submitted with its metadata naming this, another or no interview."""

    @st.composite
    def draw_one(draw: st.DrawFn) -> Reassignment:
        view = dict(fuzz.facts["view"])
        view["id"] = f"VFUZZ{next(_VIEW_IDS)}"
        metadata = dict(fuzz.facts["metadata"])
        notes: list[str] = []
        ids_kind = draw(_IDS_KINDS)
        acting: int | None = None
        if ids_kind == "own":
            acting = 1
        elif ids_kind == "other":
            metadata["ids"], acting = "2:3", 2
        elif ids_kind == "stale":
            metadata["ids"] = "9:2"
        elif ids_kind == "crossed":
            metadata["ids"] = "1:3"
        else:
            metadata["ids"] = draw(_JUNK_IDS)
        notes.append(f"ids {ids_kind}: {metadata['ids']!r}"[:60])
        message_intact = True
        if draw(st.booleans()):
            message_intact = False
            metadata["channel"] = draw(_JUNK_CHANNELS)
            metadata["ts"] = draw(JSON_VALUES)
            notes.append("message junk")
        private: Any = json.dumps(metadata)
        if draw(_ONE_IN_TEN) == 0:
            acting = None
            private = draw(_JUNK_PRIVATE)
            notes.append(f"metadata {private!r}")
        view["private_metadata"] = private
        chosen: Any = draw(_ASSIGNEES)
        if draw(_ONE_IN_SIX) == 0:
            chosen = draw(_JUNK_ASSIGNEES)
            notes.append(f"assignee {chosen!r}"[:60])
        view["state"] = {
            "values": {"assignee": {"assignee": {"type": "users_select", "selected_user": chosen}}}
        }
        if draw(_ONE_IN_TEN) == 0:
            view["state"] = draw(JSON_VALUES)
            chosen = None
            notes.append("state junk")
        user = draw(_USERS)
        payload = {
            "type": "view_submission",
            "team": {"id": TEAM, "domain": "missing-test"},
            "user": actor(user),
            "api_app_id": APP_ID,
            "token": VERIFICATION_TOKEN,
            "trigger_id": fuzz.trigger(),
            "view": view,
        }
        assignee = chosen if chosen in (SAFE, CROOM, LOGGER) else None
        return Reassignment(payload, user, acting, assignee, tuple(notes), message_intact)

    return draw_one()


def _judge_reassign(fuzz: FuzzBot, case: Reassignment) -> None:
    log_mark = fuzz.logs.mark()
    sent = fuzz.interaction(case.payload)
    after = fuzz.fingerprint()
    try:  # a failing example must not leave its change to the next (shrinking replays it)
        what = (*case.notes, case.user)
        check_common(fuzz, sent, log_mark, what)
        if misshapen(case.payload):
            assert sent.response.status == 400 and after == fuzz.baseline, what
            return
        assert sent.response.status == 200, (what, sent.response.body[:300])
        allowed = case.acting is not None and (
            case.user in (LOGGER, SAFE) or (case.user == CROOM and case.acting == 2)
        )
        # Reassigned to whoever chases it already still records who did it, and when.
        acted = allowed and case.assignee is not None
        assert (after != fuzz.baseline) == acted, (what, after.differences(fuzz.baseline))
        if acted:  # the reminder is edited on the outbox's thread (even when nothing changed)
            sent = fuzz.settled(sent)
        edits = acted and case.acting == 1 and case.message_intact
        assert len(sent.updates) == (1 if edits else 0), (what, sent.updates)
        if acted:
            assert not sent.response.body, (what, sent.response.body[:300])
        else:
            answer = sent.response.json or {}
            assert answer.get("response_action") == "errors", (what, sent.response.body[:300])
            errors = answer.get("errors") or {}
            assert list(errors) == ["assignee"] and str(errors["assignee"]).strip(), what
        _judge_no_forged_edit(fuzz, sent, what)
    finally:
        fuzz.thaw(after)


def _judge_no_forged_edit(fuzz: FuzzBot, sent: Sent, what: object) -> None:
    """The reminder is only edited where the bot posted it, from what it posted."""
    for update in sent.updates:
        assert (update.channel, update.ts) == (
            fuzz.facts["metadata"]["channel"],
            fuzz.facts["metadata"]["ts"],
        ), what


def test_random_reassign_forms(fuzz_bot: FuzzBot) -> None:
    fuzz = fuzz_bot
    _reassign_world(fuzz)

    in_process_then_over_http(fuzz, reassignments(fuzz), lambda case: _judge_reassign(fuzz, case))
