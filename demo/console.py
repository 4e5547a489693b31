"""The demo console: type `/missing ...` as in Slack, read what the bot posts.

Commands go to the bot as signed Slack requests over HTTP (SlackSender); the bot answers through
the fake Slack's Web API; the console prints every post once, labelled with where it went.
"""

from __future__ import annotations

import contextlib
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from sqlalchemy.engine import make_url

from bot.domain.timetext import fmt_local
from bot.settings import Settings
from demo import banner
from demo.feed import Feed
from demo.forms import FormSession
from demo.logs import demo_logging
from demo.modal_prompts import FormCancelled, FormFiller
from demo.runtime import DEMO_USER, OFFICERS, DemoStack, demo_database_url, start_stack
from demo.seed import seed_if_empty
from demo.terminal import Terminal
from demo.users import Directory
from fakeslack import Posted, SentResponse

PROMPT = "you@control-room> "
QUIT = (":quit", ":q", ":exit")


def run_demo(settings: Settings, *, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout) -> int:
    """Start the bot against a fake Slack, seed it once, run the console; 0 when the user quits."""
    term = Terminal(stdin, stdout)
    log_file = _log_file(demo_database_url(settings))
    with demo_logging(settings.log_level, log_file, _echo(term)):
        term.say("Starting the bot against a local fake Slack...")
        try:
            stack = start_stack(settings)
        except Exception as exc:  # a database that cannot be opened, say: one clear line
            term.say(f"missing-bot demo: could not start: {type(exc).__name__}: {exc}")
            return 1
        try:
            console = Console(stack, term)
            try:
                console.start(
                    log_file=str(log_file) if log_file else None,
                )
            except Exception as exc:  # seeding failed: say so in one line, stop cleanly
                term.say(f"missing-bot demo: could not start: {type(exc).__name__}: {exc}")
                return 1
            console.loop()
        except KeyboardInterrupt:
            term.say("")
        finally:
            term.say("Stopping the bot...")
            stack.stop()
    return 0


