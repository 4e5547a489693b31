"""The whole bot for a test: real Bolt app behind waitress, real database, fake Slack and clock."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from bot.app import build_app, build_client, build_services
from bot.clock import FakeClock
from bot.domain.access import Role
from bot.services.access import Caller
from bot.services.container import Services
from bot.settings import Settings
from bot.web import SERVER_THREADS, WebApp, make_server, run_until_closed
from fakeslack import FakeSlack, Posted, SlackSender
from storage.db import Database
from storage.models import AuditEvent
from tests.support.blockkit import assert_valid_message

SIGNING_SECRET = "test-signing-secret"
CONTROL = "CCONTROL"
SAFEGUARDING = "CSAFEGUARD"
LOGGER = "UCONTROL1"
TEAM = "T0MISSING"
MISSING = object()  # leave a form field out entirely
# A valid form, as a call handler would fill it at 12:00 on 24/11/2026 (the fake clock's start).
DEFAULT_ANSWERS: dict[str, Any] = {
    "child_name": "Jane Mary Smith",
    "date_of_birth": "2012-03-04",
    "last_seen_at": datetime.fromisoformat("2026-11-24T09:30:00+00:00"),
    "last_seen_place": "12 Acacia Avenue, Ipswich",
    "risk_level": "high",
    "looked_after": "yes",
    "placing_authority": "London Borough of Camden",
    "risk_factors": ["cse", "mental_health"],
    "description": "Black hoodie, grey joggers",
    "reported_by": "Care home manager, 01473 000000",
    "incident_ref": "CAD-2411-0042",
}


def make_settings(fake: FakeSlack, database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "slack_bot_token": "xoxb-test-token",
        "slack_signing_secret": SIGNING_SECRET,
        "slack_app_token": "xapp-test-token",
        "slack_api_url": fake.api_url,
        "database_url": database_url,
        "control_room_channel": CONTROL,
        "safeguarding_channel": SAFEGUARDING,
        # Drawing a chart costs a tenth of a second or more, once per digest, and the tests that
        # run the clock for days post one a day: only the digest's own tests draw them.
        "digest_chart": False,
        "quiet_hours": "off",
        # Slack's pace of a message a second per channel would only slow the tests down.
        "slack_channel_pace_seconds": 0,
        # The person logging in most tests is an admin; others get roles with `grant`.
        "admin_user_ids": LOGGER,
    }
    values.update(overrides)
    # _env_file=None: a developer's own .env must not leak into tests.
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def has_input(view: Any, block_id: str) -> bool:
    plain = view.view if hasattr(view, "view") else view
    return any(b.get("block_id") == block_id for b in plain.get("blocks") or [])


@dataclass
class Bot:
    fake: FakeSlack
    clock: FakeClock
    settings: Settings
    services: Services
    sender: SlackSender
    web: WebApp
    url: str
    _server: Any
    _thread: threading.Thread
    _listeners: Executor

    def stop(self) -> None:
        """Everything the test set going is finished before the fake's records are judged:
        requests answered, then Bolt's listeners (they run on after the acknowledgement),
        then the outbox's thread; then nothing may still be in flight at the fake."""
        self._server.task_dispatcher.shutdown(timeout=5)
        if isinstance(self._listeners, TrackedExecutor):
            self._listeners.wait_all(timeout=5)
        self._server.close()
        self._thread.join(timeout=5)
        self.services.close()
        self.fake.wait_idle(quiet=0, timeout=2)

    # -- helpers that read like a control-room user's steps ------------------------------

    def slash(self, text: str, **kwargs: Any) -> Posted:
        """Run `/missing <text>` and return the private answer.

        Commands answer in their acknowledgement (kind "ack", shown only to the caller);
        anything else answers later through the response URL.
        """
        mark = self.fake.mark()
        response = self.sender.slash(text, **kwargs)
        assert response.status == 200, response.body
        self.settle()
        if response.json:
            assert_valid_message(response.json)
            assert response.json.get("response_type", "ephemeral") == "ephemeral"
            return Posted(
                "ack",
                kwargs.get("channel_id") or CONTROL,
                kwargs.get("user_id") or LOGGER,
                None,
                None,
                response.json.get("text"),
                response.json.get("blocks") or [],
                response.json,
            )
        return self.fake.wait_for(
            lambda f: next((p for p in f.posted[mark:] if p.kind.startswith("response")), None)
        )

    def open_form(self, text: str = "new", **kwargs: Any) -> Any:
        """`/missing new ...` and the modal the bot opened (a ViewRecord)."""
        mark = len(self.fake.views)
        response = self.sender.slash(text, **kwargs)
        assert response.status == 200, response.body
        return self.fake.wait_for_view("new_episode", since=mark)

    def submit_form(self, view: Any, **answers: Any) -> Any:
        """Submit the form; returns the bot's HTTP answer (errors come back in its JSON)."""
        full = {**DEFAULT_ANSWERS, **answers}
        full = {k: v for k, v in full.items() if v is not MISSING}
        view = self.answer_care(view, str(full.get("looked_after", "no")))
        if not has_input(view, "placing_authority"):
            full.pop("placing_authority", None)  # not asked: the child is not looked after
        return self.sender.submit_answers(view, full)

    def answer_care(self, view: Any, looked_after: str) -> Any:
        """Choose 'looked after' as a person would; the bot updates the form. The new view."""
        plain = view.view if hasattr(view, "view") else view
        if has_input(plain, "placing_authority") == (looked_after == "yes"):
            return view
        mark = len(self.fake.views)
        response = self.sender.choose_in_view(view, "looked_after", looked_after)
        assert response.status == 200, response.body
        return self.fake.wait_for_view("new_episode", since=mark)

    def log_episode(self, **answers: Any) -> Posted:
        """Fill and submit the form; returns the control-room post."""
        mark = self.fake.mark()
        view = self.open_form()
        response = self.submit_form(view, **answers)
        assert response.status == 200 and not response.body, response.body
        post = self.fake.wait_for(
            lambda f: next(
                (
                    p
                    for p in f.posted[mark:]
                    if p.channel == CONTROL and p.kind == "message" and not p.thread_ts
                ),
                None,
            )
        )
        # And the private confirmation, which follows: later steps then start from quiet.
        self.fake.wait_for(
            lambda f: [p for p in f.posted[mark:] if p.kind == "dm" and "Logged *" in p.text]
        )
        return post

    def grant(self, user_id: str, role: Role = Role.CONTROL_ROOM) -> None:
        """Give someone a role, as an admin would with `/missing admin grant`."""
        self.services.access.grant(Caller(LOGGER, TEAM), user_id=user_id, role=role)

    def settle(self) -> None:
        """Wait until the messages the last request queued have been tried."""
        self.services.outbox.flush()

    def audit(self, action: str | None = None) -> list[AuditEvent]:
        with self.services.db.transaction() as session:
            query = select(AuditEvent).order_by(AuditEvent.id)
            if action:
                query = query.where(AuditEvent.action == action)
            return list(session.scalars(query))

    def sweep(self) -> Any:
        return self.services.sweeper.run_once()


