"""The job runner's tables: one row per job (its state, progress and lease), and the named leases
that keep one holder at a time across processes (curator/jobs/lease.py)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from curator.clock import utcnow
from curator.extensions import db


class Job(db.Model):
    """A job: queued, scheduled (delayed, or one due time of a periodic schedule), running, then
    finished / failed / cancelled. Times are naive UTC like every other column.

    `active_key` is the job's `unique` key while it is scheduled, queued or running and NULL after,
    so the unique constraint allows one live job per key. `once_key` ("name@due time") is never
    cleared: a periodic schedule's run for one due time, or a delayed job, can be claimed once.
    A job's lease (`lease_holder`, `lease_expires_at`) is renewed by its process while it lives;
    a running job whose lease ran out was lost with its process.
    """

    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_status_run_at", "status", "run_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    module: Mapped[str] = mapped_column(String(200), default="")  # the task's module, imported if need be
    kwargs: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    backend: Mapped[str] = mapped_column(String(16), default="thread")  # thread | rq | inline | run-due
    unique_key: Mapped[str | None] = mapped_column(String(200))
    active_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    once_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    run_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    started_at: Mapped[datetime | None] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()
    done: Mapped[int] = mapped_column(default=0)
    total: Mapped[int] = mapped_column(default=0)
    message: Mapped[str] = mapped_column(Text, default="")
    lease_holder: Mapped[str | None] = mapped_column(String(64))
    lease_expires_at: Mapped[datetime | None] = mapped_column()
    attempts: Mapped[int] = mapped_column(default=0)


class Lease(db.Model):
    """A named lease that works across processes: whoever holds an unexpired one may proceed."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    holder: Mapped[str | None] = mapped_column(String(64))
    expires_at: Mapped[datetime | None] = mapped_column()
