"""Start `missing-bot serve` processes quickly: fork them from a process that has already
imported the bot.

Importing the bot (Bolt, the Slack SDK, SQLAlchemy, Alembic, pydantic, waitress) is about 0.9 s
of CPU, nine tenths of a copy's start-up. A test that kills and restarts the bot 20 times on a
shared 2-core machine would spend most of its time importing. Here one process imports it all
once (`python -m tests.support.forkserver`, started by `ForkServer`) and forks a child per copy;
the child sets PORT, sends its output to a log file and runs `bot.cli.main(["serve"])`: the
same code as the console script, in its own process, with its own sockets and database
connections, that SIGKILL ends as it would end any other.

Protocol on the fork server's stdin/stdout: a line "<port> <log path>" starts a copy, and the
server answers with its pid. The server reaps the children.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

# Everything `serve` imports, so that children start with it loaded.
PRELOAD = (
    "bot.cli",
    "bot.serve_commands",
    "bot.app",
    "bot.web",
    "handlers",
    "storage.migrate",
    "alembic.command",
    "alembic.runtime.migration",
    "psycopg",
    "waitress.server",
    "apscheduler.schedulers.background",
    "slack_bolt.adapter.wsgi",
)


class ForkServer:
    """The parent side: start the fork server, then `spawn` copies of `serve`."""

    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        root = str(Path(__file__).resolve().parents[2])
        path = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
        self._popen = subprocess.Popen(
            [sys.executable, "-m", "tests.support.forkserver"],
            env={**env, "PYTHONPATH": path},
            cwd=cwd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            bufsize=1,
        )

    def spawn(self, port: int, log: Path) -> int:
        """Start a copy of `serve` on `port`, its output in `log`; its pid."""
        assert self._popen.stdin is not None and self._popen.stdout is not None
        self._popen.stdin.write(f"{port} {log}\n")
        self._popen.stdin.flush()
        answer = self._popen.stdout.readline()
        if not answer.strip():
            raise RuntimeError("the fork server stopped")
        return int(answer)

    def close(self) -> None:
        if self._popen.poll() is None:
            self._popen.kill()
        self._popen.wait(timeout=10)

    def __enter__(self) -> ForkServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _reap(_signum: int, _frame: Any) -> None:
    while True:
        try:
            pid, _status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _child(port: str, log: str) -> None:
    import bot.cli

    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    out = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(out, 1)
    os.dup2(out, 2)
    os.close(out)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    os.environ["PORT"] = port
    # SystemExit ends the child as the console script ends: atexit handlers, thread joins.
    sys.exit(bot.cli.main(["serve"]))


def main() -> None:
    import importlib

    for name in PRELOAD:
        importlib.import_module(name)
    signal.signal(signal.SIGCHLD, _reap)
    for line in sys.stdin:
        port, log = line.split(maxsplit=1)
        pid = os.fork()
        if pid == 0:
            _child(port, log.strip())
        print(pid, flush=True)


if __name__ == "__main__":
    main()
