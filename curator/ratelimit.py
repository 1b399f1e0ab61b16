"""Rate limits for our own expensive endpoints, on Flask-Limiter, as a one-line decorator on the view.

Counted in Redis when `REDIS_URL` is set (shared by every worker process and server), in the
database otherwise and while Redis does not answer (`curator/ratelimit_storage.py`): never per
process, so two, four or forty workers give a listener the same 30 previews a minute, and
`/healthz` says `degraded` while Redis is down. `RATELIMIT_ENABLED=0` switches limits off.

The window *moves* (each hit expires `window` seconds after it was made), so the Retry-After we
tell is the moment the oldest counted hit expires: wait that long and the next request passes.

One `Limiter` per process, as Flask-Limiter is built: the storage is the one of the app set up last,
which in a deployment is the only app.
"""
from __future__ import annotations

import time
from functools import wraps

from flask import current_app, g, request
from flask_limiter import Limiter, RateLimitExceeded

from curator import ratelimit_storage  # noqa: F401  (registers the curator:// storages with `limits`)
from curator.problems import CuratorError

# Generous for a person, a brake for a script: each preview curates, each save calls Spotify.
PREVIEWS_PER_MINUTE = 30
SAVES_PER_MINUTE = 20
# Logins started per client address (each stores a short-lived session row for its OAuth state).
LOGINS_PER_MINUTE = 30


class RateLimited(CuratorError):
    """Too many previews or saves this minute; `retry_after` says in how many seconds to try again."""

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


def listener_key() -> str:
    """Count per listener; per client address before login (the address is the proxy's unless
    the ProxyFix setting trusts it)."""
    user = g.get("user")
    return f"u{user.id}" if user is not None else f"ip{request.remote_addr}"


limiter = Limiter(key_func=listener_key, strategy="moving-window", key_prefix="curator")


@limiter.request_filter
def _switched_off() -> bool:
    return not current_app.config["RATELIMIT_ENABLED"]


def init_app(app) -> None:
    # RATELIMIT_ENABLED and REDIS_URL are settings (curator/config.py); the keys below are
    # Flask-Limiter's own, derived from them here because tests may change REDIS_URL per app.
    if not app.config["RATELIMIT_ENABLED"]:
        return
    app.config.setdefault("RATELIMIT_STORAGE_URI", "curator://")
    redis_url = app.config.get("REDIS_URL") or ""
    # Every key set each time: Flask-Limiter merges these into the options of the app set up before.
    app.config.setdefault("RATELIMIT_STORAGE_OPTIONS", {"redis_url": redis_url, "socket_timeout": 1,
                                                        "socket_connect_timeout": 1})
    # Never fall back to one process's memory: the storage itself falls back to the database.
    app.config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", False)
    limiter.init_app(app)


def where_counted() -> tuple[str, str | None]:
    """Where limits are counted ("redis", "database", "off") and, when degraded, why (for /healthz)."""
    if not current_app.config["RATELIMIT_ENABLED"]:
        return "off", None
    storage = limiter.storage
    if isinstance(storage, ratelimit_storage.SharedStorage):
        return storage.state()
    return type(storage).__name__, None


def seconds_until_free() -> int:
    """Whole seconds until the breached limit of this request has room again.

    A slot frees strictly after its oldest hit turns `window` seconds old, hence floor + 1 rather
    than a rounding that could land on the very instant it is still refused."""
    current = limiter.current_limit
    if current is None:
        return 1
    reset = current.window.reset_time
    return max(1, int(reset - time.time()) + 1)


def ratelimit(limit: int, window: int = 60, scope: str = ""):
    """At most `limit` calls per `window` seconds per listener (or client address when anonymous),
    counted together for every view that shares `scope`."""

    def decorator(view):
        counted = limiter.shared_limit(f"{limit} per {window} second", scope=scope or view.__name__)(view)

        @wraps(view)
        def wrapped(*args, **kwargs):
            try:
                return counted(*args, **kwargs)
            except RateLimitExceeded:
                retry = seconds_until_free()
                raise RateLimited(
                    f"That was a lot of requests in a short time. Please wait {retry} seconds.", retry
                ) from None

        return wrapped

    return decorator
