"""Queries for what is recorded about a still-missing episode: risk changes, reviews, notes,
and the state its review reminders depend on."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from bot.domain.states import EpisodeStatus
from storage.models import Episode, EpisodeNote, Review, RiskChange


def risk_changes(session: Session, *, episode_id: int) -> list[RiskChange]:
    return list(
        session.scalars(
            select(RiskChange)
            .where(RiskChange.episode_id == episode_id)
            .order_by(RiskChange.at, RiskChange.id)
        )
    )


def reviews(session: Session, *, episode_id: int) -> list[Review]:
    return list(
        session.scalars(
            select(Review).where(Review.episode_id == episode_id).order_by(Review.at, Review.id)
        )
    )


def notes(session: Session, *, episode_id: int, limit: int) -> tuple[list[EpisodeNote], int]:
    """The newest `limit` notes, oldest of them first, and how many there are in all."""
    newest = list(
        session.scalars(
            select(EpisodeNote)
            .where(EpisodeNote.episode_id == episode_id)
            .order_by(EpisodeNote.at.desc(), EpisodeNote.id.desc())
            .limit(limit)
        )
    )
    total = session.scalar(select(func.count()).where(EpisodeNote.episode_id == episode_id)) or 0
    return newest[::-1], total


def last_review_at(session: Session, *, episode_id: int) -> datetime | None:
    return session.scalar(select(func.max(Review.at)).where(Review.episode_id == episode_id))


def last_reviews(session: Session, episode_ids: Sequence[int]) -> dict[int, datetime]:
    """Each episode's last review, for those that have one."""
    if not episode_ids:
        return {}
    rows = session.execute(
        select(Review.episode_id, func.max(Review.at))
        .where(Review.episode_id.in_(episode_ids))
        .group_by(Review.episode_id)
    )
    return {int(episode_id): at for episode_id, at in rows if at is not None}


def missing_episodes(session: Session) -> list[Episode]:
    """Every still-missing episode (a few hundred at most): for replanning their reviews."""
    return list(
        session.scalars(
            select(Episode).where(Episode.status == EpisodeStatus.MISSING).order_by(Episode.id)
        )
    )


def episodes_with_children(session: Session, ids: Sequence[int]) -> list[Episode]:
    if not ids:
        return []
    return list(
        session.scalars(
            select(Episode).where(Episode.id.in_(ids)).options(selectinload(Episode.child))
        )
    )


def review_state(session: Session, episode_id: int) -> tuple[bool, datetime | None]:
    """(still missing, when its review is due): a review reminder is wanted only while the
    child is missing and the review it asks for has not been recorded since."""
    row = session.execute(
        select(Episode.status, Episode.review_due_at).where(Episode.id == episode_id)
    ).first()
    if row is None:
        return False, None
    return row[0] == EpisodeStatus.MISSING, row[1]
