"""The daily digest on a busy day: every figure and list checked against counts made here from
the seeded episodes, posted once, its chart uploaded into its thread; `/missing digest`."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from PIL import Image

from bot.domain.access import Role
from bot.domain.states import Risk
from tests.support.busy_day import AT, SINCE, named, seed_busy_day
from tests.support.digest_reading import (
    averages,
    digests,
    headline,
    refs,
    section,
    text_of,
)
from tests.support.digest_seed import (
    Ep,
    expected,
    missing_at,
    new_in,
    returned_in,
    rhis_due_at,
    rhis_overdue_at,
)
from tests.support.harness import SAFEGUARDING, Bot

# These tests read the chart in the digest's thread.
pytestmark = pytest.mark.digest_chart

PNG = b"\x89PNG\r\n\x1a\n"


def seeded(bot: Bot) -> list[Ep]:
    bot.sweep()  # the first pass plans the digest for 08:00 tomorrow
    return seed_busy_day(bot.services.db)


@pytest.mark.both_databases
def test_busy_day_digest_says_what_the_records_say(bot: Bot) -> None:
    episodes = seeded(bot)
    bot.clock.set(AT - timedelta(minutes=1))
    bot.sweep()
    assert digests(bot.fake) == []  # not before 08:00
    bot.clock.set(AT)
    bot.sweep()
    [post] = digests(bot.fake)

    want = expected(episodes, SINCE, AT)
    shown = headline(post.text or "")
    assert shown.new_by_risk == want.new_by_risk
    assert sum(shown.new_by_risk.values()) == 7  # Fay's void episode does not count
    assert (shown.returns, shown.missing, shown.overdue, shown.due) == (
        want.returns,
        want.missing,
        want.overdue,
        want.due,
    )
    assert averages(post) == [
        f"{v:.1f}"
        for v in (want.avg_new, want.avg_returns, want.avg_missing, want.avg_overdue, want.avg_due)
    ]
    # The moment figures a day ago differ from now's: the averages are not now's figures.
    assert want.avg_overdue != want.overdue

    # Still missing: high risk first, then longest missing.
    rank = {r.value: r.rank for r in Risk}
    missing = sorted(missing_at(episodes, AT), key=lambda e: (rank[e.risk], e.last_seen))
    assert refs(section(post, "Still missing")) == [e.ref for e in missing]
    assert refs(section(post, "Returned since")) == [
        e.ref for e in sorted(returned_in(episodes, SINCE, AT), key=lambda e: e.returned or AT)
    ]
    overdue = sorted(rhis_overdue_at(episodes, AT), key=lambda e: e.rhi_due or AT)
    assert refs(section(post, "RHIs overdue")) == [e.ref for e in overdue]
    due = sorted(rhis_due_at(episodes, AT, timedelta(hours=24)), key=lambda e: e.rhi_due or AT)
    assert refs(section(post, "RHIs due in the next 24")) == [e.ref for e in due]
    assert "chased by <@UOFFICER2>" in section(post, "RHIs due in the next 24")

    repeat = section(post, "Repeat missing")
    assert refs(repeat) == [named(episodes, "Gus Gray").ref]
    assert "3 episodes in 30 days" in repeat and "*Repeat missing: 1*" in repeat

    placed = section(post, "Placed from other areas")
    period = new_in(episodes, SINCE, AT)
    from_elsewhere = [e for e in period if e.authority]
    assert f"*Placed from other areas: {len(from_elsewhere)} episodes*" in placed
    camden = [e.ref for e in from_elsewhere if "camden" in (e.authority or "").lower()]
    camden_line = next(line for line in placed.splitlines() if "Camden" in line)
    assert camden_line.startswith(f"• London Borough of Camden: {len(camden)} —")
    assert refs(camden_line) == camden

    assert refs(section(post, "RHIs lapsed")) == [named(episodes, "Quin Quay").ref]
    reviews = section(post, "Risk reviews overdue")
    assert refs(reviews) == [named(episodes, "Ivy Irwin").ref, named(episodes, "Amy Adams").ref]
    undelivered = section(post, "could not deliver")
    assert f"*{named(episodes, 'Lee Lamb').ref}*" in undelivered
    assert "`user_not_found`" in undelivered

    # Reference, initials and age in the channel; never a name.
    text = text_of(post)
    assert "*M-1* A.A., 15 ·" in text
    for surname in {e.name.split()[1] for e in episodes}:
        assert surname not in text

    # Posted once, however many passes follow.
    for minutes in (1, 5, 60, 600):
        bot.clock.set(AT + timedelta(minutes=minutes))
        bot.sweep()
    assert len(digests(bot.fake)) == 1

    # The chart, in the digest's thread, a PNG of the 28 days before.
    [upload] = bot.fake.uploads
    assert (upload.channels, upload.thread_ts) == ((SAFEGUARDING,), post.ts)
    assert [c.method for c in bot.fake.calls if c.method.startswith("files.")] == [
        "files.getUploadURLExternal",
        "files.completeUploadExternal",
    ]
    assert upload.content.startswith(PNG)
    image = Image.open(io.BytesIO(upload.content))
    image.verify()
    assert (image.format, image.size) == ("PNG", (1000, 450))
    month = [e for e in episodes if e.counted and datetime(2026, 10, 28, tzinfo=UTC) <= e.created]
    month = [e for e in month if e.created < datetime(2026, 11, 25, tzinfo=UTC)]
    looked_after = sum(1 for e in month if e.looked_after)
    assert f"{len(month)} in all ({looked_after} of looked-after children)" in (
        upload.initial_comment or ""
    )


def test_digest_preview_is_private_authorised_and_audited(sqlite_bot: Bot) -> None:
    bot = sqlite_bot
    episodes = seeded(bot)
    bot.clock.set(AT - timedelta(hours=2))  # 06:00: before the digest
    answer = bot.slash("digest")
    assert "Preview, shown only to you" in text_of(answer)
    # As of now, since the same time yesterday (no digest yet).
    want = expected(episodes, AT - timedelta(hours=26), AT - timedelta(hours=2))
    shown = headline(answer.text or "")
    assert (shown.new_by_risk, shown.missing, shown.overdue) == (
        want.new_by_risk,
        want.missing,
        want.overdue,
    )
    assert digests(bot.fake) == [] and bot.fake.uploads == []
    [viewed] = bot.audit("digest.viewed")
    assert (viewed.actor, viewed.detail["still_missing"]) == ("UCONTROL1", want.missing)

    bot.grant("UCROOM", Role.CONTROL_ROOM)
    refused = bot.slash("digest", user_id="UCROOM")
    assert re.search(r"safeguarding", refused.text or "") and "M-" not in text_of(refused)
    assert len(bot.audit("digest.viewed")) == 1 and bot.audit("access.refused")


def test_names_only_with_digest_show_names(bot_at: object) -> None:
    bot = bot_at(AT - timedelta(hours=20), digest_show_names=True)  # type: ignore[operator]
    seeded(bot)
    bot.clock.set(AT)
    bot.sweep()
    [post] = digests(bot.fake)
    assert "*M-1* Amy Adams (A.A.), 15" in section(post, "Still missing")
