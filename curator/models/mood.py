"""Mood definitions, versioned: every save is a new immutable row; a mood points at its current one."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from curator.clock import utcnow
from curator.extensions import db
from curator.models.user import User


class Mood(db.Model):
    __tablename__ = "moods"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    position: Mapped[int] = mapped_column(default=0)
    archived: Mapped[bool] = mapped_column(default=False)
    # No foreign key on purpose: moods ↔ versions would be a cycle that SQLite migrations can't
    # express; `save_version` is the only writer and always points it at a version of this mood.
    current_version_id: Mapped[int | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    current_version: Mapped[MoodVersion | None] = relationship(
        primaryjoin="foreign(Mood.current_version_id) == MoodVersion.id", viewonly=True
    )
    versions: Mapped[list[MoodVersion]] = relationship(
        back_populates="mood", foreign_keys="MoodVersion.mood_id", order_by="MoodVersion.number"
    )

    @property
    def name(self) -> str:
        """What every page calls the mood: its current version's name (the listener's pages say "Calm")."""
        data = self.current_version.data if self.current_version is not None else None
        return (data or {}).get("name") or self.slug


class MoodVersion(db.Model):
    __tablename__ = "mood_versions"
    __table_args__ = (UniqueConstraint("mood_id", "number", name="uq_mood_versions_mood_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    mood_id: Mapped[int] = mapped_column(ForeignKey("moods.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column()
    # The whole definition in the shipped YAML's shape (validated before it is stored).
    data: Mapped[dict] = mapped_column(JSON)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    note: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    mood: Mapped[Mood] = relationship(back_populates="versions", foreign_keys=[mood_id])
    author: Mapped[User | None] = relationship()
