"""`/healthz`: is the service able to answer? (database reachable, Spotify configured)."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from curator.extensions import db

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
        database = "ok"
    except SQLAlchemyError as exc:
        current_app.logger.error("health check: database unreachable: %s", exc)
        database = "unavailable"
    body = {
        "status": "ok" if database == "ok" else "unavailable",
        "database": database,
        "spotify_configured": bool(current_app.config["SPOTIFY_CLIENT_ID"]
                                   and current_app.config["SPOTIFY_CLIENT_SECRET"]),
    }
    return jsonify(body), 200 if database == "ok" else 503
