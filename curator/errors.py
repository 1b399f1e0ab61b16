"""Problems mapped to pages (HTML) and `{"error": {...}}` (API) in this one place: `HTTP` says, for
each kind of problem, the status we answer, its code and its page's title; both handlers show the
problem's own message unchanged (it is written where the fact is known).

The problem types live in `curator.problems` (no Flask there); `CuratorError`, `NotFound`,
`Conflict` and `Unprocessable` are importable from here too.
"""
from __future__ import annotations

from typing import NamedTuple
from urllib.parse import urlsplit

from flask import flash, g, jsonify, redirect, render_template, request, session, url_for
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from curator.catalogue.errors import CatalogueNotReady
from curator.engine.errors import EngineError
from curator.jobs.errors import QueueUnavailable
from curator.playlists.errors import ScopeRequired
from curator.problems import Conflict, CuratorError, NotFound, Unprocessable
from curator.ratelimit import RateLimited
from curator.spotify import errors as spotify

__all__ = ["Conflict", "CuratorError", "NotFound", "Unprocessable", "HTTP", "http_of", "init_app"]


class Http(NamedTuple):
    status: int
    code: str  # an error may name a finer one (`CuratorError.code`)
    title: str  # the error page's heading


ATTENTION = "Something needs your attention"
SPOTIFY = "Spotify didn't answer as expected"

# Every kind of problem, by class; a subclass not listed answers as its nearest listed ancestor.
HTTP: dict[type[Exception], Http] = {
    CuratorError: Http(400, "bad_request", ATTENTION),
    NotFound: Http(404, "not_found", ATTENTION),
    Conflict: Http(409, "conflict", ATTENTION),
    Unprocessable: Http(422, "invalid", ATTENTION),
    RateLimited: Http(429, "rate_limited", ATTENTION),
    ScopeRequired: Http(403, "scope_required", ATTENTION),
    CatalogueNotReady: Http(503, "catalogue_empty", ATTENTION),
    QueueUnavailable: Http(503, "queue_unavailable", ATTENTION),
    spotify.SpotifyError: Http(502, "spotify_error", SPOTIFY),
    spotify.SpotifyNotConfigured: Http(503, "spotify_not_configured", SPOTIFY),
    spotify.SpotifyUnavailable: Http(503, "spotify_unavailable", SPOTIFY),
    spotify.SpotifyRateLimited: Http(429, "spotify_rate_limited", SPOTIFY),
    spotify.SpotifyAuthError: Http(401, "spotify_login_expired", SPOTIFY),
    spotify.SpotifyForbidden: Http(403, "spotify_forbidden", SPOTIFY),
    spotify.SpotifyNotFound: Http(404, "spotify_not_found", SPOTIFY),
    spotify.SpotifyBadRequest: Http(502, "spotify_bad_request", SPOTIFY),
    spotify.SpotifyLoginFailed: Http(400, "spotify_login_failed", SPOTIFY),
    spotify.SpotifyTokenNotStored: Http(503, "spotify_token_not_stored", SPOTIFY),
    # The engine raises its own (it knows nothing of Curator's); the services wrap them where they
    # call it, and one that slips through is still the input's problem, said in the engine's words.
    EngineError: Http(422, "invalid", ATTENTION),
}


def http_of(exc: Exception) -> Http:
    """The status, code and title `exc` answers with: its kind's row, with the error's own code."""
    row = next(HTTP[kind] for kind in type(exc).__mro__ if kind in HTTP)
    return row._replace(code=getattr(exc, "code", None) or row.code)


def _retry_after(exc: Exception) -> dict[str, str] | None:
    """A Retry-After header for a problem that says how long to wait (whole seconds, never 0)."""
    if isinstance(exc, spotify.SpotifyRateLimited):
        return {"Retry-After": str(exc.wait_seconds)}
    wait = getattr(exc, "retry_after", None)
    return {"Retry-After": str(wait)} if wait else None


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


# The framework's stock sentences ("The requested URL was not found on the server. If you entered
# the URL manually please check your spelling and try again.") in Curator's words. A view that
# gives its own description (abort(403, "This page is for admins.")) keeps it.
OWN_WORDS = {
    400: "Curator couldn't read that request. Go back, reload the page and try again.",
    404: "There's no page at this address. The link may be mistyped, or what it showed is gone "
         "(a preview you deleted, a mood that was renamed).",
    405: "This address can't be used that way; follow a link or a button on Curator's pages instead.",
    413: "That was more than Curator takes in one go (2 MB at most). Send less, or split it up.",
}


def own_words(exc: HTTPException) -> str:
    stock = type(exc).description
    if exc.code in OWN_WORDS and (not exc.description or exc.description == stock):
        return OWN_WORDS[exc.code]
    return exc.description or ""


def json_error(status: int, code: str, message: str, field: str | None = None, headers=None):
    response = jsonify({"error": {"code": code, "message": message, "field": field}})
    response.status_code = status
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def error_page(status: int, title: str, message: str, headers=None):
    return render_template("errors/error.html", title=title, message=message, status=status), status, headers or {}


def init_app(app) -> None:
    def problem(exc: Exception):
        http = http_of(exc)
        message = exc.message if isinstance(exc, CuratorError) else str(exc)
        headers = _retry_after(exc)
        if wants_json():
            return json_error(http.status, http.code, message, getattr(exc, "field", None), headers=headers)
        return error_page(http.status, http.title, message, headers)

    @app.errorhandler(CuratorError)
    def curator_error(exc: CuratorError):
        if isinstance(exc, spotify.SpotifyError):
            app.logger.warning("Spotify error on %s: %s", request.path, exc)
        return problem(exc)

    @app.errorhandler(EngineError)
    def engine_error(exc: EngineError):
        return problem(exc)

    @app.errorhandler(spotify.SpotifyAuthError)
    def spotify_login_expired(exc: spotify.SpotifyAuthError):
        # The login can't be renewed: forget it and send the user through login, then back here.
        from curator.spotify.token_store import forget_token

        user = g.get("user")
        if user is not None:
            forget_token(user.id)
        session.clear()
        if wants_json():
            http = http_of(exc)
            return json_error(http.status, http.code, exc.message)
        flash(exc.message, "warning")
        target = request.full_path if request.method == "GET" else own_path(request.referrer)
        return redirect(url_for("auth.login", next=target or "/"))

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError):
        message = "This form has expired or was sent from elsewhere. Please reload the page and try again."
        if wants_json():
            return json_error(400, "csrf_failed", message + " (send the X-CSRFToken header from GET /api/v1/session)")
        return error_page(400, "Please try again", message)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        message = own_words(exc)
        if wants_json():
            return json_error(exc.code or 500, (exc.name or "error").lower().replace(" ", "_"), message)
        return error_page(exc.code or 500, exc.name, message)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        app.logger.exception("Unhandled error on %s", request.path)
        from curator.extensions import db

        db.session.rollback()
        message = "Something went wrong on our side. Nothing you entered was lost; please try again."
        if wants_json():
            return json_error(500, "internal_error", message)
        return error_page(500, "Sorry", message)
