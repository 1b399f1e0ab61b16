"""Authorization Code flow with PKCE (S256): `state` ties each callback to the browser that started
it, and the PKCE verifier kept in that browser's session makes its code useless anywhere else."""
from __future__ import annotations

import hmac
from urllib.parse import urlparse

from flask import current_app, flash, g, redirect, render_template, request, session, url_for

from curator import demo
from curator.auth import bp, service
from curator.ratelimit import LOGINS_PER_MINUTE, ratelimit


@bp.before_app_request
def load_user():
    user_id = session.get("user_id")
    g.user = service.user_by_id(user_id) if user_id else None
    if g.user is not None and demo.is_demo_user(g.user) and not demo.active():
        g.user = None  # demo mode ended (Spotify is configured now): a demo visit signs nobody in


@bp.get("/setup")
def setup():
    """How to connect a Spotify app: the one step saving (and logging in) needs."""
    if not demo.active():
        return redirect(url_for("listen.home"))
    return demo.setup_page(), 200


def safe_next(target: str | None) -> str:
    """Only our own paths, however a browser would read them: never an open redirect."""
    return service.same_site_path(target) or url_for("listen.home")


@bp.get("/login")
@ratelimit(LOGINS_PER_MINUTE, scope="login")
def login():
    start = service.start_login(g.user, request.args.get("scopes", "").split(","))
    session["oauth"] = {"state": start.state, "verifier": start.verifier,
                        "next": safe_next(request.args.get("next")), "scopes": list(start.scopes)}
    return redirect(start.url)


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

    try:
        user = service.finish_login(code, pending.get("verifier", ""), tuple(pending["scopes"]))
    except service.LoginFailed as exc:
        return login_problem(exc.title, exc.message, 503 if exc.unavailable else 400)
    session.clear()
    session.regenerate()
    session["user_id"] = user.id
    # No "welcome" here: the start page greets the listener by name, once.
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
