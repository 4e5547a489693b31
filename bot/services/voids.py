"""What voiding an episode stops, in the void's own transaction: its open return home
interview (cancelled, so its ladder stops), the follow-ups about the episode itself (risk
reviews, safe-and-well checks), and the messages still queued to chase either."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from bot.domain.states import EPISODE_FOLLOWUPS, RhiStatus
from bot.services.followups import set_next
from bot.services.rhi_followups import RhiFollowups
from storage import queries
from storage.models import Episode

VOIDED = "episode voided"


def stop_what_follows(
    session: Session, episode: Episode, *, followups: RhiFollowups, actor: str, now: datetime
) -> int | None:
    """Call once the episode's status is void. The id of the interview cancelled, if any."""
    rhi = queries.open_rhi(session, episode_id=episode.id, for_update=True)
    if rhi is not None:
        rhi.status = RhiStatus.CANCELLED
        rhi.status_reason = VOIDED
        rhi.updated_at, rhi.updated_by = now, actor
        # Closed, so this stops its reminders; a pass that prepared one finds the revision
        # moved and drops it.
        followups.schedule(session, rhi, now)
    for kind in sorted(EPISODE_FOLLOWUPS):
        # Stopped whether or not one was planned: a row with nothing due costs nothing.
        set_next(session, kind=kind, subject=str(episode.id), action=None, now=now)
    # The outbox would drop a queued reminder for a closed interview when its time came; the
    # messages about the episode itself (the officer told it is theirs, held for quiet hours)
    # have no such check, so everything chasing it goes now.
    queries.cancel_chasing_messages(session, episode_id=episode.id)
    return rhi.id if rhi is not None else None
