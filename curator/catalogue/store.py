"""Writing the catalogue: bulk upserts of tracks, features, tags and sources, and the version
counter that tells every worker its in-memory matrix is stale.

Every function here adds to the current transaction; `bump_version()` must run in the same
transaction as the change it announces (the callers do that and commit).
"""
from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager

from sqlalchemy import func, select, update

from curator.clock import utcnow
from curator.engine.catalogue import recording_key
from curator.extensions import db
from curator.models.catalogue import CatalogueState, CatalogueTrack, TrackSource, join_list

# session.info flag: this transaction changed the curation catalogue (its new version is built once
# it commits, curator/catalogue/matrix.py).
BUMPED = "curator.catalogue_bumped"

CHUNK = 2000  # rows per INSERT batch: big enough to be fast, small enough for any driver's limits

# Columns a Spotify TrackObject fills. Features are never touched by metadata updates.
_METADATA = ("name", "artists", "artist_ids", "recording_key", "album", "album_id", "duration_ms", "explicit")
_KEEP_IF_MISSING = ("popularity", "isrc", "image_url", "release_year")


def dialect_insert(model):
    """Core `INSERT` (fast executemany) with ON CONFLICT support for SQLite or PostgreSQL."""
    name = db.session.get_bind().dialect.name
    if name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:  # pragma: no cover - only the two databases we support
        raise RuntimeError(f"The catalogue needs SQLite or PostgreSQL, not {name}.")
    return insert(model.__table__)


def chunks(items: Sequence, size: int = CHUNK) -> Iterable[Sequence]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


# The source of tracks stored for one listener's "from music I know" preview. Those tracks are
# not part of the shared curation catalogue (catalogue/matrix.py), so storing them announces nothing.
LISTENER_SOURCE = "library"


def bump_version(track_ids: Iterable[str] | None = None) -> None:
    """Announce a change to the curation catalogue (same transaction as the change, so readers
    never see one without the other). Every worker reopens its catalogue after a bump.

    With ``track_ids`` (tracks whose features just changed) the bump happens only when one of
    them is a curation track: features found for tracks of listeners' own music change nothing
    the workers hold.
    """
    if track_ids is not None and not _any_curated(list(track_ids)):
        return
    db.session.info[BUMPED] = True
    result = db.session.execute(
        update(CatalogueState).where(CatalogueState.id == 1)
        .values(version=CatalogueState.version + 1, changed_at=utcnow())
    )
    if result.rowcount == 0:
        db.session.add(CatalogueState(id=1, version=1, epoch=uuid.uuid4().hex, changed_at=utcnow()))
        db.session.flush()


class BulkUpsert:
    """An INSERT ... ON CONFLICT compiled once and run with plain tuples, for bulk loads.

    SQLAlchemy's per-row parameter processing costs more than the database's own work at a
    million rows, so rows here hold only values every driver takes as they are (str, int,
    float, bool, None); timestamps go through `value()` once (SQLite stores them as text).
    `update` names the columns an existing row takes from the new one (None: keep the old
    row); `keep_if_missing` those it takes only when the new value isn't NULL.
    """

    def __init__(self, model, columns: Sequence[str], conflict: Sequence[str], update: Sequence[str] | None = None,
                 keep_if_missing: Sequence[str] = ()) -> None:
        self.dialect = db.session.get_bind().dialect
        self.table = model.__table__
        stmt = dialect_insert(model)
        if update is None:
            stmt = stmt.on_conflict_do_nothing(index_elements=list(conflict))
        else:
            set_ = {name: stmt.excluded[name] for name in update}
            for name in keep_if_missing:
                set_[name] = func.coalesce(stmt.excluded[name], self.table.c[name])
            stmt = stmt.on_conflict_do_update(index_elements=list(conflict), set_=set_)
        compiled = stmt.compile(dialect=self.dialect, column_keys=list(columns))
        self.sql = compiled.string
        self.columns = tuple(columns)
        if compiled.positional:
            order = [self.columns.index(name) for name in compiled.positiontup]
            identity = order == list(range(len(self.columns)))
            self._params = (lambda rows: rows) if identity else (lambda rows: [tuple(r[i] for i in order) for r in rows])
        else:
            self._params = lambda rows: [dict(zip(self.columns, r)) for r in rows]

    def value(self, column: str, value):
        """`value` as the driver should receive it for `column` (e.g. a datetime on SQLite)."""
        process = self.table.c[column].type.dialect_impl(self.dialect).bind_processor(self.dialect)
        return process(value) if process and value is not None else value

    def run(self, rows: Sequence[tuple]) -> None:
        if rows:
            db.session.connection().exec_driver_sql(self.sql, self._params(rows))


BULK_CACHE_KIB = 96 * 1024  # SQLite page cache while a bulk load runs (default: 2 MiB)


@contextmanager
def bulk_load() -> Iterator[None]:
    """A larger SQLite page cache for the current connection while a bulk load runs.

    A million upserts into tables whose keys arrive in random order touch pages all over their
    indexes; with SQLite's default 2 MiB cache they are re-read again and again (a quarter of
    the import's CPU). Set and restored on the same connection; PostgreSQL needs nothing.
    """
    connection = db.session.connection()
    if connection.dialect.name != "sqlite":
        yield
        return
    raw = connection.connection.dbapi_connection
    previous = raw.execute("PRAGMA cache_size").fetchone()[0]
    raw.execute(f"PRAGMA cache_size = -{BULK_CACHE_KIB}")
    try:
        yield
    finally:
        raw.execute(f"PRAGMA cache_size = {int(previous)}")


