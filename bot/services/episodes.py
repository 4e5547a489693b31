"""Episode use cases: log, return, reopen, show, list. One transaction each; what they enqueue
for Slack is handed to the outbox after commit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.domain import episode as rules
from bot.domain import rhi as rhi_rules
from bot.domain.access import Action, allows
from bot.domain.errors import NotFound, UserError
from bot.domain.people import name_key
from bot.domain.refs import format_ref
from bot.domain.states import AuditAction, EpisodeStatus, RhiStatus
from bot.domain.text import NOTE_LIMIT, check_text
from bot.services import audit
from bot.services.access import AccessService, Caller, Replayed
from bot.services.cards import episode_card, rhi_view
from bot.services.messages import (
    EpisodeConfirmed,
    EpisodePosted,
    EpisodeReopened,
    EpisodeReturned,
    Outbound,
)
from bot.services.outbox import Outbox, post_key
from bot.services.results import (
    EpisodeDetail,
    HistoryEntry,
    Logged,
    OpenEpisodes,
    Reopened,
    Returned,
)
from storage import queries
from storage.db import Database
from storage.models import Child, Episode, ReturnInterview


@dataclass(frozen=True)
class EpisodeConfig:
    control_room_channel: str
    tz: ZoneInfo
    rhi_due_hours: int = 72
    repeat_window_days: int = 30


class EpisodeService:
    def __init__(
        self,
        *,
        db: Database,
        clock: Clock,
        outbox: Outbox,
        access: AccessService,
        config: EpisodeConfig,
    ) -> None:
        self.db = db
        self.clock = clock
        self.outbox = outbox
        self.access = access
        self.config = config

    # -- log -----------------------------------------------------------------------------

    def validate(self, new: rules.NewEpisode) -> dict[str, str]:
        return new.validate(now=self.clock.now(), tz=self.config.tz)

    def log(self, new: rules.NewEpisode, caller: Caller) -> Logged:
        """Save a new episode. The same form submitted again (same view id) returns the
        episode the first submission logged."""
        now = self.clock.now()
        errors = new.validate(now=now, tz=self.config.tz)
        if errors:
            field, message = next(iter(errors.items()))
            raise UserError(message, field=field)
        assert new.date_of_birth is not None and new.last_seen_at is not None
        try:
            return self._log(new, caller, now)
        except Replayed as replayed:
            if replayed.result is None:
                raise
            return self._already_logged(int(replayed.result))

    def _already_logged(self, episode_id: int) -> Logged:
        with self.db.read() as session:
            episode = self._get(session, episode_id)
            return Logged(episode_card(episode, episode.child, tz=self.config.tz), already=True)

    def _log(self, new: rules.NewEpisode, caller: Caller, now: datetime) -> Logged:
        actor = caller.user_id
        with self.access.refusals_audited(caller), self.db.transaction() as session:
            self.access.require(session, caller, Action.LOG)
            child = self._child_for(session, new, now, actor=actor)
            episode = Episode(
                child=child,
                status=EpisodeStatus.MISSING,
                last_seen_at=new.last_seen_at,
                last_seen_place=new.last_seen_place.strip(),
                risk_level=new.risk_level or "",
                looked_after=new.looked_after,
                placing_authority=new.placing_authority.strip() or None,
                risk_factors=list(new.risk_factors),
                description=new.description.strip(),
                reported_by=new.reported_by.strip(),
                incident_ref=new.incident_ref.strip() or None,
                officer_id=new.officer_id,
                logged_by=actor,
                created_at=now,
            )
            session.add(episode)
            session.flush()
            window = now - timedelta(days=self.config.repeat_window_days)
            counts = queries.child_episode_counts(session, child_id=child.id, since=window)
            card = episode_card(episode, child, tz=self.config.tz, counts=counts)
            audit.record(
                session,
                at=now,
                actor=actor,
                action=AuditAction.EPISODE_LOGGED,
                episode_id=episode.id,
                child_id=child.id,
                channel=caller.channel_id,
                risk=episode.risk_level,
                officer=episode.officer_id,
            )
            self.access.record_result(session, caller, str(episode.id))
            ids = [
                self.outbox.enqueue(
                    session,
                    key=post_key(episode.id),
                    message=EpisodePosted(card),
                    target=self.config.control_room_channel,
                    now=now,
                    episode_id=episode.id,
                ),
                self.outbox.enqueue(
                    session,
                    key=f"episode:{episode.id}:confirmed",
                    message=EpisodeConfirmed(card),
                    target=actor,
                    now=now,
                    episode_id=episode.id,
                ),
            ]
        self.outbox.deliver_soon(i for i in ids if i is not None)
        return Logged(card)

    def _child_for(
        self, session: Session, new: rules.NewEpisode, now: datetime, *, actor: str
    ) -> Child:
        key = name_key(new.child_name)
        child = queries.child_by_identity(session, name_key=key, date_of_birth=new.date_of_birth)
        if child is not None:
            return child
        try:
            # Another copy of the bot may log the same child at the same moment.
            with session.begin_nested():
                child = Child(
                    full_name=" ".join(new.child_name.split()),
                    name_key=key,
                    date_of_birth=new.date_of_birth,
                    created_at=now,
                )
                session.add(child)
                session.flush()
                audit.record(
                    session,
                    at=now,
                    actor=actor,
                    action=AuditAction.CHILD_CREATED,
                    child_id=child.id,
                )
        except IntegrityError:
            child = queries.child_by_identity(
                session, name_key=key, date_of_birth=new.date_of_birth
            )
            assert child is not None
        return child

    # -- return --------------------------------------------------------------------------

    def record_return(
        self, episode_id: int, caller: Caller, *, returned_at: datetime | None, note: str = ""
    ) -> Returned:
        check_text(note, limit=NOTE_LIMIT, what="the note")
        now = self.clock.now()
        actor = caller.user_id
        when = returned_at or now
        with self.access.refusals_audited(caller), self.db.transaction() as session:
            self.access.require(session, caller, Action.RETURN)
            episode = self._get(session, episode_id, for_update=True)
            ref = format_ref(episode.id)
            if episode.status == EpisodeStatus.RETURNED:
                assert episode.returned_at is not None
                rhi = queries.latest_rhi(session, episode_id=episode.id)
                return Returned(ref, episode.returned_at, rhi.due_at if rhi else None, True)
            rules.check_return_time(returned_at=when, last_seen_at=episode.last_seen_at, now=now)
            rules.check_transition(EpisodeStatus(episode.status), EpisodeStatus.RETURNED)
            episode.status = EpisodeStatus.RETURNED
            episode.returned_at = when
            episode.returned_by = actor
            episode.return_note = note.strip() or None
            due = rhi_rules.due_at(when, self.config.rhi_due_hours)
            rhi = ReturnInterview(
                episode=episode,
                returned_at=when,
                due_at=due,
                status=RhiStatus.PENDING,
                assignee_id=episode.officer_id,
                created_at=now,
                updated_at=now,
                updated_by=actor,
            )
            session.add(rhi)
            session.flush()
            audit.record(
                session,
                at=now,
                actor=actor,
                action=AuditAction.EPISODE_RETURNED,
                episode_id=episode.id,
                child_id=episode.child_id,
                channel=caller.channel_id,
                returned_at=when.isoformat(),
                rhi_due_at=due.isoformat(),
            )
            card = episode_card(episode, episode.child, tz=self.config.tz)
            delivery = self._thread_update(
                session,
                episode,
                key=f"episode:{episode.id}:returned:{rhi.id}",
                message=EpisodeReturned(card, when, due, actor),
                now=now,
            )
        self.outbox.deliver_soon(delivery)
        return Returned(ref, when, due, False)

    def reopen(self, episode_id: int, caller: Caller, *, reason: str) -> Reopened:
        """Undo a return recorded in error: the child is missing again, the RHI is cancelled."""
        now = self.clock.now()
        actor = caller.user_id
        if not reason.strip():
            raise UserError("Say why the episode is reopened: `/missing reopen M-42 <reason>`.")
        check_text(reason, limit=NOTE_LIMIT, what="the reason")
        with self.access.refusals_audited(caller), self.db.transaction() as session:
            self.access.require(session, caller, Action.REOPEN)
            episode = self._get(session, episode_id, for_update=True)
            rules.check_transition(EpisodeStatus(episode.status), EpisodeStatus.MISSING)
            rhi = queries.open_rhi(session, episode_id=episode.id, for_update=True)
            if rhi is not None:
                rhi.status = RhiStatus.CANCELLED
                rhi.status_reason = "episode reopened"
                rhi.updated_at, rhi.updated_by = now, actor
            episode.status = EpisodeStatus.MISSING
            episode.returned_at = episode.returned_by = episode.return_note = None
            audit.record(
                session,
                at=now,
                actor=actor,
                action=AuditAction.EPISODE_REOPENED,
                episode_id=episode.id,
                child_id=episode.child_id,
                channel=caller.channel_id,
                reason=reason.strip(),
            )
            card = episode_card(episode, episode.child, tz=self.config.tz)
            delivery = self._thread_update(
                session,
                episode,
                key=f"episode:{episode.id}:reopened:{now.isoformat()}",
                message=EpisodeReopened(card, actor),
                now=now,
            )
        self.outbox.deliver_soon(delivery)
        return Reopened(format_ref(episode_id))

    # -- read ----------------------------------------------------------------------------

    def show(self, episode_id: int, caller: Caller) -> EpisodeDetail:
        """Full details, for the caller's eyes only; the history needs the safeguarding role."""
        now = self.clock.now()
        with self.access.refusals_audited(caller), self.db.transaction() as session:
            roles = self.access.require(session, caller, Action.SHOW)
            episode = self._get(session, episode_id)
            history = (
                queries.episode_history(session, episode_id=episode.id)
                if allows(roles, Action.HISTORY)
                else None
            )
            audit.record(
                session,
                at=now,
                actor=caller.user_id,
                action=AuditAction.EPISODE_VIEWED,
                episode_id=episode.id,
                child_id=episode.child_id,
                channel=caller.channel_id,
            )
            window = now - timedelta(days=self.config.repeat_window_days)
            counts = queries.child_episode_counts(session, child_id=episode.child_id, since=window)
            rhi = queries.latest_rhi(session, episode_id=episode.id)
            child = episode.child
            return EpisodeDetail(
                card=episode_card(episode, child, tz=self.config.tz, counts=counts),
                full_name=child.full_name,
                date_of_birth=child.date_of_birth,
                last_seen_place=episode.last_seen_place,
                risk_factors=tuple(episode.risk_factors or ()),
                description=episode.description,
                reported_by=episode.reported_by,
                incident_ref=episode.incident_ref,
                officer_id=episode.officer_id,
                returned_at=episode.returned_at,
                return_note=episode.return_note,
                rhi=rhi_view(rhi) if rhi is not None else None,
                history=(
                    tuple(HistoryEntry(e.at, e.actor, e.action) for e in history)
                    if history is not None
                    else None
                ),
            )

    def list_open(self, caller: Caller, *, limit: int = 40) -> OpenEpisodes:
        now = self.clock.now()
        with self.access.refusals_audited(caller), self.db.transaction() as session:
            self.access.require(session, caller, Action.LIST)
            episodes, total = queries.open_episodes(session, limit=limit)
            audit.record(
                session,
                at=now,
                actor=caller.user_id,
                action=AuditAction.EPISODES_LISTED,
                channel=caller.channel_id,
                count=total,
            )
            cards = tuple(episode_card(e, e.child, tz=self.config.tz) for e in episodes)
        return OpenEpisodes(cards, total)

    def _thread_update(
        self,
        session: Session,
        episode: Episode,
        *,
        key: str,
        message: Outbound,
        now: datetime,
    ) -> list[int]:
        """Queue a reply in the episode's control-room thread; the ids to deliver now."""
        delivery = self.outbox.enqueue(
            session,
            key=key,
            message=message,
            target=self.config.control_room_channel,
            now=now,
            episode_id=episode.id,
            in_thread=True,
        )
        return [delivery] if delivery is not None else []

    def _get(self, session: Session, episode_id: int, *, for_update: bool = False) -> Episode:
        episode = queries.episode_by_id(session, episode_id, for_update=for_update)
        if episode is None:
            raise NotFound(f"There is no episode {format_ref(episode_id)}.")
        return episode
