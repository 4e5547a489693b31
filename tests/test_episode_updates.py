"""`/missing update <ref>` over signed HTTP: the form, what it saves, what the channel is told
(never a name, a place or the text typed), and who may use it."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.domain.access import Role
from storage.models import Episode, EpisodeNote, Review, RiskChange
from tests.support.harness import CONTROL, LOGGER, Bot
from tests.support.updates import (
    edits_of,
    errors_of,
    inputs,
    open_update,
    replies,
    submit_update,
    top_level,
)

SERGEANT = "U0SERGEANT"
STRANGER = "U0STRANGER"


def flat(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


def rows(bot: Bot, model: type) -> list:
    with bot.services.db.read() as session:
        return list(session.scalars(select(model).order_by(model.id)))


def test_the_form_opens_filled_in_with_the_episode(sqlite_bot: Bot) -> None:
    bot = sqlite_bot
    bot.log_episode(risk_level="medium")
    view = open_update(bot)
    fields = inputs(view)
    assert fields["risk_level"]["element"]["initial_option"]["value"] == "medium"
    assert fields["decided_by"]["element"]["initial_user"] == LOGGER
    assert fields["last_seen_place"]["element"]["initial_value"] == "12 Acacia Avenue, Ipswich"
    assert fields["placing_authority"]["element"]["initial_value"] == "London Borough of Camden"
    chosen = [o["value"] for o in fields["risk_factors"]["element"]["initial_options"]]
    assert chosen == ["cse", "mental_health"]
    assert fields["officer"]["element"]["initial_user"] == LOGGER
    assert "sighting_at" in fields and "information" in fields
    # Opening it shows the child's details: that is a view, and audited as one.
    (viewed,) = bot.audit("episode.viewed")
    assert viewed.detail == {"via": "update form"}


@pytest.mark.both_databases  # locks, new tables, the audit trigger
def test_a_regrade_to_high_is_said_in_the_thread_and_the_channel(bot: Bot) -> None:
    post = bot.log_episode(risk_level="medium")
    bot.clock.advance(minutes=30)
    view = open_update(bot)
    submit_update(
        bot,
        view,
        risk_level="high",
        risk_reason="Seen getting into a car with Jack Daw near the docks",
        decided_by=SERGEANT,
    )
    (reply,) = replies(bot, post)
    text = reply.text + flat(reply.blocks)
    assert f"Risk re-graded Medium → *High* by <@{SERGEANT}>" in text
    assert f"(recorded by <@{LOGGER}>)" in text
    assert "Next risk review due Tue 24/11/2026 14:30" in text  # high: every 2 h
    # The reason and anything personal stay out of the channel.
    assert "Jack" not in text and "docks" not in text and "Jane" not in text
    # Said at the top of the channel too, and the post now shows high risk.
    raised = [p for p in top_level(bot) if p.ts != post.ts]
    assert [p.text for p in raised] == ["M-1: risk raised to high"]
    assert "from Medium" in flat(raised[0].blocks) and "Jack" not in str(raised)
    (edit,) = edits_of(bot, post)
    assert "High risk" in flat(edit.blocks)
    (change,) = rows(bot, RiskChange)
    assert (change.from_risk, change.to_risk, change.decided_by, change.actor) == (
        "medium",
        "high",
        SERGEANT,
        LOGGER,
    )
    (audited,) = bot.audit("episode.risk_regraded")
    assert "Jack" not in flat(audited.detail) and audited.detail["risk"] == "high"
    # The history is shown, privately, with the reason.
    shown = flat(bot.slash("show M-1").blocks)
    assert "*Risk history*" in shown
    assert "graded *Medium* at the report" in shown
    assert f"re-graded Medium → *High* by <@{SERGEANT}>" in shown and "Jack Daw" in shown


def test_a_regrade_below_high_edits_the_post_and_stays_in_the_thread(sqlite_bot: Bot) -> None:
    bot = sqlite_bot
    post = bot.log_episode(risk_level="high")
    submit_update(bot, open_update(bot), risk_level="low", risk_reason="Called home, safe")
    (reply,) = replies(bot, post)
    assert f"Risk re-graded High → *Low* by <@{LOGGER}>" in flat(reply.blocks)
    assert "recorded by" not in flat(reply.blocks)  # decided and recorded by one person
    assert [p.ts for p in top_level(bot)] == [post.ts]
    (edit,) = edits_of(bot, post)
    assert "Low risk" in flat(edit.blocks)


def test_a_sighting_and_a_line_of_information(sqlite_bot: Bot) -> None:
    bot = sqlite_bot
    post = bot.log_episode()
    seen = bot.clock.now() - timedelta(minutes=20)
    submit_update(
        bot,
        open_update(bot),
        sighting_at=seen,
        sighting_place="Ipswich bus station, stand 4",
        information="Friend says she has a phone charger & £20 <@U0EVIL>",
    )
    (reply,) = replies(bot, post)
    text = flat(reply.blocks)
    assert "New sighting recorded (details: `/missing show M-1`)" in text
    assert "Information added (details: `/missing show M-1`)" in text
    assert "bus station" not in text and "charger" not in text and "U0EVIL" not in text
    assert top_level(bot) == [post] and edits_of(bot, post) == []
    sighting, information = rows(bot, EpisodeNote)
    assert (sighting.kind, sighting.place, sighting.seen_at) == (
        "sighting",
        "Ipswich bus station, stand 4",
        seen.replace(microsecond=0),
    )
    assert information.kind == "information" and "charger" in information.text
    audited = bot.audit("episode.sighting_added") + bot.audit("episode.information_added")
    assert [a.detail for a in audited] == [{"note_id": 1}, {"note_id": 2}]
    shown = flat(bot.slash("show M-1").blocks)
    assert "*Sightings and information: 2*" in shown
    assert "seen Tue 24/11/2026 11:40 at Ipswich bus station, stand 4" in shown
    assert "&amp; £20 &lt;@U0EVIL&gt;" in shown  # typed text is escaped, not a mention
    # Nothing about the risk changed, so no review was recorded.
    assert rows(bot, Review) == []


def test_a_correction_changes_the_record_and_says_which_fields(sqlite_bot: Bot) -> None:
    bot = sqlite_bot
    post = bot.log_episode()
    submit_update(
        bot,
        open_update(bot),
        description="Red coat, white trainers",
        last_seen_place="14 Acacia Avenue, Ipswich",
        risk_factors=["cse"],
    )
    (reply,) = replies(bot, post)
    assert "Details corrected: last seen place, description, risk factors" in flat(reply.blocks)
    assert "Red coat" not in flat(reply.blocks)
    (episode,) = rows(bot, Episode)
    assert episode.description == "Red coat, white trainers"
    assert episode.last_seen_place == "14 Acacia Avenue, Ipswich"
    assert episode.risk_factors == ["cse"] and episode.reported_by.startswith("Care home")
    (audited,) = bot.audit("episode.corrected")
    assert audited.detail == {"fields": ["last_seen_place", "description", "risk_factors"]}


def test_a_new_officer_in_the_case_is_told(sqlite_bot: Bot) -> None:
    bot = sqlite_bot
    post = bot.log_episode()
    submit_update(bot, open_update(bot), officer=SERGEANT)
    (told,) = bot.fake.dms_to(SERGEANT)
    assert "named you the officer in the case for *M-1*" in flat(told.blocks)
    (reply,) = replies(bot, post)
    assert "Details corrected: officer in the case" in flat(reply.blocks)


def test_what_is_wrong_on_the_form_is_said_under_each_field(sqlite_bot: Bot) -> None:
    bot = sqlite_bot
    bot.log_episode(risk_level="medium")
    view = open_update(bot)
    assert "Nothing to save" in errors_of(submit_update(bot, view))["information"]
    errors = errors_of(
        submit_update(bot, view, risk_level="high", sighting_place="The park", last_seen_place="")
    )
    assert errors["risk_reason"].startswith("Say why the risk changes")
    assert errors["sighting_at"] == "Give when the child was seen."
    assert errors["last_seen_place"] == "Say where the child was last seen."
    future = bot.clock.now() + timedelta(hours=1)
    errors = errors_of(submit_update(bot, view, sighting_at=future, sighting_place="The park"))
    assert errors == {"sighting_at": "A sighting cannot be in the future."}
    assert rows(bot, RiskChange) == [] and rows(bot, EpisodeNote) == []


def test_the_same_form_submitted_twice_saves_once(sqlite_bot: Bot) -> None:
    bot = sqlite_bot
    post = bot.log_episode(risk_level="medium")
    view = open_update(bot)
    answers = {"risk_level": "high", "risk_reason": "New information", "information": "x"}
    first = submit_update(bot, view, **answers)
    second = submit_update(bot, view, **answers)
    assert first.body == "" and second.body == ""  # both close the form
    assert len(rows(bot, RiskChange)) == 1 and len(rows(bot, EpisodeNote)) == 1
    assert len(replies(bot, post)) == 1 and len(edits_of(bot, post)) == 1


def test_an_untouched_field_does_not_undo_a_correction_made_meanwhile(sqlite_bot: Bot) -> None:
    bot = sqlite_bot
    bot.log_episode()
    bot.grant(SERGEANT)
    slow = open_update(bot)
    submit_update(bot, open_update(bot, user_id=SERGEANT), user_id=SERGEANT, description="Red coat")
    # The first form still shows the old description; it only adds a line of information.
    submit_update(bot, slow, information="Phone is off")
    (episode,) = rows(bot, Episode)
    assert episode.description == "Red coat"
    assert [a.detail["fields"] for a in bot.audit("episode.corrected")] == [["description"]]


def test_someone_without_a_role_cannot_open_or_submit_it(sqlite_bot: Bot) -> None:
    bot = sqlite_bot
    bot.log_episode()
    view = open_update(bot)
    views = len(bot.fake.views)
    answer = bot.slash("update M-1", user_id=STRANGER)
    assert "You need the *control room* role to update an episode" in (answer.text or "")
    assert len(bot.fake.views) == views
    # A submission forged from the real form is refused as well.
    errors = errors_of(submit_update(bot, view, user_id=STRANGER, information="x"))
    assert "control room" in errors["risk_level"]
    assert rows(bot, EpisodeNote) == []
    assert len(bot.audit("access.refused")) == 2


def test_a_returned_episode_says_what_can_be_done(sqlite_bot: Bot) -> None:
    bot = sqlite_bot
    bot.log_episode()
    view = open_update(bot)
    bot.slash("returned M-1 now")
    views = len(bot.fake.views)
    answer = bot.slash("update M-1").text or ""
    assert "M-1 is recorded as returned (Tue 24/11/2026 12:00)" in answer
    assert "`/missing reopen M-1 &lt;reason&gt;`" in answer and "`/missing show M-1`" in answer
    assert len(bot.fake.views) == views
    # A form opened before the return cannot save either.
    errors = errors_of(submit_update(bot, view, information="x"))
    assert "recorded as returned" in errors["risk_level"]
    assert rows(bot, EpisodeNote) == []


def test_update_needs_one_reference(sqlite_bot: Bot) -> None:
    answer = sqlite_bot.slash("update").text or ""
    assert "Which episode? `/missing update M-42`" in answer
    assert "There is no episode M-9" in (sqlite_bot.slash("update M-9").text or "")


def test_safeguarding_may_update_too(sqlite_bot: Bot) -> None:
    bot = sqlite_bot
    post = bot.log_episode()
    bot.grant(SERGEANT, Role.SAFEGUARDING)
    submit_update(bot, open_update(bot, user_id=SERGEANT), user_id=SERGEANT, information="x")
    assert len(replies(bot, post)) == 1
    assert post.channel == CONTROL
