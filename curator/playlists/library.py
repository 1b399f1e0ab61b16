""""From music I know": candidates drawn from the listener's saved and top tracks.

The extra scopes are asked for only when the listener first chooses this option. Their tracks
go into the catalogue through the feature providers; tracks no provider has features for are
left out, and the listener is told how many.

Three steps, which the service runs before the preview's own transaction: `read_library` asks
Spotify (nothing written), `store_tracks` adds the tracks and `fetch_features` asks the providers
(over HTTP first, then writes), each step committed by the service on its own; `candidates` is
what the preview draws from.
"""
from __future__ import annotations

from dataclasses import dataclass

from curator.catalogue.matrix import tracks_catalogue
from curator.catalogue.providers import fetch_missing_features
from curator.catalogue.store import LISTENER_SOURCE, upsert_spotify_tracks
from curator.engine.catalogue import Catalogue
from curator.playlists.errors import ScopeRequired
from curator.spotify.gateway import LIBRARY_SCOPES
from curator.spotify.token_store import granted_scopes

SAVED_LIMIT = 200
TOP_LIMIT = 100


@dataclass(frozen=True)
class MyMusic:
    track_ids: frozenset[str]
    catalogue: Catalogue  # just these tracks: the shared catalogue leaves listeners' own out
    left_out: int
    notice: str | None


def has_library_access(user_id: int) -> bool:
    return set(LIBRARY_SCOPES) <= granted_scopes(user_id)


def require_access(user) -> None:
    """`ScopeRequired` when the listener has not let Curator read their saved and top tracks."""
    if not has_library_access(user.id):
        raise ScopeRequired(
            "To use music you know, Curator needs to read your saved and top tracks: log in again at "
            "/login?scopes=library to allow it.", scopes="library")


def read_library(user, gateway) -> list[dict]:
    """The listener's saved and top tracks from Spotify (TrackObjects, each once); writes nothing."""
    require_access(user)
    objects: dict[str, dict] = {}
    for item in gateway.saved_tracks(limit=SAVED_LIMIT):
        track = (item or {}).get("track")
        if track and track.get("id"):
            objects.setdefault(track["id"], track)
    for track in gateway.top_tracks(limit=TOP_LIMIT):
        if track and track.get("id"):
            objects.setdefault(track["id"], track)
    return list(objects.values())


def store_tracks(tracks: list[dict]) -> list[str]:
    """Add the listener's tracks to the catalogue's table (not to the shared catalogue); their ids."""
    return upsert_spotify_tracks(tracks, source=LISTENER_SOURCE) if tracks else []


def fetch_features(track_ids: list[str], gateway) -> None:
    """Ask the providers for the features these tracks lack (every provider answers before anything
    is written). Tracks no provider knew lately are not asked about again on every preview."""
    if track_ids:
        fetch_missing_features(track_ids, gateway=gateway, skip_recently_missing=True)


def candidates(track_ids: list[str]) -> MyMusic:
    """The listener's tracks that have features, as a catalogue of their own, with a notice for the rest."""
    catalogue = tracks_catalogue(track_ids)
    present = {i for i in track_ids if _in_catalogue(catalogue, i)}
    left_out = len(set(track_ids)) - len(present)
    notice = None
    if left_out:
        notice = (f"{left_out} of your tracks had no audio features and {'was' if left_out == 1 else 'were'} "
                  "left out.")
    if not track_ids:
        notice = "We found no saved or top tracks in your Spotify account, so nothing of yours could be used."
    return MyMusic(frozenset(present), catalogue, left_out, notice)


def _in_catalogue(catalogue, track_id: str) -> bool:
    try:
        catalogue.index_of(track_id)
    except (KeyError, ValueError):
        return False
    return True
