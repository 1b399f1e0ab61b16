"""A named lock that works across processes and machines: a database row with a holder and
an expiry (a lease). A crashed holder's lease simply runs out; a live one renews it.

Each operation runs on its own short connection, so it never commits the caller's work.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select, update

from curator.clock import utcnow
from curator.extensions import db
from curator.jobs.sql import insert_ignoring_conflicts
from curator.models.jobs import Lease

LEASE = timedelta(minutes=10)
_table = Lease.__table__


def acquire(name: str, holder: str, lease: timedelta = LEASE) -> bool:
    """Take the lock for `holder` if it is free or expired; True when taken."""
    now = utcnow()
    with db.engine.begin() as conn:
        conn.execute(insert_ignoring_conflicts(conn, _table).values(name=name, holder=None, expires_at=None))
    with db.engine.begin() as conn:
        # One conditional UPDATE: the database decides the race, whatever the number of processes.
        result = conn.execute(
            update(_table).where(_table.c.name == name,
                                 or_(_table.c.holder.is_(None), _table.c.expires_at < now, _table.c.holder == holder))
            .values(holder=holder, expires_at=now + lease)
        )
        return result.rowcount == 1


def renew(name: str, holder: str, lease: timedelta = LEASE) -> bool:
    """Extend the lease; False if `holder` lost it (it expired and someone else took it)."""
    with db.engine.begin() as conn:
        result = conn.execute(update(_table).where(_table.c.name == name, _table.c.holder == holder)
                              .values(expires_at=utcnow() + lease))
        return result.rowcount == 1


def release(name: str, holder: str) -> None:
    with db.engine.begin() as conn:
        conn.execute(update(_table).where(_table.c.name == name, _table.c.holder == holder)
                     .values(holder=None, expires_at=None))


def held(name: str) -> tuple[str, datetime] | None:
    """(holder, expires_at) while someone holds an unexpired lease, else None."""
    with db.engine.connect() as conn:
        row = conn.execute(select(_table.c.holder, _table.c.expires_at).where(_table.c.name == name)).first()
    if row is None or row[0] is None or row[1] is None or row[1] < utcnow():
        return None
    return row[0], row[1]
