"""Access rules as one-line decorators on views, easy to audit route by route."""
from __future__ import annotations

from functools import wraps

from flask import abort, g, redirect, request, url_for

from curator.errors import json_error, wants_json


def login_required(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        if g.get("user") is None:
            if wants_json():
                return json_error(401, "login_required", "Log in with Spotify first (GET /login).")
            return redirect(url_for("auth.login", next=request.full_path))
        return view(*args, **kwargs)

    return wrapped


def role_required(role: str):
    """Logged in and holding `role` (admins hold every role); otherwise 401/403."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            user = g.get("user")
            if user is None:
                if wants_json():
                    return json_error(401, "login_required", "Log in with Spotify first (GET /login).")
                return redirect(url_for("auth.login", next=request.full_path))
            if not user.has_role(role):
                if wants_json():
                    return json_error(403, "forbidden", f"This needs the {role} role.")
                abort(403, f"This page is for {role}s.")
            return view(*args, **kwargs)

        wrapped.required_role = role  # lets tests and audits list every guarded route
        return wrapped

    return decorator


curator_required = role_required("curator")
admin_required = role_required("admin")
