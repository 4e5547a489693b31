"""What fuzzing the return form, the update form and the follow-up buttons (safe-and-well Done,
the risk review's) found, one example each: refused with a clear answer, nothing changed and
nothing in the log; or, for a click with no response URL, done without an error."""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select

from fakeslack.interactions import Actor, payload_form, view_submission_payload
from fakeslack.modal_state import values_for
from fakeslack.records import APP_ID
from fakeslack.sender import SentResponse
from storage.models import Episode, EpisodeNote, Review, RiskChange
from tests.support.fuzzing import FuzzBot, actor, answer_text
from tests.support.harness import CONTROL, DEFAULT_ANSWERS, LOGGER, TEAM, Bot
from tests.support.updates import open_update

pytestmark = pytest.mark.both_databases
LONG_ID = "U" + "A" * 40  # longer than the id columns: PostgreSQL refuses it
_TRIGGERS = iter(range(1, 10**6))


@pytest.fixture
def errors_logged(caplog: pytest.LogCaptureFixture) -> Iterator[list[logging.LogRecord]]:
    """Records at ERROR or with a traceback: a bug that got as far as the log."""
    caplog.set_level(logging.WARNING)
    found: list[logging.LogRecord] = []
    yield found
    found.extend(r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info)
    assert not found, [f"{r.name}: {r.getMessage()}" for r in found]


def records(bot: Bot) -> tuple[object, ...]:
    """What a refused request must leave as it was (the audit trail may grow)."""
    with bot.services.db.read() as session:
        return (
            tuple(
                session.execute(
                    select(
                        Episode.status,
                        Episode.risk_level,
                        Episode.safe_well_status,
                        Episode.safe_well_by,
                        Episode.description,
                        Episode.officer_id,
                        Episode.found_place,
                    ).order_by(Episode.id)
                ).all()
            ),
            session.scalar(select(func.count()).select_from(Review)),
            session.scalar(select(func.count()).select_from(RiskChange)),
            session.scalar(select(func.count()).select_from(EpisodeNote)),
        )


def _submit(bot: Bot, view: dict[str, Any], values: Any, user: Any = None) -> SentResponse:
    payload = view_submission_payload(Actor(TEAM, LOGGER, "fuzz"), view, {}, trigger_id="t.0")
    payload["view"]["id"] = f"V{next(_TRIGGERS)}"  # the view id is the form's request key
    payload["view"]["state"] = {"values": values}
    if user is not None:
        payload["user"] = user
    return bot.sender.raw(payload_form(payload), "application/x-www-form-urlencoded")


def _errors(response: SentResponse) -> dict[str, str]:
    assert response.status == 200, response.body
    answer = response.json or {}
    assert answer.get("response_action") == "errors", response.body
    return dict(answer["errors"])


