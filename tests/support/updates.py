"""Steps for the update-form and review tests: open the form, submit it, read the thread."""

from __future__ import annotations

from typing import Any

from fakeslack import Posted
from fakeslack.records import ViewRecord
from fakeslack.sender import SentResponse
from tests.support.harness import CONTROL, Bot

UPDATE = "episode_update"


def open_update(bot: Bot, ref: str = "M-1", **kwargs: Any) -> ViewRecord:
    """`/missing update <ref>` and the form the bot opened."""
    mark = len(bot.fake.views)
    response = bot.sender.slash(f"update {ref}", **kwargs)
    assert response.status == 200 and not response.body, response.body
    return bot.fake.wait_for_view(UPDATE, since=mark)


def submit_update(
    bot: Bot, view: ViewRecord, *, user_id: str | None = None, **answers: Any
) -> SentResponse:
    """Submit the form with these answers (the rest as it opened); wait for what it queued."""
    response = bot.sender.submit_answers(view, answers, user_id=user_id)
    assert response.status == 200, response.body
    bot.settle()
    return response


def errors_of(response: SentResponse) -> dict[str, str]:
    answer = response.json or {}
    assert answer.get("response_action") == "errors", response.body
    return dict(answer["errors"])


def replies(bot: Bot, post: Posted) -> list[Posted]:
    """The replies in an episode's thread (not the post itself), once delivered."""
    bot.fake.wait_idle(quiet=0.05)
    return bot.fake.thread(CONTROL, post.ts or "")[1:]


def top_level(bot: Bot) -> list[Posted]:
    """Messages at the top of the control-room channel (posts, not thread replies)."""
    bot.fake.wait_idle(quiet=0.05)
    return [p for p in bot.fake.messages_in(CONTROL, kinds=("message",)) if not p.thread_ts]


def edits_of(bot: Bot, post: Posted) -> list[Posted]:
    """chat.update calls on the episode's post, in order."""
    bot.fake.wait_idle(quiet=0.05)
    return [p for p in bot.fake.posted if p.kind == "update" and p.ts == post.ts]


def inputs(view: ViewRecord) -> dict[str, dict[str, Any]]:
    return {b["block_id"]: b for b in view.view["blocks"] if b.get("type") == "input"}
