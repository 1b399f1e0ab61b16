"""Where audio features come from, behind one interface, tried in the order FEATURE_PROVIDERS sets.

- ``local``: what dataset imports already stored (the catalogue itself);
- ``spotify``: Spotify's retired ``GET /audio-features``, for the few apps that still have it;
  after the first 403 it switches itself off for the process (one log line, no per-track retries);
- ``reccobeats``: ReccoBeats' free, keyless ``GET /v1/audio-features?ids=`` (up to 40 Spotify ids
  a call; unknown ids are left out of the answer; 429 with Retry-After when busy).

Features are fetched once per track and kept, with their source and time.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta

import requests
from flask import current_app
from sqlalchemy import bindparam, select, update

from curator.catalogue import store
from curator.catalogue.feature_ranges import in_range
from curator.clock import utcnow
from curator.extensions import db
from curator.models.catalogue import FEATURE_COLUMNS, CatalogueTrack
from curator.retrying import TryAgain, retry_after_seconds, retrying, whole_seconds
from curator.spotify.errors import SpotifyError, SpotifyForbidden
from curator.spotify.refs import parse_spotify_ref

log = logging.getLogger(__name__)

RECCOBEATS_BATCH = 40  # ReccoBeats answers 400 "size must be between 1 and 40" above this
SPOTIFY_BATCH = 100  # the retired endpoint's maximum
RECCOBEATS_RETRIES = 3
# Tracks no provider knew are asked about again only after this long.
MISSING_RECHECK = timedelta(days=30)



class ProviderUnavailable(Exception):
    """A provider could not answer (after its retries); the message goes into the report."""


def clean_features(raw: dict) -> dict | None:
    """The stored feature columns from a provider's row, or None if anything is missing or odd."""
    out: dict = {}
    for name in FEATURE_COLUMNS:
        value = raw.get(name)
        # A provider answering outside the accepted ranges is treated as not knowing the track.
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not in_range(name, value):
            return None
        out[name] = float(value)
    key, mode, signature = raw.get("key"), raw.get("mode"), raw.get("time_signature")
    out["key"] = int(key) if isinstance(key, (int, float)) and -1 <= key <= 11 else None
    out["mode"] = int(mode) if mode in (0, 1) else None
    out["time_signature"] = int(signature) if isinstance(signature, (int, float)) and 0 <= signature <= 7 else None
    return out


class FeatureProvider:
    """Base: `fetch(ids)` answers {track id: features} for the ids it knows; `calls` counts requests."""

    name = "?"

    def __init__(self) -> None:
        self.calls = 0

    def fetch(self, track_ids: list[str]) -> dict[str, dict]:  # pragma: no cover - interface
        raise NotImplementedError


class LocalProvider(FeatureProvider):
    """Features already stored (dataset imports, earlier fetches): never asks anyone."""

    name = "local"

    def fetch(self, track_ids: list[str]) -> dict[str, dict]:
        found: dict[str, dict] = {}
        columns = [CatalogueTrack.id, *(getattr(CatalogueTrack, c) for c in FEATURE_COLUMNS)]
        for part in store.chunks(track_ids, 5000):
            for row in db.session.execute(
                select(*columns).where(CatalogueTrack.id.in_(part), CatalogueTrack.features_source.is_not(None))
            ):
                found[row[0]] = dict(zip(FEATURE_COLUMNS, row[1:], strict=True))
        return found


class SpotifyProvider(FeatureProvider):
    """Spotify's retired audio-features endpoint; switches itself off for the process on 403."""

    name = "spotify"

    def __init__(self, gateway, state: dict) -> None:
        super().__init__()
        self.gateway = gateway
        self.state = state  # app.extensions entry: lives as long as the process

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


class ReccoBeatsProvider(FeatureProvider):
    """ReccoBeats by Spotify track id, batched to 40 ids, honouring Retry-After."""

    name = "reccobeats"

    def __init__(self, base_url: str, *, timeout: float = 10.0, max_wait: float = 10.0,
                 session: requests.Session | None = None, sleep: Callable[[float], None] = time.sleep) -> None:
        super().__init__()
        self.url = base_url.rstrip("/") + "/audio-features"
        self.timeout = timeout
        self.max_wait = max_wait
        self.session = session or requests.Session()
        self.session.headers.setdefault("Accept", "application/json")
        self.sleep = sleep

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


