"""Authorization Code flow with PKCE (S256): `state` ties each callback to the browser that started
it, and the PKCE verifier kept in that browser's session makes its code useless anywhere else."""
from __future__ import annotations

import hmac
import secrets
from urllib.parse import urlparse

from flask import current_app, flash, g, redirect, render_template, request, session, url_for

from curator import spotify
from curator.auth import bp
from curator.auth.service import same_site_path, sign_in
from curator.extensions import db
from curator.models.user import User
from curator.spotify.errors import SpotifyError, SpotifyLoginFailed, SpotifyUnavailable
from curator.spotify.gateway import (
    BASE_SCOPES,
    COVER_SCOPES,
    LIBRARY_SCOPES,
    SEED_SCOPES,
    MemoryTokenCache,
    SpotifyGateway,
    authorize_url,
    exchange_code,
    pkce_pair,
)
from curator.spotify.token_store import granted_scopes

EXTRA_SCOPES = {"library": LIBRARY_SCOPES, "cover": COVER_SCOPES, "seeds": SEED_SCOPES}


@bp.before_app_request
def load_user():
    user_id = session.get("user_id")
    g.user = db.session.get(User, user_id) if user_id else None


def safe_next(target: str | None) -> str:
    """Only our own paths, however a browser would read them: never an open redirect."""
    return same_site_path(target) or url_for("listen.home")


def scopes_for(extra: list[str]) -> tuple[str, ...]:
    scopes = list(BASE_SCOPES)
    if g.user is not None:
        scopes += sorted(granted_scopes(g.user.id) - set(scopes))
    for name in extra:
        scopes += [s for s in EXTRA_SCOPES.get(name, ()) if s not in scopes]
    return tuple(scopes)


@bp.get("/login")
def login():
    extra = [s for s in request.args.get("scopes", "").split(",") if s in EXTRA_SCOPES]
    state = secrets.token_urlsafe(24)
    # PKCE: the verifier stays in this browser's server-side session; only its hash goes to
    # Spotify, so a code is worth nothing in any other session, even with that session's state.
    verifier, challenge = pkce_pair()
    scopes = scopes_for(extra)
    session["oauth"] = {"state": state, "verifier": verifier, "next": safe_next(request.args.get("next")),
                        "scopes": list(scopes)}
    return redirect(authorize_url(spotify.settings(), state, scopes, challenge, show_dialog=bool(extra)))


def login_problem(title: str, message: str, status: int = 400):
    return render_template("auth/login_problem.html", title=title, message=message), status


def callback():
    pending = session.pop("oauth", None)
    error = request.args.get("error")
    state = request.args.get("state", "")
    if error:
        if error == "access_denied":
            return login_problem("No problem", "You chose not to connect Spotify, so nothing was shared. "
                                 "Curator needs Spotify to save playlists; you can try again whenever you like.")
        return login_problem("Spotify login didn't finish", f"Spotify answered: {error}.")
    if not pending or not state or not hmac.compare_digest(state, pending.get("state", "")):
        current_app.logger.warning("login callback with a missing or unknown state")
        return login_problem("This login link isn't valid here",
                             "The login was started in another window, has expired, or was already used. "
                             "Please start again.")
    code = request.args.get("code")
    if not code:
        return login_problem("Spotify login didn't finish", "Spotify sent no authorization code.")

    settings = spotify.settings()
    try:
        token = exchange_code(settings, code, pending.get("verifier", ""), tuple(pending["scopes"]))
        profile = SpotifyGateway(settings, MemoryTokenCache(token)).me()
    except SpotifyLoginFailed as exc:
        current_app.logger.warning("token exchange failed: %s", exc)
        return login_problem("Spotify login didn't finish",
                             "Spotify did not accept this login (the link may have been used already). Please try again.")
    except SpotifyUnavailable:
        return login_problem("Spotify isn't answering", "Spotify's login service did not answer. Please try again in a minute.", 503)
    except SpotifyError as exc:
        current_app.logger.warning("login failed: %s", exc)
        return login_problem("Spotify login didn't finish", "Spotify could not tell us who you are. Please try again.")

    user = sign_in(profile, token)
    session.clear()
    session.regenerate()
    session["user_id"] = user.id
    flash(f"Welcome, {user.name}.", "success")
    return redirect(safe_next(pending.get("next")))


@bp.get("/logout")
def confirm_logout():
    # Logging out changes state, so it takes a POST with the CSRF token: a link or image on
    # another site can't log anyone out. A GET (an old bookmark) gets the button instead.
    if g.user is None:
        return redirect(url_for("listen.home"))
    return render_template("auth/logout.html")


@bp.post("/logout")
def logout():
    session.clear()
    session.regenerate()  # the logged-in session id dies with the login
    flash("You are logged out. Your playlists stay in your Spotify account.", "info")
    return redirect(url_for("listen.home"))


def register(app) -> None:
    """The callback lives at the path of SPOTIFY_REDIRECT_URI, whatever the deployment chose."""
    app.register_blueprint(bp)
    path = urlparse(app.config["SPOTIFY_REDIRECT_URI"]).path or "/callback"
    app.add_url_rule(path, endpoint="auth.callback", view_func=callback)
