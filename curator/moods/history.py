"""A mood's life after creation: its versions, rollback, archiving. Callers commit.

Versions are immutable, so a rollback never rewrites history: it stores the old data again as a
new version, and the history keeps showing what happened in between.
"""
from __future__ import annotations

import copy

from sqlalchemy import func, select

from curator import audit
from curator.extensions import db
from curator.models.listening import Preview
from curator.models.mood import Mood, MoodVersion
from curator.moods.store import save_version
from curator.problems import NotFound


def mood_row(slug: str) -> Mood:
    """The mood (archived or not); NotFound when there is none."""
    mood = db.session.scalar(select(Mood).where(Mood.slug == slug))
    if mood is None or mood.current_version is None:
        raise NotFound(f"There is no mood called “{slug}”.", field="slug")
    return mood


def versions(slug: str) -> list[MoodVersion]:
    """Every version of a mood, newest first."""
    mood = mood_row(slug)
    return list(db.session.scalars(
        select(MoodVersion).where(MoodVersion.mood_id == mood.id).order_by(MoodVersion.number.desc())
    ))


def version(slug: str, number: int) -> MoodVersion:
    mood = mood_row(slug)
    found = db.session.scalar(
        select(MoodVersion).where(MoodVersion.mood_id == mood.id, MoodVersion.number == number)
    )
    if found is None:
        raise NotFound(f"“{slug}” has no version {number}.", field="version")
    return found


def version_data(v: MoodVersion) -> dict:
    """A version's definition, as a copy the caller may change."""
    return copy.deepcopy(v.data)


def rollback(slug: str, number: int, *, author, base_version_id: int | None) -> MoodVersion:
    """Make version `number`'s data current again as a new version (VersionConflict if stale).
    Rolling back to the current version, or to one that defines the same mood, writes nothing and
    answers with the current version."""
    old = version(slug, number)
    mood = old.mood
    if mood.current_version_id == old.id:
        return old
    return save_version(version_data(old), author=author, base_version_id=base_version_id,
                        note=f"Rolled back to version {number}", action="mood.rollback")


def set_archived(slug: str, archived: bool, *, actor) -> Mood:
    """Hide a mood from listeners (or bring it back); its versions are kept either way."""
    mood = mood_row(slug)
    if mood.archived == archived:
        return mood
    audit.record(actor, "mood.archive" if archived else "mood.unarchive", slug,
                 {"archived": mood.archived}, {"archived": archived})
    mood.archived = archived
    return mood


def preview_counts(version_ids: list[int]) -> dict[int, int]:
    """How many listener previews each version helped make, as the start or the target mood."""
    counts: dict[int, int] = {}
    for column in (Preview.from_version_id, Preview.to_version_id):
        for version_id, n in db.session.execute(
            select(column, func.count()).where(column.in_(version_ids)).group_by(column)
        ):
            counts[version_id] = counts.get(version_id, 0) + n
    return counts
