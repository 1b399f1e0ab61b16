"""How complete the catalogue is: size, feature coverage per mood, last refresh and import.

The counts scan the whole catalogue (about 90 ms at 100,000 tracks), so they are computed once
per catalogue version and kept per process, keyed by the database's epoch and version counter
(every change to tracks, features, tags or seed links bumps it in the same transaction). Each
process computes them once after a change; that costs one small query per page to check. The
last refresh and import are read live (one indexed row each).
"""
from __future__ import annotations

from sqlalchemy import func, select

from curator import caching
from curator.catalogue.coverage import mood_coverage, mood_supply, percent
from curator.extensions import db
from curator.models.catalogue import CatalogueImport, CatalogueState, CatalogueTrack, RefreshRun

CACHE_KEY = "curator.catalogue_health"  # kept (curator/caching.py) for the catalogue and mood versions


def _state() -> tuple[str, int]:
    row = db.session.execute(select(CatalogueState.epoch, CatalogueState.version).where(CatalogueState.id == 1)).first()
    return (row[0], row[1]) if row else ("", 0)


def catalogue_counts(moods: list) -> dict:
    """Sizes and per-mood coverage (`coverage.py`: usable, close and linked tracks) of the active
    `moods` (StoredMood), computed once per catalogue version and mood versions (per process)."""
    version = (*_state(), tuple((m.slug, m.version_id) for m in moods))
    kept = caching.peek(CACHE_KEY)
    if kept is not None and kept[0] == version:
        return kept[1]
    tracks, with_features = db.session.execute(
        select(func.count(CatalogueTrack.id), func.count(CatalogueTrack.features_source))).one()
    supply = mood_supply(moods)
    unknown = {"usable": None, "close": None, "usable_percent": None}
    counts = {"tracks": int(tracks or 0), "with_features": int(with_features or 0),
              "percent": percent(int(with_features or 0), int(tracks or 0)),
              "moods": [m | (supply or {}).get(m["slug"], unknown) for m in mood_coverage([m.slug for m in moods])]}
    if supply is not None:  # while the catalogue is being prepared, count again on the next page
        caching.keep(CACHE_KEY, version, counts)
    return counts


def catalogue_health() -> dict:
    """A summary for dashboards: sizes, coverage (overall and per active mood), last refresh and import.

    Keys: tracks, with_features, percent, moods [{slug, usable, close, usable_percent, tracks, with_features,
    percent}],
    refresh_running, last_refresh {id, status, finished_at, spotify_calls, provider_calls} | None,
    last_import {filename, status, at, imported, updated, skipped} | None.
    """
    from curator.catalogue import jobs
    from curator.moods.store import active_moods

    counts = catalogue_counts(active_moods())
    last_run = db.session.scalar(select(RefreshRun).order_by(RefreshRun.id.desc()).limit(1))
    last_import = db.session.scalar(select(CatalogueImport).order_by(CatalogueImport.id.desc()).limit(1))
    status = jobs.run_status(last_run)
    return {
        **counts,
        "moods": [dict(m) for m in counts["moods"]],  # copies: the cached counts stay as computed
        "refresh_running": status["running"],
        "last_refresh": None if last_run is None else {
            "id": last_run.id, "status": status["run"]["status"],
            "finished_at": last_run.finished_at.isoformat() + "Z" if last_run.finished_at else None,
            "spotify_calls": last_run.spotify_calls, "provider_calls": dict(last_run.provider_calls or {}),
        },
        "last_import": None if last_import is None else {
            "filename": last_import.filename, "status": last_import.status, "at": last_import.at.isoformat() + "Z",
            "imported": last_import.imported, "updated": last_import.updated, "skipped": last_import.skipped,
        },
    }
