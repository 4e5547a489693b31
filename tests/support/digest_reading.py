"""Reading a posted digest back: its figures, the references in each of its lists."""

from __future__ import annotations

import re
from dataclasses import dataclass

from fakeslack import FakeSlack, Posted
from handlers.blocks.as_text import as_text
from tests.support.harness import CONTROL, SAFEGUARDING

HEADLINE = re.compile(
    r"(\d+) new episodes? \((\d+) high, (\d+) medium, (\d+) low, (\d+) no apparent risk\), "
    r"(\d+) returned, (\d+) still missing, (\d+) RHIs? overdue, (\d+) RHIs? due in the next "
    r"24 hours"
)
AVERAGE = re.compile(r"\(7-day avg (\d+\.\d)\)")
REF = re.compile(r"\*(M-\d+)\*")


@dataclass(frozen=True)
class Headline:
    new_by_risk: dict[str, int]
    returns: int
    missing: int
    overdue: int
    due: int


def headline(text: str) -> Headline:
    found = HEADLINE.search(text)
    assert found, f"no headline figures in {text!r}"
    n = [int(g) for g in found.groups()]
    return Headline(
        {"high": n[1], "medium": n[2], "low": n[3], "no_apparent_risk": n[4]},
        n[5],
        n[6],
        n[7],
        n[8],
    )


def averages(post: Posted) -> list[str]:
    """The five 7-day averages, as shown: new, returned, missing, overdue, due."""
    return AVERAGE.findall(text_of(post))


def text_of(post: Posted) -> str:
    return as_text({"text": post.text, "blocks": post.blocks})


def section(post: Posted, title: str) -> str:
    """The lines of the list whose title contains `title` (up to the next list)."""
    lines = text_of(post).splitlines()
    start = next(
        (i for i, line in enumerate(lines) if line.startswith(":") and title in line), None
    )
    if start is None:
        return ""
    taken = [lines[start]]
    for line in lines[start + 1 :]:
        if line.startswith((":", ">", "-")):
            break
        taken.append(line)
    return "\n".join(taken)


def refs(text: str) -> list[str]:
    return REF.findall(text)


def digests(fake: FakeSlack) -> list[Posted]:
    return [
        p
        for p in fake.posted
        if p.kind == "message"
        and p.channel == SAFEGUARDING
        and not p.thread_ts
        and (p.text or "").startswith("Safeguarding digest")
    ]


def handovers(fake: FakeSlack) -> list[Posted]:
    return [
        p
        for p in fake.posted
        if p.kind == "message"
        and p.channel == CONTROL
        and (p.text or "").startswith("Shift handover")
    ]
