"""Saves run beside the web request, on a few threads of this process, so a slow Spotify never
holds the threads that serve pages.

A web worker has a handful of threads (`WEB_THREADS`). A save waits on Spotify for seconds (9 s per
call when Spotify is slow): with saves holding them, every thread of a worker ended up waiting on
Spotify, and previews and page views queued behind the saves for most of a minute, then the
listeners' browsers gave up. So the request takes the save's lease (`saving.start`, a few
statements) and hands the rest to this process's save threads (`SAVE_THREADS`), then waits at most
`SAVE_ANSWER_SECONDS` for it: a save that finishes by then answers as before (the playlist), one
that doesn't answers "we're finishing it in the background" (202) and the preview page shows it as
being saved until it is done.

The lease is renewed by the heartbeat from the moment it is taken, queued or running, for as long as
this process lives (`save_lease.py`). If the process dies, the beats stop and "Finish saving"
takes over within `SAVE_LEASE_SECONDS`. A save thread has no request budget: the save keeps to its
retry budget (`SAVE_RETRY_BUDGET`) and the settle windows of `saving.py`, then records where it
stands.
"""
from __future__ import annotations

import logging
import os
import threading
from concurrent.futures import Future, ThreadPoolExecutor

from curator import deferred_writes
from curator.extensions import db
from curator.playlists import save_lease

log = logging.getLogger(__name__)

_lock = threading.Lock()


class _Runner:
    """One app's save threads in this process, and how many of its web threads may wait on saves."""

    def __init__(self, app) -> None:
        self.pid = os.getpid()
        self.pool = ThreadPoolExecutor(max_workers=max(1, int(app.config["SAVE_THREADS"])),
                                       thread_name_prefix="curator-save")
        self.waiting = threading.BoundedSemaphore(max(1, int(app.config["WEB_THREADS"]) // 2))


def _runner(app) -> _Runner:
    """Made on first use, in the process that uses it (never inherited by a forked worker)."""
    with _lock:
        runner = app.extensions.get("curator.save_runner")
        if runner is None or runner.pid != os.getpid():
            runner = app.extensions["curator.save_runner"] = _Runner(app)
        return runner


def wait(app, future: Future, seconds: float):
    """`future.result(seconds)`, but only while at most half of this process's web threads are
    waiting on saves: when more are, answer at once (a `TimeoutError` unless it is done), so page
    views always find a free thread however many saves are under way."""
    waiting = _runner(app).waiting
    if not waiting.acquire(blocking=False):
        return future.result(timeout=0)
    try:
        return future.result(timeout=seconds)
    finally:
        waiting.release()


def submit(app, holder: str, run, *args) -> Future:
    """Run `run(*args)` in an app context on a save thread while `holder`'s lease is kept alive (from
    now, while it waits its turn, until it ends). Errors reach whoever waits on the future, and are
    logged when nobody does (the save's record has its own note of them)."""
    save_lease.hold(app, holder)

    def task():
        try:
            with app.app_context():
                try:
                    with deferred_writes.held():  # the call log, written once the save has ended
                        return run(*args)
                finally:
                    db.session.remove()
        finally:
            save_lease.drop(holder)

    future = _runner(app).pool.submit(task)
    future.add_done_callback(_note_failure)
    return future


def _note_failure(future: Future) -> None:
    if future.cancelled():
        return
    exc = future.exception()
    if exc is None:
        return
    from curator.playlists.errors import SaveInProgress
    from curator.spotify.errors import SpotifyError

    if isinstance(exc, (SpotifyError, SaveInProgress)):  # recorded on the save; the page says it
        log.info("a save running beside its request stopped: %s", exc)
    else:
        log.error("a save running beside its request failed", exc_info=exc)
