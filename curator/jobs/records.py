"""Job rows: created, claimed, reported on and finished, each write on a short connection of its
own (`db.engine.begin()`), so it never commits or waits on the caller's transaction, and other
processes see a job's state and progress as it changes.

States: `scheduled` (delayed, or a periodic schedule's due time) → `queued` → `running` →
`finished` | `failed` | `cancelled`. A running job's lease (holder, expiry) is renewed by its
process (curator/jobs/heartbeat.py); one whose lease ran out was lost with its process.
"""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, or_, select, update

from curator.clock import utcnow
from curator.extensions import db
from curator.jobs.sql import insert_ignoring_conflicts
from curator.models.jobs import Job

table = Job.__table__
c = table.c
LIVE = ("scheduled", "queued", "running")
MESSAGE_LIMIT = 2000


def lease_length() -> timedelta:
    return timedelta(seconds=float(current_app.config.get("JOBS_LEASE_SECONDS", 30)))


def create(name: str, kwargs: dict, *, backend: str, module: str = "", status: str = "queued", unique: str | None = None,
           run_at: datetime | None = None, once_key: str | None = None, holder: str | None = None,
           free_stale_queued: bool = False) -> str | None:
    """Record a new job; its id, or None when `unique` names a live job (or `once_key` a claimed one).

    A live job stops blocking its key when its lease ran out (its process died) and, with
    `free_stale_queued`, when it has waited queued longer than JOBS_STALE_QUEUED_SECONDS (the
    caller knows no worker is there to take it): it is cancelled, and never runs after that.
    `holder` leases the new job to this process at once (the thread runner's queued jobs).
    """
    now = utcnow()
    job_id = uuid.uuid4().hex
    with db.engine.begin() as conn:
        if unique:
            stale = and_(c.lease_expires_at.is_not(None), c.lease_expires_at < now)
            if free_stale_queued:
                waited = timedelta(seconds=float(current_app.config.get("JOBS_STALE_QUEUED_SECONDS", 60)))
                stale = or_(stale, and_(c.status == "queued", c.lease_holder.is_(None), c.created_at < now - waited))
            conn.execute(update(table).where(c.active_key == unique, stale).values(
                status="cancelled", active_key=None, finished_at=now, lease_holder=None, lease_expires_at=None,
                message="Given up: its worker stopped, or none took it; a newer job of the same kind replaced it."))
        values = dict(id=job_id, name=name, module=module, kwargs=kwargs, status=status, backend=backend, unique_key=unique,
                      active_key=unique, once_key=once_key, run_at=run_at, created_at=now, done=0, total=0,
                      message="", attempts=0)
        if holder:
            values.update(lease_holder=holder, lease_expires_at=now + lease_length())
        # RETURNING says whether the row went in (psycopg's rowcount is -1 for ON CONFLICT DO NOTHING).
        added = conn.execute(insert_ignoring_conflicts(conn, table).values(**values).returning(c.id)).first()
    return job_id if added is not None else None


def claim(job_id: str, holder: str) -> dict | None:
    """Make the job running for `holder` if it is waiting (or lost with an expired lease); its row then.

    One conditional UPDATE decides between any number of processes trying at once."""
    now = utcnow()
    with db.engine.begin() as conn:
        taken = conn.execute(update(table).where(
            c.id == job_id,
            or_(c.status.in_(("scheduled", "queued")),
                and_(c.status == "running", c.lease_expires_at < now)),
            or_(c.lease_holder.is_(None), c.lease_holder == holder, c.lease_expires_at < now),
        ).values(status="running", started_at=now, lease_holder=holder, lease_expires_at=now + lease_length(),
                 attempts=c.attempts + 1)).rowcount
        if taken != 1:
            return None
        return dict(conn.execute(select(table).where(c.id == job_id)).mappings().one())


def claim_once(name: str, due_at: datetime, kwargs: dict, holder: str, backend: str,
               module: str = "") -> dict | None:
    """Claim the run of `name` for one due time: the first caller creates it running; a lost run
    (lease expired) may be taken over; otherwise None (it ran, or runs now, elsewhere)."""
    once_key = f"{name}@{due_at.isoformat()}"
    job_id = create(name, kwargs, backend=backend, module=module, status="queued", once_key=once_key,
                    run_at=due_at, holder=holder)
    if job_id is None:
        with db.engine.connect() as conn:
            job_id = conn.execute(select(c.id).where(c.once_key == once_key)).scalar()
        if job_id is None:
            return None
    return claim(job_id, holder)


def due(at: datetime) -> list[str]:
    """Ids of delayed jobs due at `at`, and of due ones lost with their process, oldest first."""
    with db.engine.connect() as conn:
        return list(conn.execute(select(c.id).where(
            c.run_at <= at,
            or_(c.status == "scheduled", and_(c.status == "running", c.lease_expires_at < utcnow())),
        ).order_by(c.run_at, c.created_at)).scalars())


def progress(job_id: str, done: int | None = None, total: int | None = None, message: str | None = None) -> None:
    values = {}
    if done is not None:
        values["done"] = int(done)
    if total is not None:
        values["total"] = int(total)
    if message is not None:
        values["message"] = str(message)[:MESSAGE_LIMIT]
    if values:
        with db.engine.begin() as conn:
            conn.execute(update(table).where(c.id == job_id).values(**values))


def renew(holder: str) -> int:
    """Extend the leases of every running job `holder` holds; how many."""
    now = utcnow()
    with db.engine.begin() as conn:
        return conn.execute(update(table).where(c.lease_holder == holder, c.status.in_(LIVE))
                            .values(lease_expires_at=now + lease_length())).rowcount


def finish(job_id: str, status: str, message: str | None = None) -> None:
    values = dict(status=status, finished_at=utcnow(), active_key=None, lease_holder=None, lease_expires_at=None)
    if message is not None:
        values["message"] = str(message)[:MESSAGE_LIMIT]
    with db.engine.begin() as conn:
        conn.execute(update(table).where(c.id == job_id).values(**values))


def cancel(job_id: str, message: str) -> bool:
    """Cancel a job that has not started; False if it already has (or ended)."""
    with db.engine.begin() as conn:
        return conn.execute(update(table).where(c.id == job_id, c.status.in_(("scheduled", "queued"))).values(
            status="cancelled", finished_at=utcnow(), active_key=None, lease_holder=None, lease_expires_at=None,
            message=message[:MESSAGE_LIMIT])).rowcount == 1


def get(job_id: str) -> dict | None:
    with db.engine.connect() as conn:
        row = conn.execute(select(table).where(c.id == job_id)).mappings().first()
    return dict(row) if row else None


def live(unique: str) -> dict | None:
    """The live job holding `unique`, if any."""
    with db.engine.connect() as conn:
        row = conn.execute(select(table).where(c.active_key == unique)).mappings().first()
    return dict(row) if row else None