def _set(values: dict[str, Any], block_id: str, key: str, value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(values)
    changed[block_id][block_id][key] = value
    return changed


# -- the return form -------------------------------------------------------------------------

# (block, key in its state, value, the field the answer is on, words in the answer)
RETURN_FORMS = [
    ("found_place", "value", 5, "found_place", "not text"),
    ("returned_at", "value", ["now"], "returned_at", "not text"),
    ("disclosure", "value", {"x": 1}, "disclosure", "not text"),
    ("return_how", "selected_option", "walked_in", "return_how", "Choose one"),
    ("safe_well", "selected_option", {"value": 7}, "safe_well", "Choose one"),
    ("safe_well", "selected_option", {"value": "maybe"}, "safe_well", "Choose one"),
    ("safe_well_by", "selected_user", ["U1"], "safe_well_by", "Choose the person"),
    ("safe_well_by", "selected_user", "<!channel>", "safe_well_by", "not someone"),
    ("safe_well_by", "selected_user", LONG_ID, "safe_well_by", "not someone"),
    ("found_place", "value", "the park\x00", "found_place", "control character (U+0000)"),
    ("disclosure", "value", "told us \x1b[31m", "disclosure", "control character (U+001B)"),
    ("returned_at", "value", "14:30\x00", "returned_at", ""),
]


def test_return_form_refuses_wrong_types_on_the_field(bot: Bot, errors_logged: object) -> None:
    bot.log_episode()
    views = len(bot.fake.views)
    assert bot.sender.slash("returned M-1").status == 200
    view = bot.fake.wait_for_view("record_return", since=views).view
    values = values_for(view, {})
    before = records(bot)
    for block_id, key, value, field, words in RETURN_FORMS:
        errors = _errors(_submit(bot, view, _set(values, block_id, key, value)))
        assert list(errors) == [field] and words in errors[field], (block_id, value, errors)
        assert records(bot) == before, (block_id, value)
    # The state, the metadata or the user in another shape: refused, not a traceback.
    for state in ("junk", {"found_place": 5}, {"found_place": {"found_place": []}}):
        assert _errors(_submit(bot, view, state)), state
    for metadata in (
        "[",
        "5",
        json.dumps({"episode_id": "M-1"}),
        json.dumps({"episode_id": 2**80}),
    ):
        forged = {**view, "private_metadata": metadata}
        assert "not one of mine" in _errors(_submit(bot, forged, values))["returned_at"]
    assert "did not say who" in _errors(_submit(bot, view, values, user={"id": 5}))["returned_at"]
    assert records(bot) == before


@pytest.mark.parametrize("check", ["done", "to_be_done"])
def test_return_form_refuses_a_safe_well_person_with_no_role(
    bot: Bot, errors_logged: object, check: str
) -> None:
    """As `/missing safewell M-1 done by <@U...>` does: only the id's shape was checked, so the
    return was recorded with a check done (or to be done) by someone who cannot see it."""
    bot.log_episode()
    views = len(bot.fake.views)
    assert bot.sender.slash("returned M-1").status == 200
    view = bot.fake.wait_for_view("record_return", since=views).view
    before = records(bot)
    for who in ("U0UNKNOWN", "W0NOROLE"):
        values = values_for(view, {"returned_at": "now", "safe_well": check, "safe_well_by": who})
        errors = _errors(_submit(bot, view, values))
        assert list(errors) == ["safe_well_by"], errors
        assert f"<@{who}> has no missing-bot role" in errors["safe_well_by"], errors
        assert records(bot) == before, who
    bot.grant("U0CROOM")
    values = values_for(view, {"returned_at": "now", "safe_well": check, "safe_well_by": "U0CROOM"})
    answer = _submit(bot, view, values)
    assert (answer.json or {}).get("response_action") == "update", answer.body
    with bot.services.db.read() as session:
        assert session.execute(select(Episode.status, Episode.safe_well_by)).one() == (
            "returned",
            "U0CROOM",
        )


# -- the update form -------------------------------------------------------------------------

UPDATE_FORMS = [
    ("information", "value", 5, "information", "not text"),
    ("risk_reason", "value", ["x"], "risk_reason", "not text"),
    ("risk_level", "selected_option", "low", "risk_level", "Choose a risk"),
    ("risk_level", "selected_option", {"value": "extreme"}, "risk_level", "Choose a risk"),
    ("sighting_at", "selected_date_time", "soon", "sighting_at", "not a date"),
    ("sighting_at", "selected_date_time", True, "sighting_at", "not a date"),
    ("risk_factors", "selected_options", "cse", "risk_factors", "from the list"),
    ("decided_by", "selected_user", 7, "decided_by", "Choose the person"),
    ("decided_by", "selected_user", "<!here>", "decided_by", "not someone"),
    ("officer", "selected_user", LONG_ID, "officer", "not someone"),
    ("officer", "selected_user", {"id": "U1"}, "officer", "Choose the person"),
    ("information", "value", "seen at\x00 the park", "information", "(U+0000)"),
    ("description", "value", "red coat \x07", "description", "(U+0007)"),
    ("sighting_place", "value", "\x1b[31m", "sighting_at", "Give when"),
]


def test_update_form_refuses_wrong_types_on_the_field(bot: Bot, errors_logged: object) -> None:
    bot.log_episode()
    view = open_update(bot, "M-1").view
    values = values_for(view, {})
    before = records(bot)
    for block_id, key, value, field, words in UPDATE_FORMS:
        changed = _set(values, block_id, key, value)
        if block_id == "decided_by":  # who decided is only read with a reason or a re-grade
            changed = _set(changed, "risk_reason", "value", "Still high")
        errors = _errors(_submit(bot, view, changed))
        assert field in errors and words in errors[field], (block_id, value, errors)
        assert records(bot) == before, (block_id, value)
    for state in ("junk", {"information": 5}, {"information": {"information": []}}):
        assert _errors(_submit(bot, view, state)), state
    assert "did not say who" in _errors(_submit(bot, view, values, user={"id": True}))["risk_level"]
    assert records(bot) == before


def test_update_form_leaves_a_detail_whose_input_is_left_out(
    bot: Bot, errors_logged: object
) -> None:
    """An input missing from the state is not answered: it was read as emptied, so a form that
    added a line of information cleared the description and the incident reference."""
    bot.log_episode()
    view = open_update(bot, "M-1").view
    values = values_for(view, {"information": "Seen near the station"})
    for block_id in ("description", "incident_ref", "reported_by"):
        del values[block_id]
    assert _submit(bot, view, values).body == ""
    with bot.services.db.read() as session:
        episode = session.scalars(select(Episode)).one()
        kept = (episode.description, episode.incident_ref, episode.reported_by)
        notes = session.scalar(select(func.count()).select_from(EpisodeNote))
    assert kept == (
        "Black hoodie, grey joggers",
        "CAD-2411-0042",
        "Care home manager, 01473 000000",
    )
    assert notes == 1
    # Left out alone, it is nothing to save; the last seen place is not refused as emptied.
    values = values_for(view, {})
    del values["last_seen_place"]
    errors = _errors(_submit(bot, view, values))
    assert list(errors) == ["information"] and "Nothing to save" in errors["information"], errors


# One box ticked twice: Slack never sends it.
TWICE_AT = ("selected_options", [{"value": "cse"}, {"value": "cse"}])
NEW_INPUTS = {"child_name", "date_of_birth", "last_seen_at", "last_seen_place", "risk_level"}


def test_update_form_refuses_a_risk_factor_twice(bot: Bot, errors_logged: object) -> None:
    """Kept as ["cse", "cse"] before: the record then counts the factor twice."""
    bot.log_episode()
    view = open_update(bot, "M-1").view
    before = records(bot)
    errors = _errors(_submit(bot, view, _set(values_for(view, {}), "risk_factors", *TWICE_AT)))
    assert list(errors) == ["risk_factors"] and "ticked twice" in errors["risk_factors"], errors
    assert records(bot) == before
    with bot.services.db.read() as session:
        assert session.scalars(select(Episode.risk_factors)).one() == ["cse", "mental_health"]


def test_new_episode_form_refuses_a_risk_factor_twice(bot: Bot, errors_logged: object) -> None:
    view = bot.open_form().view
    values = values_for(view, {k: v for k, v in DEFAULT_ANSWERS.items() if k in NEW_INPUTS})
    errors = _errors(_submit(bot, view, _set(values, "risk_factors", *TWICE_AT)))
    assert list(errors) == ["risk_factors"] and "ticked twice" in errors["risk_factors"], errors
    with bot.services.db.read() as session:
        assert session.scalar(select(func.count()).select_from(Episode)) == 0


# -- the follow-up buttons -------------------------------------------------------------------


def _click(fuzz: FuzzBot, action_id: str, value: Any, *, response_url: bool = True) -> str:
    """Click a button (listeners run inline): what the clicker was told; no error logged."""
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": actor(LOGGER),
        "api_app_id": APP_ID,
        "team": {"id": TEAM, "domain": "missing-test"},
        "channel": {"id": CONTROL, "name": "control"},
        "trigger_id": fuzz.trigger(),
        "actions": [{"action_id": action_id, "block_id": "b", "type": "button", "value": value}],
    }
    if response_url:
        payload["response_url"] = fuzz.response_url(LOGGER)
    mark = fuzz.logs.mark()
    sent = fuzz.interaction(payload)
    assert sent.response.status == 200 and not sent.response.body, (value, sent.response)
    assert not fuzz.logs.errors_since(mark), (value, fuzz.logs.errors_since(mark))
    return answer_text(sent)


