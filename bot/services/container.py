"""Everything a listener or a scheduler job may use, built once by the composition root."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from bot.clock import Clock
from bot.services.access import AccessService
from bot.services.audit_log import AuditLog
from bot.services.digests import DigestService
from bot.services.episode_lists import EpisodeLists
from bot.services.episode_updates import UpdateService
from bot.services.episodes import EpisodeService
from bot.services.outbox import Outbox
from bot.services.rhi import RhiService
from bot.services.safe_well import SafeWellService
from bot.services.sweep import Sweeper
from bot.settings import Settings
from storage.db import Database


@dataclass
class Services:
    settings: Settings
    clock: Clock
    db: Database
    episodes: EpisodeService
    updates: UpdateService
    lists: EpisodeLists
    rhi: RhiService
    access: AccessService
    safe_well: SafeWellService
    outbox: Outbox
    sweeper: Sweeper
    audit_log: AuditLog
    digests: DigestService

    @property
    def tz(self) -> ZoneInfo:
        return self.settings.tz

    def close(self) -> None:
        """Let queued outbox messages go out, then release the database."""
        self.outbox.close(wait=True)
        self.db.dispose()
