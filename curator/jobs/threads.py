"""The runner without Redis: each job in a daemon thread of this process, with its own app context.

The job is leased to this process when it is recorded, so if the process dies before or while it
runs, the lease runs out and the job's `unique` key is free again. `wait_idle` lets tests wait
until this process has nothing left to run.
"""
from __future__ import annotations

import threading
import time

from flask import current_app

from curator.jobs import execution, heartbeat

_idle = threading.Condition()
_running = 0


def start(job_id: str, module: str) -> None:
    global _running
    app = current_app._get_current_object()
    heartbeat.ensure_running(app)  # renews the lease the job got when it was recorded
    with _idle:
        _running += 1
    try:
        threading.Thread(target=_run, args=(app, job_id, module), daemon=True, name=f"job-{job_id[:8]}").start()
    except BaseException:
        _done()
        raise


def _run(app, job_id: str, module: str) -> None:
    try:
        with app.app_context():
            execution.execute(job_id, module)
    finally:
        _done()


def _done() -> None:
    global _running
    with _idle:
        _running -= 1
        _idle.notify_all()


def wait_idle(timeout: float = 10) -> bool:
    """Wait until this process's threads have run every job; False if some still run at `timeout`."""
    deadline = time.monotonic() + timeout
    with _idle:
        while _running:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            _idle.wait(left)
    return True
