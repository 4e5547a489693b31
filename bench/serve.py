"""`missing-bot serve`, unchanged, with its clock set to the benchmark's `now`.

    python -m bench.serve --now 2026-11-24T12:00:00+00:00     (settings from the environment)

The seeded data is laid out around a fixed moment (see bench/seed.py), but `serve` reads the
system clock. This shifts `SystemClock` by a constant so the process starts at `now` and then
runs at real speed; everything else is the real command (`bot.cli.main(["serve"])`): settings,
migrations, APScheduler's first tick at start-up, waitress, /healthz.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.serve")
    parser.add_argument("--now", required=True, help="ISO time the process starts at")
    args = parser.parse_args(argv)
    offset = datetime.fromisoformat(args.now).astimezone(UTC) - datetime.now(UTC)

    from bot import clock

    def shifted_now(_self: clock.SystemClock) -> datetime:
        return datetime.now(UTC) + offset

    clock.SystemClock.now = shifted_now  # type: ignore[method-assign,assignment]

    from bot.cli import main as cli_main

    return cli_main(["serve"])


if __name__ == "__main__":
    sys.exit(main())