class TrackedExecutor(ThreadPoolExecutor):
    """Bolt's listener pool as the bot builds it, remembering what it ran, so that a test's
    teardown can wait for the listeners themselves instead of for a quiet spell at the fake."""

    def __init__(self) -> None:
        super().__init__(max_workers=SERVER_THREADS, thread_name_prefix="listener")
        self._futures: list[Future[Any]] = []

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future = super().submit(fn, *args, **kwargs)
        self._futures.append(future)
        return future

    def wait_all(self, timeout: float) -> None:
        wait(self._futures, timeout=timeout)
        self.shutdown(wait=False)


class InlineExecutor(Executor):
    """Runs each listener on the calling thread, so a request's work is finished (database
    written, answers posted) when the WSGI call returns. Bolt's ack path then needs no 10 ms
    poll either: what the fuzz tests need to check every example at once and fast."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:
            future.set_exception(exc)
        return future


def start_bot(
    fake: FakeSlack,
    database_url: str,
    *,
    clock: FakeClock | None = None,
    migrate: bool = False,
    app_options: dict[str, Any] | None = None,
    **overrides: Any,
) -> Bot:
    clock = clock or FakeClock(datetime.fromisoformat("2026-11-24T12:00:00+00:00"))
    settings = make_settings(fake, database_url, **overrides)
    client = build_client(settings)
    services = build_services(
        settings,
        client=client,
        clock=clock,
        db=Database.from_url(database_url),
        migrate=migrate,
        instance_id="test-instance",
        team_id=TEAM,
    )
    options = dict(app_options or {})
    if "listener_executor" not in options:
        options["listener_executor"] = TrackedExecutor()
    app = build_app(settings, services, client=client, **options)
    web = WebApp(app, services, scheduler_expected=True)
    # A short loop timeout lets each test's server stop within 50 ms (see make_server).
    server = make_server(web, host="127.0.0.1", port=0, threads=4, loop_timeout=0.05)
    thread = threading.Thread(target=run_until_closed, args=(server,), daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.effective_port}"
    sender = SlackSender(
        f"{url}/slack/events", SIGNING_SECRET, fake=fake, user_id=LOGGER, channel_id=CONTROL
    )
    listeners = options["listener_executor"]
    return Bot(fake, clock, settings, services, sender, web, url, server, thread, listeners)
