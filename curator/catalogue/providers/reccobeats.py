"""`reccobeats`: ReccoBeats' free, keyless `GET /v1/audio-features?ids=` (up to 40 Spotify ids a call;
unknown ids are left out of the answer; 429 with Retry-After when busy).

Settings: RECCOBEATS_API_URL, RECCOBEATS_TIMEOUT (seconds per request), RECCOBEATS_MAX_RETRY_WAIT
(the longest Retry-After waited out).
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable

import requests

from curator.catalogue import store
from curator.catalogue.providers.base import FeatureProvider, ProviderUnavailable, clean_features
from curator.retrying import TryAgain, retry_after_seconds, retrying, whole_seconds
from curator.spotify.refs import parse_spotify_ref

log = logging.getLogger(__name__)

RECCOBEATS_BATCH = 40  # ReccoBeats answers 400 "size must be between 1 and 40" above this
RECCOBEATS_RETRIES = 3


class ReccoBeatsProvider(FeatureProvider):
    """ReccoBeats by Spotify track id, batched to 40 ids, honouring Retry-After."""

    name = "reccobeats"
    label = "ReccoBeats"

    def __init__(self, base_url: str, *, timeout: float = 10.0, max_wait: float = 10.0,
                 session: requests.Session | None = None, sleep: Callable[[float], None] = time.sleep) -> None:
        super().__init__()
        self.url = base_url.rstrip("/") + "/audio-features"
        self.timeout = timeout
        self.max_wait = max_wait
        self.session = session or requests.Session()
        self.session.headers.setdefault("Accept", "application/json")
        self.sleep = sleep

    @classmethod
    def from_config(cls, config, *, gateway=None, state: dict, sleep) -> ReccoBeatsProvider:
        return cls(config["RECCOBEATS_API_URL"], timeout=config["RECCOBEATS_TIMEOUT"],
                   max_wait=config["RECCOBEATS_MAX_RETRY_WAIT"], sleep=sleep)

    def fetch(self, track_ids: list[str]) -> dict[str, dict]:
        found: dict[str, dict] = {}
        for part in store.chunks(track_ids, RECCOBEATS_BATCH):
            wanted = set(part)
            for row in self._get(list(part)):
                spotify_id = _spotify_id_of(row, part)
                if spotify_id in wanted and (features := clean_features(row)):
                    found[spotify_id] = features
        return found

    def _get(self, ids: list[str]) -> list[dict]:
        def attempt() -> list[dict]:
            self.calls += 1
            try:
                response = self.session.get(self.url, params={"ids": ids}, timeout=self.timeout)
            except (requests.Timeout, requests.ConnectionError) as exc:
                raise TryAgain(ProviderUnavailable("ReccoBeats did not answer in time.")) from exc
            if response.status_code == 429:
                wait = retry_after_seconds(response.headers)
                raise TryAgain(ProviderUnavailable(f"ReccoBeats is busy (429, retry after {whole_seconds(wait)} s)."), wait)
            if response.status_code >= 500:
                raise TryAgain(ProviderUnavailable(f"ReccoBeats answered {response.status_code}."))
            if response.status_code != 200:
                raise ProviderUnavailable(f"ReccoBeats refused the request ({response.status_code}).")
            try:
                content = response.json().get("content") or []
            except (ValueError, AttributeError) as exc:
                raise ProviderUnavailable("ReccoBeats answered something that is not JSON.") from exc
            return [row for row in content if isinstance(row, dict)]

        return retrying(attempt, retries=RECCOBEATS_RETRIES, max_wait=self.max_wait, sleep=self.sleep,
                        on_wait=lambda wait, again: log.info("%s; waiting %.1fs", again.error, wait))


def _spotify_id_of(row: dict, asked: Iterable[str]) -> str | None:
    # ReccoBeats rows carry their own UUID as `id`; the Spotify id is only in the `href` link.
    ref = parse_spotify_ref(row.get("href") or "")
    if ref and ref[0] == "track":
        return ref[1]
    asked = list(asked)
    return asked[0] if len(asked) == 1 else None
