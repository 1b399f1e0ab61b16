"""Reading and saving versioned mood definitions.

A save that changes something creates a new `MoodVersion`; one that changes nothing (the same
definition as the current version) writes nothing and answers with the current version. Saving on
top of a version that is no longer current is refused (optimistic locking), so two curators never
silently overwrite each other.
"""
from __future__ import annotations

from dataclasses import dataclass
from itertools import chain
from pathlib import Path

from flask import current_app, g, has_request_context
from sqlalchemy import event, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from curator import audit, caching
from curator.engine import MoodDefinition, MoodInvalid, load_moods_yaml, mood_to_dict, parse_mood
from curator.extensions import db
from curator.models.mood import Mood, MoodVersion
from curator.problems import Conflict, NotFound
from curator.textfiles import TextFileError, read_text

# A moods file is a few kilobytes (the shipped one, an export); far larger is the wrong file.
MAX_MOODS_FILE_BYTES = 1024 * 1024

# Slugs that would collide with the mood editor's own paths (/curate/moods/new, .../preview).
RESERVED_SLUGS = frozenset({"new", "preview"})


def reserved_slug_message(slug: str) -> str:
    return f"“{slug}” is reserved (the mood editor uses it in its links); choose another slug"


@dataclass(frozen=True)
class StoredMood:
    slug: str
    definition: MoodDefinition
    version_id: int
    number: int
    archived: bool


class VersionConflict(Conflict):
    """Someone saved this mood since the editor loaded it; carries the now-current version."""

    def __init__(self, slug: str, current: MoodVersion):
        super().__init__(
            f"“{(current.data or {}).get('name') or slug}” was changed by {current.author.name if current.author else 'someone else'} "
            f"(version {current.number}) while you were editing. Nothing was overwritten.",
            code="version_conflict",
        )
        self.current = current


# Definitions parsed once per process (per app), by version: a saved version never changes (every
# save makes a new one), and parsing them again cost a preview about a millisecond per mood.
_PARSED = "curator.mood_definitions"
_CURRENT = (Mood.slug, Mood.archived, MoodVersion.id, MoodVersion.number)


# Every mood with its current version, in the curators' order: one short statement (moods are few)
# answers every mood a request asks for. A preview names its two moods and then its target's
# guidance: three statements before, one now.
_ALL_CURRENT = (select(*_CURRENT).join(MoodVersion, MoodVersion.id == Mood.current_version_id)
                .order_by(Mood.position, Mood.id))
# Where a request keeps what it read (flask.g): dropped when the request writes a mood or rolls back.
_REQUEST_MEMO = "curator_current_moods"


def _read_current() -> list[StoredMood]:
    """Every mood with its current version in one statement; definitions parsed only when new."""
    if _mood_writes_pending(db.session):
        db.session.flush()  # what session.execute's autoflush did; the connection's execute doesn't
    connection = db.session.connection()  # Core: a third of the ORM's cost for plain rows
    rows = connection.execute(_ALL_CURRENT).all()
    parsed = caching.memo(_PARSED)  # versions are few; the limit only bounds a pathological process
    missing = [version_id for _, _, version_id, number in rows if (version_id, number) not in parsed]
    if missing:
        found = connection.execute(select(MoodVersion.id, MoodVersion.number, MoodVersion.data)
                                   .where(MoodVersion.id.in_(missing)))
        for version_id, number, data in found:
            parsed[(version_id, number)] = parse_mood(data)
    return [StoredMood(slug, parsed[(version_id, number)], version_id, number, archived)
            for slug, archived, version_id, number in rows]


def _all_current() -> list[StoredMood]:
    """Every mood (archived too) with its current version, read once per request.

    Outside a request (CLI commands, the job worker, which may live for hours) every call reads
    the database, so nothing there can go stale."""
    if not has_request_context():
        return _read_current()
    moods = g.get(_REQUEST_MEMO)
    if moods is None or _mood_writes_pending(db.session):  # _read_current flushes them, then reads
        moods = _read_current()
        setattr(g, _REQUEST_MEMO, moods)
    return moods


def _mood_writes_pending(session) -> bool:
    return any(isinstance(item, (Mood, MoodVersion)) for item in chain(session.new, session.dirty, session.deleted))


@event.listens_for(Session, "before_flush")
def _forget_on_mood_write(session, _flush_context, _instances) -> None:
    if has_request_context() and _REQUEST_MEMO in g and _mood_writes_pending(session):
        g.pop(_REQUEST_MEMO, None)