def _log_file(database_url: str) -> Path | None:
    """Next to a SQLite database file (./data/demo.log for the default); none otherwise."""
    parsed = make_url(database_url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return None
    if parsed.database == ":memory:":
        return None
    return Path(parsed.database).with_suffix(".log")


def _echo(term: Terminal) -> Callable[[str], None]:
    def echo(line: str) -> None:
        if not term.interrupt(line):
            term.say(line)

    return echo


class Console:
    def __init__(self, stack: DemoStack, term: Terminal) -> None:
        self.stack = stack
        self.term = term
        self.fake = stack.fake
        self.services = stack.services
        self.sender = stack.sender
        self.tz = stack.settings.tz
        self.style = term.style
        self.users = Directory(self.fake, [DEMO_USER, *OFFICERS])
        self.feed = Feed(
            self.fake,
            me=DEMO_USER,
            channel_names={
                stack.settings.control_room_channel: "control-room",
                stack.settings.safeguarding_channel: "safeguarding",
            },
            style=self.style,
        )
        filler = FormFiller(
            term,
            now=stack.clock.now,
            tz=self.tz,
            resolve_user=self.users.resolve,
            user_name=self.users.name,
            known_users=self.users.user_ids,
        )
        self.forms = FormSession(term, fake=self.fake, sender=self.sender, filler=filler)

    # -- start -------------------------------------------------------------------------

    def start(self, *, log_file: str | None) -> None:
        say = self.term.say
        say(
            banner.banner(
                style=self.style,
                database_url=self.stack.settings.database_url,
                log_file=log_file,
            )
        )
        result = seed_if_empty(self.services, self.stack.client)
        # Deliver what seeding queued, and whatever is owed now, before the console starts:
        # dozens of old posts would bury the prompt. They stay readable with :channel.
        before = self.fake.mark()
        self.services.sweeper.run_once()
        self._settle(None)
        caught_up = self.fake.mark() - before
        self.feed.skip_to_now()
        self.stack.start_scheduler()
        self.fake.on_post = self._on_post
        say(banner.seed_summary(result, caught_up))
        if self.stack.clock.offset:
            say(banner.clock_line(self.stack.clock.offset, self._clock_file()))
        say(
            banner.examples(self.services, style=self.style, tz=self.tz, now=self.stack.clock.now())
        )

    def _on_post(self, _posted: Posted) -> None:
        # Runs on the fake's server thread. Only prints while the user sits at a prompt (a
        # scheduler message); during a command the console prints after the bot settles.
        self.term.interrupt_with(self.feed.render_new)

    # -- the loop ----------------------------------------------------------------------

    def loop(self) -> None:
        while True:
            self._show_new()
            line = self.term.ask(PROMPT)
            if line is None:
                return
            try:
                if not self.handle(line.strip()):
                    return
            except FormCancelled:
                return  # input ended inside a form
            except KeyboardInterrupt:
                raise
            except Exception as exc:  # one bad line must not end the demo
                self.term.say(self.style.warn(f"! {type(exc).__name__}: {exc}"))

    def handle(self, line: str) -> bool:
        """Run one line; False to quit."""
        if not line:
            return True
        if line.lower() in QUIT:
            return False
        if line.startswith(":"):
            self.meta(line)
        elif line.split()[0].lower() == "/missing":
            self.slash(line[len("/missing") :].strip())
        elif line.startswith("/"):
            self.term.say("Only /missing is installed in this workspace. :help lists commands.")
        else:
            self.term.say("Type a /missing command as in Slack, e.g. /missing list (:help).")
        return True

    # -- Slack -------------------------------------------------------------------------

    def slash(self, text: str) -> None:
        self._send_and_show(lambda: self.sender.slash(self.users.linkify(text)))

    def _send_and_show(self, send: Callable[[], SentResponse]) -> None:
        """Send one request as Slack would, then print what the bot did and fill any form."""
        calls: int | None = len(self.fake.calls)
        views = len(self.fake.views)
        response = send()
        if self._refused(response):
            return
        answer = response.json or {}
        if "text" in answer or "blocks" in answer:
            # The bot answered in its acknowledgement, as a private reply only you see.
            self._show_new()
            private = Posted(
                "response",
                None,
                DEMO_USER,
                None,
                None,
                answer.get("text"),
                answer.get("blocks") or [],
                answer,
            )
            self.term.say(self.feed.render(private))
            calls = None  # nothing more need follow
        self._settle(calls)
        self._show_new()
        self._open_new_views(views)

    def click(self, arg: str) -> None:
        match = re.match(r"^(\d+)?\s*(.*)$", arg.strip())
        assert match is not None  # the pattern matches any text
        number = int(match[1]) if match[1] else None
        wanted = match[2].strip().casefold()
        clickable = self.feed.clickable(number)
        if clickable is None:
            self.term.say("No message with that number has buttons. Numbers are shown after them.")
            return
        buttons = self.feed.current_buttons(clickable)
        if not buttons:
            self.term.say(f"Message {clickable.number} has no buttons any more (already acted on).")
            return
        choices = " ".join(f"[{b.label}]" for b in buttons)
        chosen = [b for b in buttons if wanted in (b.label.casefold(), b.action_id.casefold())]
        chosen = chosen or [b for b in buttons if wanted and b.label.casefold().startswith(wanted)]
        if len(chosen) != 1:
            self.term.say(
                f"Message {clickable.number} has {choices}: :click {clickable.number} "
                f"{buttons[0].label}"
            )
            return
        action_id = chosen[0].action_id
        self._send_and_show(lambda: self.sender.click(action_id, message=clickable.posted))

    def _refused(self, response: SentResponse) -> bool:
        if response.status == 200:
            return False
        self.term.say(
            self.style.warn(f"! the bot answered HTTP {response.status}: {response.body[:200]}")
        )
        return True

    def _settle(self, calls: int | None) -> None:
        """Wait until the bot has answered: first a new call (Bolt acks before it works), then
        0.3 s without any. Timeouts only mean the bot said nothing; the console goes on."""
        if calls is not None:
            with contextlib.suppress(AssertionError):
                self.fake.wait_for(lambda fake: len(fake.calls) > calls, timeout=3)
        with contextlib.suppress(AssertionError):
            self.fake.wait_idle(quiet=0.3, timeout=5)

    def _show_new(self) -> None:
        text = self.feed.render_new()
        if text:
            self.term.say(text)

    # -- modals ------------------------------------------------------------------------

    def _open_new_views(self, since: int) -> None:
        opened = [v for v in self.fake.views[since:] if v.method in ("views.open", "views.push")]
        if not opened:
            return
        try:
            accepted = self.forms.run(opened[-1].view)
        except FormCancelled as cancelled:
            self.term.say("Form abandoned; nothing was submitted.")
            if cancelled.quit:
                raise  # :quit or the end of input: the loop ends the demo
            return
        if self._refused(accepted.response):
            return
        self._settle(accepted.calls)
        self._show_new()
        self._open_new_views(accepted.views)

    # -- console commands --------------------------------------------------------------

    def meta(self, line: str) -> None:
        command, _, arg = line.partition(" ")
        command = command.lower()
        if command == ":help":
            self.slash("help")
            self.term.say(banner.META_HELP)
        elif command == ":click":
            self.click(arg)
        elif command == ":advance":
            self.advance(arg)
        elif command == ":time":
            self.show_time()
        elif command == ":channel":
            self.channel(arg)
        elif command == ":cancel":
            self.term.say("No form is open.")
        else:
            self.term.say(f"Unknown console command {command}; :help lists them.")

    def advance(self, arg: str) -> None:
        try:
            hours = float(arg.strip().lower().removesuffix("h"))
        except ValueError:
            hours = 0.0
        if not 0 < hours <= 24 * 60:
            self.term.say("Usage: :advance <hours>, e.g. :advance 49 (at most 1440).")
            return
        now = self.stack.advance_clock(hours)
        self.term.say(
            f"Demo clock moved forward {hours:g} h: it is now {fmt_local(now, self.tz)}. "
            "Running a scheduler pass..."
        )
        calls = len(self.fake.calls)
        self.services.sweeper.run_once()
        self._settle(calls if len(self.fake.calls) > calls else None)
        text = self.feed.render_new()
        self.term.say(text or "Nothing was due: the bot sent no reminder or escalation.")
        quiet = self.services.sweeper.rhi_followups.policy.quiet
        if quiet is not None and quiet.contains(now):
            # Otherwise a user wonders why a reminder they expected did not come.
            self.term.say(
                self.style.dim(
                    f"It is quiet hours ({self.stack.settings.quiet_hours}): reminders are held "
                    "until they end, except for high-risk children; escalations still go."
                )
            )

    def show_time(self) -> None:
        now = self.stack.clock.now()
        self.term.say(f"Demo time: {fmt_local(now, self.tz)} {self.tz.key}")
        self.term.say(banner.clock_line(self.stack.clock.offset, self._clock_file()))

    def _clock_file(self) -> Path | None:
        store = self.stack.clock_store
        return store.path if store is not None else None

    def channel(self, arg: str) -> None:
        settings = self.stack.settings
        channels = {
            "control": settings.control_room_channel,
            "control-room": settings.control_room_channel,
            "safeguarding": settings.safeguarding_channel,
            "dm": DEMO_USER,
            "dms": DEMO_USER,
        }
        channel = channels.get(arg.strip().lower().lstrip("#"))
        if channel is None:
            self.term.say("Usage: :channel control | safeguarding | dm")
            return
        posts = self.fake.messages_in(channel, kinds=("message", "dm"))[-10:]
        if not posts:
            self.term.say("Nothing has been posted there yet.")
            return
        self.term.say(
            self.style.dim(f"The last {len(posts)} messages there since the demo started, as now:")
        )
        for posted in posts:
            current = self.fake.message(posted.channel or channel, posted.ts or "")
            self.term.say(self.feed.render(posted, current=current))
