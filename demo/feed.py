"""What the bot posted, turned into labelled terminal text, each post printed once."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import Any

from demo.render import Button, block_lines, button_line, buttons_in
from demo.terminal import Style
from fakeslack import FakeSlack, Posted

_REF = re.compile(r"\bM-\d+\b")
PRIVATE = ("response", "ephemeral")


@dataclass(frozen=True)
class Clickable:
    """A printed message with buttons, numbered for `:click <n> <button>`."""

    number: int
    posted: Posted


class Feed:
    def __init__(
        self,
        fake: FakeSlack,
        *,
        me: str,
        channel_names: dict[str, str],
        style: Style,
    ) -> None:
        self.fake = fake
        self.me = me
        self.channel_names = channel_names
        self.style = style
        self._lock = threading.Lock()
        self._shown = fake.mark()  # what was posted before the console started is not news
        self._clickables: list[Clickable] = []

    # -- new posts ---------------------------------------------------------------------

    def skip_to_now(self) -> None:
        with self._lock:
            self._shown = self.fake.mark()

    def take_new(self) -> list[Posted]:
        """Posts not printed yet, oldest first; each is handed out once (thread-safe)."""
        with self._lock:
            posted = self.fake.posted
            new, self._shown = posted[self._shown :], len(posted)
            return new

    def render_new(self) -> str | None:
        new = self.take_new()
        return "\n".join(self.render(p) for p in new) if new else None

    # -- one post ----------------------------------------------------------------------

    def render(self, posted: Posted, *, current: dict[str, Any] | None = None) -> str:
        """`[label] first line` and the rest indented; buttons numbered for :click."""
        blocks = current.get("blocks", []) if current is not None else posted.blocks
        text = str((current or {}).get("text") or posted.text or "")
        lines = block_lines(blocks, text, user_name=self.user_name, style=self.style)
        buttons = buttons_in(blocks)
        if buttons:
            number = self._remember(posted)
            lines.append(button_line(buttons, number, self.style))
        head = self.style.label(f"[{self.label(posted)}]")
        return "\n".join([f"{head} {lines[0]}", *(f"    {line}" for line in lines[1:])])

    def label(self, posted: Posted) -> str:
        if posted.kind in PRIVATE:
            return (
                "private to you"
                if posted.user in (None, self.me)
                else (f"private to @{self.user_name(posted.user or '')}")
            )
        where = self.where(posted)
        if posted.kind == "update":
            return f"updated {where}"
        return where

    def where(self, posted: Posted) -> str:
        channel = posted.channel or ""
        if posted.kind == "dm" or (channel.startswith("D") and channel not in self.channel_names):
            return f"DM to @{self.user_name(posted.user or channel[1:])}"
        name = "#" + self.channel_names.get(channel, channel.lower())
        if posted.thread_ts and posted.kind != "update":
            ref = self._thread_ref(channel, posted.thread_ts, posted.text or "")
            return f"{name} thread {ref}".rstrip()
        return name

    def user_name(self, user_id: str) -> str:
        return str(self.fake.user(user_id)["name"])

    def _thread_ref(self, channel: str, thread_ts: str, own_text: str) -> str:
        # The parent post starts with the episode's reference; a parent from an earlier demo
        # run is not in this run's fake, but replies name their episode too.
        parent = self.fake.message(channel, thread_ts)
        for text in ((parent or {}).get("text") or "", own_text):
            found = _REF.search(str(text))
            if found:
                return found[0]
        return ""

    # -- buttons -----------------------------------------------------------------------

    def _remember(self, posted: Posted) -> int:
        with self._lock:
            number = len(self._clickables) + 1
            self._clickables.append(Clickable(number, posted))
            return number

    def clickable(self, number: int | None) -> Clickable | None:
        """By the number printed next to its buttons; None means the latest one."""
        with self._lock:
            if not self._clickables:
                return None
            if number is None:
                return self._clickables[-1]
            if 1 <= number <= len(self._clickables):
                return self._clickables[number - 1]
            return None

    def current_buttons(self, clickable: Clickable) -> list[Button] | None:
        """The buttons the message has now (an update may have removed them); None if gone."""
        posted = clickable.posted
        if posted.kind in PRIVATE or not posted.channel or not posted.ts:
            return buttons_in(posted.blocks)
        current = self.fake.message(posted.channel, posted.ts)
        return None if current is None else buttons_in(current.get("blocks") or [])
