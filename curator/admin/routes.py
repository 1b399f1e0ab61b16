"""Admin dashboard, users and roles, audit log. Every view is admin-only, checked on the server;
each calls `admin/service.py`."""
from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for

from curator.admin import bp, service
from curator.auth.decorators import admin_required
from curator.errors import CuratorError, NotFound
from curator.inputs import DB_INT_MAX, db_int, header_value

MAX_NEXT = 2000  # an admin page's path and query; longer is not one of ours


@bp.get("/")
@admin_required
def dashboard():
    return render_template("admin/dashboard.html", **service.dashboard())


@bp.get("/users")
@admin_required
def users():
    q = (request.args.get("q") or "").strip()
    pagination = service.users_page(q, request.args.get("page", 1, type=db_int))
    return render_template("admin/users.html", pagination=pagination, q=q, grantable=service.GRANTABLE,
                           admin_ids=service.admin_ids())


@bp.post(f"/users/<int(max={DB_INT_MAX}):user_id>/roles")
@admin_required
def change_user_role(user_id: int):
    back = _back()  # checked before the change: a target that can't be a Location header is a 400
    try:
        result = service.change_role(g.user, user_id, request.form.get("op"), request.form.get("role", ""))
    except NotFound:
        raise
    except CuratorError as exc:
        if exc.field == "op":
            raise
        flash(exc.message, "error")
        return redirect(back), 303
    flash(result.message, "success" if result.changed else "info")
    return redirect(back), 303


def _back() -> str:
    target = header_value(request.form.get("next", ""), "next", MAX_NEXT)
    return service.admin_path(target) or url_for("admin.users")  # never an open redirect


@bp.get("/audit")
@admin_required
def audit():
    page = service.audit_page(request.args, request.args.get("page", 1, type=db_int))
    return render_template("admin/audit.html", args=request.args, **page), 400 if page["error"] else 200
