"""`missing-bot digest [--date YYYY-MM-DD] [--dry-run] [--force]`: the safeguarding digest for
a date, now. Posted at once (with its chart), or printed as text with `--dry-run`."""

from __future__ import annotations

import argparse

from bot.app import build_client, build_services
from bot.cli_errors import CLI_ACTOR
from bot.domain import occasions
from bot.domain.states import DeliveryStatus
from bot.services.messages import Digest
from bot.settings import Settings
from handlers.blocks.as_text import as_text


def cmd_digest(settings: Settings, args: argparse.Namespace) -> int:
    if not args.dry_run:
        settings.require("slack_bot_token", "safeguarding_channel")
    services = build_services(settings, client=build_client(settings))
    try:
        now = services.clock.now()
        day = args.date or occasions.local_date(now, settings.tz)
        if args.dry_run:
            report = services.digests.dry_run(day, actor=CLI_ACTOR)
            digest = Digest(report, with_chart=services.digests.chart)
            print(as_text(services.outbox.render(digest, now=report.as_of)))
            return 0
        posted = services.digests.post(day, force=args.force, actor=CLI_ACTOR)
        outcomes = services.outbox.deliver(posted.ids)
    finally:
        services.close()
    sent = [o for o in outcomes if o.status is DeliveryStatus.SENT]
    if len(sent) == len(posted.ids):
        print(f"posted the digest for {day.isoformat()} ({posted.key}) with its chart")
        return 0
    problems = ", ".join(o.error or o.status.value for o in outcomes if o not in sent)
    print(
        f"queued the digest for {day.isoformat()} ({posted.key}); not all of it went out now "
        f"({problems or 'not tried'}): the scheduler retries it"
    )
    return 1
