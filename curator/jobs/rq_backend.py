"""The runner with Redis: jobs on an RQ queue, delayed jobs and periodic schedules through RQ's
scheduler (`rq worker --with-scheduler`).

An RQ job carries only the job's id (and its task's module); the row in the database is the
truth, and `execution.execute` claims it, so a job handed over twice still runs once. A periodic
schedule is a chain: each run first puts the schedule's next due time on RQ's scheduler (one RQ
job per due time, by a fixed id, so any number of processes adding it make one), then claims its
own due time in the database (`records.claim_once`). The chain is started, idempotently, when a
worker of `curator.jobs.worker.Worker` starts and when the web app starts.
"""
from __future__ import annotations

import logging
import os
import re
from datetime import datetime, timezone

from flask import current_app, has_app_context

from curator import caching
from curator.jobs import registry, schedules

log = logging.getLogger(__name__)

JOB_TIMEOUT = 3600  # seconds an RQ job may run (the catalogue refresh of a large seed list is the longest)


def connection(app=None):
    """The app's Redis client (one connection pool per app and REDIS_URL, kept on the app)."""
    from redis import Redis

    app = app or current_app._get_current_object()
    url = app.config["REDIS_URL"]

    def make():
        return caching.per_app("curator.jobs.redis", url, lambda: Redis.from_url(
            url, socket_connect_timeout=2, socket_timeout=5))

    if has_app_context() and current_app._get_current_object() is app:
        return make()
    with app.app_context():
        return make()


def queue(app=None):
    from rq import Queue

    config = (app or current_app).config
    return Queue(config.get("JOBS_QUEUE") or "curator", connection=connection(app))


def _rq_id(job_id: str) -> str:
    return f"curator-{job_id}"


def enqueue(job_id: str, name: str, module: str) -> None:
    queue().enqueue(perform, job_id, module, job_id=_rq_id(job_id), job_timeout=JOB_TIMEOUT, description=name,
                    result_ttl=3600, failure_ttl=7 * 86400)


def enqueue_at(when: datetime, job_id: str, name: str, module: str) -> None:
    queue().enqueue_at(when, perform, job_id, module, job_id=_rq_id(job_id), job_timeout=JOB_TIMEOUT,
                       description=name, result_ttl=3600, failure_ttl=7 * 86400)


def periodic_id(name: str, due: datetime, app=None) -> str:
    """RQ's id for one due time of a schedule on this queue (RQ allows letters, digits, `_` and `-`)."""
    queue_name = (app or current_app).config.get("JOBS_QUEUE") or "curator"
    return re.sub(r"[^A-Za-z0-9_-]", "_", f"{queue_name}-every-{name}-{int(due.timestamp())}")


def schedule_next(schedule: registry.Schedule, after: datetime, app=None) -> datetime:
    """Put the schedule's first due time after `after` on RQ's scheduler (once, whoever asks)."""
    from rq.exceptions import DuplicateJobError

    due = schedules.next_due(schedule, after)
    try:
        queue(app).enqueue_at(due, perform_periodic, schedule.name, due.isoformat(), registry.get(schedule.name).module,
                              job_id=periodic_id(schedule.name, due, app), unique=True,
                              job_timeout=JOB_TIMEOUT, description=f"{schedule.name} due {due.isoformat()}",
                              result_ttl=3600, failure_ttl=7 * 86400)
    except DuplicateJobError:
        pass  # another process put this due time there first
    return due


def start_schedules(app) -> None:
    """Make sure every periodic schedule has its next due time on RQ's scheduler (best effort)."""
    now = datetime.now(timezone.utc)
    for schedule in registry.schedules():
        try:
            schedule_next(schedule, now, app)
        except Exception as exc:  # Redis not answering: /healthz says so; the next start tries again
            log.warning("Could not put schedule %s on the job queue: %s", schedule.name, exc)
            return


# What an RQ worker runs --------------------------------------------------------------------

_app_state: dict = {"app": None, "pid": None}


def worker_app():
    """The app a worker runs jobs in: made once per worker (`preload`) and shared by the work horses
    it forks, each of which drops the connections it inherited instead of sharing them."""
    app = _app_state["app"]
    if app is None:
        preload()
        app = _app_state["app"]
    if _app_state["pid"] != os.getpid():
        from curator.extensions import db

        with app.app_context():
            db.engine.dispose(close=False)  # the parent's pooled connections stay the parent's
        _app_state["pid"] = os.getpid()
    return app


def preload():
    from curator import create_app

    app = create_app()
    _app_state.update(app=app, pid=os.getpid())
    return app


def perform(job_id: str, module: str | None = None) -> str | None:
    """RQ's entry point for a job (an immediate or a delayed one)."""
    from curator.jobs import execution

    if has_app_context():
        return execution.execute(job_id, module)
    with worker_app().app_context():
        return execution.execute(job_id, module)


def perform_periodic(name: str, due_iso: str, module: str | None = None) -> str | None:
    """RQ's entry point for one due time of a periodic schedule: chain the next one, then run this one."""
    if has_app_context():
        return _periodic(current_app._get_current_object(), name, due_iso, module)
    app = worker_app()
    with app.app_context():
        return _periodic(app, name, due_iso, module)


def _periodic(app, name: str, due_iso: str, module: str | None) -> str | None:
    due = datetime.fromisoformat(due_iso)
    try:
        registry.get(name, module)
    except registry.UnknownTask:
        pass
    schedule = next((s for s in registry.schedules() if s.name == name), None)
    if schedule is None:
        log.warning("Schedule %s is no longer registered; its chain ends here", name)
        return None
    schedule_next(schedule, max(due, datetime.now(timezone.utc)), app)
    return schedules.run_schedule(schedule, due, backend="rq")


# Is anyone there? ----------------------------------------------------------------------------

def worker_status(app=None) -> dict:
    """Live RQ workers listening on the queue, and whether one of them runs the scheduler.

    A worker's key lives as long as its heartbeats (`--worker-ttl`, plus a minute); the scheduler's
    lock a minute past its last beat. Raises when Redis does not answer."""
    from rq import Worker
    from rq.scheduler import RQScheduler

    q = queue(app)
    conn = q.connection
    workers = [key for key in Worker.all_keys(queue=q) if conn.exists(key)]
    return {"workers": len(workers), "scheduler": bool(conn.exists(RQScheduler.get_locking_key(q.name)))}


def worker_alive() -> bool:
    try:
        return worker_status()["workers"] > 0
    except Exception:
        return False
