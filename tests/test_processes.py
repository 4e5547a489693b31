"""The real `missing-bot` command as an operator runs it: settings, migrate, serve, socket."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from fakeslack import FakeSlack
from storage.migrate import head_revision
from tests.support.socket_fake import SocketModeFake

BOT = [sys.executable, "-m", "bot"]
ROOT = Path(__file__).resolve().parent.parent


def env_for(fake: FakeSlack, tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_"))}
    env.update(
        PYTHONPATH=str(ROOT),
        SLACK_BOT_TOKEN="xoxb-test",
        SLACK_SIGNING_SECRET="secret",
        SLACK_APP_TOKEN="xapp-test",
        SLACK_API_URL=fake.api_url,
        DATABASE_URL=f"sqlite:///{tmp_path}/bot.sqlite3",
        CONTROL_ROOM_CHANNEL="CCONTROL",
        SAFEGUARDING_CHANNEL="CSAFEGUARD",
        TICK_SECONDS="1",
        ADMIN_USER_IDS="UCONTROL1",
    )
    env.update(extra)
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    # A directory with no .env in it, as on a fresh machine.
    return tmp_path


def run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(BOT + args, env=env, cwd=cwd, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize(
    ("setting", "value", "message"),
    [
        ("RHI_DUE_HOURS", "soon", "setting RHI_DUE_HOURS is invalid"),
        ("BOT_TIMEZONE", "Mars/Olympus", "setting BOT_TIMEZONE is invalid"),
        ("SLACK_API_URL", "slack.example", "setting SLACK_API_URL is invalid"),
        ("QUIET_HOURS", "late", "setting QUIET_HOURS is invalid"),
        ("DATABASE_URL", "mysql://x", "setting DATABASE_URL is invalid"),
        ("SLACK_BOT_TOKEN", "", "setting SLACK_BOT_TOKEN is required"),
        ("CONTROL_ROOM_CHANNEL", "", "setting CONTROL_ROOM_CHANNEL is required"),
    ],
)
def test_bad_settings_stop_start_up_with_one_line(
    fake_slack: FakeSlack, run_dir: Path, setting: str, value: str, message: str
) -> None:
    result = run(["serve"], env_for(fake_slack, run_dir, **{setting: value}), run_dir)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr


def test_every_bad_and_missing_setting_is_named_in_one_run(
    fake_slack: FakeSlack, run_dir: Path
) -> None:
    """An operator fixing settings should not have to start the bot once per mistake."""
    env = env_for(
        fake_slack, run_dir, RHI_DUE_HOURS="soon", QUIET_HOURS="late", SLACK_SIGNING_SECRET=""
    )
    del env["CONTROL_ROOM_CHANNEL"]
    result = run(["serve"], env, run_dir)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert [line.split(" is ")[0] for line in lines] == [
        "missing-bot: setting RHI_DUE_HOURS",
        "missing-bot: setting QUIET_HOURS",
        "missing-bot: setting SLACK_SIGNING_SECRET",
        "missing-bot: setting CONTROL_ROOM_CHANNEL",
    ], result.stderr


def closed_port() -> int:
    """A port nothing listens on: connections to it are refused at once."""
    return free_port()


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        ("token refused", "Slack refused the token in SLACK_BOT_TOKEN (invalid_auth)"),
        ("slack unreachable", "Slack could not be reached at SLACK_API_URL"),
        ("database down", "the database in DATABASE_URL"),
    ],
)
def test_what_stops_start_up_is_said_in_one_line(
    fake_slack: FakeSlack, run_dir: Path, fault: str, message: str
) -> None:
    """Something outside the bot stops it: exit 3 and one line naming what, no traceback,
    and nothing half-started (serve never answers)."""
    extra: dict[str, str] = {}
    if fault == "token refused":
        fake_slack.fail("auth.test", "invalid_auth", times=None)
    elif fault == "slack unreachable":
        extra["SLACK_API_URL"] = f"http://127.0.0.1:{closed_port()}/api/"
    else:
        extra["DATABASE_URL"] = f"postgresql+psycopg://postgres@127.0.0.1:{closed_port()}/none"
    for command in ("serve", "socket"):
        result = run([command], env_for(fake_slack, run_dir, **extra), run_dir)
        lines = result.stderr.strip().splitlines()
        assert result.returncode == 3, result.stderr
        assert len(lines) == 1 and message in lines[0], result.stderr
        assert lines[0].startswith(f"missing-bot {command}: "), lines[0]
        assert "Traceback" not in result.stderr + result.stdout


def test_migrate_creates_the_database(fake_slack: FakeSlack, run_dir: Path) -> None:
    result = run(["migrate"], env_for(fake_slack, run_dir), run_dir)
    assert result.returncode == 0, result.stderr
    assert f"database at revision {head_revision()}" in result.stdout
    assert (run_dir / "bot.sqlite3").exists()


@pytest.fixture
def process() -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for proc in started:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)


def wait_http(url: str, timeout: float = 20) -> tuple[int, dict]:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def test_serve_answers_healthz_and_stops_on_sigterm(
    fake_slack: FakeSlack, run_dir: Path, process: list
) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [*BOT, "serve"],
        env=env_for(fake_slack, run_dir, PORT=str(port)),
        cwd=run_dir,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    process.append(proc)
    status, report = wait_http(f"http://127.0.0.1:{port}/healthz")
    deadline = time.monotonic() + 10
    while report.get("scheduler", "").startswith("unhealthy") and time.monotonic() < deadline:
        time.sleep(0.2)  # the first scheduler pass runs right after start
        status, report = wait_http(f"http://127.0.0.1:{port}/healthz")
    assert status == 200 and report["database"] == "ok", report
    assert report["scheduler"].startswith("ok"), report
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/slack/events", data=b"x=1", method="POST"
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=5)
    assert refused.value.code == 401  # unsigned
    proc.send_signal(signal.SIGTERM)
    output, _ = proc.communicate(timeout=15)
    assert proc.returncode == 0, output
    assert "waitress" in output.lower() or "serving" in output.lower()


def test_socket_mode_acknowledges_a_slash_command(
    fake_slack: FakeSlack, run_dir: Path, process: list
) -> None:
    with SocketModeFake() as sock:
        fake_slack.socket_url = sock.ws_url
        proc = subprocess.Popen(
            [*BOT, "socket"],
            env=env_for(fake_slack, run_dir),
            cwd=run_dir,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        process.append(proc)
        sock.wait_connected(timeout=30)
        assert fake_slack.calls_to("apps.connections.open")[0].token == "xapp-test"
        response_url = fake_slack.new_response_url()
        payload = {
            "token": "t",
            "team_id": "T0MISSING",
            "team_domain": "force",
            "channel_id": "CCONTROL",
            "channel_name": "control-room",
            "user_id": "UCONTROL1",
            "user_name": "pc",
            "command": "/missing",
            "text": "list",
            "api_app_id": "A0MISSING",
            "response_url": response_url,
            "trigger_id": "trig-socket-1",
        }
        envelope_id = sock.send_envelope("slash_commands", payload)
        ack = sock.wait_for_ack(envelope_id, timeout=10)
        assert ack["envelope_id"] == envelope_id
        # The answer rides in the acknowledgement itself.
        assert "No episode is open" in ack["payload"]["text"]
        # /missing new opens the form through the same connection.
        payload.update(text="new Jane", trigger_id="trig-socket-2")
        sock.wait_for_ack(sock.send_envelope("slash_commands", payload), timeout=10)
        opened = fake_slack.wait_for_view("new_episode", timeout=10)
        assert opened.trigger_id == "trig-socket-2"
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=20)
        assert proc.returncode == 0, output
