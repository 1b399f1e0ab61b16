"""The job runner: work done outside the web request, now, later, or on a schedule.

    from curator import jobs

    @jobs.task("taste.sync")                  # a task, by a stable name, registered at import time
    def sync_taste(*, user_id: int) -> None:  # runs inside an app context; JSON-valued kwargs
        jobs.progress(done=1, total=3, message="Reading your library")

    jobs.enqueue("taste.sync", user_id=7, unique="taste.sync:7")   # after the commit that needs it
    jobs.enqueue_at(when, "taste.sync", user_id=7)                 # a delayed one-off job

    @jobs.every("living.refresh-due", minutes=5)   # once per due time, however many workers run
    def refresh_due(*, due_at: datetime) -> None: ...

Where a job runs: on RQ when REDIS_URL is set (`rq worker --with-scheduler`, which also runs the
delayed jobs and schedules), else in a daemon thread of this process; with JOBS_INLINE (tests) at
once in the caller's app context. Without Redis, delayed jobs and schedules run when
`flask --app curator jobs run-due` runs (cron or a systemd timer, every minute).

Every job is a row in `jobs` (curator/models/jobs.py): its state, progress and lease. The row is
the truth: a job is claimed there before it runs, so one handed over twice still runs once, and a
due time of a schedule is claimed once forever. Tasks live in an area's `tasks.py` or `jobs.py`
(imported when the app starts) and must be idempotent, and hold no transaction across a call to
another service. The modules: `registry` (tasks, schedules), `records` (job rows), `execution`
(running one job), `threads` and `rq_backend` (where), `schedules` (due times, run-due),
`heartbeat` (leases of running jobs), `lease` (a named lock between processes), `health`, `cli`.
"""
from __future__ import annotations

import json
from datetime import datetime

from flask import current_app

from curator.jobs import execution, heartbeat, records, registry, schedules, threads
from curator.jobs.errors import QueueUnavailable
from curator.jobs.registry import every, task

__all__ = ["task", "every", "enqueue", "enqueue_at", "progress", "wait_idle", "run_due", "status", "live", "worker_available",
           "current_job_id", "QueueUnavailable", "init_app"]

wait_idle = threads.wait_idle
run_due = schedules.run_due
current_job_id = execution.current_job_id


def _checked(name: str, kwargs: dict) -> registry.Task:
    found = registry.get(name)
    try:
        json.dumps(kwargs)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"Job {name!r}: its arguments must be JSON values ({exc}).") from None
    return found


def _redis() -> bool:
    return bool(current_app.config.get("REDIS_URL"))


def enqueue(name: str, *, unique: str | None = None, **kwargs) -> str | None:
    """Run task `name` with `kwargs` in the background; the job's id, or None when a live job
    already holds `unique`. Call it after the transaction that made the work necessary committed.
    Raises QueueUnavailable when Redis is set but does not take the job (nothing was started)."""
    found = _checked(name, kwargs)
    if current_app.config.get("JOBS_INLINE"):
        job_id = records.create(name, kwargs, backend="inline", module=found.module, unique=unique,
                                holder=heartbeat.holder())
        if job_id is not None:
            execution.execute(job_id, found.module, own_session=False)
        return job_id
    if _redis():
        from curator.jobs import rq_backend

        no_worker = bool(unique) and records.live(unique) is not None and not rq_backend.worker_alive()
        job_id = records.create(name, kwargs, backend="rq", module=found.module, unique=unique,
                                free_stale_queued=no_worker)
        if job_id is not None:
            _hand_over(job_id, lambda: rq_backend.enqueue(job_id, name, found.module))
        return job_id
    job_id = records.create(name, kwargs, backend="thread", module=found.module, unique=unique,
                            holder=heartbeat.holder())
    if job_id is not None:
        threads.start(job_id, found.module)
    return job_id


def enqueue_at(when: datetime, name: str, *, unique: str | None = None, **kwargs) -> str | None:
    """Run task `name` once at `when` (aware, or naive UTC) or soon after: on RQ's scheduler with
    Redis, else at the first `jobs run-due` from then on. Same return and `unique` as `enqueue`."""
    found = _checked(name, kwargs)
    when = schedules.aware(when)
    job_id = records.create(name, kwargs, backend="rq" if _redis() else "run-due", module=found.module,
                            status="scheduled", unique=unique, run_at=execution.as_utc(when))
    if job_id is not None and _redis() and not current_app.config.get("JOBS_INLINE"):
        from curator.jobs import rq_backend

        _hand_over(job_id, lambda: rq_backend.enqueue_at(when, job_id, name, found.module))
    return job_id


def _hand_over(job_id: str, send) -> None:
    try:
        send()
    except Exception as exc:
        current_app.logger.exception("Could not queue job %s", job_id)
        records.finish(job_id, "failed", f"Could not be queued: {exc}")
        raise QueueUnavailable("The job could not be queued: the job queue (Redis) did not answer. Nothing "
                               "was started; try again in a moment.", code="queue_unavailable") from exc


def progress(done: int | None = None, total: int | None = None, message: str | None = None) -> None:
    """Report the running job's progress (read by pages that poll it); nothing outside a job."""
    job_id = execution.current_job_id()
    if job_id is not None:
        records.progress(job_id, done, total, message)


def status(job_id: str) -> dict | None:
    """A job as a page shows it: {id, name, status, done, total, percent, message, ...}.
    `status` is "interrupted" for a running job whose process died (its lease ran out)."""
    from curator.jobs import health

    row = records.get(job_id)
    return None if row is None else health.describe(row)


def worker_available() -> bool:
    """Whether a job enqueued now would run soon: always with threads (or inline); with Redis, while
    an RQ worker is alive for the queue."""
    if _redis() and not current_app.config.get("JOBS_INLINE"):
        from curator.jobs import rq_backend

        return rq_backend.worker_alive()
    return True


def live(unique: str) -> dict | None:
    """The job holding `unique` while it is scheduled, queued or running (as `status` shows it), else None."""
    from curator.jobs import health

    row = records.live(unique)
    return None if row is None else health.describe(row)


def init_app(app) -> None:
    """Import every area's tasks, add `flask jobs ...`, and with Redis start the schedules' chains."""
    from curator.jobs import cli

    registry.discover()
    cli.register(app)
    if app.config.get("REDIS_URL") and not app.config.get("TESTING"):
        from curator.jobs import rq_backend

        rq_backend.start_schedules(app)
