"""`/healthz`: is the service able to answer, and is any part of it degraded?

`status` is "ok", "degraded" (it answers, but a part named in `problems` is not as configured:
Redis set but not answering, so rate limits are counted in the database meanwhile; no RQ worker
or scheduler seen for the job queue; a schedule that stopped running) or
"unavailable" (503: no database, or one whose schema is behind this version: `database` says which). `rate_limits` says where limits are counted now, `jobs` where jobs run (curator/jobs/health.py),
`feature_providers` each configured provider with the calls the last refresh made to it.
"""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from sqlalchemy import select, text
from sqlalchemy.exc import SQLAlchemyError

from curator import ratelimit
from curator.extensions import db
from curator.jobs import health as jobs_health

bp = Blueprint("health", __name__)


def _limits() -> tuple[dict, list[str]]:
    where, problem = ratelimit.where_counted()
    return {"rate_limits": where}, [f"rate_limits: {problem}"] if problem else []


def _provider_calls() -> dict:
    """Each configured feature provider, with the HTTP calls the last catalogue refresh made to it."""
    from curator.catalogue import providers
    from curator.models.catalogue import RefreshRun

    last = db.session.scalar(select(RefreshRun.provider_calls).where(RefreshRun.status != "queued")
                             .order_by(RefreshRun.id.desc()).limit(1)) or {}
    return {name: {"calls_last_refresh": int(last.get(name, 0))} for name in providers.names()}


@bp.get("/healthz")
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
        database = "ok"
    except SQLAlchemyError as exc:
        current_app.logger.error("health check: database unreachable: %s", exc)
        database = "unavailable"
    limits, problems = _limits()
    runner, providers = {}, {}
    if database == "ok":
        try:
            runner, runner_problems = jobs_health.runner()
            providers = _provider_calls()
            problems += runner_problems
        except SQLAlchemyError as exc:  # reachable, but a table this version needs is missing
            db.session.rollback()
            current_app.logger.error("health check: database schema behind: %s", exc)
            database = "schema behind"
            problems.append("database: a table this version of Curator needs is missing; "
                            "run `flask --app curator db upgrade`")
    if database != "ok":
        status = "unavailable"
    else:
        status = "degraded" if problems else "ok"
    body = {
        "status": status,
        "database": database,
        "spotify_configured": bool(current_app.config["SPOTIFY_CLIENT_ID"]
                                   and current_app.config["SPOTIFY_CLIENT_SECRET"]),
        **limits,
        "jobs": runner,
        "feature_providers": providers,
        "problems": problems,
    }
    return jsonify(body), 200 if database == "ok" else 503
