"""`missing-bot digest [--date] [--dry-run] [--force]`, run as an operator runs it (in this
process, real clock), against a real database and the fake Slack."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.cli import main
from fakeslack import FakeSlack
from storage.db import Database
from storage.models import AuditEvent
from tests.support.digest_reading import digests, headline, text_of
from tests.support.digest_seed import Ep, seed
from tests.support.harness import CONTROL, SAFEGUARDING


@pytest.fixture
def cli(
    fake_slack: FakeSlack, sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Any:
    monkeypatch.chdir(tmp_path)  # no .env of a developer's
    for name, value in {
        "DATABASE_URL": sqlite_url,
        "SLACK_API_URL": fake_slack.api_url,
        "SLACK_BOT_TOKEN": "xoxb-test",
        "CONTROL_ROOM_CHANNEL": CONTROL,
        "SAFEGUARDING_CHANNEL": SAFEGUARDING,
        "SLACK_CHANNEL_PACE_SECONDS": "0",
    }.items():
        monkeypatch.setenv(name, value)

    def run(*args: str, capsys: Any) -> tuple[int, str, str]:
        capsys.readouterr()
        code = main(["digest", *args])
        out, err = capsys.readouterr()
        return code, out, err

    return run


def test_dry_run_then_post_then_refused_then_forced(
    cli: Any, fake_slack: FakeSlack, sqlite_url: str, capsys: Any
) -> None:
    now = datetime.now(UTC)
    today = now.astimezone(ZoneInfo("Europe/London")).date()
    db = Database.from_url(sqlite_url)
    episodes = [Ep("Amy Adams", now - timedelta(minutes=50), "high"), Ep("Ben Brown", now)]
    seed(db, episodes)

    code, out, _ = cli("--dry-run", capsys=capsys)
    assert code == 0
    assert f"Safeguarding digest · {today:%a %d/%m/%Y}" in out
    assert "*M-1* A.A., 15" in out and "Adams" not in out
    assert "Posted by an operator" in out
    assert fake_slack.posted == [] and fake_slack.uploads == []

    code, out, _ = cli(capsys=capsys)
    assert (code, out.strip()) == (
        0,
        f"posted the digest for {today.isoformat()} (digest:{SAFEGUARDING}:{today.isoformat()})"
        " with its chart",
    )
    [post] = digests(fake_slack)
    # Ben was logged "now", a moment before the command ran: both count.
    assert sum(headline(post.text or "").new_by_risk.values()) == 2
    assert fake_slack.uploads[0].thread_ts == post.ts

    code, _, err = cli(capsys=capsys)
    assert code == 2 and "already posted" in err and "--force" in err
    assert len(digests(fake_slack)) == 1

    code, out, _ = cli("--force", capsys=capsys)
    assert code == 0
    _, again = digests(fake_slack)
    assert "Posted again by an operator" in text_of(again)
    assert len(fake_slack.uploads) == 2

    code, _, err = cli("--date", (today + timedelta(days=1)).isoformat(), capsys=capsys)
    assert code == 2 and "has not come yet" in err
    with pytest.raises(SystemExit) as bad:
        cli("--date", "30/03/2026", capsys=capsys)
    assert bad.value.code == 2
    assert "is not a date like 2026-03-30" in capsys.readouterr().err

    with db.read() as session:
        actions = [e.action for e in session.query(AuditEvent).order_by(AuditEvent.id)]
    assert actions == ["digest.viewed", "digest.posted", "digest.posted"]
    db.dispose()


@pytest.mark.parametrize(
    ("name", "value", "line"),
    [
        ("DIGEST_TIME", "8am", "setting DIGEST_TIME is invalid: Value error, must be a time"),
        ("HANDOVER_TIMES", "07:00,7pm", "setting HANDOVER_TIMES is invalid: Value error, '7pm'"),
        ("DIGEST_SHOW_NAMES", "perhaps", "setting DIGEST_SHOW_NAMES is invalid"),
        ("REPEAT_THRESHOLD", "1", "setting REPEAT_MISSING_THRESHOLD / REPEAT_THRESHOLD is invalid"),
    ],
)
def test_a_bad_digest_setting_stops_start_up_with_one_line(
    name: str, value: str, line: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(name, value)
    assert main(["digest", "--dry-run"]) == 2
    [said] = capsys.readouterr().err.strip().splitlines()
    assert said.startswith(f"missing-bot: {line}")
