"""One way to retry an HTTP call to someone else's service (Spotify, ReccoBeats).

A call is a function that makes one attempt. When the answer says "try again" (429, 5xx, a
timeout) it raises `TryAgain` carrying the error to give up with; `retrying` sleeps — the
service's Retry-After when it gave one, else an exponential backoff — and calls again, until the
attempts or the longest wait we accept inside a request run out. Retry-After is read and rounded
here only: `retry_after_seconds` parses the header, `whole_seconds` is what a person (or our own
Retry-After header) is told.
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from email.utils import parsedate_to_datetime
from typing import TypeVar

T = TypeVar("T")

BACKOFF_FIRST = 0.5  # seconds before the 2nd attempt; doubles each time
BACKOFF_MAX = 8.0


class TryAgain(Exception):
    """One attempt failed in a way worth another (`wait` seconds from now, or a backoff)."""

    def __init__(self, error: Exception, wait: float | None = None):
        super().__init__(str(error))
        self.error = error
        self.wait = wait


def backoff(attempt: int) -> float:
    """Seconds to wait after failed attempt number `attempt` (1-based) when the service said nothing."""
    return min(BACKOFF_FIRST * 2 ** (attempt - 1), BACKOFF_MAX)


def retry_after_seconds(headers: Mapping[str, str] | None, default: float = 1.0) -> float:
    """The Retry-After header in seconds (delta-seconds or an HTTP date), never negative."""
    value = (headers or {}).get("Retry-After")
    if value is None or not str(value).strip():
        return default
    value = str(value).strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError, IndexError, OverflowError):
            return default
    if not math.isfinite(seconds):
        return default
    return max(0.0, seconds)


def whole_seconds(seconds: float) -> int:
    """Whole seconds to tell a person or put in a Retry-After header: rounded up, never 0, so
    whoever waits that long waits at least as long as was asked."""
    return max(1, math.ceil(seconds))


def retrying(attempt: Callable[[], T], *, retries: int, max_wait: float,
             sleep: Callable[[float], None] = time.sleep, on_wait: Callable[[float, TryAgain], None] | None = None,
             deadline: float | None = None) -> T:
    """Call `attempt` until it returns, at most `retries` times more after the first.

    Gives up with the attempt's error when the tries run out, the service asks for a wait longer
    than `max_wait` (better told to the person than waited out in a request), or the wait would end
    past `deadline` (time.monotonic(); a request's budget)."""
    tries = 0
    while True:
        tries += 1
        try:
            return attempt()
        except TryAgain as again:
            wait = again.wait if again.wait is not None else backoff(tries)
            if tries > retries or wait > max_wait or (deadline is not None and time.monotonic() + wait > deadline):
                raise again.error from again.__cause__
            if on_wait is not None:
                on_wait(wait, again)
            sleep(wait)
