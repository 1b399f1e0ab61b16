"""An audit trail of every curator and admin action: who, what, when, before and after."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from curator.clock import utcnow
from curator.extensions import db
from curator.models.user import User


class AuditEvent(db.Model):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor_label: Mapped[str] = mapped_column(String(200), default="")  # kept if the user is deleted
    action: Mapped[str] = mapped_column(String(80), index=True)  # e.g. "mood.save", "role.grant"
    target: Mapped[str] = mapped_column(String(200), default="")
    before = mapped_column(JSON(none_as_null=True), nullable=True)  # any JSON value, or NULL
    after = mapped_column(JSON(none_as_null=True), nullable=True)

    actor: Mapped[User | None] = relationship()
