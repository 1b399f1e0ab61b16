"""Catalogue tables: tracks with their audio features, tags, where each track came from,
the admins' seed lists, refresh runs, dataset imports, and the version the engine cache keys on.

Features live on the track row (nullable until a provider answers): the engine's matrix is
loaded with one plain SELECT, and an import writes one row per track instead of two.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from curator.clock import utcnow
from curator.extensions import db

# Lists of names and ids are stored joined by the ASCII unit separator, which never occurs in a
# name: splitting is several times cheaper than JSON when 100k rows are loaded into the matrix.
SEP = "\x1f"


def join_list(values) -> str:
    return SEP.join(values)


def split_list(text: str | None) -> list[str]:
    return text.split(SEP) if text else []


# Audio-feature columns, in the engine's vocabulary (plus key/time signature, kept for display).
FEATURE_COLUMNS = (
    "valence", "energy", "danceability", "acousticness", "instrumentalness",
    "speechiness", "liveness", "loudness", "tempo",
)


class CatalogueTrack(db.Model):
    __tablename__ = "catalogue_tracks"
    __table_args__ = (Index("ix_catalogue_tracks_features_source", "features_source"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # Spotify track id
    name: Mapped[str] = mapped_column(Text, default="")
    artists: Mapped[str] = mapped_column(Text, default="")  # names, joined by SEP
    artist_ids: Mapped[str] = mapped_column(Text, default="")  # Spotify ids, joined by SEP
    album: Mapped[str] = mapped_column(Text, default="")
    album_id: Mapped[str | None] = mapped_column(String(64))
    duration_ms: Mapped[int] = mapped_column(default=0)
    explicit: Mapped[bool] = mapped_column(default=False)
    # Spotify stopped returning popularity in 2025; datasets may still carry it.
    popularity: Mapped[int | None] = mapped_column()
    isrc: Mapped[str | None] = mapped_column(String(16))
    image_url: Mapped[str | None] = mapped_column(Text)
    # When Spotify was asked for the cover of a track that came without one (GET /tracks/{id}, once
    # ever, whatever it answered: curator/catalogue/covers.py).
    cover_looked_up_at: Mapped[datetime | None] = mapped_column()
    # The engine's duplicate-recording key (normalised title + primary artist), computed on write
    # so loading the matrix needs no per-row text processing.
    recording_key: Mapped[int | None] = mapped_column(BigInteger)
    # The release year, where an import or Spotify's album gives it (a decade range reads it).
    release_year: Mapped[int | None] = mapped_column()
    added_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    valence: Mapped[float | None] = mapped_column(Float)
    energy: Mapped[float | None] = mapped_column(Float)
    danceability: Mapped[float | None] = mapped_column(Float)
    acousticness: Mapped[float | None] = mapped_column(Float)
    instrumentalness: Mapped[float | None] = mapped_column(Float)
    speechiness: Mapped[float | None] = mapped_column(Float)
    liveness: Mapped[float | None] = mapped_column(Float)
    loudness: Mapped[float | None] = mapped_column(Float)
    tempo: Mapped[float | None] = mapped_column(Float)
    key: Mapped[int | None] = mapped_column()
    mode: Mapped[int | None] = mapped_column()
    time_signature: Mapped[int | None] = mapped_column()
    # NULL until some provider answered; "import:<file>", "reccobeats", "spotify".
    features_source: Mapped[str | None] = mapped_column(String(120))
    features_fetched_at: Mapped[datetime | None] = mapped_column()
    # When every provider last said it had nothing for this track (so refresh doesn't ask daily).
    features_missing_at: Mapped[datetime | None] = mapped_column()

    @property
    def artist_names(self) -> list[str]:
        return split_list(self.artists)

    @property
    def artist_id_list(self) -> list[str]:
        return split_list(self.artist_ids)


class TrackTag(db.Model):
    """Labels a dataset or an admin attached to a track: ``mood:calm``, ``genre:ambient``."""

    __tablename__ = "catalogue_track_tags"

    track_id: Mapped[str] = mapped_column(
        ForeignKey("catalogue_tracks.id", ondelete="CASCADE"), primary_key=True)
    tag: Mapped[str] = mapped_column(String(120), primary_key=True, index=True)


class TrackSource(db.Model):
    """Why a track is in the catalogue: ``seed:<id>``, ``import:<file>``, ``listener``; and for which mood."""

    __tablename__ = "catalogue_track_sources"

    track_id: Mapped[str] = mapped_column(
        ForeignKey("catalogue_tracks.id", ondelete="CASCADE"), primary_key=True)
    source: Mapped[str] = mapped_column(String(200), primary_key=True, index=True)
    mood: Mapped[str] = mapped_column(String(40), primary_key=True, default="", index=True)


class CatalogueState(db.Model):
    """One row: a counter bumped in the same transaction as any change to tracks or features.

    `epoch` is random per database, so a process cache can't mistake a fresh database's
    version 1 for another's.
    """

    __tablename__ = "catalogue_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(default=0)
    epoch: Mapped[str] = mapped_column(String(32))
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)


class Seed(db.Model):
    """One entry of a mood's seed list: a playlist, artist or track id, or a search query."""

    __tablename__ = "catalogue_seeds"
    __table_args__ = (UniqueConstraint("mood", "kind", "value", name="uq_catalogue_seeds_mood_kind_value"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    mood: Mapped[str] = mapped_column(String(40), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # playlist | artist | track | search
    value: Mapped[str] = mapped_column(String(300))  # normalised id, or the query text
    position: Mapped[int] = mapped_column(default=0)
    snapshot_id: Mapped[str | None] = mapped_column(String(200))  # playlists: as last read
    last_read_at: Mapped[datetime | None] = mapped_column()
    last_status: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RefreshRun(db.Model):
    """One refresh of the seed lists: its live progress while running, then its report."""

    __tablename__ = "catalogue_refresh_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(20), default="queued")  # queued|running|finished|failed
    mood: Mapped[str | None] = mapped_column(String(40))
    dry_run: Mapped[bool] = mapped_column(default=False)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    requested_label: Mapped[str] = mapped_column(String(200), default="")
    identity_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    started_at: Mapped[datetime | None] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()
    done: Mapped[int] = mapped_column(default=0)
    total: Mapped[int] = mapped_column(default=0)
    message: Mapped[str] = mapped_column(Text, default="")
    report: Mapped[dict | None] = mapped_column(JSON(none_as_null=True))
    spotify_calls: Mapped[int] = mapped_column(default=0)
    # HTTP calls per feature provider, by its registered name (curator/catalogue/providers/).
    provider_calls: Mapped[dict] = mapped_column(JSON, default=dict)
    job_id: Mapped[str | None] = mapped_column(String(32))  # the runner's job, for runs started from the web


class CatalogueImport(db.Model):
    """One `catalog import` of a CSV file, accepted or rejected."""

    __tablename__ = "catalogue_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    filename: Mapped[str] = mapped_column(Text, default="")
    actor_label: Mapped[str] = mapped_column(String(200), default="command line")
    status: Mapped[str] = mapped_column(String(20), default="imported")  # imported | rejected
    rows_read: Mapped[int] = mapped_column(default=0)
    imported: Mapped[int] = mapped_column(default=0)
    updated: Mapped[int] = mapped_column(default=0)
    skipped: Mapped[int] = mapped_column(default=0)
    problems: Mapped[list[str]] = mapped_column(JSON, default=list)  # the first 100
    seconds: Mapped[float] = mapped_column(Float, default=0.0)
