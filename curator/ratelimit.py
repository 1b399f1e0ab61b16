"""Rate limits for our own expensive endpoints, as a one-line decorator on the view.

Fixed windows counted in Redis when `REDIS_URL` is set (shared by every worker process), or in
this process's memory otherwise, so a single-process install needs nothing extra.
"""
from __future__ import annotations

import threading
import time
from functools import wraps

from flask import current_app, g, request

from curator.errors import CuratorError

# Generous for a person, a brake for a script: each preview curates, each save calls Spotify.
PREVIEWS_PER_MINUTE = 30
SAVES_PER_MINUTE = 20


class RateLimited(CuratorError):
    status = 429
    code = "rate_limited"

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


class _MemoryCounter:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, tuple[int, float]] = {}

    def hit(self, key: str, window: int) -> int:
        now = time.time()
        with self._lock:
            count, expires = self._counts.get(key, (0, now + window))
            if expires <= now:
                count, expires = 0, now + window
            self._counts[key] = (count + 1, expires)
            if len(self._counts) > 10_000:  # forget finished windows now and then
                self._counts = {k: v for k, v in self._counts.items() if v[1] > now}
            return count + 1


def _memory() -> _MemoryCounter:
    # One counter per app: separate apps (tests, several sites in one process) never share counts.
    app = current_app._get_current_object()
    counter = app.extensions.get("curator.ratelimit")
    if counter is None:
        counter = app.extensions["curator.ratelimit"] = _MemoryCounter()
    return counter


def _redis():
    app = current_app._get_current_object()
    url = app.config.get("REDIS_URL")
    if not url:
        return None
    client = app.extensions.get("curator.redis")
    if client is None:
        import redis

        client = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
        app.extensions["curator.redis"] = client
    return client


def hit(key: str, window: int) -> int:
    """Count one hit for `key` in the current window; return the count so far."""
    client = _redis()
    if client is not None:
        import redis

        bucket = f"curator:rl:{key}:{int(time.time()) // window}"
        try:
            pipe = client.pipeline()
            pipe.incr(bucket)
            pipe.expire(bucket, window)
            return int(pipe.execute()[0])
        except redis.RedisError:
            current_app.logger.warning("Redis unavailable for rate limiting; counting in memory")
    return _memory().hit(key, window)


def ratelimit(limit: int, window: int = 60, scope: str = ""):
    """At most `limit` calls per `window` seconds per user (or per client address when anonymous)."""

    def decorator(view):
        name = scope or view.__name__

        @wraps(view)
        def wrapped(*args, **kwargs):
            if current_app.config.get("RATELIMIT_ENABLED", True):
                user = g.get("user")
                who = f"u{user.id}" if user is not None else f"ip{request.remote_addr}"
                if hit(f"{name}:{who}", window) > limit:
                    retry = window - int(time.time()) % window
                    raise RateLimited(f"That was a lot of requests in a short time. Please wait {retry} seconds.", retry)
            return view(*args, **kwargs)

        return wrapped

    return decorator
