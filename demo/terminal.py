"""Line-based terminal I/O that works in a plain terminal, tmux, a pipe or a test's StringIO.

No curses: the console reads whole lines. In a real terminal `input()` gives line editing and
history (readline); messages that arrive while the user is typing are printed above a redrawn
prompt. Anywhere else lines are read from the stream and echoed, so a scripted session prints as
a readable transcript.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Callable
from types import ModuleType
from typing import TextIO

_readline: ModuleType | None
try:
    import readline as _readline
except ImportError:  # not on every platform; input() still works without it
    _readline = None


class Style:
    """ANSI emphasis when writing to a colour terminal; plain text otherwise."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def _wrap(self, code: str, text: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.enabled and text else text

    def bold(self, text: str) -> str:
        return self._wrap("1", text)

    def dim(self, text: str) -> str:
        return self._wrap("2", text)

    def label(self, text: str) -> str:
        return self._wrap("1;36", text)

    def warn(self, text: str) -> str:
        return self._wrap("1;33", text)


def _is_tty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class Terminal:
    def __init__(self, stdin: TextIO, stdout: TextIO) -> None:
        self.stdin = stdin
        self.stdout = stdout
        # input() only talks to the process's own streams, so only they count as interactive.
        self.interactive = (
            stdin is sys.stdin and stdout is sys.stdout and _is_tty(stdin) and _is_tty(stdout)
        )
        self.style = Style(self.interactive and not os.environ.get("NO_COLOR"))
        self._lock = threading.RLock()
        self._prompt: str | None = None  # set while waiting for the user
        self.ended = False  # input ran out (Ctrl-D, end of a script)

    def ask(self, prompt: str) -> str | None:
        """One line without its newline; None at the end of input (Ctrl-D, end of a script)."""
        with self._lock:
            self._prompt = prompt
        try:
            if self.interactive:
                try:
                    return input(prompt)
                except EOFError:
                    self.ended = True
                    self.say("")
                    return None
            with self._lock:
                self._write(prompt)
            line = self.stdin.readline()
            with self._lock:
                if not line:
                    self.ended = True
                    self._write("\n")
                    return None
                line = line.rstrip("\r\n")
                self._write(line + "\n")  # echo: the transcript shows what was "typed"
                return line
        finally:
            with self._lock:
                self._prompt = None

    def say(self, text: str = "") -> None:
        with self._lock:
            self._write(text + "\n")

    def at_prompt(self) -> bool:
        with self._lock:
            return self.interactive and self._prompt is not None

    def interrupt(self, text: str) -> bool:
        """Print above the prompt the user is looking at; False when nobody is at a prompt.

        Only in a real terminal: elsewhere the console prints such messages before the next
        prompt, which keeps scripted transcripts in a stable order.
        """
        return self.interrupt_with(lambda: text)

    def interrupt_with(self, produce: Callable[[], str | None]) -> bool:
        """Like `interrupt`, but the text is only made (and taken) if it can be printed now."""
        with self._lock:
            if not self.interactive or self._prompt is None:
                return False
            text = produce()
            if not text:
                return True
            typed = _readline.get_line_buffer() if _readline is not None else ""
            # \r and erase-line remove the half-typed line; it is redrawn under the message.
            self._write("\r\x1b[K" + text + "\n" + self._prompt + typed)
            return True

    def _write(self, text: str) -> None:
        try:
            self.stdout.write(text)
        except UnicodeEncodeError:
            # A terminal without UTF-8: show what it can rather than fail on a "·" or "✔".
            encoding = getattr(self.stdout, "encoding", None) or "ascii"
            self.stdout.write(text.encode(encoding, "replace").decode(encoding))
        with contextlib.suppress(OSError, ValueError):
            self.stdout.flush()
