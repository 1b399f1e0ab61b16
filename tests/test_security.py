"""Behind a TLS proxy (TRUSTED_PROXIES) and what shared caches may keep (Cache-Control)."""
from __future__ import annotations

import os
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from curator import create_app
from curator.extensions import db
from tests.helpers import login
from tests.served import app_environment, free_port, gunicorn

FORWARDED = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7", "X-Forwarded-Host": "curator.example"}


@pytest.fixture
def proxied_app(app_config):
    app = create_app({**app_config, "TRUSTED_PROXIES": 1})
    with app.app_context():
        db.create_all()
    yield app
    with app.app_context():
        db.drop_all()
        db.engine.dispose()


def test_without_trusted_proxies_forwarded_headers_are_ignored(client):
    response = client.get("/healthz", headers=FORWARDED)
    assert "Strict-Transport-Security" not in response.headers


@pytest.mark.long  # started first (tests/conftest.py)
def test_gunicorn_believes_forwarded_headers_only_with_trusted_proxies(app, app_config, pg_schema, fake_spotify):
    """Through the real server: gunicorn's own default believes X-Forwarded-Proto/-Ssl from
    127.0.0.1, which would let anyone on loopback forge HTTPS; gunicorn.conf.py follows
    TRUSTED_PROXIES instead (at 1 the proxy's X-Forwarded-Proto counts, its -Ssl never).
    (`app` builds the shared database: /healthz reads the job runner's tables.)"""
    forged = ({"X-Forwarded-Proto": "https"}, {"X-Forwarded-Ssl": "on"}, {"X-Forwarded-Protocol": "ssl"})
    seen = {}
    for trusted in ("0", "1"):
        port = free_port()
        env = app_environment(app_config, pg_schema, f"http://127.0.0.1:{port}", TRUSTED_PROXIES=trusted)
        with gunicorn(env, workers=1, threads=2, port=port) as base:
            seen[trusted] = [requests.get(base + "/healthz", headers=h, timeout=10).headers
                             .get("Strict-Transport-Security") for h in forged]
    assert seen == {"0": [None, None, None], "1": ["max-age=31536000", None, None]}


def test_behind_a_trusted_tls_proxy_hsts_and_client_address_follow_the_proxy(proxied_app):
    seen = {}

    @proxied_app.get("/test-who")
    def who():
        from flask import request

        seen.update(secure=request.is_secure, addr=request.remote_addr, host=request.host)
        return "ok"

    response = proxied_app.test_client().get("/test-who", headers=FORWARDED)
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"
    assert seen == {"secure": True, "addr": "203.0.113.7", "host": "curator.example"}
    # Plain http through the proxy: no HSTS.
    plain = proxied_app.test_client().get("/healthz", headers={**FORWARDED, "X-Forwarded-Proto": "http"})
    assert "Strict-Transport-Security" not in plain.headers


def test_secure_cookie_is_sent_back_behind_the_proxy(proxied_app):
    proxied_app.config["SESSION_COOKIE_SECURE"] = True
    response = proxied_app.test_client().get("/login", headers=FORWARDED)
    assert response.status_code == 302 and "Secure" in response.headers["Set-Cookie"]


def test_logged_in_pages_and_the_login_round_trip_are_no_store(client, fake_spotify):
    assert "no-store" not in client.get("/").headers.get("Cache-Control", "")  # public welcome page
    start = client.get("/login")
    assert start.headers["Cache-Control"] == "no-store"
    fake_spotify.add_user("ann")
    fake_spotify.authorize_as("ann")
    approved = requests.get(start.headers["Location"], allow_redirects=False, timeout=5)
    callback = urlsplit(approved.headers["Location"])
    landed = client.get(callback.path, query_string=parse_qs(callback.query))
    assert landed.status_code == 302 and landed.headers["Cache-Control"] == "no-store"
    for path in ("/", "/history", "/settings", "/api/v1/session", "/api/v1/moods", "/no-such-page"):
        assert client.get(path).headers.get("Cache-Control") == "no-store", path


def test_the_callback_is_no_store_even_when_it_fails(client):
    response = client.get("/callback", query_string={"code": "x", "state": "forged"})
    assert response.status_code == 400 and response.headers["Cache-Control"] == "no-store"


def test_static_files_stay_cacheable_for_logged_in_listeners(client, fake_spotify, app):
    login(client, fake_spotify, "ann")
    name = next(n for n in os.listdir(app.static_folder) if n.endswith(".css"))
    response = client.get(f"/static/{name}")
    assert response.status_code == 200 and "no-store" not in response.headers.get("Cache-Control", "")
