"""Counting calls to Spotify (and its 429s) for the admin dashboard.

A call is counted even when the request that made it rolls back; in a request the rows are written
after the view's transaction has ended, on the same connection (see `deferred_writes`).
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, func, insert, select

from curator import deferred_writes
from curator.clock import utcnow
from curator.extensions import db
from curator.models.user import SpotifyCall

KEEP = timedelta(days=7)


def record_call(operation: str, status: int, user_id: int | None = None) -> None:
    row = {"at": utcnow(), "operation": operation[:80], "status": status, "user_id": user_id}
    rows = deferred_writes.pending(_KEY) or []
    rows.append(row)

    def run(conn) -> None:
        conn.execute(insert(SpotifyCall), rows)

    deferred_writes.write(_KEY, run, value=rows)


_KEY = "spotify-calls"


def _prune(conn) -> None:
    conn.execute(delete(SpotifyCall).where(SpotifyCall.at < utcnow() - KEEP))


def summary(since: timedelta = timedelta(days=1)) -> dict:
    """Calls per operation and rate-limit events since `since` ago."""
    start = utcnow() - since
    deferred_writes.write("spotify-calls-prune", _prune)
    rows = db.session.execute(
        select(SpotifyCall.operation, SpotifyCall.status, func.count())
        .where(SpotifyCall.at >= start)
        .group_by(SpotifyCall.operation, SpotifyCall.status)
    ).all()
    by_operation: dict[str, int] = {}
    rate_limited = errors = 0
    for operation, status, count in rows:
        by_operation[operation] = by_operation.get(operation, 0) + count
        if status == 429:
            rate_limited += count
        elif status >= 400 or status == 0:
            errors += count
    return {
        "total": sum(by_operation.values()),
        "by_operation": dict(sorted(by_operation.items(), key=lambda kv: -kv[1])),
        "rate_limited": rate_limited,
        "errors": errors,
    }
