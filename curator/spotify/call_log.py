"""Counting calls to Spotify (and its 429s) for the admin dashboard."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, func, insert, select

from curator.extensions import db
from curator.models.user import SpotifyCall, utcnow

KEEP = timedelta(days=7)


def record_call(operation: str, status: int, user_id: int | None = None) -> None:
    with db.engine.begin() as conn:
        conn.execute(insert(SpotifyCall).values(
            at=utcnow(), operation=operation[:80], status=status, user_id=user_id))


def summary(since: timedelta = timedelta(days=1)) -> dict:
    """Calls per operation and rate-limit events since `since` ago."""
    start = utcnow() - since
    with db.engine.begin() as conn:
        conn.execute(delete(SpotifyCall).where(SpotifyCall.at < utcnow() - KEEP))
        rows = conn.execute(
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
