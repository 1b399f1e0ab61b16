"""How complete the catalogue is: size, feature coverage per mood, last refresh and import."""
from __future__ import annotations

from sqlalchemy import func, or_, select

from curator.catalogue import jobs
from curator.extensions import db
from curator.models.catalogue import CatalogueImport, CatalogueTrack, RefreshRun, TrackSource, TrackTag


def _counts(condition=None) -> tuple[int, int]:
    query = select(func.count(CatalogueTrack.id), func.count(CatalogueTrack.features_source))
    if condition is not None:
        query = query.where(condition)
    tracks, with_features = db.session.execute(query).one()
    return int(tracks or 0), int(with_features or 0)


def _pct(part: int, whole: int) -> float:
    return round(100.0 * part / whole, 1) if whole else 0.0


def mood_coverage(slugs: list[str]) -> list[dict]:
    """Per mood: tracks a seed brought for it or a dataset labelled with it, and how many have features."""
    out = []
    for slug in slugs:
        condition = or_(
            CatalogueTrack.id.in_(select(TrackSource.track_id).where(TrackSource.mood == slug)),
            CatalogueTrack.id.in_(select(TrackTag.track_id).where(TrackTag.tag == f"mood:{slug}")),
        )
        tracks, with_features = _counts(condition)
        out.append({"slug": slug, "tracks": tracks, "with_features": with_features,
                    "percent": _pct(with_features, tracks)})
    return out


def catalogue_health() -> dict:
    """A summary for dashboards: sizes, coverage (overall and per active mood), last refresh and import.

    Keys: tracks, with_features, percent, moods [{slug, tracks, with_features, percent}],
    refresh_running, last_refresh {id, status, finished_at, spotify_calls, reccobeats_calls} | None,
    last_import {filename, status, at, imported, updated, skipped} | None.
    """
    from curator.moods.store import active_moods

    tracks, with_features = _counts()
    last_run = db.session.scalar(select(RefreshRun).order_by(RefreshRun.id.desc()).limit(1))
    last_import = db.session.scalar(select(CatalogueImport).order_by(CatalogueImport.id.desc()).limit(1))
    status = jobs.run_status(last_run)
    return {
        "tracks": tracks,
        "with_features": with_features,
        "percent": _pct(with_features, tracks),
        "moods": mood_coverage([m.slug for m in active_moods()]),
        "refresh_running": status["running"],
        "last_refresh": None if last_run is None else {
            "id": last_run.id, "status": status["run"]["status"],
            "finished_at": last_run.finished_at.isoformat() + "Z" if last_run.finished_at else None,
            "spotify_calls": last_run.spotify_calls, "reccobeats_calls": last_run.reccobeats_calls,
        },
        "last_import": None if last_import is None else {
            "filename": last_import.filename, "status": last_import.status, "at": last_import.at.isoformat() + "Z",
            "imported": last_import.imported, "updated": last_import.updated, "skipped": last_import.skipped,
        },
    }
