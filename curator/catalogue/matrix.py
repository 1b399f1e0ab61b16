"""The engine's in-memory catalogue, loaded once per process and reloaded only when the
catalogue's version counter moves (one cheap SELECT per call to find out).
"""
from __future__ import annotations

import threading

import numpy as np
from flask import current_app
from sqlalchemy import select

from curator.engine import FEATURES, Catalogue
from curator.engine.catalogue import recording_key
from curator.engine.features import UNKNOWN_MODE
from curator.extensions import db
from curator.models.catalogue import SEP, CatalogueState, CatalogueTrack, TrackTag

_lock = threading.Lock()
# database URL -> (epoch, version, Catalogue); one entry per database this process talks to.
_cache: dict[str, tuple[str, int, Catalogue]] = {}

# Core table columns, not ORM attributes: the rows come back as plain tuples without the ORM's
# per-row bookkeeping, which is most of the cost at 100k rows.
_t = CatalogueTrack.__table__.c
_FEATURE_COLUMNS = [_t[name] for name in FEATURES if name != "mode"]
_COLUMNS = (_t.id, _t.name, _t.artists, _t.artist_ids, _t.duration_ms, _t.explicit, _t.isrc, _t.key, _t.mode,
            _t.recording_key, *_FEATURE_COLUMNS)
_tags = TrackTag.__table__.c


def _state() -> tuple[str, int]:
    row = db.session.execute(select(CatalogueState.epoch, CatalogueState.version).where(CatalogueState.id == 1)).first()
    return (row[0], row[1]) if row else ("", 0)


def catalogue_version() -> int:
    """The catalogue's change counter (0 for a catalogue that never had a track)."""
    return _state()[1]


def _objects(values) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def _tag_sets(ids, tags: dict[str, list[str]]) -> tuple[frozenset[str], ...]:
    # Most tracks share one of a few tag sets (a mood label, a genre): build each set once.
    empty: frozenset[str] = frozenset()
    memo: dict[tuple[str, ...], frozenset[str]] = {}
    out = []
    for track_id in ids:
        found = tags.get(track_id)
        if not found:
            out.append(empty)
            continue
        key = tuple(found)
        value = memo.get(key)
        if value is None:
            value = memo[key] = frozenset(found)
        out.append(value)
    return tuple(out)


def _fetch(statement) -> list[tuple]:
    # The driver's own cursor: SQLAlchemy's Row objects cost a third of the load at 100k rows,
    # and these columns need no type conversion (booleans arrive as 0/1 or bool, both fine).
    connection = db.session.connection()
    sql = str(statement.compile(dialect=connection.dialect))
    cursor = connection.connection.cursor()
    try:
        cursor.execute(sql)
        return cursor.fetchall()
    finally:
        cursor.close()


def _load() -> Catalogue:
    """Build the engine's columns straight from column tuples (no ORM objects, no per-row
    records): this is what keeps 100k tracks near a second. Matches `Catalogue.from_records`."""
    rows = _fetch(select(*_COLUMNS).where(_t.features_source.is_not(None)).order_by(_t.id))
    # All tags in one plain scan; joining them to "tracks with features" in SQL costs more than
    # skipping the few extra in Python.
    tags: dict[str, list[str]] = {}
    for track_id, tag in _fetch(select(_tags.track_id, _tags.tag)):
        tags.setdefault(track_id, []).append(tag)
    n = len(rows)
    if n == 0:
        return Catalogue.from_records([])
    (ids, names, artists, artist_ids, durations, explicit, isrcs, keys, modes, rec_keys,
     *feature_cols) = zip(*rows, strict=True)
    split: dict[str, tuple[str, ...]] = {"": ()}  # artists repeat across their tracks: split each once
    artist_tuples = tuple(split[a] if a in split else split.setdefault(a, tuple(a.split(SEP))) for a in artists)
    codes: dict[str, int] = {}
    primary = np.fromiter(
        (codes.setdefault(aid.split(SEP, 1)[0] if aid else (names_[0].strip().lower() if names_ else ""), len(codes))
         for aid, names_ in zip(artist_ids, artist_tuples, strict=True)),
        dtype=np.int32, count=n)
    mode_known = [m if m in (0, 1) else None for m in modes]
    features = np.empty((n, len(FEATURES)), dtype=np.float32)
    columns = iter(feature_cols)
    for index, name in enumerate(FEATURES):
        if name == "mode":
            features[:, index] = [UNKNOWN_MODE if m is None else float(m) for m in mode_known]
        else:
            features[:, index] = next(columns)
    keys_arr = np.array([k if k is not None and 0 <= k <= 11 else -1 for k in keys], dtype=np.int8)
    rec = np.array([k if k is not None else recording_key(nm, a[0] if a else "")
                    for k, nm, a in zip(rec_keys, names, artist_tuples, strict=True)], dtype=np.int64)
    return Catalogue(
        ids=_objects(ids),
        names=_objects(names),
        artists=artist_tuples,
        primary_artist=primary,
        durations_ms=np.array(durations, dtype=np.int32),
        explicit=np.array(explicit, dtype=bool),
        isrc=_objects([i.upper() if i else None for i in isrcs]),
        key=keys_arr,
        mode=np.array([-1 if m is None else m for m in mode_known], dtype=np.int8),
        recording_key=rec,
        features=features,
        tags=_tag_sets(ids, tags),
    )


def current_catalogue() -> Catalogue:
    """The engine catalogue of every track that has audio features (possibly empty).

    Shared by all requests of this process; rebuilt only after the catalogue changed.
    """
    key = current_app.config["SQLALCHEMY_DATABASE_URI"]
    epoch, version = _state()
    cached = _cache.get(key)
    if cached and cached[0] == epoch and cached[1] == version:
        return cached[2]
    with _lock:
        cached = _cache.get(key)
        if cached and cached[0] == epoch and cached[1] == version:
            return cached[2]
        catalogue = _load()
        # Re-read the version after loading: a change committed meanwhile must not be cached
        # under the older number (it would be picked up on the next call instead).
        if _state() == (epoch, version):
            _cache[key] = (epoch, version, catalogue)
        return catalogue