def providers_from_config(gateway=None, *, sleep: Callable[[float], None] = time.sleep) -> list[FeatureProvider]:
    """The providers FEATURE_PROVIDERS names, in its order (unknown names are logged and skipped)."""
    config = current_app.config
    state = current_app.extensions.setdefault("curator.catalogue", {})
    out: list[FeatureProvider] = []
    for name in (part.strip().lower() for part in config.get("FEATURE_PROVIDERS", "local,reccobeats").split(",")):
        if name == "local":
            out.append(LocalProvider())
        elif name == "spotify":
            out.append(SpotifyProvider(gateway, state))
        elif name == "reccobeats":
            out.append(ReccoBeatsProvider(config["RECCOBEATS_API_URL"], timeout=config["SPOTIFY_TIMEOUT"],
                                          max_wait=config["SPOTIFY_MAX_RETRY_WAIT"], sleep=sleep))
        elif name:
            log.warning("FEATURE_PROVIDERS names an unknown provider %r; skipped.", name)
    return out


@dataclass
class FeatureReport:
    """What `fetch_missing_features` did: counts per provider, ids still without features, problems."""

    requested: int = 0
    found: dict[str, int] = field(default_factory=dict)  # provider name -> tracks
    missing: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)  # ids not in the catalogue (store them first)
    errors: list[str] = field(default_factory=list)
    calls: dict[str, int] = field(default_factory=dict)  # provider name -> HTTP requests

    def to_dict(self) -> dict:
        return {"requested": self.requested, "found": self.found, "missing": len(self.missing),
                "unknown": len(self.unknown), "errors": self.errors, "calls": self.calls}


def fetch_missing_features(track_ids: Iterable[str], gateway=None, *, providers: list[FeatureProvider] | None = None,
                           skip_recently_missing: bool = False) -> FeatureReport:
    """Give features to those of `track_ids` (catalogue tracks) that have none, asking each provider in turn.

    Found features are stored with their source and time and the catalogue version is bumped,
    in the caller's transaction (the caller commits). Every provider is asked before anything is
    written, so no write is pending while providers answer over HTTP. Tracks no provider knows are
    marked so `skip_recently_missing=True` (used by refresh) leaves them alone for a while.
    `gateway` is needed only by the `spotify` provider. A provider that fails becomes a line
    in `errors`; the next provider is still asked.
    """
    ids = list(dict.fromkeys(track_ids))
    report = FeatureReport(requested=len(ids))
    if not ids:
        return report
    known = store.existing_ids(ids)
    report.unknown = [i for i in ids if i not in known]
    todo = [i for i in ids if i in known]
    if skip_recently_missing and todo:
        cutoff = utcnow() - MISSING_RECHECK
        recent: set[str] = set()
        for part in store.chunks(todo, 5000):
            recent.update(db.session.scalars(select(CatalogueTrack.id).where(
                CatalogueTrack.id.in_(part), CatalogueTrack.features_missing_at > cutoff)))
        todo = [i for i in todo if i not in recent]
    providers = providers if providers is not None else providers_from_config(gateway)
    fetched: list[tuple[dict[str, dict], str]] = []
    for provider in providers:
        if not todo:
            break
        try:
            found = provider.fetch(todo)
        except ProviderUnavailable as exc:
            found = {}
            report.errors.append(str(exc))
        report.calls[provider.name] = report.calls.get(provider.name, 0) + provider.calls
        if not found:
            continue
        report.found[provider.name] = report.found.get(provider.name, 0) + len(found)
        if provider.name != "local":
            fetched.append((found, provider.name))
        todo = [i for i in todo if i not in found]
    for found, source in fetched:
        _store_features(found, source)
    report.missing = todo
    if todo and not report.errors:
        # Only a clean "nobody knows it" counts as missing; a failed provider may know it later.
        for part in store.chunks(todo, 5000):
            db.session.execute(update(CatalogueTrack).where(CatalogueTrack.id.in_(part))
                               .values(features_missing_at=utcnow()))
    if fetched:
        # Only when a curation track changed (not a listener's own).
        store.bump_version([track_id for found, _ in fetched for track_id in found])
    return report


def _store_features(found: dict[str, dict], source: str) -> None:
    now = utcnow()
    table = CatalogueTrack.__table__
    stmt = (update(table).where(table.c.id == bindparam("b_id"))
            .values(**{c: bindparam(f"b_{c}") for c in (*FEATURE_COLUMNS, "key", "mode", "time_signature")},
                    features_source=source, features_fetched_at=now, features_missing_at=None, updated_at=now))
    rows = []
    for track_id, features in found.items():
        row = {"b_id": track_id}
        for column in (*FEATURE_COLUMNS, "key", "mode", "time_signature"):
            row[f"b_{column}"] = features.get(column)
        rows.append(row)
    for part in store.chunks(rows):
        db.session.execute(stmt, list(part))
