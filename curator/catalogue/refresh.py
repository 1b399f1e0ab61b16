"""Refreshing the catalogue from the seed lists, through current Spotify operations only.

- search seeds: GET /search, pages of 10;
- artist seeds: GET /artists/{id}/albums, then GET /albums/{id}/tracks per album;
- playlist seeds: GET /playlists/{id}?fields=snapshot_id, then GET /playlists/{id}/items only
  when the snapshot changed since the last run;
- track seeds: GET /tracks/{id}, one by one (several-track lookups are retired), once.

Search, artist and track seeds read within SEED_MAX_AGE are not read again, so a second run with
nothing changed costs one snapshot check per playlist. Each seed is committed on its own, so an
interrupted run loses at most the seed in hand; a failing seed becomes a report line and the
others go on. Missing audio features are fetched at the end.
"""
from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import timedelta

from sqlalchemy import delete, select

from curator.catalogue import matrix, store
from curator.catalogue.coverage import mood_coverage
from curator.catalogue.providers import FeatureProvider, fetch_missing_features, in_order, provider_label
from curator.clock import utcnow
from curator.extensions import db
from curator.models.catalogue import CatalogueTrack, Seed, TrackSource
from curator.spotify.errors import (
    SpotifyAuthError,
    SpotifyError,
    SpotifyForbidden,
    SpotifyNotFound,
    SpotifyRateLimited,
)

log = logging.getLogger(__name__)

SEARCH_LIMIT = 50  # tracks per search seed (the gateway reads them in pages of 10)
ARTIST_MAX_ALBUMS = 50  # albums and singles per artist seed
SEED_MAX_AGE = timedelta(days=7)
PLAYLIST_FIELDS = "snapshot_id,name"

Progress = Callable[[int, int, str], None]


# A seed in one of these states was read (or rightly skipped: unchanged since, or read recently).
READ_STATUSES = ("read", "unchanged", "fresh")
FAILED_WORDS = {"inaccessible": "inaccessible", "not_found": "not found", "rate_limited": "rate-limited",
                "error": "with an error"}


def _s(n: int) -> str:
    return "" if n == 1 else "s"


class RefreshAborted(Exception):
    """The run can't go on (e.g. the refreshing admin's Spotify login is gone)."""


@dataclass
class SeedOutcome:
    seed_id: int
    mood: str
    kind: str
    value: str
    status: str  # read | unchanged | fresh | inaccessible | not_found | rate_limited | error
    found: int = 0
    added: int = 0
    removed: int = 0
    unavailable: int = 0
    message: str = ""

    @property
    def label(self) -> str:
        return f"{self.mood} {self.kind} “{self.value}”"


@dataclass
class RefreshReport:
    dry_run: bool = False
    seeds: list[SeedOutcome] = field(default_factory=list)
    tracks_added: int = 0
    removed_from_seeds: int = 0
    unavailable: int = 0
    # Per mood, counted as the coverage table counts (coverage.mood_coverage), after the run and
    # the change it made: {slug: {tracks, added, with_features, features_added}}.
    moods: dict[str, dict[str, int]] = field(default_factory=dict)
    features_found: dict[str, int] = field(default_factory=dict)
    missing_features: int = 0
    errors: list[str] = field(default_factory=list)
    spotify_calls: int = 0
    provider_calls: dict[str, int] = field(default_factory=dict)  # feature provider name -> HTTP calls
    seconds: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> RefreshReport:
        """A stored report (those stored before providers were counted by name had `reccobeats_calls`)."""
        data = dict(data)
        legacy = data.pop("reccobeats_calls", None)
        if legacy and "provider_calls" not in data:
            data["provider_calls"] = {"reccobeats": legacy}
        return cls(**data)

    @property
    def failed(self) -> list[SeedOutcome]:
        """Seeds that could not be read (inaccessible, not found, rate-limited, an error)."""
        return [s for s in self.seeds if s.status not in READ_STATUSES]

    def headline(self) -> str:
        """What happened, failures first and counted: "9 of 36 seeds failed (4 not found, 5
        inaccessible); 27 read: 120 tracks added to the catalogue, …"."""
        verb = "would be added" if self.dry_run else "added"
        total, failed = len(self.seeds), self.failed
        read = total - len(failed)
        outcome = (f"{self.tracks_added} track{_s(self.tracks_added)} {verb} to the catalogue, "
                   f"{self.removed_from_seeds} no longer in their seed, "
                   f"{self.unavailable} unavailable in Spotify.")
        if not failed:
            return f"{read} seed{_s(read)} read: {outcome}"
        kinds = Counter(FAILED_WORDS.get(s.status, s.status) for s in failed)
        why = ", ".join(f"{n} {word}" for word, n in sorted(kinds.items(), key=lambda kv: (-kv[1], kv[0])))
        return f"{len(failed)} of {total} seed{_s(total)} failed ({why}); {read} read: {outcome}"

    def lines(self) -> list[str]:
        """The report as short sentences: the headline, then every seed that failed, by name."""
        out = [self.headline()]
        out += [f"Failed: {s.label}: {s.message}" for s in self.failed]
        if self.moods:
            out.append("Linked to moods (as the coverage table counts): " + "; ".join(
                f"{slug} {m['tracks']} tracks ({m['added']:+d}), {m['with_features']} with features "
                f"({m['features_added']:+d})" for slug, m in self.moods.items()) + ".")
        found = ", ".join(f"{n} from {name}" for name, n in self.features_found.items()) or "none"
        out.append(f"Audio features fetched: {found}; {self.missing_features} tracks still without features.")
        out += self.errors
        out.append("API calls: " + ", ".join([f"Spotify {self.spotify_calls}", *(
            f"{provider_label(name)} {calls}" for name, calls in in_order(self.provider_calls))]) + ".")
        return out


