"""The seed refresh as a task of the job runner (curator/jobs/): on RQ when REDIS_URL is set, in a
thread otherwise; `flask seeds refresh` runs the same steps in the foreground.

The admin's request records a queued `RefreshRun` and enqueues `catalogue.refresh` with the
`unique` key "catalogue.refresh", so one refresh is queued or running at a time; the job reports
progress on its run's row, which the admin page polls. While it runs it holds the lease "seeds-refresh"
(curator/jobs/lease.py), which the command line takes too, so the two never overlap. A queued run
that no worker takes says so within seconds (the runner knows whether an RQ worker is alive), and
after JOBS_STALE_QUEUED_SECONDS a new refresh replaces it; a run whose worker died shows
"interrupted" as soon as its job's lease runs out.
"""
from __future__ import annotations

import logging
import uuid

from flask import current_app
from sqlalchemy import select

from curator import jobs
from curator.catalogue.providers import in_order, provider_label
from curator.catalogue.refresh import RefreshAborted, RefreshReport, SeedOutcome, refresh_seeds
from curator.clock import utcnow
from curator.errors import Conflict, CuratorError
from curator.extensions import db
from curator.jobs import lease
from curator.models.catalogue import RefreshRun
from curator.models.user import User

log = logging.getLogger(__name__)

LOCK = "seeds-refresh"
TASK = "catalogue.refresh"


class RefreshBusy(Conflict):
    def __init__(self):
        super().__init__("A catalogue refresh is already running; wait for it to finish (its progress is on "
                         "the catalogue page).", code="refresh_running")


class NoRefreshIdentity(CuratorError):
    """No Spotify login to refresh with."""


def refresh_identity(spotify_id: str | None = None) -> User:
    """The user whose Spotify login reads the seeds: `spotify_id`, or the first admin in
    ADMIN_SPOTIFY_IDS who has logged in. Raises NoRefreshIdentity with what to do otherwise."""
    from curator.models.user import SpotifyToken

    candidates = [spotify_id] if spotify_id else list(current_app.config.get("ADMIN_SPOTIFY_IDS") or [])
    for candidate in candidates:
        user = db.session.scalar(select(User).where(User.spotify_id == candidate))
        if user is not None and db.session.get(SpotifyToken, user.id) is not None:
            return user
    if spotify_id:
        raise NoRefreshIdentity(f"{spotify_id} has not logged in to Curator (or logged out), so there is no "
                                "Spotify login to refresh with. Log in once as that user in the browser.")
    if not candidates:
        raise NoRefreshIdentity("No admin is configured: set ADMIN_SPOTIFY_IDS, log in once as that admin in the "
                                "browser, then refresh (or pass --as SPOTIFY_ID of a user who has logged in).")
    raise NoRefreshIdentity(f"None of the admins ({', '.join(candidates)}) has logged in to Curator yet, so there is "
                            "no Spotify login to refresh with. Log in once as one of them in the browser, or pass "
                            "--as SPOTIFY_ID of a user who has.")


def _new_run(identity: User, requested_by: User | None, mood: str | None, dry_run: bool) -> RefreshRun:
    run = RefreshRun(status="queued", mood=mood, dry_run=dry_run, identity_id=identity.id,
                     requested_by_id=getattr(requested_by, "id", None),
                     requested_label=getattr(requested_by, "spotify_id", None) or "command line")
    db.session.add(run)
    db.session.commit()
    return run


def create_run(identity: User, *, requested_by: User | None = None, mood: str | None = None,
               dry_run: bool = False) -> tuple[RefreshRun, str]:
    """For a refresh in the foreground (the command line): take the refresh lock and record a run;
    returns (run, lock token). Raises RefreshBusy."""
    token = uuid.uuid4().hex
    if not dry_run:
        waiting = jobs.live(TASK)
        if waiting is not None and waiting["status"] in ("queued", "running"):
            raise RefreshBusy()  # one queued from the admin page goes first
        if not lease.acquire(LOCK, token):
            raise RefreshBusy()
    return _new_run(identity, requested_by, mood, dry_run), token


def start_refresh(identity: User, *, requested_by: User | None = None, mood: str | None = None) -> RefreshRun:
    """Queue a refresh on the job runner; returns its run. Raises RefreshBusy when one is queued or
    running (on the runner or the command line), QueueUnavailable when Redis does not take it."""
    held = lease.held(LOCK)
    if held is not None:
        holder = jobs.status(held[0])  # None when the command line holds it
        if holder is None or holder["status"] in ("queued", "running"):
            raise RefreshBusy()
        lease.release(LOCK, held[0])  # its job's worker died (or it ended without letting go)
    run = _new_run(identity, requested_by, mood, False)
    try:
        job_id = jobs.enqueue(TASK, unique=TASK, run_id=run.id)
    except jobs.QueueUnavailable:
        _finish(run, "failed", "The job queue did not answer, so the refresh never started.")
        raise
    if job_id is None:
        db.session.delete(run)  # never started: no trace of a refresh that was refused
        db.session.commit()
        raise RefreshBusy()
    run = db.session.get(RefreshRun, run.id) or run
    if run.job_id is None:  # a fast job (inline, or its thread) may have stored it already
        run.job_id = job_id
        db.session.commit()
    return run


