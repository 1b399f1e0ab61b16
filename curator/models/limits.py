"""Rate limits' moving windows, when they are counted in the database (no shared Redis)."""
from __future__ import annotations

from sqlalchemy import Float, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from curator.extensions import db


class RateLimitHit(db.Model):
    """One counted request: `key` names the limit and who it counts (curator/ratelimit_storage.py)."""

    __tablename__ = "rate_limit_hits"
    __table_args__ = (Index("ix_rate_limit_hits_key_at", "key", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(255))
    at: Mapped[float] = mapped_column(Float)  # time.time() of the hit
