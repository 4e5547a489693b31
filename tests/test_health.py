"""/healthz: database reachable, and a scheduler pass completed within the last 5 minutes."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from tests.support.harness import Bot

# The health check reads without a write lock: done differently on each database.
pytestmark = pytest.mark.both_databases


def get_health(bot: Bot) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(f"{bot.url}/healthz", timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_health_follows_the_scheduler(bot: Bot) -> None:
    # Healthy as soon as it can serve: the first pass has not run yet, nor need it have.
    status, report = get_health(bot)
    assert status == 200 and "starting" in report["scheduler"]
    bot.clock.advance(minutes=5, seconds=1)
    status, report = get_health(bot)
    assert status == 503 and "no scheduler pass has completed" in report["scheduler"]
    bot.sweep()
    status, report = get_health(bot)
    assert status == 200 and report["database"] == "ok" and report["scheduler"].startswith("ok")
    bot.clock.advance(minutes=4, seconds=59)
    assert get_health(bot)[0] == 200
    bot.clock.advance(seconds=2)
    status, report = get_health(bot)
    assert status == 503 and "last scheduler pass completed 301 s ago" in report["scheduler"]
    bot.sweep()
    assert get_health(bot)[0] == 200


def test_unknown_paths_and_methods(bot: Bot) -> None:
    for path, method, expected in (("/nope", "GET", 404), ("/slack/events", "GET", 405)):
        request = urllib.request.Request(f"{bot.url}{path}", method=method)
        try:
            urllib.request.urlopen(request, timeout=5)
            code = 200
        except urllib.error.HTTPError as exc:
            code = exc.code
        assert code == expected
