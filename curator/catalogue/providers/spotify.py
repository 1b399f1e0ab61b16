"""`spotify`: Spotify's retired `GET /audio-features`, for the few apps that still have it; after the
first 403 it switches itself off for the process (one log line, no per-track retries). Its calls
go through the Spotify gateway and are counted with Spotify's."""
from __future__ import annotations

import logging

from curator.catalogue import store
from curator.catalogue.providers.base import FeatureProvider, ProviderUnavailable, clean_features
from curator.spotify.errors import SpotifyError, SpotifyForbidden

log = logging.getLogger(__name__)

SPOTIFY_BATCH = 100  # the retired endpoint's maximum


class SpotifyProvider(FeatureProvider):
    name = "spotify"
    label = "Spotify audio features"
    via_spotify = True

    def __init__(self, gateway, state: dict) -> None:
        super().__init__()
        self.gateway = gateway
        self.state = state  # app.extensions entry: lives as long as the process

    @classmethod
    def from_config(cls, config, *, gateway=None, state: dict, sleep) -> SpotifyProvider:
        return cls(gateway, state)

    def fetch(self, track_ids: list[str]) -> dict[str, dict]:
        if self.gateway is None or self.state.get("spotify_features_off"):
            return {}
        found: dict[str, dict] = {}
        for part in store.chunks(track_ids, SPOTIFY_BATCH):
            before = self.gateway.calls
            try:
                rows = self.gateway.audio_features(list(part))
            except SpotifyForbidden:
                self.calls += self.gateway.calls - before
                self.state["spotify_features_off"] = True
                log.warning("Spotify refused GET /audio-features (403): this app has no access to the "
                            "retired endpoint; the spotify feature provider is off until restart.")
                return found
            except SpotifyError as exc:
                self.calls += self.gateway.calls - before
                raise ProviderUnavailable(f"Spotify audio features: {exc.message}") from exc
            self.calls += self.gateway.calls - before
            for row in rows:
                if row and row.get("id") and (features := clean_features(row)):
                    found[row["id"]] = features
        return found