def _entry_track(entry: dict) -> dict | None:
    # Playlist entries carry their track under `item` since 2025 (`track` before).
    return entry.get("item") if "item" in entry else entry.get("track")


def _read_seed(gateway, seed: Seed, full: bool, known: Callable[[str], bool]) -> tuple[list[dict] | None, int, str | None]:
    """(rows, unavailable, new snapshot) for one seed; rows None when nothing needs reading."""
    unavailable = 0
    rows: list[dict] = []
    if seed.kind == "playlist":
        meta = gateway.playlist(seed.value, fields=PLAYLIST_FIELDS) or {}
        snapshot = meta.get("snapshot_id")
        if snapshot and snapshot == seed.snapshot_id and not full:
            return None, 0, snapshot
        for entry in gateway.playlist_items(seed.value):
            obj = _entry_track(entry or {})
            if entry and entry.get("is_local"):
                continue
            row = store.track_row(obj) if obj and obj.get("is_playable", True) is not False else None
            if row is None:
                if not obj or obj.get("type", "track") == "track":
                    unavailable += 1
                continue
            rows.append(row)
        return rows, unavailable, snapshot
    fresh = seed.last_read_at is not None and seed.last_read_at > utcnow() - SEED_MAX_AGE
    if seed.kind == "track":
        if not full and (fresh or known(seed.value)):
            return None, 0, None
        row = store.track_row(gateway.track(seed.value))
        return ([row] if row else []), (0 if row else 1), None
    if fresh and not full:
        return None, 0, None
    if seed.kind == "search":
        for obj in gateway.search_tracks(seed.value, limit=SEARCH_LIMIT):
            row = store.track_row(obj)
            if row:
                rows.append(row)
        return rows, 0, None
    if seed.kind == "artist":
        albums = list(gateway.artist_albums(seed.value, limit=ARTIST_MAX_ALBUMS))
        for album in albums:
            for obj in gateway.album_tracks(album["id"]):
                # Album track listings are simplified: the album comes from the listing above.
                row = store.track_row(obj, album)
                if row:
                    rows.append(row)
        return rows, 0, None
    raise ValueError(f"unknown seed kind {seed.kind!r}")


def _failure(seed: Seed, exc: Exception) -> tuple[str, str]:
    if isinstance(exc, SpotifyForbidden):
        if seed.kind == "playlist":
            return "inaccessible", ("Spotify refused to list this playlist's items: apps may read only playlists "
                                    "the refreshing admin owns or collaborates on. Follow and copy it into your "
                                    "own playlist, or ask its owner to add you as a collaborator.")
        return "inaccessible", f"Spotify refused access ({exc.message})."
    if isinstance(exc, SpotifyNotFound):
        return "not_found", f"Spotify has no such {seed.kind}; check the id or remove the seed."
    if isinstance(exc, SpotifyRateLimited):
        return "rate_limited", (f"Spotify kept answering 429 (retry after {exc.wait_seconds} s); skipped this "
                                "time, it will be read on the next run.")
    if isinstance(exc, SpotifyError):
        return "error", f"Spotify error: {exc.message}"
    return "error", f"Unexpected error: {exc.__class__.__name__}: {exc}"