def _forms_of(value: str) -> list[str]:
    """The same ids written in ways the bot never writes them; int() reads every one."""
    first, second = value.split(":")
    return [
        f" {value}",
        f"{value} ",
        f"+{first}:{second}",
        f"0{first}:{second}",
        f"{first}:0{second}",
        f"{first}:{second[:1]}_{second[1:]}",
        "".join(chr(0x0660 + int(c)) if c.isdigit() else c for c in value),
        f"{first}:{second}:{second}",
    ]


def test_review_buttons_act_only_on_the_value_as_written(fuzz_bot: FuzzBot) -> None:
    bot = fuzz_bot.bot
    bot.log_episode()
    with bot.services.db.read() as session:
        due = session.scalar(select(Episode.review_due_at))
    assert due is not None
    value = f"1:{int(due.timestamp())}"
    before = records(bot)
    for forged in _forms_of(value):
        assert "not one of mine" in _click(fuzz_bot, "review_stays", forged), forged
        assert records(bot) == before, forged
    # With no response URL there is nothing to replace: recorded all the same, no error.
    _click(fuzz_bot, "review_stays", value, response_url=False)
    assert records(bot)[1] == 1


def test_safe_well_button_acts_only_on_the_value_as_written(fuzz_bot: FuzzBot) -> None:
    bot = fuzz_bot.bot
    bot.log_episode()
    bot.slash("returned M-1 now")
    with bot.services.db.read() as session:
        returned = session.scalar(select(Episode.returned_at))
    assert returned is not None
    value = f"1:{int(returned.timestamp())}"
    before = records(bot)
    for forged in _forms_of(value):
        assert "not one of mine" in _click(fuzz_bot, "safe_well_done", forged), forged
        assert records(bot) == before, forged
    _click(fuzz_bot, "safe_well_done", value, response_url=False)
    assert records(bot)[0] != before[0]


def test_safewell_by_someone_with_no_role_is_refused(bot: Bot, errors_logged: object) -> None:
    bot.log_episode()
    bot.slash("returned M-1 now")
    before = records(bot)
    for who in ("U0UNKNOWN", LONG_ID):
        reply = bot.slash(f"safewell M-1 done by <@{who}>")
        assert "has no missing-bot role" in (reply.text or ""), (who, reply.text)
        assert records(bot) == before, who
    assert "recorded" in (bot.slash(f"safewell M-1 done by <@{LOGGER}>").text or "")
    assert records(bot) != before
