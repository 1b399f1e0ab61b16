"""Errors as types, mapped to pages (HTML) and `{"error": {...}}` (API) in this one place."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import flash, g, jsonify, redirect, render_template, request, session, url_for
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from curator.spotify.errors import SpotifyAuthError, SpotifyError, SpotifyRateLimited


class CuratorError(Exception):
    """A problem the user can act on. `field` names the input at fault, when there is one."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, field: str | None = None, status: int | None = None,
                 code: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        if status is not None:
            self.status = status
        if code is not None:
            self.code = code


class NotFound(CuratorError):
    status = 404
    code = "not_found"


class Conflict(CuratorError):
    status = 409
    code = "conflict"


class Unprocessable(CuratorError):
    status = 422
    code = "invalid"


def wants_json() -> bool:
    return request.path.startswith("/api/")


def own_path(url: str | None) -> str | None:
    """The path and query of a same-site URL (e.g. the Referer of a form post), else None."""
    if not url:
        return None
    parts = urlsplit(url)
    if parts.netloc and parts.netloc != request.host:
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def json_error(status: int, code: str, message: str, field: str | None = None, headers=None):
    response = jsonify({"error": {"code": code, "message": message, "field": field}})
    response.status_code = status
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def error_page(status: int, title: str, message: str, headers=None):
    return render_template("errors/error.html", title=title, message=message, status=status), status, headers or {}


def init_app(app) -> None:
    @app.errorhandler(CuratorError)
    def curator_error(exc: CuratorError):
        retry_after = getattr(exc, "retry_after", None)
        headers = {"Retry-After": str(retry_after)} if retry_after else None
        if wants_json():
            return json_error(exc.status, exc.code, exc.message, exc.field, headers=headers)
        return error_page(exc.status, "Something needs your attention", exc.message, headers)

    @app.errorhandler(SpotifyAuthError)
    def spotify_login_expired(exc: SpotifyAuthError):
        # The login can't be renewed: forget it and send the user through login, then back here.
        from curator.spotify.token_store import forget_token

        user = g.get("user")
        if user is not None:
            forget_token(user.id)
        session.clear()
        if wants_json():
            return json_error(401, exc.code, exc.message)
        flash(exc.message, "warning")
        target = request.full_path if request.method == "GET" else own_path(request.referrer)
        return redirect(url_for("auth.login", next=target or "/"))

    @app.errorhandler(SpotifyError)
    def spotify_error(exc: SpotifyError):
        headers = {}
        message = exc.message
        if isinstance(exc, SpotifyRateLimited):
            headers["Retry-After"] = str(exc.wait_seconds)
            message = f"Spotify is busy right now. Nothing was lost; please try again in {headers['Retry-After']} seconds."
        app.logger.warning("Spotify error on %s: %s", request.path, exc)
        if wants_json():
            return json_error(exc.status, exc.code, message, headers=headers)
        return error_page(exc.status, "Spotify didn't answer as expected", message, headers)

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError):
        message = "This form has expired or was sent from elsewhere. Please reload the page and try again."
        if wants_json():
            return json_error(400, "csrf_failed", message + " (send the X-CSRFToken header from GET /api/v1/session)")
        return error_page(400, "Please try again", message)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if wants_json():
            return json_error(exc.code or 500, (exc.name or "error").lower().replace(" ", "_"), exc.description or "")
        return error_page(exc.code or 500, exc.name, exc.description or "")

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        app.logger.exception("Unhandled error on %s", request.path)
        from curator.extensions import db

        db.session.rollback()
        message = "Something went wrong on our side. Nothing you entered was lost; please try again."
        if wants_json():
            return json_error(500, "internal_error", message)
        return error_page(500, "Sorry", message)
