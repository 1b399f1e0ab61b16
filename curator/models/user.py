"""People, their Spotify tokens and their browser sessions."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from curator.clock import utcnow
from curator.extensions import db

ROLES = ("listener", "curator", "admin")


class User(db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    spotify_id: Mapped[str] = mapped_column(String(128), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    country: Mapped[str | None] = mapped_column(String(8))
    # Space-separated role names; everyone is a listener, so only extra roles are stored.
    roles_text: Mapped[str] = mapped_column("roles", String(100), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime] = mapped_column(default=utcnow)

    token: Mapped[SpotifyToken | None] = relationship(
        back_populates="user", cascade="all, delete-orphan", uselist=False
    )

    @property
    def roles(self) -> set[str]:
        return {"listener", *(self.roles_text or "").split()}

    def has_role(self, role: str) -> bool:
        # Admins may do everything a curator may.
        roles = self.roles
        return role in roles or (role == "curator" and "admin" in roles)

    def grant(self, role: str) -> None:
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}; roles are {', '.join(ROLES)}")
        extra = set((self.roles_text or "").split()) | ({role} - {"listener"})
        self.roles_text = " ".join(sorted(extra))

    def revoke(self, role: str) -> None:
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}; roles are {', '.join(ROLES)}")
        self.roles_text = " ".join(sorted(set((self.roles_text or "").split()) - {role}))

    @property
    def name(self) -> str:
        return self.display_name or self.spotify_id


class SpotifyToken(db.Model):
    """One user's Spotify token, encrypted as a whole (access and refresh token alike)."""

    __tablename__ = "spotify_tokens"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    ciphertext: Mapped[str] = mapped_column(Text)
    scope: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    user: Mapped[User] = relationship(back_populates="token")


class WebSession(db.Model):
    """Server-side session data; the browser only holds the signed id."""

    __tablename__ = "web_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    # Who is logged in (a copy of data["user_id"]), so an account's sessions are found by index;
    # None for an anonymous session.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    expires_at: Mapped[datetime] = mapped_column(index=True)


class SpotifyCall(db.Model):
    """One request sent to Spotify: counts and rate-limit events for the admin dashboard."""

    __tablename__ = "spotify_calls"
    __table_args__ = (Index("ix_spotify_calls_at", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    operation: Mapped[str] = mapped_column(String(80))
    status: Mapped[int] = mapped_column(default=0)
    user_id: Mapped[int | None] = mapped_column()
