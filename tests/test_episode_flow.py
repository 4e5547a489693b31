"""The path of an episode over signed HTTP: /missing new -> form -> post -> return -> thread."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from storage.models import Child, Episode, ReturnInterview
from tests.support.harness import CONTROL, LOGGER, Bot, has_input


@pytest.mark.both_databases  # the whole path once on each
def test_new_episode_to_return_end_to_end(bot: Bot) -> None:
    view = bot.open_form("new Jane Mary Smith")
    blocks = {b["block_id"]: b for b in view.view["blocks"]}
    # The placing authority is asked for once 'looked after' is Yes (see the test below).
    assert list(blocks) == [
        "child_name",
        "date_of_birth",
        "last_seen_at",
        "last_seen_place",
        "risk_level",
        "looked_after",
        "risk_factors",
        "description",
        "reported_by",
        "incident_ref",
        "officer",
    ]
    # Prefilled with the typed name; the officer defaults to the person logging.
    assert blocks["child_name"]["element"]["initial_value"] == "Jane Mary Smith"
    assert blocks["officer"]["element"]["initial_user"] == LOGGER

    mark = bot.fake.mark()
    response = bot.submit_form(view)
    assert response.status == 200 and response.body == ""
    post = bot.fake.wait_for_posted(kind="message", since=mark)[0]
    assert post.channel == CONTROL
    text = post.text + str(post.blocks)
    assert "M-1" in text and "J.M.S." in text and "14" in text and "High" in text
    assert "Camden" in text and "looked after" in text
    # No name, no address in a channel.
    assert "Jane" not in text and "Smith" not in text and "Acacia" not in text
    assert "2 h 30 min ago" in text  # last seen 09:30 UTC, now 12:00 UTC

    confirmation = bot.fake.wait_for(lambda f: f.dms_to(LOGGER))[0]
    assert "M-1" in confirmation.text and "Posted to the control-room channel" in confirmation.text

    bot.clock.advance(hours=2)
    reply = bot.slash("returned M-1 at 13:15 found at a friend's house")
    # 13:15 Europe/London in November is 13:15 UTC; due 72 h later.
    assert "returned at Tue 24/11/2026 13:15" in reply.text
    assert "due by *Fri 27/11/2026 13:15*" in reply.text
    thread = bot.fake.wait_for(lambda f: f.thread(CONTROL, post.ts)[1:])
    assert "returned Tue 24/11/2026 13:15" in thread[0].text
    assert thread[0].thread_ts == post.ts

    with bot.services.db.transaction() as session:
        episode = session.scalars(select(Episode)).one()
        rhi = session.scalars(select(ReturnInterview)).one()
        assert episode.status == "returned" and episode.return_note == "found at a friend's house"
        assert rhi.status == "pending" and rhi.assignee_id == LOGGER
        assert (rhi.due_at - rhi.returned_at).total_seconds() == 72 * 3600
    actions = [e.action for e in bot.audit()]
    assert actions == ["child.created", "episode.logged", "episode.returned"]
    assert all(e.actor for e in bot.audit())


@pytest.mark.both_databases  # the identity's unique key and case folding
def test_same_child_is_linked_and_counted(bot: Bot) -> None:
    bot.log_episode()
    bot.slash("returned 1 now")
    bot.clock.advance(days=3)
    # Same child typed differently: case and spaces do not make a new child.
    post = bot.log_episode(child_name="  jane   MARY smith ")
    assert "Episode 2 for this child; 2 in the last 30 days" in str(post.blocks)
    bot.slash("returned M-2 now")
    bot.clock.advance(days=40)
    post = bot.log_episode(last_seen_at=bot.clock.now().replace(microsecond=0, second=0, minute=0))
    assert "Episode 3 for this child; 1 in the last 30 days" in str(post.blocks)
    with bot.services.db.transaction() as session:
        assert len(session.scalars(select(Child)).all()) == 1
    # The private confirmation follows the channel post: wait for it.
    confirmation = bot.fake.wait_for(
        lambda f: [p for p in f.dms_to(LOGGER) if "Logged *M-3*" in p.text]
    )[0]
    assert "episode 3 for this child" in confirmation.text


def test_returned_twice_changes_nothing(bot: Bot) -> None:
    bot.log_episode()
    bot.slash("returned m1 at 11:00")
    bot.clock.advance(hours=1)
    before = bot.fake.mark()
    reply = bot.slash("returned 1")
    assert "already returned at Tue 24/11/2026 11:00" in reply.text
    assert "nothing was changed" in reply.text
    assert bot.fake.posted[before:] == []  # the answer came in the acknowledgement
    assert len(bot.audit("episode.returned")) == 1


def test_show_is_private_full_and_audited(bot: Bot) -> None:
    bot.log_episode(child_name="Zoë O'Brien-Łukasz 🌟")
    reply = bot.slash("show M-1")
    assert reply.kind == "ack"  # ephemeral, only the caller sees it
    body = str(reply.blocks)
    assert "Zoë O'Brien-Łukasz 🌟" in body and "Acacia Avenue" in body
    assert "Child sexual exploitation" in body and "CAD-2411-0042" in body
    assert "episode.logged" in body  # history
    viewed = bot.audit("episode.viewed")
    assert len(viewed) == 1 and viewed[0].actor == LOGGER and viewed[0].episode_id == 1


def test_list_high_risk_before_longer_missing(bot: Bot) -> None:
    bot.log_episode(child_name="Amy Adams", last_seen_at=bot.clock.now().replace(hour=11))
    bot.log_episode(
        child_name="Ben Brown", last_seen_at=bot.clock.now().replace(hour=6), risk_level="medium"
    )
    bot.log_episode(child_name="Cal Cole", last_seen_at=bot.clock.now().replace(hour=8))
    bot.slash("returned M-3 now")
    reply = bot.slash("list")
    text = str(reply.blocks)
    assert "Open episodes: 2" in text
    # M-2 has been missing longer, but M-1 is high risk: it comes first.
    assert text.index("M-1") < text.index("M-2") and "M-3" not in text
    assert "Medium" in text and "6 h 0 min" in text
    assert "Amy" not in text and "Brown" not in text


def test_help_and_unknown_subcommands_answer_with_usage(bot: Bot) -> None:
    for text in ("", "help", "frobnicate now", "<!channel>"):
        reply = bot.slash(text)
        assert reply.kind == "ack"
        assert "/missing new" in reply.text + str(reply.blocks)
    assert "I don't know `/missing frobnicate`" in bot.slash("frobnicate").text
    assert "&lt;!channel&gt;" in bot.slash("<!channel>").text


def test_placing_authority_is_asked_for_only_when_looked_after(bot: Bot) -> None:
    view = bot.open_form("new Amy Adams")
    assert not has_input(view, "placing_authority")
    care = next(b for b in view.view["blocks"] if b["block_id"] == "looked_after")
    assert care["dispatch_action"] is True  # choosing sends an action at once
    updated = bot.answer_care(view, "yes")
    assert has_input(updated, "placing_authority")
    assert updated.id == view.id and updated.method == "views.update"
    blocks = {b["block_id"]: b for b in updated.view["blocks"]}
    assert blocks["child_name"]["element"]["initial_value"] == "Amy Adams"
    assert blocks["looked_after"]["element"]["initial_option"]["value"] == "yes"
    again = bot.answer_care(updated, "no")
    assert not has_input(again, "placing_authority")
    # Not looked after: the post says so and names no authority.
    mark = bot.fake.mark()
    assert bot.submit_form(again, looked_after="no").status == 200
    post = bot.fake.wait_for_posted(kind="message", since=mark)[0]
    assert "not looked after" in str(post.blocks) and "Camden" not in str(post.blocks)
