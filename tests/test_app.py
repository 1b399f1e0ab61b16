"""The app as a whole: settings, setup page, health, security headers, CSRF."""
from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from sqlalchemy import text

from curator import create_app
from curator.clock import utcnow
from curator.extensions import db
from curator.moods.service import import_shipped_if_empty
from tests.helpers import csrf_token, login

ROOT = Path(__file__).resolve().parent.parent


def test_missing_secret_key_outside_debug_refuses_to_start(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "FLASK_DEBUG")}
    env["CURATOR_INSTANCE_PATH"] = str(tmp_path)
    env["SECRET_KEY"] = ""
    result = subprocess.run([sys.executable, "-c", "from curator import create_app; create_app()"],
                            cwd=tmp_path, env={**env, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True)
    assert result.returncode != 0
    assert result.stderr.strip().splitlines()[-1].startswith("Curator: SECRET_KEY is not set")
    assert "Traceback" not in result.stderr


def test_without_spotify_credentials_every_page_explains_setup(app_config):
    app_config.update(SPOTIFY_CLIENT_ID="", SPOTIFY_CLIENT_SECRET="")
    app = create_app(app_config)
    with app.app_context():
        db.create_all()
        import_shipped_if_empty()
    try:
        client = app.test_client()
        for path in ("/login", "/callback?code=x&state=y", "/no-such-page", "/history", "/curate/moods", "/admin/"):
            page = client.get(path)
            assert page.status_code == 503
            assert b"developer.spotify.com/dashboard" in page.data
            assert b"http://127.0.0.1:5000/callback" in page.data
            assert b"SPOTIFY_CLIENT_ID" in page.data
        # ...except the first page, where a visitor may try Curator before any setup (tests/test_demo.py).
        first = client.get("/")
        assert first.status_code == 200 and b'href="/setup"' in first.data and b'id="start-form"' in first.data
        health = client.get("/healthz")
        assert health.status_code == 200 and health.json["spotify_configured"] is False
    finally:
        with app.app_context():
            db.drop_all()
            db.engine.dispose()


def test_healthz_reports_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok", "spotify_configured": True,
                             "rate_limits": "database", "jobs": {"runner": "thread"},
                             "feature_providers": {"local": {"calls_last_refresh": 0},
                                                   "reccobeats": {"calls_last_refresh": 0}},
                             "problems": []}


def test_healthz_is_503_when_the_database_is_down(app_config, tmp_path):
    app_config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{tmp_path}/missing-dir/nope/db.sqlite"
    app_config["SQLALCHEMY_ENGINE_OPTIONS"] = {}
    app = create_app(app_config)
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["database"] == "unavailable"


def test_healthz_says_the_schema_is_behind_instead_of_a_500(app, client):
    with app.app_context():
        db.session.execute(text("DROP TABLE jobs"))  # as if `db upgrade` had not run for this version
        db.session.commit()
    response = client.get("/healthz")
    assert response.status_code == 503 and response.json["status"] == "unavailable"
    assert response.json["database"] == "schema behind"
    assert any("flask --app curator db upgrade" in p for p in response.json["problems"])


def test_healthz_says_when_no_cron_runs_the_schedules(app, client, runner):
    assert client.get("/healthz").json["status"] == "ok"  # just started: nothing is due yet
    app.extensions["curator.started_at"] = utcnow() - timedelta(hours=3)  # up for hours, never run
    health = client.get("/healthz").json
    assert health["status"] == "degraded"
    assert any("living.refresh-due has not run since this server started" in p for p in health["problems"])
    a_day_ago = (utcnow() - timedelta(days=1)).isoformat() + "+00:00"
    assert runner.invoke(args=["jobs", "run-due", "--at", a_day_ago]).exit_code == 0  # cron ran, then stopped
    health = client.get("/healthz").json
    assert health["status"] == "degraded"
    assert any("living.refresh-due last ran for" in p for p in health["problems"])
    assert not any("has not run" in p for p in health["problems"])
    now = utcnow().isoformat() + "+00:00"
    assert runner.invoke(args=["jobs", "run-due", "--at", now]).exit_code == 0  # cron runs again
    assert client.get("/healthz").json == {**health, "status": "ok", "problems": []}


def test_security_headers(client):
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_post_without_csrf_token_is_refused(client, fake_spotify):
    login(client, fake_spotify, "alice")
    assert client.post("/logout").status_code == 400
    assert b"Alice" in client.get("/").data  # still logged in
    token = csrf_token(client)
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert b"Log in with Spotify" in client.get("/").data


def test_unknown_page_is_a_friendly_404(client):
    response = client.get("/definitely-not-here")
    assert response.status_code == 404
    assert b"Back to Curator" in response.data


def test_api_errors_are_json(client):
    response = client.get("/api/v1/definitely-not-here")
    assert response.status_code == 404
    assert set(response.json["error"]) == {"code", "message", "field"}


def test_blank_settings_in_env_file_mean_defaults(monkeypatch, tmp_path):
    from curator.config import Config

    for name in ("DATABASE_URL", "SPOTIFY_API_URL", "SESSION_COOKIE_SECURE", "SPOTIFY_TIMEOUT", "FLASK_DEBUG", "SPOTIFY_REDIRECT_URI"):
        monkeypatch.setenv(name, "")
    monkeypatch.setenv("CURATOR_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("ADMIN_SPOTIFY_IDS", " ann , bob,, ")
    monkeypatch.setenv("DATABASE_URL", "postgres://u@h:5432/db")
    config = Config()
    assert config.SQLALCHEMY_DATABASE_URI == "postgresql+psycopg://u@h:5432/db"
    assert config.SPOTIFY_API_URL == "https://api.spotify.com/v1/"
    assert config.SESSION_COOKIE_SECURE is False  # the default redirect URI is loopback http
    monkeypatch.setenv("SPOTIFY_REDIRECT_URI", "https://curator.example.org/callback")
    assert Config().SESSION_COOKIE_SECURE is True
    monkeypatch.setenv("SESSION_COOKIE_SECURE", "0")
    assert Config().SESSION_COOKIE_SECURE is False
    assert config.SPOTIFY_TIMEOUT == 10.0
    assert config.ADMIN_SPOTIFY_IDS == ["ann", "bob"]
    monkeypatch.setenv("DATABASE_URL", "")
    assert Config().SQLALCHEMY_DATABASE_URI == f"sqlite:///{tmp_path / 'curator.sqlite'}"


def test_a_page_that_is_not_there_is_said_in_our_words(client):
    page = client.get("/no-such-page")
    assert page.status_code == 404
    html = page.get_data(as_text=True)
    assert "no page at this address" in html and "requested URL was not found" not in html
    answer = client.get("/api/v1/no-such-thing")
    assert answer.status_code == 404 and answer.json["error"]["message"].startswith("There's no page at this address")