def _any_curated(track_ids: list[str]) -> bool:
    """Does any of these tracks belong to the curation catalogue (a source other than a listener's
    library, or none recorded)?"""
    sources = TrackSource.__table__.c
    for part in chunks(track_ids, 5000):
        listener_only = set(part) - set(db.session.scalars(
            select(sources.track_id).where(sources.track_id.in_(part), sources.source != LISTENER_SOURCE)))
        if len(listener_only) < len(part):
            return True
        with_listener = set(db.session.scalars(
            select(sources.track_id).where(sources.track_id.in_(part), sources.source == LISTENER_SOURCE)))
        if listener_only - with_listener:
            return True
    return False


def track_count() -> int:
    return db.session.execute(select(func.count()).select_from(CatalogueTrack.__table__)).scalar_one()


def existing_ids(track_ids: Sequence[str]) -> set[str]:
    """Which of `track_ids` are already in the catalogue."""
    found: set[str] = set()
    for part in chunks(list(track_ids), 5000):
        found.update(db.session.scalars(select(CatalogueTrack.id).where(CatalogueTrack.id.in_(part))))
    return found


def upsert_rows(rows: list[dict], update_columns: Sequence[str], keep_if_missing: Sequence[str] = ()) -> None:
    """Insert track rows, or update `update_columns` of those already present.

    Columns in `keep_if_missing` are updated only with a non-NULL value (COALESCE), so a source
    that doesn't know a track's ISRC never erases one another source supplied.
    """
    if not rows:
        return
    stmt = dialect_insert(CatalogueTrack)
    table = CatalogueTrack.__table__
    set_ = {name: stmt.excluded[name] for name in update_columns}
    for name in keep_if_missing:
        set_[name] = func.coalesce(stmt.excluded[name], table.c[name])
    set_["updated_at"] = stmt.excluded["updated_at"]
    stmt = stmt.on_conflict_do_update(index_elements=["id"], set_=set_)
    for part in chunks(rows):
        db.session.execute(stmt, list(part))


def add_sources(track_ids: Iterable[str], source: str, moods: Iterable[str] = ()) -> None:
    moods = list(moods) or [""]
    rows = [{"track_id": t, "source": source, "mood": m} for t in dict.fromkeys(track_ids) for m in moods]
    if rows:
        stmt = dialect_insert(TrackSource).on_conflict_do_nothing()
        for part in chunks(rows):
            db.session.execute(stmt, list(part))


def _album_year(date) -> int | None:
    """The year of an album's `release_date` ("1981", "1981-12", "1981-12-15")."""
    head = str(date or "")[:4]
    return int(head) if head.isdigit() and len(head) == 4 and 1000 <= int(head) <= 3000 else None


def track_row(obj: dict | None, album: dict | None = None) -> dict | None:
    """A catalogue row from a Spotify TrackObject (or a SimplifiedTrackObject plus its album).

    Answers None for what can't be a catalogue track: missing/unavailable items, local files,
    podcast episodes.
    """
    if not obj or not obj.get("id") or obj.get("is_local") or obj.get("type", "track") != "track":
        return None
    album = obj.get("album") or album or {}
    images = album.get("images") or []
    now = utcnow()
    names = [a.get("name") or "" for a in obj.get("artists") or []]
    return {
        "id": obj["id"],
        "name": obj.get("name") or "",
        "artists": join_list(names),
        "artist_ids": join_list(a.get("id") for a in obj.get("artists") or [] if a.get("id")),
        "recording_key": recording_key(obj.get("name") or "", names[0] if names else ""),
        "album": album.get("name") or "",
        "album_id": album.get("id"),
        "duration_ms": int(obj.get("duration_ms") or 0),
        "explicit": bool(obj.get("explicit")),
        "popularity": obj.get("popularity"),
        "isrc": ((obj.get("external_ids") or {}).get("isrc") or None),
        # Spotify lists images largest first; the page shows thumbnails, so take the smallest.
        "image_url": (images[-1].get("url") if images else None),
        "release_year": _album_year(album.get("release_date")),
        "added_at": now,
        "updated_at": now,
    }


def store_spotify_rows(rows: list[dict], source: str, moods: Iterable[str] = ()) -> None:
    """Upsert rows made by `track_row` and record their source (caller bumps and commits)."""
    unique = list({r["id"]: r for r in rows}.values())
    upsert_rows(unique, _METADATA, _KEEP_IF_MISSING)
    add_sources([r["id"] for r in unique], source, moods)


def upsert_spotify_tracks(track_objects: list[dict], source: str, moods: Iterable[str] = ()) -> list[str]:
    """Store Spotify TrackObjects (a listener's saved and top tracks: `playlists/library.py`).

    `source` says why they are here: `LISTENER_SOURCE` ("library") for a listener's own music,
    which stays out of the shared catalogue (no version bump), anything else joins it; `moods`
    for which moods (slugs). Audio features are not touched; call
    `catalogue.providers.fetch_missing_features` for those. Returns the stored track ids in input
    order (unusable objects, such as local files, are left out). The caller commits.
    """
    rows = [row for row in (track_row(obj) for obj in track_objects) if row]
    if rows:
        store_spotify_rows(rows, source, moods)
        if source != LISTENER_SOURCE:  # a listener's tracks are not in the curation catalogue
            bump_version()
    return list(dict.fromkeys(r["id"] for r in rows))
