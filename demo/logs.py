"""Keeps the bot's log lines out of the conversation: to a file, and warnings as one line."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from bot.log_setup import LIBRARY_FLOORS, hold_back_libraries


class _OneLine(logging.Handler):
    """Warnings and errors as a single line in the console; the traceback goes to the file."""

    def __init__(self, echo: Callable[[str], None], log_file: Path | None) -> None:
        super().__init__(logging.WARNING)
        self.echo = echo
        self.where = f" (details in {log_file})" if log_file else ""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            first = record.getMessage().splitlines()[0] if record.getMessage() else ""
            more = self.where if record.exc_info else ""
            self.echo(f"[bot log] {record.levelname} {record.name}: {first[:200]}{more}")
        except Exception:
            self.handleError(record)


@contextmanager
def demo_logging(level: str, log_file: Path | None, echo: Callable[[str], None]) -> Iterator[None]:
    """Replace the root handlers for the demo's lifetime, then put the old ones back."""
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    handlers: list[logging.Handler] = [_OneLine(echo, log_file)]
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        file_handler = logging.FileHandler(log_file, encoding="utf-8")
        file_handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
        )
        handlers.append(file_handler)
    root.handlers = handlers
    root.setLevel(level.upper())
    libraries = {name: logging.getLogger(name).level for name in LIBRARY_FLOORS}
    hold_back_libraries(root.level)
    try:
        yield
    finally:
        root.handlers = saved_handlers
        root.setLevel(saved_level)
        for name, saved in libraries.items():
            logging.getLogger(name).setLevel(saved)
        for handler in handlers:
            handler.close()
