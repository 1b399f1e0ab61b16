"""Is the runner able to run what is queued? Said out loud, for /healthz and for pages that show a job.

With Redis, jobs wait for an RQ worker: none alive means queued jobs sit still, and none running
the scheduler (`--with-scheduler`) means delayed jobs and schedules do. Without Redis, schedules
run when `flask jobs run-due` does: one that ran before and is now two intervals late says cron stopped.
"""
from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select

from curator.clock import utcnow
from curator.extensions import db
from curator.jobs import registry
from curator.models.jobs import Job

NO_WORKER = ("Waiting for a worker: none is running for the job queue (start `rq worker --with-scheduler`, "
             "see the README's \"Run in production\").")


def runner() -> dict:
    """{"runner": "rq" | "thread" | "inline", and with Redis "workers", "scheduler"}, and the problems."""
    config = current_app.config
    if config.get("JOBS_INLINE"):
        body, problems = {"runner": "inline"}, []
    elif config.get("REDIS_URL"):
        from curator.jobs import rq_backend

        try:
            found = rq_backend.worker_status()
        except Exception as exc:
            return {"runner": "rq", "workers": None, "scheduler": None}, [f"jobs: Redis does not answer ({exc.__class__.__name__})"]
        body, problems = {"runner": "rq", **found}, []
        if not found["workers"]:
            problems.append("jobs: no RQ worker has been seen for the queue; jobs wait (start `rq worker --with-scheduler`)")
        elif not found["scheduler"]:
            problems.append("jobs: no RQ worker runs the scheduler; delayed and periodic jobs wait "
                            "(start one with --with-scheduler)")
    else:
        body, problems = {"runner": "thread"}, []
    problems += late_schedules()
    return body, problems


def late_schedules() -> list[str]:
    """Schedules that have missed two due times: since they last ran (their runner stopped), or,
    never run at all, since this app started (nothing runs them: no cron, no scheduler)."""
    found = registry.schedules()
    if not found:
        return []
    last = dict(db.session.execute(
        select(Job.name, func.max(Job.run_at)).where(Job.once_key.is_not(None), Job.name.in_([s.name for s in found]))
        .group_by(Job.name)).all())
    now = utcnow()
    started = current_app.extensions.get("curator.started_at", now)
    late = []
    for schedule in found:
        overdue = now - 2 * schedule.interval - timedelta(minutes=2)
        ran = last.get(schedule.name)
        if ran is not None and ran < overdue:
            late.append(f"jobs: schedule {schedule.name} last ran for {ran.isoformat()}Z; is "
                        "`flask --app curator jobs run-due` (or an RQ worker with --with-scheduler) running?")
        elif ran is None and started < overdue:
            late.append(f"jobs: schedule {schedule.name} has not run since this server started at "
                        f"{started.isoformat()}Z; is `flask --app curator jobs run-due` (or an RQ worker with "
                        "--with-scheduler) running?")
    return late


def describe(row: dict) -> dict:
    """A job row as pages and the API show it."""
    status, message = row["status"], row["message"] or ""
    expires = row["lease_expires_at"]
    if status == "running" and expires is not None and expires < utcnow():
        status, message = "interrupted", "Its worker stopped before it finished."
    elif status == "queued" and row["backend"] == "rq":
        from curator.jobs import rq_backend

        if not rq_backend.worker_alive():
            message = NO_WORKER
    done, total = row["done"], row["total"]
    return {
        "id": row["id"], "name": row["name"], "status": status, "done": done, "total": total,
        "percent": round(100 * done / total) if total else 0, "message": message,
        "created_at": row["created_at"].isoformat() + "Z",
        "started_at": row["started_at"].isoformat() + "Z" if row["started_at"] else None,
        "finished_at": row["finished_at"].isoformat() + "Z" if row["finished_at"] else None,
    }
