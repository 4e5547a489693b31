"""Episode use cases: log, return, reopen, show, list. One transaction each."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.domain import episode as rules
from bot.domain import rhi as rhi_rules
from bot.domain.errors import NotFound, UserError
from bot.domain.people import age_on, initials, name_key
from bot.domain.refs import format_ref
from bot.services import audit
from bot.services.outbox import enqueue
from storage import queries
from storage.db import Database
from storage.models import AuditEvent, Child, Episode, ReturnInterview


@dataclass(frozen=True)
class EpisodeConfig:
    control_room_channel: str
    tz: ZoneInfo
    rhi_due_hours: int = 72
    repeat_window_days: int = 30


@dataclass(frozen=True)
class Logged:
    episode_id: int
    ref: str
    card: dict[str, Any]
    post_delivery_id: int | None


@dataclass(frozen=True)
class Returned:
    ref: str
    returned_at: datetime
    rhi_due_at: datetime | None
    already: bool
    delivery_ids: list[int]


@dataclass(frozen=True)
class Reopened:
    ref: str
    delivery_ids: list[int]


@dataclass(frozen=True)
class EpisodeDetail:
    episode: Episode
    child: Child
    rhi: ReturnInterview | None
    history: list[AuditEvent]
    card: dict[str, Any]


def episode_card(
    episode: Episode, child: Child, *, tz: ZoneInfo, counts: tuple[int, int] | None = None
) -> dict[str, Any]:
    """What a channel may see: reference, initials, age, risk, care status. Never the name.

    The age is on the local day the child was last seen.
    """
    card: dict[str, Any] = {
        "ref": format_ref(episode.id),
        "initials": initials(child.full_name),
        "age": age_on(child.date_of_birth, episode.last_seen_at.astimezone(tz).date()),
        "risk": episode.risk_level,
        "looked_after": episode.looked_after,
        "placing_authority": episode.placing_authority,
        "last_seen_at": episode.last_seen_at.isoformat(),
    }
    if counts is not None:
        card["child_episode_number"], card["recent_count"] = counts
    return card


class EpisodeService:
    def __init__(self, *, db: Database, clock: Clock, config: EpisodeConfig) -> None:
        self.db = db
        self.clock = clock
        self.config = config

    # -- log -----------------------------------------------------------------------------

    def validate(self, new: rules.NewEpisode) -> dict[str, str]:
        now = self.clock.now()
        return new.validate(now=now, tz=self.config.tz)

    def log(self, new: rules.NewEpisode, *, actor: str, channel_id: str | None = None) -> Logged:
        now = self.clock.now()
        errors = new.validate(now=now, tz=self.config.tz)
        if errors:
            field, message = next(iter(errors.items()))
            raise UserError(message, field=field)
        assert new.date_of_birth is not None and new.last_seen_at is not None
        with self.db.transaction() as session:
            child = self._child_for(session, new, now, actor=actor)
            episode = Episode(
                child=child,
                status=rules.Status.MISSING.value,
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
                action="episode.logged",
                episode_id=episode.id,
                child_id=child.id,
                risk=episode.risk_level,
                officer=episode.officer_id,
                channel=channel_id,
            )
            post_id = enqueue(
                session,
                key=f"episode:{episode.id}:post",
                template="episode_posted",
                target=self.config.control_room_channel,
                data=card,
                now=now,
                episode_id=episode.id,
            )
            return Logged(episode.id, card["ref"], card, post_id)

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
                    session, at=now, actor=actor, action="child.created", child_id=child.id
                )
        except IntegrityError:
            child = queries.child_by_identity(
                session, name_key=key, date_of_birth=new.date_of_birth
            )
            assert child is not None
        return child

    # -- return --------------------------------------------------------------------------

    def record_return(
        self, episode_id: int, *, actor: str, returned_at: datetime | None, note: str = ""
    ) -> Returned:
        now = self.clock.now()
        when = returned_at or now
        with self.db.transaction() as session:
            episode = self._get(session, episode_id, for_update=True)
            ref = format_ref(episode.id)
            if episode.status == rules.Status.RETURNED.value:
                assert episode.returned_at is not None
                rhi = queries.latest_rhi(session, episode_id=episode.id)
                return Returned(ref, episode.returned_at, rhi.due_at if rhi else None, True, [])
            rules.check_return_time(returned_at=when, last_seen_at=episode.last_seen_at, now=now)
            rules.check_transition(rules.Status(episode.status), rules.Status.RETURNED)
            episode.status = rules.Status.RETURNED.value
            episode.returned_at = when
            episode.returned_by = actor
            episode.return_note = note.strip() or None
            due = rhi_rules.due_at(when, self.config.rhi_due_hours)
            rhi = ReturnInterview(
                episode=episode,
                returned_at=when,
                due_at=due,
                status=rhi_rules.RhiStatus.PENDING.value,
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
                action="episode.returned",
                episode_id=episode.id,
                child_id=episode.child_id,
                returned_at=when.isoformat(),
                note=episode.return_note,
                rhi_due_at=due.isoformat(),
            )
            delivery = self._thread_update(
                session,
                episode,
                key=f"episode:{episode.id}:returned:{rhi.id}",
                template="episode_returned",
                now=now,
                returned_at=when.isoformat(),
                rhi_due_at=due.isoformat(),
                actor=actor,
            )
            return Returned(ref, when, due, False, delivery)

    def reopen(self, episode_id: int, *, actor: str, reason: str) -> Reopened:
        """Undo a return recorded in error: the child is missing again, the RHI is cancelled."""
        now = self.clock.now()
        if not reason.strip():
            raise UserError("Say why the episode is reopened: `/missing reopen M-42 <reason>`.")
        with self.db.transaction() as session:
            episode = self._get(session, episode_id, for_update=True)
            rules.check_transition(rules.Status(episode.status), rules.Status.MISSING)
            rhi = queries.open_rhi(session, episode_id=episode.id, for_update=True)
            if rhi is not None:
                rhi.status = rhi_rules.RhiStatus.CANCELLED.value
                rhi.status_reason = "episode reopened"
                rhi.updated_at, rhi.updated_by = now, actor
            episode.status = rules.Status.MISSING.value
            episode.returned_at = episode.returned_by = episode.return_note = None
            audit.record(
                session,
                at=now,
                actor=actor,
                action="episode.reopened",
                episode_id=episode.id,
                child_id=episode.child_id,
                reason=reason.strip(),
            )
            delivery = self._thread_update(
                session,
                episode,
                key=f"episode:{episode.id}:reopened:{now.isoformat()}",
                template="episode_reopened",
                now=now,
                actor=actor,
            )
            return Reopened(format_ref(episode.id), delivery)

    # -- read ----------------------------------------------------------------------------

    def show(self, episode_id: int, *, actor: str) -> EpisodeDetail:
        now = self.clock.now()
        with self.db.transaction() as session:
            episode = self._get(session, episode_id)
            history = queries.episode_history(session, episode_id=episode.id)
            audit.record(
                session,
                at=now,
                actor=actor,
                action="episode.viewed",
                episode_id=episode.id,
                child_id=episode.child_id,
            )
            window = now - timedelta(days=self.config.repeat_window_days)
            counts = queries.child_episode_counts(session, child_id=episode.child_id, since=window)
            return EpisodeDetail(
                episode=episode,
                child=episode.child,
                rhi=queries.latest_rhi(session, episode_id=episode.id),
                history=history,
                card=episode_card(episode, episode.child, tz=self.config.tz, counts=counts),
            )

    def list_open(self, *, actor: str, limit: int = 40) -> tuple[list[dict[str, Any]], int]:
        now = self.clock.now()
        with self.db.transaction() as session:
            episodes, total = queries.open_episodes(session, limit=limit)
            audit.record(session, at=now, actor=actor, action="episodes.listed", count=total)
            return [episode_card(e, e.child, tz=self.config.tz) for e in episodes], total

    def _thread_update(
        self,
        session: Session,
        episode: Episode,
        *,
        key: str,
        template: str,
        now: datetime,
        **extra: Any,
    ) -> list[int]:
        """Queue a reply in the episode's control-room thread; the ids to deliver now."""
        delivery = enqueue(
            session,
            key=key,
            template=template,
            target=self.config.control_room_channel,
            data={**episode_card(episode, episode.child, tz=self.config.tz), **extra},
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
