"""The engine's in-memory catalogue, loaded once per process and reloaded only when the
catalogue's version counter moves (one cheap SELECT per call to find out).
"""
from __future__ import annotations

import json
import threading

from flask import current_app
from sqlalchemy import select

from curator.engine import Catalogue
from curator.extensions import db
from curator.models.catalogue import CatalogueState, CatalogueTrack, TrackTag

_lock = threading.Lock()
# database URL -> (epoch, version, Catalogue); one entry per database this process talks to.
_cache: dict[str, tuple[str, int, Catalogue]] = {}

_COLUMNS = (
    CatalogueTrack.id, CatalogueTrack.name, CatalogueTrack.artists, CatalogueTrack.artist_ids,
    CatalogueTrack.duration_ms, CatalogueTrack.explicit, CatalogueTrack.isrc, CatalogueTrack.key,
    CatalogueTrack.mode, CatalogueTrack.valence, CatalogueTrack.energy, CatalogueTrack.danceability,
    CatalogueTrack.acousticness, CatalogueTrack.instrumentalness, CatalogueTrack.speechiness,
    CatalogueTrack.liveness, CatalogueTrack.loudness, CatalogueTrack.tempo,
)
_FIELDS = ("id", "name", "artists", "artist_ids", "duration_ms", "explicit", "isrc", "key", "mode",
           "valence", "energy", "danceability", "acousticness", "instrumentalness", "speechiness",
           "liveness", "loudness", "tempo")


def _state() -> tuple[str, int]:
    row = db.session.execute(select(CatalogueState.epoch, CatalogueState.version).where(CatalogueState.id == 1)).first()
    return (row[0], row[1]) if row else ("", 0)


def catalogue_version() -> int:
    """The catalogue's change counter (0 for a catalogue that never had a track)."""
    return _state()[1]


def _load() -> Catalogue:
    # Plain column tuples, not ORM objects: 100k rows load in well under a second this way.
    tags: dict[str, list[str]] = {}
    for track_id, tag in db.session.execute(
        select(TrackTag.track_id, TrackTag.tag)
        .join(CatalogueTrack, CatalogueTrack.id == TrackTag.track_id)
        .where(CatalogueTrack.features_source.is_not(None))
    ):
        tags.setdefault(track_id, []).append(tag)
    rows = db.session.execute(
        select(*_COLUMNS).where(CatalogueTrack.features_source.is_not(None)).order_by(CatalogueTrack.id)
    )
    loads = json.loads
    records = []
    for row in rows:
        record = dict(zip(_FIELDS, row, strict=True))
        record["artists"] = loads(record["artists"])
        record["artist_ids"] = loads(record["artist_ids"])
        record["tags"] = tags.get(record["id"], ())
        records.append(record)
    return Catalogue.from_records(records)


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
