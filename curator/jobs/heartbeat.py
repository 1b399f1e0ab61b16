"""This process's name as a lease holder, and the thread that renews its jobs' leases while it lives.

One daemon thread per process (started with the first job), renewing every third of the lease the
jobs this process holds, in the database of every app that ran one here (one in production, one
per test in a test run); when the process dies the leases run out and the jobs count as lost.
"""
from __future__ import annotations

import logging
import os
import threading
import uuid
import weakref

log = logging.getLogger(__name__)

_lock = threading.Lock()
_wake = threading.Event()
_state: dict = {"pid": None, "holder": None, "thread": None, "apps": {}}


def holder() -> str:
    """This process's holder name (a new one after a fork: a child holds nothing of its parent's)."""
    with _lock:
        if _state["pid"] != os.getpid():
            _state.update(pid=os.getpid(), holder=f"{os.getpid()}-{uuid.uuid4().hex[:16]}", thread=None, apps={})
        return _state["holder"]


def ensure_running(app) -> None:
    """Renew this process's leases in `app`'s database from now on (starting the thread if need be)."""
    holder()
    with _lock:
        apps = _state["apps"]
        known = apps.get(id(app))
        if known is None or known[0]() is not app:
            _wake.set()
        _state["version"] = _state.get("version", 0) + 1
        apps[id(app)] = (weakref.ref(app), _state["version"])  # touched: not dropped by a beat under way
        thread = _state["thread"]
        if thread is not None and thread.is_alive():
            return
        thread = threading.Thread(target=_renew_forever, daemon=True, name="jobs-heartbeat")
        _state["thread"] = thread
        thread.start()


def _renew_forever() -> None:
    from curator.jobs import records

    while True:
        _wake.clear()
        with _lock:
            name = _state["holder"]
            _state["apps"] = {key: entry for key, entry in _state["apps"].items() if entry[0]() is not None}
            apps = [(entry[0](), entry[1]) for entry in _state["apps"].values()]
        interval = 10.0
        for app, version in apps:
            if app is None:
                continue
            interval = min(interval, float(app.config.get("JOBS_LEASE_SECONDS", 30)) / 3)
            try:
                with app.app_context():
                    held = records.renew(name)
            except Exception:  # a database hiccup: the next beat tries again
                log.debug("Could not renew this process's job leases", exc_info=True)
                continue
            if not held:  # nothing here now; the next job this process runs adds the app again
                with _lock:
                    entry = _state["apps"].get(id(app))
                    if entry is not None and entry[1] == version:
                        del _state["apps"][id(app)]
        _wake.wait(interval)
