"""`/missing void <ref> <reason>` over signed HTTP: an episode logged in error (or a duplicate)
leaves lists and figures, what follows it stops, its thread and post say so without the reason
typed, and the audit trail keeps it."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from bot.domain.access import Role
from bot.domain.states import RhiStatus
from bot.services.retention import RetentionService
from fakeslack import Posted
from storage import queries
from storage.models import Episode, Followup, OutboxMessage, ReturnInterview
from tests.support.harness import CONTROL, DEFAULT_ANSWERS, LOGGER, Bot
from tests.support.timeline import at, dms, escalations, log_and_return

USER = "U0PERSON"
# A reason as people type them: it names someone, so it must never reach a channel or the trail.
REASON = "logged in error, Mrs Patel rang about her nephew not Jane"


def episode(bot: Bot, episode_id: int = 1) -> Episode:
    with bot.services.db.read() as session:
        found = session.get(Episode, episode_id)
        assert found is not None
        return found


def thread_replies(bot: Bot, post: Posted) -> list[Posted]:
    return bot.fake.thread(CONTROL, post.ts or "")[1:]


def post_edits(bot: Bot, post: Posted) -> list[Posted]:
    return [p for p in bot.fake.posted if p.kind == "update" and p.ts == post.ts]


def text_of(posted: Posted) -> str:
    return (posted.text or "") + json.dumps(posted.blocks, ensure_ascii=False)


@pytest.mark.both_databases  # the locks, the new columns and the outbox update on each
def test_void_with_a_reason(bot: Bot) -> None:
    post = bot.log_episode()
    bot.log_episode(child_name="Ann Other", risk_level="medium")
    bot.clock.advance(minutes=20)

    reply = bot.slash(f"void M-1 {REASON}")
    assert reply.kind == "ack"
    assert "M-1 is voided (logged in error)" in (reply.text or "")

    # The thread says who voided it and that it was logged in error: not the reason typed.
    (voided,) = bot.fake.wait_for(lambda f: thread_replies(bot, post))
    shown = text_of(voided)
    assert f"voided by <@{LOGGER}>: logged in error" in shown
    assert "Patel" not in shown and "nephew" not in shown and "Jane" not in shown
    # The channel post is edited to say so, struck through, still without a name.
    edit = bot.fake.wait_for(lambda f: post_edits(bot, post))[-1]
    edited = text_of(edit)
    assert "~M-1 · J.M.S. · age 14~" in edited and "VOIDED: logged in error" in edited
    assert "Jane" not in edited and "Patel" not in edited and "Acacia" not in edited

    listing = json.dumps(bot.slash("list").blocks)
    assert "Open episodes: 1" in listing and "M-2" in listing and "M-1" not in listing

    shown = json.dumps(bot.slash("show M-1").blocks)
    assert "VOIDED" in shown and "logged in error" in shown and "Patel rang" in shown
    assert "Void (not counted)" in shown and "Missing for" not in shown

    saved = episode(bot)
    assert (saved.status, saved.voided_by, saved.void_reason) == ("void", LOGGER, REASON)
    assert saved.voided_at == bot.clock.now() and saved.duplicate_of is None

    (audited,) = bot.audit("episode.voided")
    assert (audited.actor, audited.episode_id, audited.channel) == (LOGGER, 1, CONTROL)
    assert audited.detail["duplicate"] is False and audited.detail["previous"] == "missing"
    # No row of the trail holds the free text (nor does the trail's own view of it).
    trail = json.dumps([a.detail for a in bot.audit()])
    assert "Patel" not in trail and "nephew" not in trail
    assert "Patel" not in json.dumps(bot.slash("audit M-1").blocks)


def test_void_as_a_duplicate_of_another_reference(bot: Bot) -> None:
    bot.log_episode()
    post = bot.log_episode()  # the same child logged twice
    assert "Episode 2 for this child" in str(post.blocks)
    reply = bot.slash("void m2 Duplicate of M-1, second call from the care home")
    assert "M-2 is voided (a duplicate of M-1)" in (reply.text or "")

    (voided,) = bot.fake.wait_for(lambda f: thread_replies(bot, post))
    assert f"voided by <@{LOGGER}>: duplicate of M-1" in text_of(voided)
    assert "Follow *M-1* instead" in text_of(voided)
    assert "care home" not in text_of(voided)
    edit = bot.fake.wait_for(lambda f: post_edits(bot, post))[-1]
    assert "VOIDED: duplicate of M-1" in text_of(edit)

    assert episode(bot, 2).duplicate_of == 1
    (audited,) = bot.audit("episode.voided")
    assert audited.detail["duplicate"] is True and audited.detail["duplicate_of"] == "M-1"
    assert "care home" not in json.dumps(audited.detail)
    # A void episode is never counted: the child's next episode is their second, not third.
    bot.slash("returned M-1 now")
    bot.clock.advance(days=2)
    third = bot.log_episode(last_seen_at=bot.clock.now().replace(minute=0, second=0))
    assert "Episode 2 for this child; 2 in the last 30 days" in str(third.blocks)
    with bot.services.db.read() as session:
        counted = session.scalars(queries.counted_episodes().order_by(Episode.id)).all()
        assert [e.id for e in counted] == [1, 3]


def test_bad_missing_or_self_references_are_refused(bot: Bot) -> None:
    bot.log_episode()
    bot.log_episode(child_name="Ann Other")
    bot.log_episode(child_name="Bob Third")
    refused = {
        "void": "Which episode?",
        "void M-2": "Say why M-2 is void",
        "void M-2 duplicate of": "Duplicate of which episode?",
        "void M-2 duplicate of the one Suffolk logged": "Duplicate of which episode?",
        "void M-2 duplicate of M-99": "There is no episode M-99",
        "void M-2 duplicate of m2": "cannot be a duplicate of itself",
        "void M-99 logged in error": "There is no episode M-99",
        "void nonsense logged in error": "is not an episode reference",
    }
    for command, answer in refused.items():
        assert answer in (bot.slash(command).text or ""), command
    # The original of a duplicate must stand: two voids would leave no record of the child.
    bot.slash("void M-1 logged in error")
    assert "M-1 is itself voided" in (bot.slash("void M-2 duplicate of M-1").text or "")
    assert episode(bot, 2).status == "missing" and episode(bot, 3).status == "missing"
    assert len(bot.audit("episode.voided")) == 1


def test_the_interview_is_cancelled_and_no_reminder_follows(bot: Bot) -> None:
    post = log_and_return(bot)
    at(bot, 1)
    reply = bot.slash("void M-1 logged twice, see M-2")
    assert "Its return home interview is cancelled" in (reply.text or "")
    # The thread: the return, then the void.
    replies = bot.fake.wait_for(lambda f: thread_replies(bot, post)[1:])
    assert "interview is cancelled and its reminders stopped" in text_of(replies[-1])
    with bot.services.db.read() as session:
        rhi = session.scalars(select(ReturnInterview)).one()
        assert (rhi.status, rhi.status_reason) == (RhiStatus.CANCELLED, "episode voided")
        followups = {(f.kind, f.subject): f.next_at for f in session.scalars(select(Followup))}
        assert followups[("rhi", "1")] is None
        # The episode's own follow-ups (reviews, safe-and-well checks) are stopped too.
        assert followups[("review", "1")] is None and followups[("safe_well", "1")] is None
    # Past every rung of the ladder: due soon, due now, the list, the escalation, the lapse.
    for hours in (48, 72, 93, 96, 120, 400):
        at(bot, hours)
    assert dms(bot) == [] and escalations(bot) == []
    assert "no open return home interviews" in (bot.slash("rhi").text or "")


def test_a_queued_reminder_is_not_sent_after_the_void(bot: Bot) -> None:
    post = log_and_return(bot)
    # Slack fails the due-soon reminder: it stays queued, to be tried again.
    bot.fake.fail("chat.postMessage", status=500, times=None)
    at(bot, 48)
    bot.fake.clear_faults()
    with bot.services.db.read() as session:
        queued = session.scalars(
            select(OutboxMessage).where(OutboxMessage.key == "rhi:1:due_soon")
        ).one()
        assert queued.status == "pending"
    # Dropped by the void itself; were it missed, the outbox's check when sending (is the
    # interview still open?) would drop it all the same.
    bot.slash("void M-1 logged in error")
    at(bot, 49)
    at(bot, 60)
    assert dms(bot) == []
    with bot.services.db.read() as session:
        queued = session.scalars(
            select(OutboxMessage).where(OutboxMessage.key == "rhi:1:due_soon")
        ).one()
        assert queued.status == "cancelled"
    # What was owed about the episode itself still goes: the thread hears of the void.
    assert "voided by" in text_of(thread_replies(bot, post)[-1])


def test_a_message_held_for_quiet_hours_is_dropped(bot_at: Callable[..., Bot]) -> None:
    bot = bot_at(datetime(2026, 11, 24, 1, 0, tzinfo=UTC), quiet_hours="22:00-07:00")
    bot.grant(USER)
    # The officer in the case is told the episode is theirs at 07:00 (medium risk waits).
    bot.log_episode(
        risk_level="medium",
        officer=USER,
        last_seen_at=datetime(2026, 11, 23, 20, 0, tzinfo=UTC),
    )
    assert bot.fake.dms_to(USER) == []
    bot.slash("void M-1 logged in error")
    bot.clock.set(datetime(2026, 11, 24, 7, 30, tzinfo=UTC))
    bot.sweep()
    assert bot.fake.dms_to(USER) == []


def test_other_commands_on_a_void_episode_say_it_was_voided(bot: Bot) -> None:
    log_and_return(bot)
    at(bot, 48)
    reminder = next(p for p in bot.fake.dms_to(LOGGER) if "RHI for M-1 due" in (p.text or ""))
    bot.log_episode(child_name="Ann Other")
    bot.slash("void M-1 duplicate of M-2")
    for command in (
        "returned M-1",  # the form does not open either
        "returned M-1 now",
        "reopen M-1 found again",
        "rhi M-1 done",
        "rhi M-1 snooze 4",
        f"rhi M-1 assign <@{LOGGER}>",
    ):
        answer = bot.slash(command).text or ""
        assert "M-1 was voided (a duplicate of M-2)" in answer, command
        assert "nothing was changed" in answer and "Use M-2 instead" in answer
    assert "M-1 was already voided; nothing was changed" in (
        bot.slash("void M-1 logged in error").text or ""
    )
    # A button on a reminder sent before the void changes nothing either.
    mark = bot.fake.mark()
    bot.sender.click("rhi_done", message=reminder, user_id=LOGGER)
    bot.settle()
    answer = bot.fake.wait_for_posted(kind="response", since=mark)[0]
    assert "M-1 was voided" in (answer.text or "")
    saved = episode(bot)
    assert saved.status == "void" and saved.returned_at is not None
    assert len(bot.audit("episode.voided")) == 1


def log_as(bot: Bot, user: str, name: str) -> None:
    view = bot.answer_care(bot.open_form(user_id=user), "yes")
    response = bot.sender.submit_answers(
        view, {**DEFAULT_ANSWERS, "child_name": name}, user_id=user
    )
    assert response.status == 200 and not response.body, response.body
    bot.settle()


def test_who_may_void(bot: Bot) -> None:
    bot.log_episode()  # M-1, logged by someone else
    answer = bot.slash("void M-1 logged in error", user_id=USER).text or ""
    assert "You need the *safeguarding* role to void an episode" in answer
    # A stranger learns nothing about references either.
    answer = bot.slash("void M-99 logged in error", user_id=USER).text or ""
    assert "You need the *safeguarding* role" in answer and "no episode" not in answer
    # The control room: an episode they logged themselves, within the hour.
    bot.grant(USER)
    assert "You need the *safeguarding* role" in (
        bot.slash("void M-1 logged in error", user_id=USER).text or ""
    )
    log_as(bot, USER, "Amy Adams")  # M-2
    log_as(bot, USER, "Ben Brown")  # M-3
    bot.clock.advance(minutes=59)
    assert "M-2 is voided" in (bot.slash("void M-2 logged in error", user_id=USER).text or "")
    bot.clock.advance(minutes=2)
    answer = bot.slash("void M-3 logged in error", user_id=USER).text or ""
    assert "or to have logged M-3 yourself within the last hour" in answer
    # Safeguarding may void any episode, whenever it was logged.
    bot.grant(USER, Role.SAFEGUARDING)
    assert "M-3 is voided" in (bot.slash("void M-3 logged in error", user_id=USER).text or "")
    refusals = bot.audit("access.refused")
    assert len(refusals) == 4 and all(r.actor == USER for r in refusals)
    assert all(r.detail["attempted"] == "void an episode" for r in refusals)
    assert "error" not in json.dumps([r.detail for r in refusals])
    assert [e.status for e in (episode(bot, 1), episode(bot, 2), episode(bot, 3))] == [
        "missing",
        "void",
        "void",
    ]


def test_a_void_episode_is_purged_no_later_than_a_closed_one(bot: Bot) -> None:
    bot.log_episode()
    bot.slash("void M-1 logged in error")
    bot.log_episode(child_name="Ann Other")
    bot.slash("returned M-2 now")
    bot.slash("void M-2 logged in error")  # its interview cancelled
    bot.log_episode(child_name="Bob Third")
    bot.clock.advance(days=365 * 6 + 180)
    bot.slash("void M-3 logged in error")  # voided six and a half years on: kept
    bot.clock.advance(days=180)
    service = RetentionService(db=bot.services.db, clock=bot.clock)
    report = service.purge(older_than_years=6, actor="cli")
    assert list(report.refs) == ["M-1", "M-2"]
    with bot.services.db.read() as session:
        assert session.scalars(select(Episode.id)).all() == [3]
    # The trail keeps the voids of what is gone.
    assert [a.episode_id for a in bot.audit("episode.voided")] == [1, 2, 3]