@jobs.task(TASK)
def run_refresh(*, run_id: int) -> None:
    """The runner's task: take the lock, then run the recorded refresh to its end."""
    job_id = jobs.current_job_id()
    run = db.session.get(RefreshRun, run_id)
    if run is None:
        return
    if run.job_id is None:
        run.job_id = job_id
        db.session.commit()
    if run.status != "queued":
        return  # already run (a job handed over twice runs once: the runner claims it)
    if not lease.acquire(LOCK, job_id):
        _finish(run, "failed", "Another refresh (from the command line) was running; start this one again "
                               "when it has finished.")
        return
    execute_run(run_id, job_id)


def execute_run(run_id: int, token: str, progress=None, *, full: bool = False) -> RefreshReport | None:
    """Run a recorded refresh to its end, keeping its row up to date; always releases the lock.

    `progress(done, total, message)` is called too (the CLI draws its bar with it). `full`
    re-reads every seed, even unchanged playlists and recently read searches, artists and tracks.
    """
    from curator.spotify import gateway_for

    run = db.session.get(RefreshRun, run_id)
    if run is None:
        lease.release(LOCK, token)
        return None
    run.status, run.started_at, run.message = "running", utcnow(), "Starting"
    db.session.commit()

    def on_progress(done: int, total: int, message: str) -> None:
        run.done, run.total, run.message = done, total, message
        db.session.commit()
        jobs.progress(done, total, message)
        if progress:
            progress(done, total, message)

    def heartbeat() -> None:
        if not run.dry_run and not lease.renew(LOCK, token):
            raise RefreshAborted("The refresh lock expired and another refresh took over.")

    try:
        try:
            gateway = gateway_for(run.identity_id)
            report = refresh_seeds(gateway, mood=run.mood, dry_run=run.dry_run, full=full,
                                   progress=on_progress, heartbeat=heartbeat)
        except RefreshAborted as exc:
            db.session.rollback()
            _finish(run, "failed", str(exc))
            return None
        except Exception as exc:
            log.exception("Refresh run %s failed", run_id)
            db.session.rollback()
            _finish(run, "failed", f"The refresh stopped: {exc.__class__.__name__}: {exc}")
            return None
        run.report = report.to_dict()
        run.spotify_calls, run.provider_calls = report.spotify_calls, dict(report.provider_calls)
        if report.seeds and all(seed.status not in ("read", "unchanged", "fresh") for seed in report.seeds):
            _finish(run, "failed", "Failed: no seed could be read (the report says why for each).")
        else:
            _finish(run, "finished", "Finished")
        return report
    finally:
        # Released only after the run's final status is stored, so pollers never see a gap.
        lease.release(LOCK, token)


def _finish(run: RefreshRun, status: str, message: str) -> None:
    run.status, run.message, run.finished_at = status, message, utcnow()
    if status == "finished":
        run.done = run.total
    db.session.commit()


def latest_runs(limit: int = 10) -> list[RefreshRun]:
    return list(db.session.scalars(select(RefreshRun).order_by(RefreshRun.id.desc()).limit(limit)))


def _live_status(run: RefreshRun) -> tuple[str, str]:
    """(status, message) of a queued or running run, as its job (or the command line's lock) says."""
    if run.job_id:
        job = jobs.status(run.job_id)
        if job is None:
            return "interrupted", "Its job is gone."
        if job["status"] in ("queued", "scheduled"):
            return run.status, job["message"] or run.message
        if job["status"] == "running":
            return run.status, run.message
        if job["status"] == "cancelled":
            return "failed", "No worker took it; " + job["message"][0].lower() + job["message"][1:]
        if job["status"] == "interrupted":
            return "interrupted", "Its worker stopped before it finished; start a new refresh."
        db.session.refresh(run)  # the job ended between reading the run and the job
        if run.status in ("queued", "running"):
            return ("failed" if job["status"] == "failed" else "interrupted"), job["message"] or run.message
        return run.status, run.message
    if lease.held(LOCK) is None:
        db.session.refresh(run)  # it may have finished between reading the row and the lease
        if run.status in ("queued", "running"):
            return "interrupted", run.message  # its process died: the lease ran out without the run finishing
    return run.status, run.message


def api_calls(spotify: int, providers: dict | None) -> str:
    """"Spotify 3, ReccoBeats 1": a run's HTTP calls, Spotify's and each feature provider's by its label."""
    return ", ".join([f"Spotify {spotify}", *(f"{provider_label(name)} {n}" for name, n in in_order(providers or {}))])


def run_status(run: RefreshRun | None) -> dict:
    """A run as the progress endpoint shows it."""
    if run is None:
        return {"running": lease.held(LOCK) is not None, "run": None}
    status, message = run.status, run.message
    if status in ("queued", "running"):
        status, message = _live_status(run)
    report = dict(run.report) if run.report else None  # a copy: the row's value stays as stored
    lines: list[str] = []
    if report:
        report["seeds"] = [SeedOutcome(**seed) for seed in report["seeds"]]
        lines = RefreshReport.from_dict(report).lines()
    return {
        "running": status in ("queued", "running"),
        "run": {
            "id": run.id, "status": status, "mood": run.mood, "done": run.done, "total": run.total,
            "percent": round(100 * run.done / run.total) if run.total else 0, "message": message,
            "created_at": run.created_at.isoformat() + "Z",
            "finished_at": run.finished_at.isoformat() + "Z" if run.finished_at else None,
            "spotify_calls": run.spotify_calls, "provider_calls": dict(run.provider_calls or {}),
            "api_calls": api_calls(run.spotify_calls, run.provider_calls),
            "report": lines,
        },
    }
