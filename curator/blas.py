"""One BLAS thread per web worker.

numpy's OpenBLAS starts a thread per core and hands it any large enough matrix product. In a
process that serves requests that is a loss: gunicorn's workers (and the requests of each)
already keep the cores busy, and their BLAS threads fighting over two cores made the engine
3-6x slower under load and the service a third as fast (issue 13). So a process pins OpenBLAS
to ``BLAS_THREADS`` (default 1) when it starts serving requests: the first request of each
process, which is also the first request after gunicorn forked a worker. The CLI and the
benchmarks never serve a request and keep every core for their one big job.
"""
from __future__ import annotations

import os

from flask import Flask
from threadpoolctl import threadpool_limits

_pinned_in: int | None = None  # the process id that already pinned (gunicorn forks copy this)


def limit_threads(threads: int) -> None:
    """Pin this process's BLAS libraries to ``threads`` threads (once per process)."""
    global _pinned_in
    if _pinned_in == os.getpid():
        return
    threadpool_limits(limits=threads, user_api="blas")
    _pinned_in = os.getpid()


def init_app(app: Flask) -> None:
    threads = int(app.config.get("BLAS_THREADS", 1))

    @app.before_request
    def _one_blas_thread_per_worker() -> None:
        if _pinned_in != os.getpid():
            limit_threads(threads)
