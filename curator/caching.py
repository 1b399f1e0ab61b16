"""The one way Curator keeps a computed value beyond the line that computed it.

**Kept on the app, valid for a version.** `per_app(name, version, compute)` keeps `compute()`'s
answer in `app.extensions[name]` together with `version`, the thing that makes it true (the
catalogue's epoch and counter, the settings it was made from, a file's modification time); the
next call with the same version gets the kept value, a different version computes it again. One slot
per app, so two apps in one process (tests, a CLI beside a server) never share one; computed once
per process under a lock, so concurrent requests don't all do the work. `memo(name)` is the same
place for a bounded dictionary keyed by something immutable (a saved mood version never changes).

Nothing else caches in the web half: no module-level dictionaries, no `functools.lru_cache`, no
values kept in `flask.g` across calls beyond one request's own read (`moods/store.py` reads every
mood once per request and drops that read when the request writes a mood). The engine, which knows
no app, keeps its memos on the `Catalogue` they are derived from (`engine.catalogue.remember`), so
they go when that version of the catalogue goes.
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from flask import current_app

T = TypeVar("T")

_lock = threading.RLock()  # a compute may itself ask for another kept value


def per_app(name: str, version: Hashable, compute: Callable[[], T]) -> T:
    """`compute()`, kept on the current app under `name` while `version` stays the same."""
    extensions = current_app.extensions
    kept = extensions.get(name)
    if kept is not None and kept[0] == version:
        return kept[1]
    with _lock:
        kept = extensions.get(name)
        if kept is not None and kept[0] == version:
            return kept[1]
        value = compute()
        extensions[name] = (version, value)
        return value


def peek(name: str) -> tuple[Any, Any] | None:
    """(version, value) kept under `name` on the current app, whatever its version, or None."""
    return current_app.extensions.get(name)


def keep(name: str, version: Hashable, value: T) -> T:
    """Keep `value` for `version` under `name` (for a value computed elsewhere, e.g. a background build)."""
    with _lock:
        current_app.extensions[name] = (version, value)
    return value


def forget(name: str) -> None:
    with _lock:
        current_app.extensions.pop(name, None)


def memo(name: str, limit: int = 4096) -> dict:
    """A dictionary kept on the current app under `name`, for values that never go stale (keyed by
    something immutable); emptied when it grows past `limit` entries, which only bounds a
    pathological process."""
    extensions = current_app.extensions
    found = extensions.get(name)
    if found is None:
        with _lock:
            found = extensions.setdefault(name, {})
    if len(found) > limit:
        found.clear()
    return found
