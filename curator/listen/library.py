""""From music I know": candidates drawn from the listener's saved and top tracks.

The extra scopes are asked for only when the listener first chooses this option. Their tracks
go into the catalogue through the feature providers; tracks no provider has features for are
left out, and the listener is told how many.
"""
from __future__ import annotations

from dataclasses import dataclass

from curator.errors import CuratorError
from curator.spotify.gateway import LIBRARY_SCOPES
from curator.spotify.token_store import granted_scopes

SAVED_LIMIT = 200
TOP_LIMIT = 100


class ScopeRequired(CuratorError):
    """The listener has not (yet) let Curator read this part of their Spotify account."""

    status = 403
    code = "scope_required"

    def __init__(self, message: str, *, scopes: str):
        super().__init__(message, field="from_my_music")
        self.scopes = scopes


@dataclass(frozen=True)
class MyMusic:
    track_ids: frozenset[str]
    catalogue: object  # curator.engine.Catalogue, refreshed after the upsert
    left_out: int
    notice: str | None


def has_library_access(user_id: int) -> bool:
    return set(LIBRARY_SCOPES) <= granted_scopes(user_id)


def my_music_candidates(user, gateway=None) -> MyMusic:
    """Read the listener's saved and top tracks, make sure they have features, return their ids."""
    from curator import spotify
    from curator.catalogue.matrix import tracks_catalogue
    from curator.catalogue.providers import fetch_missing_features
    from curator.catalogue.store import upsert_spotify_tracks
    from curator.extensions import db

    if not has_library_access(user.id):
        raise ScopeRequired(
            "To use music you know, Curator needs to read your saved and top tracks: log in again at "
            "/login?scopes=library to allow it.", scopes="library")
    gateway = gateway or spotify.user_gateway()
    objects: dict[str, dict] = {}
    for item in gateway.saved_tracks(limit=SAVED_LIMIT):
        track = (item or {}).get("track")
        if track and track.get("id"):
            objects.setdefault(track["id"], track)
    for track in gateway.top_tracks(limit=TOP_LIMIT):
        if track and track.get("id"):
            objects.setdefault(track["id"], track)
    ids = upsert_spotify_tracks(list(objects.values()), source="library") if objects else []
    # Committed before the providers are asked over HTTP, so no write waits on them.
    db.session.commit()
    if ids:
        # Tracks no provider knew lately are not asked about again on every preview.
        fetch_missing_features(ids, gateway=gateway, skip_recently_missing=True)
        db.session.commit()
    catalogue = tracks_catalogue(ids)  # the shared catalogue leaves listeners' own tracks out
    present = {i for i in ids if _in_catalogue(catalogue, i)}
    left_out = len(set(ids)) - len(present)
    notice = None
    if left_out:
        notice = (f"{left_out} of your tracks had no audio features and {'was' if left_out == 1 else 'were'} "
                  "left out.")
    if not ids:
        notice = "We found no saved or top tracks in your Spotify account, so nothing of yours could be used."
    return MyMusic(frozenset(present), catalogue, left_out, notice)


def _in_catalogue(catalogue, track_id: str) -> bool:
    try:
        catalogue.index_of(track_id)
    except (KeyError, ValueError):
        return False
    return True
