"""The Markdown side of the benchmark: a section per run of `make bench`, a row per combination.

    python -m bench.report --out docs/benchmarks.md --title "Before the due-work redesign" \
        --combos "sqlite:10000 postgresql:10000" --args "--runs 3"

starts a section (heading with the git commit, the machine, the exact commands, the table's
header); each `python -m bench.scheduler ... --out docs/benchmarks.md` then appends its row.
"""

from __future__ import annotations

import argparse
import os
import platform
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent

COLUMNS = (
    "backend",
    "episodes (history + open)",
    "open RHIs / due",
    "first pass",
    "of which due work (claim, decide, enqueue)",
    "second pass",
    "outbox rows written (expected)",
    "longest write transaction: 1st / 2nd pass (count)",
    "`/missing new` ack during a pass: median / max (saved)",
    "ack, no pass running",
    "`/healthz` first 200",
    "peak RSS in pass",
)


def git_commit() -> str:
    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, check=False
        ).stdout.strip()

    sha = git("rev-parse", "--short", "HEAD") or "unknown"
    # Only the code under test counts: a dirty docs/ or bench/ does not change the figures.
    dirty = git("status", "--porcelain", "--", "bot", "storage", "handlers")
    return sha + ("+uncommitted" if dirty else "")


def postgres_version(pg_url: str) -> str:
    try:
        engine = create_engine(pg_url)
        with engine.connect() as conn:
            version = str(conn.scalar(text("SHOW server_version")))
        engine.dispose()
        return version
    except Exception as exc:  # no server: say so rather than fail the whole run
        return f"unavailable ({type(exc).__name__})"


def memory_gib() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def section(title: str, commands: list[str], pg_url: str) -> str:
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "",
        f"## {title} (commit {git_commit()})",
        "",
        f"- Date: {now}",
        f"- Machine: {os.cpu_count()} CPUs ({cpu_model()}), {memory_gib()} RAM, "
        f"{platform.system()} {platform.release()}",
        f"- Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
        f"PostgreSQL {postgres_version(pg_url)}",
        "- Commands (`make bench` runs exactly these, one after the other):",
        "",
        "```sh",
        *commands,
        "```",
        "",
        "| " + " | ".join(COLUMNS) + " |",
        "|" + "---|" * len(COLUMNS),
    ]
    return "\n".join(lines) + "\n"


def append(path: Path, textual: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as out:
        out.write(textual)


def row(cells: list[str]) -> str:
    return "| " + " | ".join(c.replace("|", "/") for c in cells) + " |\n"


def main(argv: list[str] | None = None) -> int:
    from bench.databases import pg_server_url

    parser = argparse.ArgumentParser(prog="python -m bench.report")
    parser.add_argument("--out", default="docs/benchmarks.md")
    parser.add_argument("--title", default="Scheduler benchmark")
    parser.add_argument("--combos", default="", help="backend:size ..., as make bench runs them")
    parser.add_argument("--args", default="", help="extra arguments given to each run")
    parser.add_argument("--pg-url", default=None)
    args = parser.parse_args(argv)
    extra = f" {args.args.strip()}" if args.args.strip() else ""
    commands = [
        f"python -m bench.scheduler --backend {combo.split(':')[0]} --size {combo.split(':')[1]}"
        f"{extra} --out {args.out}"
        for combo in args.combos.split()
    ]
    append(Path(args.out), section(args.title, commands, pg_server_url(args.pg_url)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
