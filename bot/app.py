"""The composition root: database, services, Slack client and Bolt app. Nothing at import.

The one module that knows every layer: it gives the services their Slack-side renderer and
notifier (from `handlers`) and registers the listeners on the Bolt app.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
)

from bot.clock import Clock, SystemClock
from bot.domain.followup import QuietHours, RhiPolicy
from bot.domain.returns import SafeWellPolicy
from bot.domain.review import ReviewPolicy
from bot.services.access import AccessPolicy, AccessService
from bot.services.audit_log import AuditLog
from bot.services.container import Services
from bot.services.digest_report import DigestBuilder, DigestRules
from bot.services.digests import DigestHandler, DigestSchedule, DigestService
from bot.services.episode_lists import EpisodeLists
from bot.services.episode_updates import UpdateService
from bot.services.episodes import EpisodeConfig, EpisodeService
from bot.services.followups import FollowupRunner
from bot.services.handover import HandoverHandler, HandoverSchedule
from bot.services.outbox import Outbox
from bot.services.ports import Notifier
from bot.services.review_reminders import ReviewReminders
from bot.services.reviews import ReviewSchedule
from bot.services.rhi import RhiService
from bot.services.rhi_followups import (
    Channels,
    OverdueFanout,
    OverdueListHandler,
    RhiFollowups,
    RhiLadder,
)
from bot.services.safe_well import SafeWellFollowups, SafeWellLadder, SafeWellService
from bot.services.sweep import Sweeper
from bot.settings import Settings
from bot.web import SERVER_THREADS
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
        timeout=settings.slack_timeout_seconds,
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
        max_attempts=settings.delivery_max_attempts,
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
    quiet = settings.quiet_window
    quiet_hours = QuietHours(quiet[0], quiet[1], tz) if quiet else None
    reviews = ReviewSchedule(
        policy=ReviewPolicy(
            hours=settings.review_intervals,
            overdue_after=timedelta(minutes=settings.review_overdue_minutes),
        ),
        quiet=quiet_hours,
    )
    rhi_followups = RhiFollowups(
        policy=RhiPolicy(
            before_hours=settings.rhi_reminder_before_hours,
            escalate_after_hours=settings.rhi_escalate_after_hours,
            lapse_days=settings.rhi_lapse_days,
            quiet=quiet_hours,
            tz=tz,
            overdue_list_time=settings.overdue_list_at,
        )
    )
    channels = Channels(settings.control_room_channel, settings.safeguarding_channel)
    builder = DigestBuilder(
        DigestRules(
            tz=tz,
            repeat_threshold=settings.repeat_missing_threshold,
            repeat_window_days=settings.repeat_missing_window_days,
            show_names=settings.digest_show_names,
            reviews=reviews.policy,
        )
    )
    digests = DigestService(
        db=db,
        clock=clock,
        outbox=outbox,
        access=access,
        builder=builder,
        schedule=DigestSchedule(settings.safeguarding_channel, settings.digest_at, tz),
        chart=settings.digest_chart,
    )
    handovers = HandoverHandler(
        db=db,
        outbox=outbox,
        builder=builder,
        schedule=HandoverSchedule(settings.control_room_channel, settings.handover_at, tz),
    )
    safe_well = SafeWellFollowups(policy=SafeWellPolicy(hours=settings.safe_well_hours))
    runner = FollowupRunner(
        db=db,
        clock=clock,
        outbox=outbox,
        instance_id=instance_id,
        batch_size=settings.followup_batch_size,
        handlers=[
            RhiLadder(db=db, outbox=outbox, followups=rhi_followups, channels=channels, tz=tz),
            OverdueFanout(db=db, followups=rhi_followups),
            OverdueListHandler(db=db, outbox=outbox, followups=rhi_followups, tz=tz),
            SafeWellLadder(
                db=db,
                outbox=outbox,
                followups=safe_well,
                quiet=rhi_followups,
                control_room_channel=settings.control_room_channel,
                tz=tz,
            ),
            ReviewReminders(
                db=db,
                outbox=outbox,
                schedule=reviews,
                control_room_channel=settings.control_room_channel,
                tz=tz,
            ),
            DigestHandler(db=db, service=digests),
            handovers,
        ],
    )
    episodes = EpisodeService(
        db=db,
        clock=clock,
        outbox=outbox,
        access=access,
        followups=rhi_followups,
        safe_well=safe_well,
        reviews=reviews,
        config=EpisodeConfig(
            control_room_channel=settings.control_room_channel,
            tz=tz,
            rhi_due_hours=settings.rhi_due_hours,
            repeat_window_days=settings.repeat_missing_window_days,
        ),
    )
    return Services(
        settings=settings,
        clock=clock,
        db=db,
        episodes=episodes,
        updates=UpdateService(
            db=db,
            clock=clock,
            outbox=outbox,
            access=access,
            episodes=episodes,
            reviews=reviews,
            control_room_channel=settings.control_room_channel,
            tz=tz,
        ),
        lists=EpisodeLists(db=db, clock=clock, access=access, reviews=reviews, tz=tz),
        rhi=RhiService(
            db=db,
            clock=clock,
            outbox=outbox,
            access=access,
            followups=rhi_followups,
            control_room_channel=settings.control_room_channel,
            tz=tz,
        ),
        access=access,
        safe_well=SafeWellService(
            db=db,
            clock=clock,
            outbox=outbox,
            access=access,
            followups=safe_well,
            control_room_channel=settings.control_room_channel,
        ),
        outbox=outbox,
        sweeper=Sweeper(
            db=db,
            clock=clock,
            runner=runner,
            rhi_followups=rhi_followups,
            reviews=reviews,
            outbox=outbox,
            access=access,
            directory=SlackDirectory(client),
            instance_id=instance_id,
            schedules=[digests, handovers],
        ),
        audit_log=AuditLog(db=db, clock=clock, tz=tz, access=access),
        digests=digests,
    )


def build_app(
    settings: Settings, services: Services, *, client: WebClient, **app_options: Any
) -> App:
    # Bolt runs listeners on its own pool (5 threads unless told) and answers Slack 404
    # "unhandled request" when a listener has not acknowledged within 3 s, then runs it anyway
    # once a thread is free. With the database slow, a request queued behind busy listeners
    # would be shown as failed while its work is saved later. One listener thread for every
    # request the server admits means a listener starts at once, and its database work has a
    # deadline under 3 s (storage.db), so it acknowledges in time, one way or the other.
    app_options.setdefault(
        "listener_executor",
        ThreadPoolExecutor(max_workers=SERVER_THREADS, thread_name_prefix="listener"),
    )
    app = App(
        # Named here: without a name Bolt takes its caller's file name from inspect.stack(),
        # which reads the source of every frame on the stack (85 ms under a test runner).
        name="missing-bot",
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
