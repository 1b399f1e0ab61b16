"""Access rules as one-line decorators on views, easy to audit route by route."""
from __future__ import annotations

from functools import wraps

from flask import abort, current_app, g, redirect, request, session, url_for

from curator import demo
from curator.errors import json_error, wants_json
from curator.extensions import csrf


def login_required(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        if g.get("user") is None:
            if wants_json():
                return json_error(401, "login_required", "Log in with Spotify first (GET /login).")
            return redirect(url_for("auth.login", next=request.full_path))
        return view(*args, **kwargs)

    return wrapped


def login_or_demo_visit(view):
    """`login_required`, except that before setup (curator/demo.py) a visitor's post starts a demo
    visit: a user of their own, signed in to a new session. That first post has no session to hold
    a CSRF token, so it must come from one of our pages (its origin); every other post needs the
    session's token, as everywhere."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if g.get("user") is None and demo.active():
            if not demo.same_origin():
                abort(403, "Open Curator's first page and send the form from there.")
            from curator.auth import service

            g.user = service.start_demo_visit()
            session.clear()
            session.regenerate()
            session["user_id"] = g.user.id
        elif current_app.config.get("WTF_CSRF_ENABLED", True):
            csrf.protect()
        return login_required(view)(*args, **kwargs)

    csrf.exempt(wrapped)  # checked above instead: by origin for a demo's first post, by token otherwise
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
