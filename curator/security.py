"""Security headers on every response, the proxy we trust, and whether Spotify is configured.

The setup gate that acts on the last one lives with the demo's rules (curator/demo.py)."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, g, request
from werkzeug.middleware.proxy_fix import ProxyFix

CSP = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    # Mood colours are set per element; no inline scripts, so inline styles are the only allowance.
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: https://i.scdn.co https://*.spotifycdn.com https://mosaic.scdn.co",
    "frame-src https://open.spotify.com",
    "connect-src 'self'",
    "form-action 'self' {accounts}",
    "frame-ancestors 'none'",
    "base-uri 'self'",
    "object-src 'none'",
])


def trust_proxies(app) -> None:
    """Behind TRUSTED_PROXIES reverse proxies (a TLS terminator), read the client's scheme, host
    and address from their X-Forwarded-* headers, so `request.is_secure` (HSTS), redirects and
    per-address rate limits see the real request. Off by default: without a proxy those headers
    come from the client and must not be believed."""
    hops = int(app.config.get("TRUSTED_PROXIES") or 0)
    if hops > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops, x_prefix=hops)


def init_app(app) -> None:
    trust_proxies(app)
    csp = CSP.format(accounts=app.config["SPOTIFY_ACCOUNTS_URL"].rstrip("/"))

    @app.after_request
    def add_headers(response):
        response.headers.setdefault("Content-Security-Policy", csp)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if request.is_secure:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        if private_response():
            # Pages of a logged-in person (and the login round trip) must not be kept by a
            # shared cache or shown again from the back button after logout.
            response.headers["Cache-Control"] = "no-store"
        return response


def suggested_redirect_uri() -> str:
    """The redirect URI to register: the configured one, unless it is a loopback address on
    another port than the one this page is served on (the app was started with --port)."""
    configured = current_app.config["SPOTIFY_REDIRECT_URI"]
    parts = urlsplit(configured)
    here = urlsplit(request.host_url)
    loopback = ("127.0.0.1", "localhost", "[::1]", "::1")
    if (parts.scheme == "http" and parts.hostname in loopback and here.hostname in loopback
            and here.port is not None and parts.port != here.port):
        return f"http://127.0.0.1:{here.port}{parts.path or '/callback'}"
    return configured


def private_response() -> bool:
    if request.endpoint == "static":
        return False  # the same stylesheet for everyone
    if current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token") in g:
        return True  # the page carries this session's CSRF token (Flask-WTF keeps it in g)
    return g.get("user") is not None or request.blueprint == "auth" or request.endpoint == "auth.callback"


def spotify_configured() -> bool:
    config = current_app.config
    return bool(config.get("SPOTIFY_CLIENT_ID") and config.get("SPOTIFY_CLIENT_SECRET"))
