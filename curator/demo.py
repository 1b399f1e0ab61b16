"""Trying Curator before any setup: the rules of demo mode.

While no Spotify app is configured nobody can log in, so the listener's pages would be closed to
everyone. Instead a visitor may make previews (arc, reasons, chart, edits) as a *demo visitor*: a
user row of their own (spotify_id "demo:<random>", no roles, no Spotify token), created the moment
they send the start form, so previews never leak between visitors and a visitor who only looks gets
no session at all. Saving needs Spotify, and the page says so. Once Spotify is configured, demo mode
ends: demo visitors' sessions no longer sign anyone in (`auth.routes.load_user`).

The first form a visitor sends has no session to hold a CSRF token, so that one post is checked by
its origin instead (`same_origin`): a browser says where a form was sent from, and another site's
page can't pretend to be ours. Every later post carries the session's token as usual.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import render_template, request

from curator.security import spotify_configured, suggested_redirect_uri

DEMO_USER_PREFIX = "demo:"
# Endpoints open before setup. Those that need a visitor (all but the first page, the demo's start
# form, the setup steps and static files) still say login_required: a demo visitor is a user.
OPEN_ENDPOINTS = frozenset({
    "static", "health.healthz", "listen.home", "listen.create", "auth.setup", "auth.logout",
    "listen.preview", "listen.regenerate", "listen.remove", "listen.lock", "listen.rename", "listen.nudge",
    "listen.retarget", "listen.undo", "listen.wheel_point",
})


def active() -> bool:
    """Demo mode: no Spotify app configured, so the demo is the only way in."""
    return not spotify_configured()


def is_demo_user(user) -> bool:
    return user is not None and str(user.spotify_id).startswith(DEMO_USER_PREFIX)


def same_origin() -> bool:
    """Whether this request was sent by one of our own pages (the browser's Origin header, or its
    Fetch Metadata or Referer when it sends no Origin). Without any of them: no."""
    here = urlsplit(request.host_url)
    origin = request.headers.get("Origin")
    if origin:
        there = urlsplit(origin)
        return (there.scheme, there.netloc) == (here.scheme, here.netloc)
    site = request.headers.get("Sec-Fetch-Site")
    if site:
        return site == "same-origin"
    referer = urlsplit(request.headers.get("Referer") or "")
    return bool(referer.netloc) and (referer.scheme, referer.netloc) == (here.scheme, here.netloc)


def setup_page() -> str:
    """The steps to connect a Spotify app (what saving, and logging in, need)."""
    return render_template("setup.html", redirect_uri=suggested_redirect_uri())


def init_app(app) -> None:
    """The setup gate: while Spotify isn't configured, only the demo's endpoints answer."""

    @app.before_request
    def setup_gate():
        # Without Spotify credentials nobody can log in: a visitor may try the listener's pages
        # as a demo visitor (the rules above); everything else explains how to finish the setup.
        if spotify_configured():
            return None
        if request.endpoint in OPEN_ENDPOINTS:
            return None
        if request.path.startswith("/api/"):
            from curator.errors import json_error

            return json_error(503, "setup_required",
                              "Spotify is not configured yet: set SPOTIFY_CLIENT_ID and SPOTIFY_CLIENT_SECRET.")
        return setup_page(), 503
