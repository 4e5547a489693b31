"""Every markup form Slack acts on, typed in every free-text field that reaches Slack: stored as
typed, shown escaped in every message and answer, and kept out of channel posts where the text
may carry personal data."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from handlers.escape import esc
from storage.models import Episode, ReturnInterview
from tests.support.harness import CONTROL, SAFEGUARDING, Bot

# What Slack turns into a notification, a mention, a link, or an entity.
MARKUP = [
    "<!channel>",
    "<!here>",
    "<!everyone>",
    "<@U123>",
    "<#C123>",
    "<https://evil.example|click>",
    "&amp;",
    "&lt;",
]
ALL = " ".join(MARKUP)
SQL = "'; DROP TABLE episodes; --"
# A distinctive word per field, to find where each field's text went.
TYPED = {
    "child_name": f"Ann {ALL} Smith",
    "last_seen_place": f"Nuflat {ALL} {SQL}",
    "description": f"Xicoat {ALL}",
    "reported_by": f"Omicronmum {ALL}",
    "placing_authority": f"Rhoborough {ALL}",
}
# The incident reference holds 60 characters: the forms go in over two episodes.
INCIDENT_REFS = [f"Piref {' '.join(MARKUP[:4])}", f"Piref {' '.join(MARKUP[4:])}"]
NOTE, REASON, ORGANISATION, REOPENED = (
    f"Kappanote {ALL}",
    f"Lambdareason {ALL}",
    f"Muorg {ALL}",
    f"Sigmaoops {ALL}",
)
# Free text that may hold personal data: never in a channel post, escaped or not.
PRIVATE_WORDS = [
    "Ann",
    "Smith",
    "Nuflat",
    "Xicoat",
    "Omicronmum",
    "Piref",
    "Kappanote",
    "Lambdareason",
    "Muorg",
    "Sigmaoops",
]


TAGS = [m for m in MARKUP if m.startswith("<")]


def shown_raw(text: str) -> list[str]:
    """The markup forms (and typed texts) in `text` that are not escaped. A typed `&amp;`
    unescaped is caught by the whole typed text appearing as typed; `&lt;` alone is no sign,
    as every escaped `<` reads so."""
    typed = [*TYPED.values(), *INCIDENT_REFS, NOTE, REASON, ORGANISATION, REOPENED]
    return [m for m in TAGS if m in text] + [t for t in typed if t in text]


def test_markup_is_stored_as_typed_and_reaches_slack_escaped(bot: Bot) -> None:
    answers: list[tuple[str, dict[str, Any]]] = []
    for incident_ref in INCIDENT_REFS:
        bot.log_episode(**TYPED, incident_ref=incident_ref)
    bot.log_episode(child_name="Third Child")
    for text in (
        f"returned M-1 {NOTE}",
        f"rhi M-1 notdone {REASON}",
        "returned M-2 now",
        f"rhi M-2 done by {ORGANISATION}",
        "returned M-3 now",
        f"reopen M-3 {REOPENED}",
        "returned M-3 now",
        "show M-1",
        "show M-2",
        "rhi",
        "list",
    ):
        reply = bot.slash(text)
        answers.append((text, reply.raw))
    # Reminders and escalations for M-3, two and four days on.
    for hours in (48, 48):
        bot.clock.advance(hours=hours)
        bot.sweep()
    bot.settle()
    bot.fake.wait_idle(quiet=0.1)

    # Stored exactly as typed: the SQL too.
    with bot.services.db.read() as session:
        first = session.get(Episode, 1)
        assert first is not None
        assert (first.child.full_name, first.last_seen_place) == (
            TYPED["child_name"],
            TYPED["last_seen_place"],
        )
        assert (first.description, first.reported_by, first.return_note) == (
            TYPED["description"],
            TYPED["reported_by"],
            NOTE,
        )
        assert first.placing_authority == TYPED["placing_authority"]
        rhis = {r.episode_id: r for r in session.scalars(select(ReturnInterview))}
        assert rhis[1].status_reason == REASON and rhis[2].completed_by_org == ORGANISATION

    # Every answer and every message: escaped, never raw.
    seen = [(f"ack to {text}", json.dumps(raw)) for text, raw in answers]
    for post in bot.fake.posted:
        seen.append((f"{post.kind} to {post.channel}", json.dumps(post.raw)))
    for where, text in seen:
        # JSON escapes nothing of these, so the raw forms are found as typed.
        assert not shown_raw(text), (where, shown_raw(text), text[:600])

    # The private answers do show them (escaped), so the check above is not vacuous.
    details = json.dumps([raw for text, raw in answers if text.startswith("show")])
    for field_text in (*TYPED.values(), NOTE, ORGANISATION):
        assert esc(field_text) in details, field_text

    # Channel posts: initials, the placing authority, and none of the free text above.
    channel_posts = [
        p for p in bot.fake.posted if p.kind == "message" and p.channel in (CONTROL, SAFEGUARDING)
    ]
    assert len(channel_posts) >= 8  # the posts, their thread updates, the escalations
    for post in channel_posts:
        text = json.dumps(post.raw)
        leaked = [word for word in PRIVATE_WORDS if word in text]
        assert not leaked, (leaked, text[:600])
    assert any("A.S." in json.dumps(p.raw) for p in channel_posts)
    assert any(esc(TYPED["placing_authority"]) in json.dumps(p.raw) for p in channel_posts)