@event.listens_for(Session, "after_rollback")
def _forget_on_rollback(_session) -> None:
    if has_request_context():
        g.pop(_REQUEST_MEMO, None)


def active_moods() -> list[StoredMood]:
    """Moods listeners can choose, in the curators' order."""
    return [m for m in _all_current() if not m.archived]


def names_by_slug() -> dict[str, str]:
    """Every mood's name (archived ones too), by slug: how pages name a mood."""
    return {m.slug: m.definition.name for m in _all_current()}


def all_moods() -> list[Mood]:
    return list(db.session.scalars(select(Mood).order_by(Mood.archived, Mood.position, Mood.id)))


def get_mood(slug: str, *, include_archived: bool = False) -> StoredMood:
    found = next((m for m in _all_current() if m.slug == slug), None)
    if found is None or (found.archived and not include_archived):
        raise NotFound(f"There is no mood called “{slug}”.", field="slug")
    return found


def save_version(data: dict, *, author=None, note: str = "", base_version_id: int | None = None,
                 create: bool = False, action: str | None = None) -> MoodVersion:
    """Validate `data` and store it as the mood's next version (the caller commits).

    When `data` defines exactly what the current version does, nothing is written (no version, no
    audit row) and the current version is returned: compare its id with the one you had.
    `base_version_id` is the version the editor started from; if the mood has moved on since (and
    `data` differs from what it moved on to), `VersionConflict` is raised and nothing is written.
    `create=True` makes a new mood.
    `action` names the audit event when it is more than a plain save (e.g. "mood.rollback").
    Raises `MoodInvalid` (from the engine) with every field error.
    """
    definition = parse_mood(data)
    payload = mood_to_dict(definition)
    mood = db.session.scalar(select(Mood).where(Mood.slug == definition.slug))
    if create:
        if definition.slug in RESERVED_SLUGS:
            raise MoodInvalid([("slug", reserved_slug_message(definition.slug))])
        if mood is not None:
            raise Conflict(f"A mood called “{definition.slug}” already exists.", field="slug", code="slug_taken")
        position = (db.session.scalar(select(func.max(Mood.position))) or 0) + 1
        mood = Mood(slug=definition.slug, position=position)
        db.session.add(mood)
        db.session.flush()
        before = None
    else:
        if mood is None:
            raise NotFound(f"There is no mood called “{definition.slug}”.", field="slug")
        if mood.current_version is not None and same_definition(mood.current_version.data, payload):
            return mood.current_version
        if base_version_id is not None and mood.current_version_id != base_version_id:
            raise VersionConflict(mood.slug, mood.current_version)
        before = mood.current_version.data if mood.current_version else None
    number = (db.session.scalar(select(func.max(MoodVersion.number)).where(MoodVersion.mood_id == mood.id)) or 0) + 1
    version = MoodVersion(mood_id=mood.id, number=number, data=payload,
                          author_id=getattr(author, "id", None), note=note)
    db.session.add(version)
    try:
        db.session.flush()
    except IntegrityError:
        # Another save took this version number between our check and our insert.
        db.session.rollback()
        mood = db.session.scalar(select(Mood).where(Mood.slug == definition.slug))
        raise VersionConflict(mood.slug, mood.current_version) from None
    mood.current_version_id = version.id
    audit.record(author, action or ("mood.create" if create else "mood.save"), mood.slug, before, payload)
    return version


def same_definition(stored: dict, payload: dict) -> bool:
    """Whether a stored version's data defines the same mood as `payload` (both read the way the
    engine reads them, so a key an older version left to its default still compares equal)."""
    try:
        return mood_to_dict(parse_mood(stored)) == payload
    except MoodInvalid:  # a hand-made row that no longer parses: anything valid is a change
        return False


def add_shipped_if_empty() -> str | None:
    """First run only: add config/moods.yaml's moods when the database has none yet (adds and
    flushes; `curator.moods.service.import_shipped_if_empty` commits)."""
    if db.session.scalar(select(func.count(Mood.id))):
        return None
    path = Path(current_app.config["MOODS_FILE"])
    try:
        text = read_text(str(path), max_bytes=MAX_MOODS_FILE_BYTES, what="a moods file")
    except TextFileError as exc:
        raise MoodInvalid([("", exc.message)]) from None
    moods = load_moods_yaml(text)
    for definition in moods:
        save_version(mood_to_dict(definition), note=f"Shipped with Curator ({path.name})", create=True)
    return f"Imported {len(moods)} moods from {path}."
