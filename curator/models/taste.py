"""A listener's taste: their steering (familiar <-> new, artists to avoid, years, explicit) and last
choice, what they did in Curator (tracks swapped out: never again; tracks kept), and what they chose
to share from Spotify (top artists and tracks, saved tracks, followed artists, recently played)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from curator.clock import utcnow
from curator.extensions import db

MARK_NEVER = "never"  # swapped out or removed: never picked again until undone
MARK_KEPT = "kept"  # locked: counts for the listener's taste


class ListenerTaste(db.Model):
    """One row per listener who has steered, shared or been synced."""

    __tablename__ = "listener_tastes"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    # {"familiar": 0-100, "avoid_artists": [...], "years": {"from", "to"}, "exclude_explicit": bool}
    steering: Mapped[dict] = mapped_column(JSON, default=dict)
    # The start form as last sent: from, to, tracks/minutes, arc (the next visit starts from it).
    last_choice: Mapped[dict] = mapped_column(JSON, default=dict)
    # Spotify data the listener chose to share: a list of source names (see taste_sync.SOURCES).
    shares: Mapped[list] = mapped_column(JSON, default=list)
    # Per source: where the last sync stopped (newest added_at / played_at seen, a count).
    sync_state: Mapped[dict] = mapped_column(JSON, default=dict)
    synced_at: Mapped[datetime | None] = mapped_column()
    # What the engine reads, worked out from the marks, the synced items and the saved playlists
    # when one of them changed (None: to be worked out at the next preview): a preview reads this
    # one row instead of four tables. {"never", "known_ids", "known_artists", "less"}: lists.
    engine_view: Mapped[dict | None] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class TasteMark(db.Model):
    """Something the listener did to a track in Curator."""

    __tablename__ = "taste_marks"
    __table_args__ = (UniqueConstraint("user_id", "kind", "track_id", name="uq_taste_marks_user_kind_track"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(12))
    track_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(Text, default="")
    artists: Mapped[str] = mapped_column(Text, default="")  # names joined by the unit separator
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TasteItem(db.Model):
    """One artist or track from the listener's shared Spotify data (the synced library)."""

    __tablename__ = "taste_items"
    __table_args__ = (
        UniqueConstraint("user_id", "source", "item_id", name="uq_taste_items_user_source_item"),
        Index("ix_taste_items_user_source", "user_id", "source"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(String(20))  # top_artists, top_tracks, saved, followed, recent
    kind: Mapped[str] = mapped_column(String(8))  # artist | track
    item_id: Mapped[str] = mapped_column(String(64))  # Spotify id
    name: Mapped[str] = mapped_column(Text, default="")
    artists: Mapped[str] = mapped_column(Text, default="")  # a track's artist names, joined
    rank: Mapped[int | None] = mapped_column()  # position in a top list
    added_at: Mapped[datetime | None] = mapped_column()  # Spotify's added_at / played_at
