"""Hypothesis strategies for what Slack (or someone holding the signing secret) can send the bot.

Each strategy knows whether what it draws is valid: valid input is built from the grammar the
bot documents, junk is drawn where validity is certain (a field Slack never sends that way, a
value no rule accepts), so a test can demand "nothing changed" for junk and "it worked" for
valid input instead of settling for "no crash".
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from hypothesis import strategies as st

# -- pieces of text people (and attackers) type ---------------------------------------------

# Slack mrkdwn controls: each must reach Slack as text, escaped, never acted on.
MARKUP = [
    "<!channel>",
    "<!here>",
    "<!everyone>",
    "<@U123>",
    "<#C123>",
    "<https://evil.example|click>",
    "&amp;",
    "&lt;",
    "&",
    "<",
    ">",
    "*bold*",
    "_it_",
    "~gone~",
    "`code`",
    "```block```",
]
SQLISH = [
    "'; DROP TABLE episodes; --",
    "' OR '1'='1",
    '"; DELETE FROM children; --',
    "Robert'); DROP TABLE children;--",
    "%s",
    "%(name)s",
    "{0}",
    "\\",
]
CONTROL_CHARS = ["\x00", "\x01", "\x07", "\x08", "\x1b[31m", "\x7f", "\x85", "\u2028"]
UNICODE = [
    "🚨",
    "👩🏽‍⚕️",
    "Zoë",
    "Ána",
    "ß",
    "ﬃ",
    "ﷺ",
    "İ",
    "\u202eevil\u202c",  # right-to-left override
    "مرحبا بالعالم",
    "שלום",
    "\u200b",
    "e\u0301",
    "Ｍ-１",
    "١٢٣",
]
# Pieces that are not valid anywhere they can appear.
# "payload" anywhere in a form body made Bolt take a command for an interaction.
JUNK_WORDS = [
    *MARKUP,
    *SQLISH,
    *CONTROL_CHARS,
    *UNICODE,
    "",
    " ",
    "\t",
    "\n",
    "payload",
    "payload=",
]

SUBCOMMANDS = ["new", "returned", "return", "reopen", "show", "list", "rhi", "admin", "help"]
RHI_ACTIONS = [
    "done",
    "completed",
    "complete",
    "offered",
    "declined",
    "notdone",
    "not_done",
    "not-done",
    "assign",
    "snooze",
]
ADMIN_ACTIONS = ["grant", "revoke", "roles", "list"]
ROLES = ["control_room", "safeguarding", "admin", "Control-Room", "superuser"]
TIMES = [
    "at",
    "now",
    "14:30",
    "2:30pm",
    "yesterday",
    "23:10",
    "24/11",
    "24/11/2026",
    "2026-11-24",
    "25:99",
    "31/02",
    "01/01/0001",
    "31/12/9999",
    "GMT",
    "BST",
    "+01:00",
    "tomorrow",
    "Tue",
    "29/03/2026 01:30",
]
NUMBERS = ["4", "0", "-1", "1e308", "inf", "nan", "4h", "72", "73", "0.0001", "1_0", "٣"]


def refs(episodes: int) -> st.SearchStrategy[str]:
    """Episode references as people type them, and ones no episode has."""
    real = st.integers(1, max(episodes, 1))
    return st.one_of(
        real.map(lambda n: f"M-{n}"),
        real.map(lambda n: f"m{n}"),
        real.map(str),
        st.sampled_from(
            [
                "M-0",
                "M-99",
                "99999999999999999999",
                "M--1",
                "-1",
                "M-1.5",
                "M-١",
                "Ｍ-１",
                "M-",
                "m 1",
                "<@U123>",
            ]
        ),
    )


def mentions(users: list[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(users).map(lambda u: f"<@{u}>"),
        st.sampled_from(users).map(lambda u: f"<@{u}|someone>"),
        st.sampled_from(["<@W0ENTERPRISE>", "<@U" + "A" * 40 + ">", "<@u123>", "@here", "<@>"]),
    )


def huge_text() -> st.SearchStrategy[str]:
    """Slack caps a slash command's text at 4,000 characters; forms at 3,000 a field. Drawn as
    a short piece repeated: drawing thousands of characters one by one is slow."""
    piece = st.one_of(
        st.sampled_from(["x", "ß", "ﷺ", "🚨", "<!channel>", "\x00", "a ", "M-1 "]),
        st.text(min_size=1, max_size=12),
    )
    return st.tuples(piece, st.integers(100, 4000)).map(lambda t: (t[0] * t[1])[:4000])


# -- slash commands --------------------------------------------------------------------------


@dataclass(frozen=True)
class SlashCase:
    """`/missing <text>`; `sure_junk` when no subcommand matches, so it can only show help."""

    text: str
    sure_junk: bool


def slash_texts(episodes: int, users: list[str]) -> st.SearchStrategy[SlashCase]:
    word = st.one_of(
        st.sampled_from(SUBCOMMANDS + RHI_ACTIONS + ADMIN_ACTIONS + ROLES + TIMES + NUMBERS),
        st.sampled_from(JUNK_WORDS),
        refs(episodes),
        mentions(users),
        st.text(max_size=12),
        st.just("by"),
    )
    separator = st.sampled_from([" ", "  ", "\t", " \n "])
    rest = st.lists(st.tuples(word, separator), max_size=8)

    @st.composite
    def joined(draw: st.DrawFn, first: st.SearchStrategy[str]) -> str:
        words = [(draw(first), " "), *draw(rest)]
        return "".join(w + s for w, s in words).strip(" ")

    subcommand = st.sampled_from([v for s in SUBCOMMANDS for v in (s, s.upper(), s.title())])
    not_a_subcommand = st.one_of(
        st.sampled_from(JUNK_WORDS + TIMES + NUMBERS).filter(str.strip),
        st.text(min_size=1, max_size=20).filter(str.strip),
    ).filter(lambda w: w.split()[0].lower() not in SUBCOMMANDS if w.split() else True)
    mixed = joined(subcommand).map(lambda t: SlashCase(t, sure_junk=False))
    junk = st.one_of(
        joined(not_a_subcommand),
        huge_text().filter(lambda t: (t.split() or [""])[0].lower() not in SUBCOMMANDS),
        st.just(""),
    ).map(lambda t: SlashCase(t, sure_junk=_shows_help(t)))
    valid = valid_commands(episodes, users).map(lambda t: SlashCase(t, sure_junk=False))
    return st.one_of(valid, mixed, junk)


def _shows_help(text: str) -> bool:
    words = text.split()
    return not words or words[0].lower() not in SUBCOMMANDS or words[0].lower() == "help"


def valid_commands(episodes: int, users: list[str]) -> st.SearchStrategy[str]:
    """Commands as the README documents them, with valid references, times and notes."""
    ref = st.integers(1, max(episodes, 1)).map(lambda n: f"M-{n}")
    note = st.text(
        st.characters(codec="utf-8", exclude_categories=["Cc", "Cs", "Zl", "Zp"]), max_size=40
    )
    when = st.sampled_from(["", " at 11:00", " at now", " at yesterday 23:10", " at 24/11 10:00"])
    person = st.sampled_from(users).map(lambda u: f"<@{u}>")
    return st.one_of(
        st.sampled_from(["list", "rhi", "help", "admin roles", ""]),
        st.tuples(ref).map(lambda t: f"show {t[0]}"),
        st.tuples(ref, when, note).map(lambda t: f"returned {t[0]}{t[1]} {t[2]}"),
        st.tuples(ref, note.filter(str.strip)).map(lambda t: f"reopen {t[0]} {t[1]}"),
        st.tuples(ref, st.sampled_from(["offered", "declined"])).map(
            lambda t: f"rhi {t[0]} {t[1]}"
        ),
        st.tuples(ref, note.filter(str.strip)).map(lambda t: f"rhi {t[0]} notdone {t[1]}"),
        st.tuples(ref, note.filter(lambda n: n.strip() and " by " not in f" {n} ")).map(
            lambda t: f"rhi {t[0]} done by {t[1]}"
        ),
        st.tuples(ref, person).map(lambda t: f"rhi {t[0]} assign {t[1]}"),
        st.tuples(ref, st.integers(1, 72)).map(lambda t: f"rhi {t[0]} snooze {t[1]}"),
        st.tuples(st.sampled_from(["grant", "revoke"]), person, st.sampled_from(ROLES[:3])).map(
            lambda t: f"admin {t[0]} {t[1]} {t[2]}"
        ),
        st.tuples(note).map(lambda t: f"new {t[0]}"),
    )


# -- JSON junk -------------------------------------------------------------------------------

# Any JSON value where Slack sends something else: scalars, and shallow lists and objects.
# (Recursive strategies cost milliseconds a draw; shallow junk breaks the same code paths.)
JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
    st.sampled_from(["", "1:1", "<!channel>", "\x00", "9" * 40, "\ud800"]),
)
JSON_VALUES: st.SearchStrategy[Any] = st.one_of(
    JSON_SCALARS,
    st.lists(JSON_SCALARS, max_size=3),
    st.dictionaries(st.sampled_from(["id", "value", "type", "x"]), JSON_SCALARS, max_size=3),
    # Copied: a test that builds on a drawn value must not change the constant behind it.
    st.sampled_from([[[]], {"a": {"b": []}}, [{"id": "U1"}], {"id": {"id": "U1"}}]).map(
        copy.deepcopy
    ),
)
# Never what Slack sends where it sends an id, an object or a typed answer.
WRONG_TYPES: st.SearchStrategy[Any] = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False),
    st.lists(JSON_SCALARS, max_size=3),
    st.dictionaries(st.sampled_from(["id", "value", "x"]), JSON_SCALARS, max_size=2),
)
# Wrong types that no reading takes for "not answered".
SOMETHING_WRONG = WRONG_TYPES.filter(lambda v: v not in (None, False, 0, "", [], {}))


@dataclass
class Mutation:
    """What a strategy changed in an otherwise valid payload, and whether that alone makes it
    invalid (`breaks`); shown in a failing example so the cause is obvious."""

    where: str
    value: Any
    breaks: bool


# -- the new-episode form --------------------------------------------------------------------

_PRINTABLE = st.characters(codec="utf-8", exclude_categories=["Cc", "Cs", "Zl", "Zp"])
_LETTERS = st.characters(categories=["Lu", "Ll"])
_NAMES = st.one_of(
    st.tuples(st.text(_LETTERS, min_size=1, max_size=12), st.text(_PRINTABLE, max_size=20))
    .map(lambda t: f"{t[0]} {t[1]}")
    .filter(lambda n: len(" ".join(n.split())) <= 200),
    st.sampled_from(["Zebedee Quux", "Zoë Ána", "O'Brien", "<!channel> Smith", "Strauß"]),
)
_FACTORS = st.lists(
    st.sampled_from(["cse", "cce", "mental_health", "self_harm", "medication", "other"]),
    unique=True,
    max_size=3,
)
_RISKS = st.sampled_from(["high", "medium", "low", "no_apparent_risk"])


def valid_answers(now: datetime, officers: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    """Forms a call handler could submit: every rule met (under 18, seen in the past...).
    Build once per test: strategies built inside a draw are validated again on every draw."""
    today = now.date()
    minutes = st.integers(1, 60 * 24 * 30)
    ages = st.integers(0, 17 * 365)
    # Short random text, or a long piece of markup, SQL and emoji: every character Hypothesis
    # draws costs it a choice, so length comes from repetition.
    pieces = st.sampled_from([*MARKUP, *SQLISH, *UNICODE[:10], "12 Acacia Avenue", "07700 900123"])
    longer = st.tuples(pieces, st.integers(1, 30)).map(lambda t: (t[0] + " ") * t[1])
    place = st.one_of(
        st.text(_PRINTABLE, min_size=1, max_size=20), longer.map(lambda s: s[:400])
    ).filter(str.strip)
    note = st.one_of(st.text(_PRINTABLE, max_size=20), longer.map(lambda s: s[:2000]))
    short = st.one_of(st.text(_PRINTABLE, max_size=20), pieces)
    officer = st.sampled_from(officers)

    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any]:
        seen = now - timedelta(minutes=draw(minutes))
        dob = min(seen.date(), today) - timedelta(days=draw(ages))
        looked_after = draw(st.booleans())
        answers: dict[str, Any] = {
            "child_name": draw(_NAMES),
            "date_of_birth": dob.isoformat(),
            "last_seen_at": int(seen.timestamp()),
            "last_seen_place": draw(place),
            "risk_level": draw(_RISKS),
            "looked_after": "yes" if looked_after else "no",
            "risk_factors": draw(_FACTORS),
            "description": draw(note),
            "reported_by": draw(note),
            "incident_ref": draw(short),
            "officer": draw(officer),
        }
        if looked_after:
            answers["placing_authority"] = draw(short)
        return answers

    return build()


TEXT_FIELDS = ["child_name", "last_seen_place", "description", "reported_by", "incident_ref"]
LIMITS = {
    "child_name": 200,
    "last_seen_place": 400,
    "placing_authority": 200,
    "description": 2000,
    "reported_by": 2000,
    "incident_ref": 60,
}


def bad_dates(today: date) -> st.SearchStrategy[Any]:
    """`selected_date` values no rule accepts: not ISO, not a date, the future, an adult."""
    return st.one_of(
        SOMETHING_WRONG,
        st.sampled_from(["31-31-31", "2012-02-30", "soon", "0001-01-01", "9999-12-31", "2012"]),
        st.sampled_from(["20120304", "2012-W10-1", "١٢٣٤-٠١-٠١"]),  # ISO forms Slack never sends
        st.integers(1, 3000).map(lambda d: (today + timedelta(days=d)).isoformat()),
        st.integers(19 * 366, 200 * 365).map(lambda d: (today - timedelta(days=d)).isoformat()),
    )


def bad_moments(now: datetime) -> st.SearchStrategy[Any]:
    """`selected_date_time` values no rule accepts: not whole seconds, negative, huge, the
    future, or before the child was born."""
    return st.one_of(
        SOMETHING_WRONG.filter(lambda v: not isinstance(v, int) or v < 0 or v > now.timestamp()),
        st.sampled_from(["soon", "1.5", "-1", "1e30", "NaN", str(int(now.timestamp()) - 60)]),
        st.integers(-(2**63), -1),
        st.integers(0, 10**9),  # 1970-2001: before any child logged here was born
        st.integers(int(now.timestamp()) + 60, 2**63),
    )


def _bad_text(block_id: str) -> st.SearchStrategy[Any]:
    limit = LIMITS[block_id]
    over = st.sampled_from(["x", "ß", "🚨", "<!channel>"]).map(lambda s: s * (limit + 1))
    controlled = st.tuples(st.text(max_size=10), st.sampled_from(CONTROL_CHARS[:7])).map(
        lambda t: f"Jane {t[0]}{t[1]}"
    )
    options = [SOMETHING_WRONG, over, controlled, st.just("Jane \ud800")]
    if block_id == "child_name":
        # Under 200 characters as typed, over 200 once case-folded for matching.
        options.append(st.sampled_from(["ß" * 101, "ﬃ" * 67, "ﷺ" * 12, "Jane " + "ß" * 190]))
        options.append(st.sampled_from(["12345", "   ", "🚨🚨", "<@U1> 42"]))
    if block_id == "last_seen_place":
        options.append(st.sampled_from(["   ", "\t\n"]))
    return st.one_of(*options)


# A text answer no rule accepts: wrong type, over the limit, control characters.
BAD_TEXTS = {block_id: _bad_text(block_id) for block_id in LIMITS}
