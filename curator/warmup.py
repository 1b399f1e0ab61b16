"""A web worker's start: what its first request would otherwise do, done right after it starts.

gunicorn forks each worker from a master that loaded the app (`preload_app`), so the code is there
but nothing a request builds per process is: the catalogue's memory maps (opened and warmed,
`catalogue/matrix.py::open_if_built`), the one-BLAS-thread pin (`blas.py`), numpy's lazily
imported random module. `gunicorn.conf.py`'s `post_worker_init` hands the worker's app to `start`,
which does them in a daemon thread, so the worker answers at once; a request that arrives meanwhile
waits on the same lock for the same opening (it would have done it itself), never for more.

It never builds a catalogue version that is not built yet (a request then serves the previous one
and starts the build, as ever), and a failure here only leaves the work to the first request.
"""
from __future__ import annotations

import logging
import threading

from flask import Flask

log = logging.getLogger(__name__)


def start(app: Flask) -> threading.Thread:
    """Warm this process for `app` in a background thread (returned, for tests to join)."""
    thread = threading.Thread(target=warm, args=(app,), name="curator-warm-up", daemon=True)
    thread.start()
    return thread


def warm(app: Flask) -> bool:
    """Open the current catalogue version's files if built; True when it is open now."""
    import numpy.random  # noqa: F401 - numpy imports it on first use: in the first preview otherwise

    from curator import blas
    from curator.catalogue import matrix
    from curator.extensions import db

    try:
        blas.limit_threads(int(app.config.get("BLAS_THREADS", 1)))
        with app.app_context():
            try:
                return matrix.open_if_built()
            finally:
                db.session.remove()
    except Exception:  # noqa: BLE001 - the first request does this work instead
        log.exception("warming up the worker failed; its first request opens the catalogue instead")
        return False
