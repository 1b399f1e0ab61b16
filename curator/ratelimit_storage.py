"""Where the rate limits are counted: never in one process's memory, which several worker processes
would each count on their own (a listener would get a multiple of the limit, and a wrong
Retry-After).

- With `REDIS_URL`: in Redis (`limits`' own Redis storage), shared by every process and server.
  While Redis does not answer, in the database instead, and `/healthz` says `degraded`
  (`state()`); Redis is tried again every `REDIS_RETRY_SECONDS`.
- Without it: in the database, one moving window per limit and listener in `rate_limit_hits`
  (`DatabaseStorage`), so any number of processes on one database share it.

Both are `limits` storages with moving-window support, chosen by Flask-Limiter from the storage URI
`curator://` (curator/ratelimit.py). A database hit is one statement in a short transaction on the
request's own connection before the view runs: the new hit is inserted only if fewer than `limit`
hits of that key are younger than the window (`INSERT ... SELECT ... WHERE count < limit`). On
SQLite the statement holds the write lock from its start, so two processes can't both take the
last slot; on PostgreSQL an advisory lock on the key, taken first, does the same. Hits older than
the window are never counted and are deleted now and then (`SWEEP_ONE_IN`).
"""
from __future__ import annotations

import logging
import random
import threading
import time

from limits.storage import MovingWindowSupport, RedisStorage, Storage
from sqlalchemy import delete, func, insert, literal, select, text
from sqlalchemy.exc import SQLAlchemyError

from curator.extensions import db
from curator.models.limits import RateLimitHit
from curator.remote_call import between_transactions, commit_keeping_loaded

log = logging.getLogger(__name__)

REDIS_RETRY_SECONDS = 5.0
# One hit in this many also deletes its key's hits older than the window (they are never counted).
SWEEP_ONE_IN = 50


def _in_transaction(run):
    """`run(session)` in a short transaction of its own on this thread's session, committed at once."""
    between_transactions()
    session = db.session()
    try:
        result = run(session)
        commit_keeping_loaded(session)
        return result
    except BaseException:
        session.rollback()
        raise


def _lock_key(session, key: str) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": key})


class DatabaseStorage(Storage, MovingWindowSupport):
    """Moving windows in `rate_limit_hits`, one row per counted request."""

    STORAGE_SCHEME = ["curator+database"]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **_options) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions)

    @property
    def base_exceptions(self):
        return SQLAlchemyError

    def acquire_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        if amount > limit:
            return False
        now = time.time()
        younger = (select(func.count()).select_from(RateLimitHit)
                   .where(RateLimitHit.key == key, RateLimitHit.at > now - expiry).scalar_subquery())
        hit = insert(RateLimitHit).from_select(
            ["key", "at"], select(literal(key), literal(now)).where(younger + amount <= limit)).returning(RateLimitHit.id)

        def run(session) -> bool:
            _lock_key(session, key)
            taken = len(session.execute(hit).all())  # rows RETURNING'd: the rowcount is -1 on psycopg
            if taken == 1 and amount > 1:
                session.execute(insert(RateLimitHit), [{"key": key, "at": now}] * (amount - 1))
            if random.randrange(SWEEP_ONE_IN) == 0:
                session.execute(delete(RateLimitHit).where(RateLimitHit.key == key, RateLimitHit.at <= now - expiry))
            return taken == 1

        return _in_transaction(run)

    def get_moving_window(self, key: str, limit: int, expiry: int) -> tuple[float, int]:
        now = time.time()
        oldest, counted = db.session.execute(
            select(func.min(RateLimitHit.at), func.count())
            .where(RateLimitHit.key == key, RateLimitHit.at > now - expiry)).one()
        return (float(oldest), int(counted)) if counted else (now, 0)

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = time.time()

        def run(session) -> int:
            _lock_key(session, key)
            session.execute(insert(RateLimitHit), [{"key": key, "at": now}] * amount)
            return session.scalar(select(func.count()).select_from(RateLimitHit)
                                  .where(RateLimitHit.key == key, RateLimitHit.at > now - expiry))

        return _in_transaction(run)

    def get(self, key: str) -> int:
        return int(db.session.scalar(select(func.count()).select_from(RateLimitHit).where(RateLimitHit.key == key)))

    def get_expiry(self, key: str) -> float:
        newest = db.session.scalar(select(func.max(RateLimitHit.at)).where(RateLimitHit.key == key))
        return float(newest) if newest is not None else time.time()

    def check(self) -> bool:
        try:
            db.session.execute(select(1))
            return True
        except SQLAlchemyError:
            return False

    def reset(self) -> int | None:
        return _in_transaction(lambda session: session.execute(delete(RateLimitHit)).rowcount)

    def clear(self, key: str) -> None:
        _in_transaction(lambda session: session.execute(delete(RateLimitHit).where(RateLimitHit.key == key)))


class SharedStorage(Storage, MovingWindowSupport):
    """Redis when configured and answering, the database otherwise (see the module's docstring)."""

    STORAGE_SCHEME = ["curator"]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, redis_url: str = "",
                 **redis_options) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions)
        self.database = DatabaseStorage()
        self.redis: RedisStorage | None = None
        self.redis_url = redis_url
        self.redis_options = redis_options
        self._down_until = 0.0  # time.monotonic() before which Redis is not tried again
        self._down_since: float | None = None  # time.time() Redis stopped answering
        self._lock = threading.Lock()

    @property
    def base_exceptions(self):
        return SQLAlchemyError

    def state(self) -> tuple[str, str | None]:
        """Where limits are counted now ("redis" or "database") and, when degraded, why."""
        if not self.redis_url:
            return "database", None
        if self._down_since is not None:
            return "database", ("REDIS_URL is set but Redis does not answer: rate limits are counted in the "
                                "database meanwhile (shared by every process, one more write per request).")
        return "redis", None

    def _redis(self) -> RedisStorage | None:
        if not self.redis_url or time.monotonic() < self._down_until:
            return None
        with self._lock:
            if self.redis is None:
                try:
                    self.redis = RedisStorage(self.redis_url, **self.redis_options)
                except Exception as exc:  # noqa: BLE001 - unreachable at start: counted in the database
                    self._went_down(exc)
                    return None
            return self.redis

    def _went_down(self, exc: Exception) -> None:
        self._down_until = time.monotonic() + REDIS_RETRY_SECONDS
        if self._down_since is None:
            self._down_since = time.time()
            log.warning("rate limits: Redis does not answer (%s); counting them in the database", exc)

    def _either(self, name: str, *args):
        redis = self._redis()
        if redis is not None:
            try:
                result = getattr(redis, name)(*args)
            except Exception as exc:  # noqa: BLE001 - redis's errors, whatever their class
                self._went_down(exc)
            else:
                if self._down_since is not None:
                    log.warning("rate limits: Redis answers again; counting them there")
                    self._down_since = None
                return result
        return getattr(self.database, name)(*args)

    def acquire_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        return self._either("acquire_entry", key, limit, expiry, amount)

    def get_moving_window(self, key: str, limit: int, expiry: int) -> tuple[float, int]:
        return self._either("get_moving_window", key, limit, expiry)

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        return self._either("incr", key, expiry, amount)

    def get(self, key: str) -> int:
        return self._either("get", key)

    def get_expiry(self, key: str) -> float:
        return self._either("get_expiry", key)

    def check(self) -> bool:
        return self._either("check")

    def reset(self) -> int | None:
        return self._either("reset")

    def clear(self, key: str) -> None:
        self._either("clear", key)
