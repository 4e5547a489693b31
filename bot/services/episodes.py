"""Episode use cases: log, return, reopen, show. One transaction each; what they enqueue for
Slack is handed to the outbox after commit. (Updates while missing: bot.services.
episode_updates; lists: bot.services.episode_lists.)"""

from __future__ import annotations

from dataclasses import dataclass, replace
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
from bot.domain.returns import ReturnDetails, safe_well_due
from bot.domain.states import AuditAction, EpisodeStatus, RhiStatus, Risk, SafeWellStatus
from bot.domain.text import NOTE_LIMIT, check_text
from bot.services import audit
from bot.services.access import AccessService, Caller, Replayed
from bot.services.cards import episode_card, note_view, rhi_view, risk_history
from bot.services.messages import (
    EpisodeAssigned,
    EpisodeConfirmed,
    EpisodePosted,
    EpisodePostUpdated,
    EpisodeReopened,
    EpisodeReturned,
    EpisodeVoided,
    Outbound,
)
from bot.services.outbox import Outbox, post_key
from bot.services.results import (
    EpisodeCard,
    EpisodeDetail,
    HistoryEntry,
    Logged,
    Reopened,
    Returned,
    Voided,
)
from bot.services.reviews import ReviewSchedule
from bot.services.rhi_followups import RhiFollowups
from bot.services.safe_well import SafeWellFollowups, check_safe_well_person
from bot.services.voids import stop_what_follows
from storage import episode_records, queries
from storage.db import Database
from storage.models import Child, Episode, ReturnInterview

