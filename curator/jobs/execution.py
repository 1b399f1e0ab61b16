"""Running one recorded job: claim it, call its task inside an app context, record how it ended.

Whatever the backend (a thread, an RQ worker, run-due, inline), a job runs here, so a job that
another process already took, or that was cancelled, is skipped the same way everywhere.
"""
from __future__ import annotations

import logging
import threading
from contextlib import contextmanager
from datetime import datetime, timezone

from flask import current_app

from curator.extensions import db
from curator.jobs import heartbeat, records, registry

log = logging.getLogger(__name__)

_current = threading.local()


def current_job_id() -> str | None:
    """The id of the job running in this thread, if any."""
    return getattr(_current, "job_id", None)


@contextmanager
def _running(job_id: str):
    previous = getattr(_current, "job_id", None)
    _current.job_id = job_id
    try:
        yield
    finally:
        _current.job_id = previous


def execute(job_id: str, module: str | None = None, *, own_session: bool = True) -> str | None:
    """Run the job if it can be claimed; its final status, or None when it was not ours to run.

    `own_session`: the app context is the job's own (a thread, a worker, run-due), so whatever
    the task left uncommitted is rolled back after it; inline, the caller's session is left alone.
    """
    row = records.claim(job_id, heartbeat.holder())
    if row is None:
        return None
    return run_claimed(row, module, own_session=own_session)


def run_claimed(row: dict, module: str | None = None, *, own_session: bool = True) -> str:
    """Run a job this process has claimed (its lease renewed from now until it ends)."""
    job_id = row["id"]
    heartbeat.ensure_running(current_app._get_current_object())  # after the claim: the beat finds it
    try:
        task = registry.get(row["name"], module or row.get("module") or None)
        kwargs = dict(row["kwargs"] or {})
        if row["once_key"]:  # one due time of a periodic schedule
            kwargs["due_at"] = row["run_at"].replace(tzinfo=timezone.utc)
        with _running(job_id):
            task.func(**kwargs)
    except Exception as exc:
        log.exception("Job %s (%s) failed", job_id, row["name"])
        _end_session()
        records.finish(job_id, "failed", f"{exc.__class__.__name__}: {exc}")
        return "failed"
    if own_session:
        _end_session()
    records.finish(job_id, "finished")
    return "finished"


def _end_session() -> None:
    """Leave no transaction open behind a task (a task owns its commits; what it left is dropped)."""
    try:
        db.session.rollback()
    except Exception:  # the session's connection may be gone with whatever failed
        log.warning("Could not roll back after a job", exc_info=True)


def as_utc(when: datetime) -> datetime:
    """A naive (UTC) database time for an aware or naive UTC datetime."""
    if when.tzinfo is not None:
        when = when.astimezone(timezone.utc).replace(tzinfo=None)
    return when
