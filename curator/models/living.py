"""Living playlists: a saved playlist Curator keeps fresh in the listener's Spotify account, and the
journal of each refresh (one row per playlist and due time: a refresh runs exactly once per due time).

A `LivingPlaylist` exists for a finished `PlaylistSave` once the listener has chosen how often it
is refreshed; it only ever names the playlist that save made (`playlist_id`), so a refresh never
touches any other playlist. A `PlaylistRefresh` is the record of one refresh, step by step, like the
save's journal (`curator/playlists/refreshing.py` explains the steps).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from curator.clock import utcnow
from curator.extensions import db

EVERY = ("off", "daily", "weekly", "check-in")

# LivingPlaylist.status
LIVING_ACTIVE = "active"
LIVING_PAUSED = "paused"  # the listener's Spotify login was revoked: waits for their next login
LIVING_GONE = "gone"  # the playlist was deleted in Spotify or is no longer theirs: never touched again

# PlaylistRefresh.state, in the order a refresh moves through them, then how it ended.
REFRESH_PENDING = "pending"  # due; no tracks chosen yet
REFRESH_READY = "ready"  # tracks chosen, nothing sent
REFRESH_REPLACING = "replacing"  # PUT (the first 100, replacing everything) may have been sent
REFRESH_ADDING = "adding"  # the PUT landed; `items_done` items are in place, POSTs add the rest
REFRESH_DONE = "done"
REFRESH_CANCELLED = "cancelled"  # stopped before anything was sent (turned off, account gone)
REFRESH_GONE = "gone"  # the playlist is gone from Spotify or no longer the listener's
REFRESH_OPEN = (REFRESH_PENDING, REFRESH_READY, REFRESH_REPLACING, REFRESH_ADDING)


class LivingPlaylist(db.Model):
    __tablename__ = "living_playlists"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    save_id: Mapped[int] = mapped_column(ForeignKey("playlist_saves.id", ondelete="CASCADE"), unique=True)
    playlist_id: Mapped[str] = mapped_column(String(64))  # the one Spotify playlist this may change
    every: Mapped[str] = mapped_column(String(10), default="off")
    hour: Mapped[int] = mapped_column(default=7)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    weekday: Mapped[int | None] = mapped_column()  # weekly: the local weekday it was turned on (0 = Monday)
    # The next due time (UTC); None when off, or for "check-in" until the next check-in.
    next_due_at: Mapped[datetime | None] = mapped_column(index=True)
    # "check-in": the latest check-in already turned into a refresh (later ones from its mood are due).
    checkin_seen_at: Mapped[datetime | None] = mapped_column()
    status: Mapped[str] = mapped_column(String(10), default=LIVING_ACTIVE)
    status_note: Mapped[str | None] = mapped_column(Text)
    paused_at: Mapped[datetime | None] = mapped_column()
    # The version in Spotify now (track rows as a preview holds them), and the one before the last
    # refresh (restorable once; None once restored or before any refresh).
    tracks: Mapped[list[dict]] = mapped_column(JSON, default=list)
    previous_tracks: Mapped[list[dict] | None] = mapped_column(JSON)
    refreshed_at: Mapped[datetime | None] = mapped_column()
    new_tracks: Mapped[int] = mapped_column(default=0)
    restored_at: Mapped[datetime | None] = mapped_column()
    failures: Mapped[int] = mapped_column(default=0)
    # When Spotify last said the playlist is still in the listener's library (a "deleted" playlist
    # only leaves it, and Spotify still takes writes to it): looked at again after a week.
    library_checked_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class PlaylistRefresh(db.Model):
    """One refresh of a living playlist for one due time, step by step."""

    __tablename__ = "playlist_refreshes"
    __table_args__ = (
        UniqueConstraint("living_id", "due_at", name="uq_playlist_refreshes_living_due"),
        Index("ix_playlist_refreshes_state_due", "state", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    living_id: Mapped[int] = mapped_column(ForeignKey("living_playlists.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    due_at: Mapped[datetime] = mapped_column()
    kind: Mapped[str] = mapped_column(String(10), default="scheduled")  # scheduled, check-in, restore
    state: Mapped[str] = mapped_column(String(10), default=REFRESH_PENDING)
    tracks: Mapped[list[dict]] = mapped_column(JSON, default=list)  # the new version, in order
    new_count: Mapped[int] = mapped_column(default=0)
    items_done: Mapped[int] = mapped_column(default=0)
    # A write sent to Spotify whose answer is not recorded yet, and how many items the playlist
    # holds once it has landed.
    sending_since: Mapped[datetime | None] = mapped_column()
    sending_items: Mapped[int] = mapped_column(default=0)
    lease_until: Mapped[datetime | None] = mapped_column()
    lease_holder: Mapped[str | None] = mapped_column(String(32))
    attempts: Mapped[int] = mapped_column(default=0)
    calls: Mapped[int] = mapped_column(default=0)  # Spotify calls this refresh has cost
    failures: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column()
    completed_at: Mapped[datetime | None] = mapped_column()

    living: Mapped[LivingPlaylist] = relationship()
