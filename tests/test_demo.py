"""`missing-bot demo`, driven as a person would: lines typed in, the bot's posts read back."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import create_engine, func, select

from bot.settings import Settings
from demo.console import run_demo
from demo.render import mrkdwn
from demo.terminal import Style
from storage.models import Episode, ReturnInterview

LONDON = ZoneInfo("Europe/London")
Line = str | Callable[[str], str]


class Script(io.TextIOBase):
    """Stdin whose lines may depend on what the demo printed so far (a ref, a button number)."""

    def __init__(self, lines: list[Line], out: io.StringIO) -> None:
        self.lines = list(lines)
        self.out = out

    def readable(self) -> bool:
        return True

    def readline(self, size: int | None = -1) -> str:
        if not self.lines:
            return ""
        line = self.lines.pop(0)
        return (line(self.out.getvalue()) if callable(line) else line) + "\n"


def demo(tmp_path: Path, lines: list[Line]) -> tuple[int, str]:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        demo_database_url=f"sqlite:///{tmp_path / 'demo.sqlite3'}",
        quiet_hours="off",
    )
    out = io.StringIO()
    code = run_demo(settings, stdin=Script(lines, out), stdout=out)  # type: ignore[arg-type]
    return code, out.getvalue()


def post(transcript: str, label: str, containing: str = "") -> str:
    """The first post printed under `[label]` (its indented lines too) that contains a text."""
    pattern = re.compile(rf"^\[{re.escape(label)}\] .*(?:\n    .*)*", re.MULTILINE)
    for found in pattern.finditer(transcript):
        if containing in found[0]:
            return found[0]
    raise AssertionError(f"no [{label}] post containing {containing!r} in:\n{transcript}")


def local(when: datetime) -> str:
    return when.astimezone(LONDON).strftime("%d/%m/%Y %H:%M")


def test_a_session_logs_returns_and_reminds(tmp_path: Path) -> None:
    now = datetime.now(LONDON)
    today = now.date()
    ref = "M-0"

    def new_ref(out: str) -> str:
        nonlocal ref
        ref = re.findall(r"Logged (M-\d+)", out)[-1]
        return f"/missing returned {ref} at {local(now - timedelta(hours=1))} found at a friend's"

    def click_done(out: str) -> str:
        reminder = post(out, "DM to @officer", f"Return home interview for {ref} due")
        number = re.search(r":click (\d+) Done", reminder)
        assert number is not None
        return f":click {number[1]} Done"

    code, out = demo(
        tmp_path,
        [
            "/missing list",
            "hello",  # not a command: a hint, not a crash
            "/missing new",
            ":cancel",
            "/missing new Poppy Example",
            "",  # Enter keeps the name typed after `new`
            "01/01/1996",  # 30 years old: the bot refuses, the console asks again
            local(now - timedelta(hours=3)),
            "Cornhill bus station",
            "High",
            "1",  # looked after: Yes
            "London Borough of Hackney",
            "1,3",
            "Black hoodie, grey joggers",
            "Foster carer, 01473 000000",
            "CAD-0001",
            "",  # officer: Enter keeps the person logging
            f"{date(today.year - 14, 3, 4):%d/%m/%Y}",
            new_ref,
            "/missing returned M-99999 now",
            ":click 999 Done",
            ":advance 49",
            click_done,
            ":time",
            ":quit",
        ],
    )

    assert code == 0
    assert "Nothing is sent to Slack; no Slack credentials are used." in out
    assert re.search(r"Seeded \d+ synthetic episodes \(\d+ still missing\)", out)
    listing = post(out, "private to you", "Open episodes:")
    assert "high risk first, then longest missing" in listing and "· missing" in listing
    assert "Type a /missing command as in Slack" in out
    assert "Form abandoned; nothing was submitted." in out

    # The date of birth is refused by the bot, shown per field, and asked again alone.
    assert "! Date of birth: The child must be under 18" in out
    # The form starts with 11 fields; answering "looked after: Yes" adds the placing authority.
    assert out.count("[2/11] Date of birth") == 1 and out.count("[3/11]") == 1
    assert out.count("[7/12] Placing authority") == 1
    assert out.count("[2/12] Date of birth") == 1  # asked again alone after the bot's error

    channel = post(out, "#control-room", f"{ref} ·")
    assert "P.E." in channel and "age 14" in channel and "High risk" in channel
    assert "Hackney" in channel
    assert "Poppy" not in channel and "Example" not in channel and "Cornhill" not in channel
    assert f"Logged {ref}: P.E., age 14" in post(out, "DM to @officer", f"Logged {ref}")

    returned = post(out, f"#control-room thread {ref}", "returned")
    assert (
        "recorded by @officer" in returned
        and "Return home interview (local authority) due by" in returned
    )
    assert "There is no episode M-99999." in post(out, "private to you", "M-99999")
    assert "No message with that number has buttons" in out

    reminder = post(out, "DM to @officer", f"Return home interview for {ref} due")
    assert "[Done] [Declined] [Snooze 4 h] [Reassign]" in reminder
    updated = post(out, "updated DM to @officer", "Marked completed by @officer")
    assert "[Done]" not in updated
    assert "completed" in post(out, f"#control-room thread {ref}", "Return home interview for")
    assert "ahead of real time" in out and out.rstrip().endswith("Stopping the bot...")


def test_second_run_uses_the_data_of_the_first(tmp_path: Path) -> None:
    code, first = demo(tmp_path, [":quit"])
    assert code == 0 and "Seeded " in first
    engine = create_engine(f"sqlite:///{tmp_path / 'demo.sqlite3'}")
    with engine.connect() as conn:
        seeded = conn.scalar(select(func.count()).select_from(Episode))
    code, second = demo(tmp_path, [])  # end of input quits too
    assert code == 0 and "Seeded " not in second
    assert f"Using the {seeded} episodes already in the database" in second
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(Episode)) == seeded
    engine.dispose()


def test_mrkdwn_reads_as_plain_text() -> None:
    names = {"U1": "pc.ashby"}.get
    text = "*M-3* by <@U1> in <#C9|control> &lt;!channel&gt; :warning: `<ref>` <https://x.org|docs>"
    shown = mrkdwn(text, user_name=lambda u: names(u) or u, style=Style(False))
    assert shown == "M-3 by @pc.ashby in #control <!channel> ⚠ `<ref>` docs (https://x.org)"


def suggested(transcript: str) -> tuple[int, int]:
    """The references the banner suggests: (an episode to return, an interview to record)."""
    returned = re.search(r"^  /missing returned M-(\d+)", transcript, re.MULTILINE)
    rhi = re.search(r"^  /missing rhi M-(\d+) done$", transcript, re.MULTILINE)
    assert returned is not None and rhi is not None, transcript
    return int(returned[1]), int(rhi[1])


def test_the_moved_clock_is_kept_with_the_data(tmp_path: Path) -> None:
    database = tmp_path / "demo.sqlite3"
    engine = create_engine(f"sqlite:///{database}")
    returned: list[int] = []

    def return_the_suggested(out: str) -> str:
        returned.append(suggested(out)[0])
        return f"/missing returned M-{returned[0]} now"

    code, first = demo(tmp_path, [":advance 49", return_the_suggested, ":quit"])
    assert code == 0 and f"M-{returned[0]} returned at" in first
    kept = tmp_path / "demo.clock.json"
    assert kept.stat().st_mode & 0o777 == 0o600
    assert json.loads(kept.read_text())["offset_seconds"] == 49 * 3600

    checked: dict[str, object] = {}

    def check_the_banner(out: str) -> str:
        # Read while the demo runs: what the banner suggests exists, and fits.
        to_return, to_record = suggested(out)
        with engine.connect() as conn:
            checked["missing"] = conn.scalar(select(Episode.status).where(Episode.id == to_return))
            checked["open rhi"] = conn.scalar(
                select(func.count())
                .select_from(ReturnInterview)
                .join(Episode, Episode.id == ReturnInterview.episode_id)
                .where(
                    ReturnInterview.episode_id == to_record,
                    ReturnInterview.status.in_(("pending", "offered")),
                    Episode.status == "returned",
                )
            )
        return ":time"

    # The interview of the episode returned 49 h ahead: recorded "now", which is after the
    # return only if the clock is still 49 h ahead.
    code, second = demo(tmp_path, [check_the_banner, f"/missing rhi M-{returned[0]} done", ":quit"])
    engine.dispose()
    assert code == 0
    assert "Demo clock: 49 h ahead of real time (2 d 1 h)" in second
    assert f"kept in {kept}" in second
    time_shown = second[second.index("Demo time:") :]
    assert "49 h ahead of real time" in time_shown
    assert f"Return home interview for M-{returned[0]}: completed. Recorded." in second
    assert checked == {"missing": "missing", "open rhi": 1}
    assert "M-3 at 14:30" not in second  # no fixed reference any more


def test_a_fresh_database_starts_at_real_time(tmp_path: Path) -> None:
    # A clock kept for a database since deleted does not move the new one.
    (tmp_path / "demo.clock.json").write_text('{"offset_seconds": 176400}')
    code, out = demo(tmp_path, [":time", ":quit"])
    assert code == 0 and "Demo clock: real time" in out
    assert not (tmp_path / "demo.clock.json").exists()
