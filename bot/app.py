"""The composition root: database, services, Slack client and Bolt app. Nothing at import.

The one module that knows every layer: it gives the services their Slack-side renderer and
notifier (from `handlers`) and registers the listeners on the Bolt app.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from datetime import timedelta
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
)

from bot.clock import Clock, SystemClock
from bot.domain.rhi import ReminderPolicy
from bot.services.access import AccessPolicy, AccessService
from bot.services.audit_log import AuditLog
from bot.services.container import Services
from bot.services.episodes import EpisodeConfig, EpisodeService
from bot.services.outbox import Outbox
from bot.services.ports import Notifier
from bot.services.reminders import ReminderPlanner
from bot.services.rhi import RhiService
from bot.services.sweep import Sweeper
from bot.settings import Settings
from handlers import register
from handlers.directory import SlackDirectory
from handlers.notifier import SlackNotifier
from handlers.renderer import SlackRenderer
from storage.db import Database
from storage.migrate import upgrade

log = logging.getLogger(__name__)


def instance_name() -> str:
    """Unique per running copy: hostname, pid and a random suffix (pids repeat in containers)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def build_client(settings: Settings) -> WebClient:
    """The client Bolt's listeners use (Bolt copies its settings into each request's client).

    A listener must answer Slack within 3 seconds, so this client never sleeps through a
    rate limit's Retry-After: only the outbox, on its own thread, waits for Slack.
    """
    return WebClient(
        token=settings.slack_bot_token or None,
        base_url=settings.slack_api_url,
        timeout=5,
        retry_handlers=[ConnectionErrorRetryHandler(max_retry_count=1)],
    )


def build_outbox_client(settings: Settings) -> WebClient:
    """The outbox's own client: off the request path, it may wait out Slack's Retry-After."""
    return WebClient(
        token=settings.slack_bot_token or None,
        base_url=settings.slack_api_url,
        timeout=10,
        retry_handlers=[
            ConnectionErrorRetryHandler(max_retry_count=1),
            RateLimitErrorRetryHandler(max_retry_count=1),
        ],
    )


def build_services(
    settings: Settings,
    *,
    client: WebClient,
    clock: Clock | None = None,
    db: Database | None = None,
    instance_id: str | None = None,
    migrate: bool = True,
    notifier: Notifier | None = None,
    team_id: str | None = None,
) -> Services:
    """Every service, wired. `notifier` replaces the Slack one (service-level tests); `team_id`
    is the workspace the bot serves (from auth.test), when SLACK_TEAM_ID does not say."""
    clock = clock or SystemClock()
    db = db or Database.from_url(settings.database_url)
    if migrate:
        upgrade(db.engine)
    instance_id = instance_id or instance_name()
    tz = settings.tz
    outbox = Outbox(
        db=db,
        clock=clock,
        renderer=SlackRenderer(tz),
        notifier=notifier or SlackNotifier(build_outbox_client(settings)),
        instance_id=instance_id,
        safeguarding_channel=settings.safeguarding_channel,
        tz=tz,
        claim_timeout=timedelta(seconds=settings.claim_timeout_seconds),
        channel_pace=settings.slack_channel_pace_seconds,
    )
    access = AccessService(
        db=db,
        clock=clock,
        policy=AccessPolicy(
            admins=settings.admins,
            usergroups=settings.usergroup_roles,
            team_id=settings.slack_team_id or team_id,
        ),
    )
    planner = ReminderPlanner(
        db=db,
        clock=clock,
        outbox=outbox,
        policy=ReminderPolicy(
            before_hours=settings.rhi_reminder_before_hours,
            escalate_after_hours=settings.rhi_escalate_after_hours,
            quiet=settings.quiet_window,
            tz=tz,
        ),
        safeguarding_channel=settings.safeguarding_channel,
        control_room_channel=settings.control_room_channel,
        tz=tz,
    )
    return Services(
        settings=settings,
        clock=clock,
        db=db,
        episodes=EpisodeService(
            db=db,
            clock=clock,
            outbox=outbox,
            access=access,
            config=EpisodeConfig(
                control_room_channel=settings.control_room_channel,
                tz=tz,
                rhi_due_hours=settings.rhi_due_hours,
                repeat_window_days=settings.repeat_missing_window_days,
            ),
        ),
        rhi=RhiService(
            db=db,
            clock=clock,
            outbox=outbox,
            access=access,
            control_room_channel=settings.control_room_channel,
            tz=tz,
        ),
        access=access,
        outbox=outbox,
        sweeper=Sweeper(
            db=db,
            clock=clock,
            planner=planner,
            outbox=outbox,
            access=access,
            directory=SlackDirectory(client),
            instance_id=instance_id,
        ),
        audit_log=AuditLog(db=db, clock=clock, tz=tz),
    )


def build_app(
    settings: Settings, services: Services, *, client: WebClient, **app_options: Any
) -> App:
    app = App(
        client=client,
        signing_secret=settings.slack_signing_secret,
        token_verification_enabled=True,
        # Without a logger of its own, Bolt copies the root logger's level into its loggers
        # when the app is built, so LOG_LEVEL=DEBUG would turn on its DEBUG lines, which
        # print each answer sent to Slack (a child's details, for /missing show). Given this
        # one, Bolt's loggers follow bot.log_setup, which holds "slack_bolt" at INFO.
        logger=logging.getLogger("slack_bolt"),
        **app_options,
    )

    @app.middleware
    def inject_services(context: dict[str, Any], next: Any) -> Any:
        context["services"] = services
        return next()

    register(app)
    return app
