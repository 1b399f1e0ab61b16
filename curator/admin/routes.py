"""Admin dashboard, users and roles, audit log. Every view is admin-only, checked on the server."""
from __future__ import annotations

from flask import current_app, flash, g, redirect, render_template, request, url_for
from sqlalchemy import select

from curator.admin import audit_log, bp
from curator.admin.roles import GRANTABLE, change_role, staff, user_count
from curator.auth.decorators import admin_required
from curator.auth.service import same_site_path
from curator.catalogue import jobs
from curator.catalogue.health import catalogue_health
from curator.errors import CuratorError, NotFound
from curator.extensions import db
from curator.inputs import DB_INT_MAX, db_int, header_value
from curator.models.user import User
from curator.moods.diff import diff_moods
from curator.playlists import service as playlists_service
from curator.spotify import call_log

USERS_PER_PAGE = 50
MAX_NEXT = 2000  # an admin page's path and query; longer is not one of ours


def _catalogue_health() -> dict:
    try:
        return catalogue_health()
    except Exception:  # one broken panel must not take the dashboard down
        current_app.logger.exception("catalogue_health failed")
        db.session.rollback()
        return {"error": "Catalogue health could not be read; see the server log."}


def _refresh_runs(limit: int = 5) -> list:
    """(run, status, what it did) triples; the status says "interrupted" for a run whose worker
    died, and a finished run says what its report says first (as the catalogue page does)."""
    out = []
    for run in jobs.latest_runs(limit):
        shown = jobs.run_status(run)["run"]
        out.append((run, shown["status"], shown["report"][0] if shown["report"] else run.message))
    return out


@bp.get("/")
@admin_required
def dashboard():
    return render_template(
        "admin/dashboard.html",
        staff=staff(),
        user_count=user_count(),
        health=_catalogue_health(),
        runs=_refresh_runs(),
        calls=call_log.summary(),
        living=playlists_service.living_overview(),
        recent=audit_log.recent(),
        grantable=GRANTABLE,
        admin_ids=current_app.config.get("ADMIN_SPOTIFY_IDS", []),
    )


@bp.get("/users")
@admin_required
def users():
    q = (request.args.get("q") or "").strip()
    page = request.args.get("page", 1, type=db_int)
    query = select(User).order_by(User.spotify_id)
    if q:
        like = f"%{audit_log.escape_like(q)}%"
        query = query.where(User.spotify_id.ilike(like, escape="\\") | User.display_name.ilike(like, escape="\\"))
    pagination = db.paginate(query, page=max(1, page), per_page=USERS_PER_PAGE, error_out=False)
    return render_template("admin/users.html", pagination=pagination, q=q, grantable=GRANTABLE,
                           admin_ids=current_app.config.get("ADMIN_SPOTIFY_IDS", []))


@bp.post(f"/users/<int(max={DB_INT_MAX}):user_id>/roles")
@admin_required
def change_user_role(user_id: int):
    back = _back()  # checked before the change: a target that can't be a Location header is a 400
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound("That user doesn't exist.", field="user")
    op = request.form.get("op")
    if op not in ("grant", "revoke"):
        raise CuratorError("Choose grant or revoke.", field="op")
    try:
        result = change_role(g.user, user, request.form.get("role", ""), grant=op == "grant", from_web=True)
    except CuratorError as exc:
        flash(exc.message, "error")
        return redirect(back), 303
    flash(result.message, "success" if result.changed else "info")
    return redirect(back), 303


def _back() -> str:
    target = header_value(request.form.get("next", ""), "next", MAX_NEXT)
    # Only our own admin pages: never an open redirect.
    return target if target.startswith("/admin/") and same_site_path(target) else url_for("admin.users")


@bp.get("/audit")
@admin_required
def audit():
    try:
        filters = audit_log.filters_from(request.args)
        error = None
    except CuratorError as exc:
        filters, error = audit_log.AuditFilters(), exc
    page = request.args.get("page", 1, type=db_int)
    pagination = audit_log.search(filters, page)
    events = [_event_view(e) for e in pagination.items]
    status = 400 if error else 200
    return render_template("admin/audit.html", pagination=pagination, events=events, filters=filters,
                           actions=audit_log.actions(), error=error, args=request.args), status


def _event_view(event) -> dict:
    before, after = event.before, event.after
    diff = None
    if isinstance(before, dict) and isinstance(after, dict) and "features" in after:
        diff = diff_moods(before, after)
    return {"event": event, "before": before, "after": after, "diff": diff}
