"""One pause for every refresh when Spotify says "slow down".

A 429 from Spotify is about the app, not one playlist: when any refresh is told to wait
(`Retry-After`), every refresh waits until then before its next call. The pause is kept in Redis
when `REDIS_URL` is set (all workers and servers share it), otherwise in this process.
"""
from __future__ import annotations

import logging
import threading
import time

from flask import current_app

log = logging.getLogger(__name__)

KEY = "curator:spotify-pause-until"
# Never pause longer than this on one answer (a Retry-After of hours is waited out by the next run).
MAX_PAUSE = 300.0
# A Lua script: keep the later of the stored and the new end of the pause, expiring with it.
_LATER = """
local now = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > now then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
end
return 1
"""

_lock = threading.Lock()
_local_until = 0.0
_clients: dict[str, object] = {}


def _redis():
    url = current_app.config.get("REDIS_URL") or ""
    if not url:
        return None
    with _lock:
        client = _clients.get(url)
        if client is None:
            import redis

            client = _clients[url] = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
        return client


def slow_down(seconds: float) -> None:
    """Spotify asked for `seconds` of quiet: every refresh (in every process sharing Redis) waits."""
    global _local_until
    seconds = min(max(0.0, float(seconds)), MAX_PAUSE)
    until = time.time() + seconds
    with _lock:
        _local_until = max(_local_until, until)
    client = _redis()
    if client is not None:
        try:
            client.eval(_LATER, 1, KEY, repr(until), int(seconds * 1000) + 1000)
        except Exception:  # noqa: BLE001 - Redis away: this process still pauses
            log.warning("could not share Spotify's pause through Redis", exc_info=True)


def pause_left() -> float:
    """Seconds until the shared pause ends (0 when there is none)."""
    until = _local_until
    client = _redis()
    if client is not None:
        try:
            stored = client.get(KEY)
            until = max(until, float(stored)) if stored else until
        except Exception:  # noqa: BLE001 - Redis away: this process's own pause still counts
            log.warning("could not read Spotify's shared pause from Redis", exc_info=True)
    return max(0.0, until - time.time())


def wait_turn(sleep=time.sleep) -> float:
    """Wait out the shared pause, if any; how long it waited."""
    waited = 0.0
    while (left := pause_left()) > 0:
        sleep(min(left, 5.0))
        waited += min(left, 5.0)
    return waited


def reset() -> None:
    """Forget this process's pause (tests)."""
    global _local_until
    with _lock:
        _local_until = 0.0
