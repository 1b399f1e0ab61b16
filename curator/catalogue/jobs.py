"""Refresh runs as background jobs: on RQ when REDIS_URL is set, in a worker thread otherwise.

The web request only takes the lock, records a queued run and hands it over; the job reports
progress on its `RefreshRun` row, which the admin page polls. One refresh at a time: a database
lease (curator.catalogue.lease) that works across processes and expires if a worker dies.

Start the RQ worker with:  rq worker curator --url $REDIS_URL
(run it from the project directory with the same environment as the web app).
"""
from __future__ import annotations

import logging
import threading
import uuid

from flask import current_app, has_app_context
from sqlalchemy import select

from curator.catalogue.refresh import RefreshAborted, RefreshReport, SeedOutcome, refresh_seeds
from curator.errors import Conflict, CuratorError
from curator.extensions import db
from curator.jobs import lease
from curator.models.catalogue import RefreshRun
from curator.models.user import User, utcnow

log = logging.getLogger(__name__)

LOCK = "seeds-refresh"
QUEUE = "curator"


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


def create_run(identity: User, *, requested_by: User | None = None, mood: str | None = None,
               dry_run: bool = False) -> tuple[RefreshRun, str]:
    """Take the refresh lock and record a queued run; returns (run, lock token). Raises RefreshBusy."""
    token = uuid.uuid4().hex
    if not dry_run and not lease.acquire(LOCK, token):
        raise RefreshBusy()
    run = RefreshRun(status="queued", mood=mood, dry_run=dry_run, identity_id=identity.id,
                     requested_by_id=getattr(requested_by, "id", None),
                     requested_label=getattr(requested_by, "spotify_id", None) or "command line")
    db.session.add(run)
    db.session.commit()
    return run, token


def start_refresh(identity: User, *, requested_by: User | None = None, mood: str | None = None) -> RefreshRun:
    """Queue a refresh in the background (RQ if REDIS_URL is set, else a thread); returns its run."""
    run, token = create_run(identity, requested_by=requested_by, mood=mood)
    redis_url = current_app.config.get("REDIS_URL")
    try:
        if redis_url:
            from redis import Redis
            from rq import Queue

            Queue(QUEUE, connection=Redis.from_url(redis_url)).enqueue(
                run_refresh_job, run.id, token, job_timeout=3600, description=f"catalogue refresh #{run.id}")
        else:
            app = current_app._get_current_object()
            thread = threading.Thread(target=_in_thread, args=(app, run.id, token), daemon=True,
                                      name=f"catalogue-refresh-{run.id}")
            thread.start()
    except Exception as exc:
        log.exception("Could not start refresh run %s", run.id)
        _finish(run, "failed", f"Could not start the job: {exc}")
        lease.release(LOCK, token)
        raise CuratorError("The refresh could not be started (is the job queue reachable?). Nothing changed.",
                           status=503, code="queue_unavailable") from exc
    return run


def _in_thread(app, run_id: int, token: str) -> None:
    with app.app_context():
        execute_run(run_id, token)


def run_refresh_job(run_id: int, token: str) -> None:
    """RQ entry point: runs inside the caller's app context if there is one, else builds the app."""
    if has_app_context():
        execute_run(run_id, token)
        return
    from curator import create_app

    with create_app().app_context():
        execute_run(run_id, token)


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
        run.spotify_calls, run.reccobeats_calls = report.spotify_calls, report.reccobeats_calls
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


def run_status(run: RefreshRun | None) -> dict:
    """A run as the progress endpoint shows it."""
    if run is None:
        return {"running": lease.held(LOCK) is not None, "run": None}
    if run.status in ("queued", "running") and lease.held(LOCK) is None:
        db.session.refresh(run)  # it may have finished between reading the row and the lease
    report = dict(run.report) if run.report else None  # a copy: the row's value stays as stored
    lines: list[str] = []
    if report:
        report["seeds"] = [SeedOutcome(**seed) for seed in report["seeds"]]
        lines = RefreshReport(**report).lines()
    status = run.status
    if status in ("queued", "running") and lease.held(LOCK) is None:
        status = "interrupted"  # its worker died: the lease ran out without the run finishing
    return {
        "running": status in ("queued", "running"),
        "run": {
            "id": run.id, "status": status, "mood": run.mood, "done": run.done, "total": run.total,
            "percent": round(100 * run.done / run.total) if run.total else 0, "message": run.message,
            "created_at": run.created_at.isoformat() + "Z",
            "finished_at": run.finished_at.isoformat() + "Z" if run.finished_at else None,
            "spotify_calls": run.spotify_calls, "reccobeats_calls": run.reccobeats_calls,
            "report": lines,
        },
    }
