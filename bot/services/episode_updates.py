"""Updates while the child is missing: re-grade the risk, record a review, add a sighting or a
line of information, correct the details. One transaction each.

The episode's thread is told what changed in words, never the content (which can hold names
and places); a change to high risk is also said at the top of the control-room channel, and
the episode's post is edited to show the new risk.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.domain.access import Action
from bot.domain.episode_update import Corrections, EpisodeUpdate
from bot.domain.errors import InvalidForm, UserError
from bot.domain.refs import format_ref
from bot.domain.states import AuditAction, EpisodeStatus, NoteKind, Risk
from bot.domain.timetext import fmt_local
from bot.services import audit
from bot.services.access import AccessService, Caller, Replayed
from bot.services.cards import episode_card
from bot.services.episodes import EpisodeService
from bot.services.messages import EpisodeAssigned, EpisodeUpdated, RiskRaised
from bot.services.outbox import Outbox
from bot.services.results import EpisodeCard, Reviewed, Updated, UpdateForm, UpdateSummary
from bot.services.reviews import ReviewSchedule
from storage.db import Database
from storage.models import Episode, EpisodeNote, RiskChange


class UpdateService:
    def __init__(
        self,
        *,
        db: Database,
        clock: Clock,
        outbox: Outbox,
        access: AccessService,
        episodes: EpisodeService,
        reviews: ReviewSchedule,
        control_room_channel: str,
        tz: ZoneInfo,
    ) -> None:
        self.db = db
        self.clock = clock
        self.outbox = outbox
        self.access = access
        self.episodes = episodes
        self.reviews = reviews
        self.control_room_channel = control_room_channel
        self.tz = tz

    def form(self, episode_id: int, caller: Caller) -> UpdateForm:
        """What the update form opens with. Refused before it opens for someone without the
        role, and for an episode no longer missing. The details it shows are a view: audited."""
        now = self.clock.now()
        with self.access.refusals_audited(caller), self.db.transaction() as session:
            self.access.require(session, caller, Action.UPDATE)
            episode = self.episodes.get(session, episode_id)
            self._check_missing(episode)
            audit.record(
                session,
                at=now,
                actor=caller.user_id,
                action=AuditAction.EPISODE_VIEWED,
                episode_id=episode.id,
                child_id=episode.child_id,
                channel=caller.channel_id,
                via="update form",
            )
            return UpdateForm(
                card=episode_card(episode, episode.child, tz=self.tz),
                last_seen_place=episode.last_seen_place,
                description=episode.description,
                reported_by=episode.reported_by,
                incident_ref=episode.incident_ref,
                placing_authority=episode.placing_authority,
                risk_factors=tuple(episode.risk_factors or ()),
                officer_id=episode.officer_id,
                review_due_at=episode.review_due_at,
            )

    def update(self, episode_id: int, change: EpisodeUpdate, caller: Caller) -> Updated:
        """Save what the form changed. The same form submitted again changes nothing more."""
        try:
            return self._update(episode_id, change, caller)
        except Replayed:
            return Updated(format_ref(episode_id), UpdateSummary(), already=True)

    def _update(self, episode_id: int, change: EpisodeUpdate, caller: Caller) -> Updated:
        now = self.clock.now()
        actor = caller.user_id
        with self.access.refusals_audited(caller), self.db.transaction() as session:
            self.access.require(session, caller, Action.UPDATE)
            episode = self.episodes.get(session, episode_id, for_update=True)
            self._check_missing(episode)
            errors = change.validate(
                now=now, last_seen_at=episode.last_seen_at, looked_after=episode.looked_after
            )
            if errors:
                raise InvalidForm(errors)
            previous = Risk(episode.risk_level)
            risk = self._risk(session, episode, change, now=now, caller=caller)
            sighting, information = self._notes(session, episode, change, now=now, caller=caller)
            summary = replace(
                risk,
                sighting=sighting,
                information=information,
                corrected=self._correct(session, episode, change.corrections, now, caller),
            )
            if summary == UpdateSummary():
                raise InvalidForm({"information": "Nothing to save: that is already recorded."})
            self.access.record_result(session, caller, str(episode.id))
            card = episode_card(episode, episode.child, tz=self.tz)
            delivery = self.episodes.thread_update(
                session,
                episode,
                key=f"episode:{episode.id}:updated:{now.isoformat()}:{actor}",
                message=EpisodeUpdated(card, actor, summary),
                now=now,
            )
            if summary.regraded is not None:
                delivery += self.episodes.refresh_post(session, episode, now=now, why="risk")
                if card.risk is Risk.HIGH:
                    assert summary.decided_by is not None
                    delivery += self._say_risk_raised(
                        session, card, previous, summary.decided_by, now
                    )
            if "officer_id" in summary.corrected and episode.officer_id != actor:
                delivery += self._tell_new_officer(session, episode, actor, now)
        self.outbox.deliver_soon(delivery)
        return Updated(format_ref(episode_id), summary)

    def review(self, episode_id: int, caller: Caller, *, due_at: datetime) -> Reviewed:
        """The reminder's "risk stays" button: a review keeping the risk as it is. The button
        names the review it asks for; one recorded since makes it stale."""
        now = self.clock.now()
        actor = caller.user_id
        ref = format_ref(episode_id)
        with self.access.refusals_audited(caller), self.db.transaction() as session:
            self.access.require(session, caller, Action.UPDATE)
            episode = self.episodes.get(session, episode_id, for_update=True)
            self._check_missing(episode)
            due = episode.review_due_at
            if due is None or int(due.timestamp()) != int(due_at.timestamp()):
                later = f" The next is due {fmt_local(due, self.tz)}." if due else ""
                raise UserError(
                    f"That reminder is about a review of {ref} that has been recorded since; "
                    f"nothing was changed.{later}"
                )
            review = self.reviews.record(session, episode, now=now, actor=actor, decided_by=actor)
            risk = Risk(episode.risk_level)
            audit.record(
                session,
                at=now,
                actor=actor,
                action=AuditAction.EPISODE_REVIEWED,
                episode_id=episode.id,
                channel=caller.channel_id,
                risk=risk.value,
                decided_by=actor,
                next_due=review.next_due.isoformat(),
                via="reminder",
            )
            summary = UpdateSummary(reviewed=risk, decided_by=actor, next_review=review.next_due)
            card = episode_card(episode, episode.child, tz=self.tz)
            delivery = self.episodes.thread_update(
                session,
                episode,
                key=f"episode:{episode.id}:reviewed:{now.isoformat()}:{actor}",
                message=EpisodeUpdated(card, actor, summary),
                now=now,
            )
        self.outbox.deliver_soon(delivery)
        return Reviewed(ref, risk, review.next_due)

    # -- the parts of an update ------------------------------------------------------------

    def _risk(
        self,
        session: Session,
        episode: Episode,
        change: EpisodeUpdate,
        *,
        now: datetime,
        caller: Caller,
    ) -> UpdateSummary:
        """A re-grade (a risk change and a review), or a review keeping the risk when only a
        reason was given (or the risk chosen is the one someone recorded meanwhile)."""
        actor = caller.user_id
        decided_by = change.decided_by or actor
        reason = change.reason.strip()
        previous = Risk(episode.risk_level)
        if change.risk is not None and change.risk is not previous:
            session.add(
                RiskChange(
                    episode_id=episode.id,
                    at=now,
                    actor=actor,
                    decided_by=decided_by,
                    from_risk=previous.value,
                    to_risk=change.risk.value,
                    reason=reason,
                )
            )
            episode.risk_level = change.risk.value
            review = self.reviews.record(
                session, episode, now=now, actor=actor, decided_by=decided_by
            )
            audit.record(
                session,
                at=now,
                actor=actor,
                action=AuditAction.RISK_REGRADED,
                episode_id=episode.id,
                channel=caller.channel_id,
                previous=previous.value,
                risk=change.risk.value,
                decided_by=decided_by,
                next_due=review.next_due.isoformat(),
            )
            return UpdateSummary(
                regraded=(previous, change.risk), decided_by=decided_by, next_review=review.next_due
            )
        if not reason:
            return UpdateSummary()
        review = self.reviews.record(
            session, episode, now=now, actor=actor, decided_by=decided_by, reason=reason
        )
        audit.record(
            session,
            at=now,
            actor=actor,
            action=AuditAction.EPISODE_REVIEWED,
            episode_id=episode.id,
            channel=caller.channel_id,
            risk=previous.value,
            decided_by=decided_by,
            next_due=review.next_due.isoformat(),
            via="update form",
        )
        return UpdateSummary(reviewed=previous, decided_by=decided_by, next_review=review.next_due)

    def _notes(
        self,
        session: Session,
        episode: Episode,
        change: EpisodeUpdate,
        *,
        now: datetime,
        caller: Caller,
    ) -> tuple[bool, bool]:
        """A sighting and a line of information, each its own note: (sighting, information)."""
        notes = []
        if change.has_sighting:
            notes.append(
                (
                    AuditAction.SIGHTING_ADDED,
                    EpisodeNote(
                        kind=NoteKind.SIGHTING.value,
                        text="",
                        seen_at=change.sighting_at,
                        place=change.sighting_place.strip(),
                    ),
                )
            )
        if change.information.strip():
            notes.append(
                (
                    AuditAction.INFORMATION_ADDED,
                    EpisodeNote(kind=NoteKind.INFORMATION.value, text=change.information.strip()),
                )
            )
        for action, note in notes:
            note.episode_id, note.at, note.actor = episode.id, now, caller.user_id
            session.add(note)
            session.flush()
            audit.record(
                session,
                at=now,
                actor=caller.user_id,
                action=action,
                episode_id=episode.id,
                channel=caller.channel_id,
                note_id=note.id,
            )
        return change.has_sighting, bool(change.information.strip())

    def _correct(
        self,
        session: Session,
        episode: Episode,
        fixed: Corrections,
        now: datetime,
        caller: Caller,
    ) -> tuple[str, ...]:
        """Apply the details changed on the form that differ from the record; which fields
        changed is audited, never their values."""
        wanted: dict[str, object] = {}
        for name in fixed.changed():
            value = getattr(fixed, name)
            if name == "risk_factors":
                wanted[name] = list(value)
            elif name in ("incident_ref", "placing_authority"):
                wanted[name] = value.strip() or None
            else:
                wanted[name] = value.strip()
        corrected = tuple(n for n, v in wanted.items() if getattr(episode, n) != v)
        for name in corrected:
            setattr(episode, name, wanted[name])
        if corrected:
            audit.record(
                session,
                at=now,
                actor=caller.user_id,
                action=AuditAction.EPISODE_CORRECTED,
                episode_id=episode.id,
                child_id=episode.child_id,
                channel=caller.channel_id,
                fields=list(corrected),
            )
        return corrected

    # -- what else is said ------------------------------------------------------------------

    def _say_risk_raised(
        self, session: Session, card: EpisodeCard, previous: Risk, decided_by: str, now: datetime
    ) -> list[int]:
        """A child now at high risk is said at the top of the channel, where everyone looks,
        not only in a thread someone may have muted."""
        raised = self.outbox.enqueue(
            session,
            key=f"episode:{card.episode_id}:risk_raised:{now.isoformat()}",
            message=RiskRaised(card, previous, decided_by),
            target=self.control_room_channel,
            now=now,
            episode_id=card.episode_id,
        )
        return [raised] if raised is not None else []

    def _tell_new_officer(
        self, session: Session, episode: Episode, actor: str, now: datetime
    ) -> list[int]:
        card = episode_card(episode, episode.child, tz=self.tz)
        told = self.outbox.enqueue(
            session,
            key=f"episode:{episode.id}:assigned:{episode.officer_id}:{now.isoformat()}",
            message=EpisodeAssigned(card, by=actor, reassigned=True),
            target=episode.officer_id,
            now=now,
            episode_id=episode.id,
            not_before=self.reviews.quiet_until(now, high_risk=card.risk is Risk.HIGH),
        )
        return [told] if told is not None else []

    def _check_missing(self, episode: Episode) -> None:
        if episode.status == EpisodeStatus.MISSING:
            return
        ref = format_ref(episode.id)
        if episode.status == EpisodeStatus.RETURNED and episode.returned_at is not None:
            raise UserError(
                f"{ref} is recorded as returned ({fmt_local(episode.returned_at, self.tz)}): "
                "updates are for a child still missing. If the return was recorded in error, "
                f"`/missing reopen {ref} <reason>` first; the record and its return home "
                f"interview: `/missing show {ref}`."
            )
        raise UserError(
            f"{ref} is not open ({episode.status}), so it cannot be updated. "
            f"`/missing show {ref}` shows where it stands."
        )