def refresh_seeds(gateway, *, mood: str | None = None, dry_run: bool = False, full: bool = False,
                  progress: Progress | None = None, heartbeat: Callable[[], None] | None = None,
                  providers: list[FeatureProvider] | None = None) -> RefreshReport:
    """Read every seed (or one mood's) through `gateway` and store what they bring.

    `dry_run` reads but writes nothing (and fetches no features). `full` re-reads every seed,
    ignoring snapshots and ages. `progress(done, total, message)` is called as the run goes;
    `heartbeat()` before each seed (to renew a lock). Raises RefreshAborted when the Spotify
    login is gone; any other failure is a line in the report.
    """
    started = time.perf_counter()
    calls_before = gateway.calls
    report = RefreshReport(dry_run=dry_run)
    query = select(Seed).order_by(Seed.mood, Seed.kind, Seed.position, Seed.id)
    if mood:
        query = query.where(Seed.mood == mood)
    seeds = list(db.session.scalars(query))
    total = len(seeds) + (0 if dry_run else 1)
    slugs = sorted({seed.mood for seed in seeds})
    coverage_before = {m["slug"]: m for m in mood_coverage(slugs)} if not dry_run else {}
    db.session.commit()  # end the read transaction: Spotify calls must not hold the database

    def known(track_id: str) -> bool:
        return db.session.get(CatalogueTrack, track_id) is not None

    for done, seed in enumerate(seeds):
        if heartbeat:
            heartbeat()
        if progress:
            progress(done, total, f"Reading {seed.mood} {seed.kind} “{seed.value}”")
        outcome = SeedOutcome(seed.id, seed.mood, seed.kind, seed.value, "read")
        try:
            rows, unavailable, snapshot = _read_seed(gateway, seed, full, known)
            if rows is not None:
                outcome.found = len({r["id"] for r in rows})
                outcome.unavailable = unavailable
                _store_seed(seed, rows, snapshot, outcome, dry_run)
        except SpotifyAuthError as exc:
            db.session.rollback()
            raise RefreshAborted(f"The refreshing admin's Spotify login no longer works ({exc.message}). "
                                 "Log in again, then refresh.") from exc
        except Exception as exc:  # noqa: BLE001 - a failing seed never aborts the others
            db.session.rollback()
            if not isinstance(exc, SpotifyError):
                log.exception("Seed %s failed", seed.id)
            outcome.status, outcome.message = _failure(seed, exc)
            report.seeds.append(outcome)
            if not dry_run:
                seed.last_status = outcome.message
                db.session.commit()
            continue
        if rows is None:
            outcome.status = "unchanged" if seed.kind == "playlist" else "fresh"
            outcome.message = "Unchanged since the last run." if seed.kind == "playlist" else "Read recently."
            report.seeds.append(outcome)
            continue
        report.seeds.append(outcome)
        report.tracks_added += outcome.added
        report.removed_from_seeds += outcome.removed
        report.unavailable += unavailable

    if not dry_run:
        if progress:
            progress(len(seeds), total, "Fetching missing audio features")
        features = fetch_missing_features(_tracks_without_features(mood), gateway, providers=providers,
                                          skip_recently_missing=True)
        db.session.commit()
        report.features_found = features.found
        report.missing_features = _count_without_features(mood)
        report.errors += [f"Audio features: {e}" for e in features.errors]
        report.provider_calls = features.own_calls()
        for after in mood_coverage(slugs):
            before = coverage_before[after["slug"]]
            report.moods[after["slug"]] = {
                "tracks": after["tracks"], "added": after["tracks"] - before["tracks"],
                "with_features": after["with_features"],
                "features_added": after["with_features"] - before["with_features"]}
        db.session.commit()  # end the read transaction
    report.spotify_calls = gateway.calls - calls_before
    if not dry_run:
        matrix.prepare()  # the engine's files for the new version, so no request has to build them
    report.seconds = round(time.perf_counter() - started, 2)
    if progress:
        progress(total, total, "Finished")
    return report


def _store_seed(seed: Seed, rows: list[dict], snapshot: str | None, outcome: SeedOutcome, dry_run: bool) -> None:
    source = f"seed:{seed.id}"
    new_ids = {r["id"] for r in rows}
    old_ids = set(db.session.scalars(select(TrackSource.track_id).where(TrackSource.source == source)))
    existing = store.existing_ids(list(new_ids))
    outcome.added = len(new_ids - existing)
    outcome.removed = len(old_ids - new_ids)
    outcome.message = f"{outcome.found} tracks, {outcome.added} new" + (
        f", {outcome.unavailable} unavailable" if outcome.unavailable else "")
    if dry_run:
        db.session.rollback()
        return
    try:
        store.store_spotify_rows(rows, source, [seed.mood])
        gone = old_ids - new_ids
        for part in store.chunks(sorted(gone), 500):
            db.session.execute(delete(TrackSource).where(TrackSource.source == source, TrackSource.track_id.in_(part)))
        seed.snapshot_id = snapshot
        seed.last_read_at = utcnow()
        seed.last_status = outcome.message
        store.bump_version()
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise


def _missing_query(mood: str | None):
    query = select(CatalogueTrack.id).where(CatalogueTrack.features_source.is_(None))
    if mood:
        query = query.where(CatalogueTrack.id.in_(select(TrackSource.track_id).where(TrackSource.mood == mood)))
    return query


def _tracks_without_features(mood: str | None) -> list[str]:
    return list(db.session.scalars(_missing_query(mood)))


def _count_without_features(mood: str | None) -> int:
    return len(_tracks_without_features(mood))