# `/missing show` lists this many of an episode's newest sightings and notes, then counts.
NOTES_SHOWN = 15


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
        followups: RhiFollowups,
        safe_well: SafeWellFollowups,
        reviews: ReviewSchedule,
        config: EpisodeConfig,
    ) -> None:
        self.db = db
        self.clock = clock
        self.outbox = outbox
        self.access = access
        self.followups = followups
        self.safe_well = safe_well
        self.reviews = reviews
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
            episode = self.get(session, episode_id)
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
            self.reviews.start(session, episode, now)
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
            if episode.officer_id != actor:
                # The officer in the case learns the episode is theirs (quiet hours apply,
                # except for high risk).
                ids.append(
                    self.outbox.enqueue(
                        session,
                        key=f"episode:{episode.id}:assigned:{episode.officer_id}",
                        message=EpisodeAssigned(card, by=actor),
                        target=episode.officer_id,
                        now=now,
                        episode_id=episode.id,
                        not_before=self.followups.quiet_until(
                            now, high_risk=card.risk is Risk.HIGH
                        ),
                    )
                )
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
        self,
        episode_id: int,
        caller: Caller,
        *,
        returned_at: datetime | None,
        note: str = "",
        details: ReturnDetails | None = None,
    ) -> Returned:
        """The child is back: the return home interview starts (due 72 h on) and the police
        safe-and-well check is chased until recorded (a quick return leaves it to the officer
        in the case)."""
        check_text(note, limit=NOTE_LIMIT, what="the note")
        now = self.clock.now()
        actor = caller.user_id
        when = returned_at or now
        details = details or ReturnDetails()
        problems = details.errors()
        if problems:
            field, text = next(iter(problems.items()))
            raise UserError(text, field=field)
        with self.access.refusals_audited(caller), self.db.transaction() as session:
            self.access.require(session, caller, Action.RETURN)
            episode = self.get(session, episode_id, for_update=True)
            ref = format_ref(episode.id)
            self._refuse_if_void(episode)
            if details.safe_well_by:
                check_safe_well_person(self.access, session, details.safe_well_by, caller)
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
            self._record_details(episode, details, when, caller)
            self.safe_well.schedule(session, episode, now)
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
            self.followups.schedule(session, rhi, now)
            self.reviews.stop(session, episode, now)
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
                how=details.how.value if details.how else None,
                safe_well=details.safe_well.value,
                referral=bool(details.disclosure.strip()),
            )
            card = episode_card(episode, episode.child, tz=self.config.tz)
            message = EpisodeReturned(
                card,
                when,
                due,
                actor,
                how=details.how,
                safe_well=details.safe_well,
                safe_well_by=episode.safe_well_by,
                safe_well_due_at=(
                    safe_well_due(when, self.safe_well.policy)
                    if details.safe_well is SafeWellStatus.TO_BE_DONE
                    else None
                ),
                referral=bool(details.disclosure.strip()),
            )
            delivery = self.thread_update(
                session,
                episode,
                key=f"episode:{episode.id}:returned:{rhi.id}",
                message=message,
                now=now,
            )
            delivery += self.refresh_post(session, episode, now=now, why="returned")
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
            episode = self.get(session, episode_id, for_update=True)
            self._refuse_if_void(episode)
            rules.check_transition(EpisodeStatus(episode.status), EpisodeStatus.MISSING)
            rhi = queries.open_rhi(session, episode_id=episode.id, for_update=True)
            if rhi is not None:
                rhi.status = RhiStatus.CANCELLED
                rhi.status_reason = "episode reopened"
                rhi.updated_at, rhi.updated_by = now, actor
            episode.status = EpisodeStatus.MISSING
            if rhi is not None:
                self.followups.schedule(session, rhi, now)
            episode.returned_at = episode.returned_by = episode.return_note = None
            episode.found_place = episode.return_how = episode.disclosure = None
            episode.safe_well_status = episode.safe_well_by = None
            episode.safe_well_done_at = None
            self.safe_well.schedule(session, episode, now)
            self.reviews.resume(session, episode, now)
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
            delivery = self.thread_update(
                session,
                episode,
                key=f"episode:{episode.id}:reopened:{now.isoformat()}",
                message=EpisodeReopened(card, actor),
                now=now,
            )
            delivery += self.refresh_post(session, episode, now=now, why="reopened")
        self.outbox.deliver_soon(delivery)
        return Reopened(format_ref(episode_id))

    # -- void ----------------------------------------------------------------------------

    def void(
        self, episode_id: int, caller: Caller, *, reason: str, duplicate_of: int | None = None
    ) -> Voided:
        """Take an episode logged in error (or a duplicate) out of every list and figure and
        stop what follows it. The reason is kept on the episode; the thread and the audit
        trail say only "logged in error" or "duplicate of M-n", since what is typed may name
        people."""
        now = self.clock.now()
        actor = caller.user_id
        rules.check_void(episode_id=episode_id, reason=reason, duplicate_of=duplicate_of)
        ref = format_ref(episode_id)
        with self.access.refusals_audited(caller), self.db.transaction() as session:
            if duplicate_of is not None and duplicate_of < episode_id:
                # Both rows are locked in id order: two voids naming each other as the
                # duplicate wait in turn (the second sees the first's void and is refused)
                # rather than deadlock.
                queries.episode_by_id(session, duplicate_of, for_update=True)
            episode = queries.episode_by_id(session, episode_id, for_update=True)
            logged = (episode.logged_by, episode.created_at) if episode else None
            self.access.require_void(session, caller, ref=ref, logged=logged)
            if episode is None:
                raise NotFound(f"There is no episode {ref}.")
            if episode.status == EpisodeStatus.VOID:
                card = episode_card(episode, episode.child, tz=self.config.tz)
                return Voided(ref, card.duplicate_of, rhi_cancelled=False, already=True)
            if duplicate_of is not None:
                self._check_original(session, duplicate_of)
            previous = EpisodeStatus(episode.status)
            rules.check_transition(previous, EpisodeStatus.VOID)
            episode.status = EpisodeStatus.VOID
            episode.voided_at, episode.voided_by = now, actor
            episode.void_reason = reason.strip()
            episode.duplicate_of = duplicate_of
            rhi_id = stop_what_follows(
                session, episode, followups=self.followups, actor=actor, now=now
            )
            audit.record(
                session,
                at=now,
                actor=actor,
                action=AuditAction.EPISODE_VOIDED,
                episode_id=episode.id,
                child_id=episode.child_id,
                channel=caller.channel_id,
                # Never the reason typed: only whether it was a duplicate, and of which.
                previous=previous.value,
                duplicate=duplicate_of is not None,
                duplicate_of=format_ref(duplicate_of) if duplicate_of else None,
                rhi_cancelled=rhi_id,
            )
            card = episode_card(episode, episode.child, tz=self.config.tz)
            delivery = self.thread_update(
                session,
                episode,
                key=f"episode:{episode.id}:voided",
                message=EpisodeVoided(card, actor, rhi_cancelled=rhi_id is not None),
                now=now,
            )
            delivery += self.refresh_post(session, episode, now=now, why="voided")
        self.outbox.deliver_soon(delivery)
        return Voided(ref, card.duplicate_of, rhi_cancelled=rhi_id is not None, already=False)

    def _check_original(self, session: Session, episode_id: int) -> None:
        """The episode a duplicate points to must exist and stand: voiding both would leave
        no record of a child who may be missing."""
        original = queries.episode_by_id(session, episode_id, for_update=True)
        if original is None:
            raise NotFound(
                f"There is no episode {format_ref(episode_id)}: give the reference of the "
                "episode this one duplicates."
            )
        if original.status == EpisodeStatus.VOID:
            raise UserError(
                f"{format_ref(episode_id)} is itself voided: give the reference of the episode "
                "that stands."
            )

    @staticmethod
    def _refuse_if_void(episode: Episode) -> None:
        duplicate_of = format_ref(episode.duplicate_of) if episode.duplicate_of else None
        rules.check_not_void(
            EpisodeStatus(episode.status), format_ref(episode.id), duplicate_of=duplicate_of
        )

    # -- read ----------------------------------------------------------------------------

    def show(self, episode_id: int, caller: Caller) -> EpisodeDetail:
        """Full details, for the caller's eyes only; the history needs the safeguarding role."""
        now = self.clock.now()
        with self.access.refusals_audited(caller), self.db.transaction() as session:
            roles = self.access.require(session, caller, Action.SHOW)
            episode = self.get(session, episode_id)
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
            changes = episode_records.risk_changes(session, episode_id=episode.id)
            reviews = episode_records.reviews(session, episode_id=episode.id)
            notes, notes_total = episode_records.notes(
                session, episode_id=episode.id, limit=NOTES_SHOWN
            )
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
                voided_by=episode.voided_by,
                void_reason=episode.void_reason,
                risk_history=risk_history(episode, changes, reviews),
                notes=tuple(note_view(n) for n in notes),
                notes_total=notes_total,
                review_due_at=episode.review_due_at,
                review_overdue=self.reviews.is_overdue(episode.review_due_at, now),
            )

    def thread_update(
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

    @staticmethod
    def _record_details(
        episode: Episode, details: ReturnDetails, when: datetime, caller: Caller
    ) -> None:
        episode.found_place = details.found_place.strip() or None
        episode.return_how = details.how.value if details.how else None
        episode.disclosure = details.disclosure.strip() or None
        episode.safe_well_status = details.safe_well
        if details.safe_well is SafeWellStatus.DONE:
            episode.safe_well_by = details.safe_well_by or caller.user_id
            episode.safe_well_done_at = when
        else:
            episode.safe_well_by = details.safe_well_by or episode.officer_id
            episode.safe_well_done_at = None

    def check_may_return(self, episode_id: int, caller: Caller) -> EpisodeCard | Returned:
        """Before the return form opens: the episode's card if it is still open, else what
        `/missing returned` would answer (already returned: nothing changes)."""
        with self.access.refusals_audited(caller), self.db.read() as session:
            self.access.require(session, replace(caller, request_key=None), Action.RETURN)
            episode = self.get(session, episode_id)
            self._refuse_if_void(episode)
            if episode.status == EpisodeStatus.RETURNED:
                assert episode.returned_at is not None
                rhi = queries.latest_rhi(session, episode_id=episode.id)
                ref = format_ref(episode.id)
                return Returned(ref, episode.returned_at, rhi.due_at if rhi else None, True)
            return episode_card(episode, episode.child, tz=self.config.tz)

    def refresh_post(
        self, session: Session, episode: Episode, *, now: datetime, why: str
    ) -> list[int]:
        """Queue an edit of the episode's channel post to show where it stands now (in the
        caller's transaction); the ids to deliver after commit."""
        card = episode_card(episode, episode.child, tz=self.config.tz)
        edit = self.outbox.enqueue(
            session,
            key=f"episode:{episode.id}:post:edit:{now.isoformat()}:{why}",
            message=EpisodePostUpdated(card),
            target=self.config.control_room_channel,
            now=now,
            episode_id=episode.id,
        )
        return [edit] if edit is not None else []

    def get(self, session: Session, episode_id: int, *, for_update: bool = False) -> Episode:
        episode = queries.episode_by_id(session, episode_id, for_update=for_update)
        if episode is None:
            raise NotFound(f"There is no episode {format_ref(episode_id)}.")
        return episode
