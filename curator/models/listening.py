"""Listener tables: stored previews, the exactly-once record of saving one to Spotify, check-ins.

A preview is immutable once written: regenerating or removing a track makes a new preview, so a
save in progress always works from the list the listener saw.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from curator.clock import utcnow
from curator.extensions import db

# PlaylistSave.state, in the order a save moves through them.
SAVE_PENDING = "pending"  # nothing sent to Spotify yet
SAVE_CREATING = "creating"  # POST /me/playlists was (maybe) sent; look for the marker before creating again
SAVE_CREATED = "created"  # playlist exists (playlist_id), no items sent yet
SAVE_ADDING = "adding"  # some item batches may have landed; verify before adding more
SAVE_DONE = "done"


class Preview(db.Model):
    __tablename__ = "previews"

    # Random and unguessable; ownership is still checked on every read.
    id: Mapped[str] = mapped_column(String(24), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    parent_id: Mapped[str | None] = mapped_column(String(24))  # the preview this one regenerated
    from_slug: Mapped[str] = mapped_column(String(40))
    to_slug: Mapped[str] = mapped_column(String(40))
    from_version_id: Mapped[int | None] = mapped_column(ForeignKey("mood_versions.id", ondelete="SET NULL"))
    to_version_id: Mapped[int | None] = mapped_column(ForeignKey("mood_versions.id", ondelete="SET NULL"))
    length_tracks: Mapped[int | None] = mapped_column()
    length_minutes: Mapped[float | None] = mapped_column()
    options: Mapped[dict] = mapped_column(JSON, default=dict)
    seed: Mapped[int] = mapped_column(BigInteger)
    arc: Mapped[str] = mapped_column(String(20), default="linear")
    tracks: Mapped[list[dict]] = mapped_column(JSON, default=list)
    stats: Mapped[dict] = mapped_column(JSON, default=dict)
    shortfall: Mapped[str | None] = mapped_column(Text)
    notices: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # options, tracks, stats and notices are JSON columns read as Python data; a preview is never
    # changed in place, so no mutation tracking is needed.

    save: Mapped[PlaylistSave | None] = relationship(back_populates="preview", uselist=False,
                                                     cascade="all, delete-orphan")

    @property
    def duration_ms(self) -> int:
        return sum(int(t.get("duration_ms") or 0) for t in self.tracks)

    @property
    def saved(self) -> bool:
        return self.save is not None and self.save.state == SAVE_DONE


class PlaylistSave(db.Model):
    """One preview's way into Spotify, step by step, so a retry resumes instead of repeating."""

    __tablename__ = "playlist_saves"
    __table_args__ = (
        UniqueConstraint("user_id", "idempotency_key", name="uq_playlist_saves_user_key"),
        # The history page: a listener's finished saves, newest first, read a page at a time from
        # the index's end instead of sorting all of them (3,000 saves: 2.7 ms -> a few rows).
        Index("ix_playlist_saves_user_state_completed", "user_id", "state", "completed_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    preview_id: Mapped[str] = mapped_column(ForeignKey("previews.id", ondelete="CASCADE"), unique=True)
    # Indexed as the first column of ix_playlist_saves_user_state_completed.
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(16), default=SAVE_PENDING)
    # Short random text put in the playlist description: finds the playlist after a create timed out.
    marker: Mapped[str] = mapped_column(String(24))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(String(300))
    playlist_id: Mapped[str | None] = mapped_column(String(64))
    url: Mapped[str | None] = mapped_column(String(300))
    items_added: Mapped[int] = mapped_column(default=0)
    batches_done: Mapped[int] = mapped_column(default=0)
    attempts: Mapped[int] = mapped_column(default=0)
    # Whoever holds an unexpired lease is talking to Spotify for this save; others wait. A heartbeat
    # renews it while the holder's process lives (playlists/save_lease.py); each step checks the holder.
    lease_until: Mapped[datetime | None] = mapped_column()
    lease_holder: Mapped[str | None] = mapped_column(String(32))
    # A create or add sent to Spotify whose answer is not recorded yet (it may still land), and for
    # an add how many items the playlist holds once it has.
    sending_since: Mapped[datetime | None] = mapped_column()
    sending_items: Mapped[int] = mapped_column(default=0, server_default="0")
    # When to look for a second, empty playlist that a create whose answer was lost may have left.
    stray_check_at: Mapped[datetime | None] = mapped_column(index=True)
    last_error: Mapped[str | None] = mapped_column(Text)
    cover: Mapped[str] = mapped_column(String(16), default="")  # "", uploaded, skipped, failed
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(index=True)

    preview: Mapped[Preview] = relationship(back_populates="save")


class CheckIn(db.Model):
    """How strongly the listener felt, 1-5, before or after listening to a preview's playlist."""

    __tablename__ = "check_ins"
    # The history chart reads a listener's latest check-ins: from the index's end, not a sort of
    # all of them (6,000 check-ins: 12 ms).
    __table_args__ = (Index("ix_check_ins_user_at", "user_id", "at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Indexed as the first column of ix_check_ins_user_at.
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    preview_id: Mapped[str | None] = mapped_column(ForeignKey("previews.id", ondelete="SET NULL"), index=True)
    from_slug: Mapped[str] = mapped_column(String(40))
    to_slug: Mapped[str] = mapped_column(String(40))
    moment: Mapped[str] = mapped_column(String(8))  # "before" or "after"
    rating: Mapped[int] = mapped_column()
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
