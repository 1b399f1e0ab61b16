"""Settings, read once from the environment (and `.env` through python-dotenv), in this one place:
the app (`create_app`), the web server (`gunicorn.conf.py`) and the rate limits all read `Config`.

The names are a contract: deployment scripts and test tools drive the app through them.
`.env.example` lists every one (tests/test_config.py compares the two).
"""
from __future__ import annotations

import multiprocessing
import os
from pathlib import Path

from dotenv import load_dotenv

ROOT = Path(__file__).resolve().parent.parent
load_dotenv(ROOT / ".env")


def _get(name: str, default: str = "") -> str:
    """The setting, or `default` when unset or empty (a blank line in .env means "default")."""
    value = os.environ.get(name, "").strip()
    return value or default


def _bool(name: str, default: bool = False) -> bool:
    value = _get(name)
    if not value:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _number(name: str, default: str, cast=float):
    value = _get(name, default)
    try:
        return cast(value)
    except ValueError:
        raise SystemExit(f"Curator: {name}={value!r} is not a number; fix it in the environment or .env.") from None


def _list(name: str) -> list[str]:
    return [part.strip() for part in _get(name).split(",") if part.strip()]


class Config:
    """Everything configurable, with safe defaults for a local install."""

    def __init__(self) -> None:
        self.DEBUG = _bool("FLASK_DEBUG")
        self.SECRET_KEY = _get("SECRET_KEY", "")
        self.TOKEN_ENCRYPTION_KEY = _get("TOKEN_ENCRYPTION_KEY", "")

        self.SPOTIFY_CLIENT_ID = _get("SPOTIFY_CLIENT_ID", "")
        self.SPOTIFY_CLIENT_SECRET = _get("SPOTIFY_CLIENT_SECRET", "")
        self.SPOTIFY_REDIRECT_URI = _get("SPOTIFY_REDIRECT_URI", "http://127.0.0.1:5000/callback")
        self.SPOTIFY_API_URL = _with_slash(_get("SPOTIFY_API_URL", "https://api.spotify.com/v1/"))
        self.SPOTIFY_ACCOUNTS_URL = _with_slash(
            _get("SPOTIFY_ACCOUNTS_URL", "https://accounts.spotify.com/")
        )
        # Seconds; every outbound request carries a timeout so a slow Spotify never pins a worker.
        self.SPOTIFY_TIMEOUT = _number("SPOTIFY_TIMEOUT", "10")
        self.SPOTIFY_MAX_RETRIES = _number("SPOTIFY_MAX_RETRIES", "3", int)
        # A Retry-After longer than this is reported to the user instead of waited out in a request.
        self.SPOTIFY_MAX_RETRY_WAIT = _number("SPOTIFY_MAX_RETRY_WAIT", "10")
        # Seconds one save may spend riding out Spotify's errors (5xx, timeouts, 429) before it
        # stops and tells the listener; the record stays resumable ("finish saving").
        self.SAVE_RETRY_BUDGET = _number("SAVE_RETRY_BUDGET", "10")
        # Seconds any web request may take (curator/request_budget.py): after that a save answers with
        # what it has done and carries on in the background (or on "Finish saving"). Keep it under the
        # proxy's timeout and WEB_TIMEOUT.
        self.REQUEST_BUDGET_SECONDS = _number("REQUEST_BUDGET_SECONDS", "20")
        # A save runs on one of SAVE_THREADS threads of its process, beside the request, which waits
        # for it at most SAVE_ANSWER_SECONDS and then answers "finishing it in the background" (202):
        # saves waiting on a slow Spotify never hold the threads that serve pages
        # (curator/playlists/save_runner.py). 0 runs the save in the request, within its budget.
        self.SAVE_ANSWER_SECONDS = _number("SAVE_ANSWER_SECONDS", "3")
        # How long a save running in the background may go on before it stops with what it has done
        # and the preview offers "Finish saving" (the request's own budget does not apply there).
        self.SAVE_BACKGROUND_SECONDS = _number("SAVE_BACKGROUND_SECONDS", "60")
        # A running save's lease, renewed every third of it while its process lives: a save whose
        # process died can be finished this many seconds later at most.
        self.SAVE_LEASE_SECONDS = _number("SAVE_LEASE_SECONDS", "6")
        # When a create's answer was lost, Curator looks this many seconds later for a second, empty
        # playlist it may have left in the listener's account, and removes it.
        self.SAVE_STRAY_CHECK_SECONDS = _number("SAVE_STRAY_CHECK_SECONDS", "120")

        # Album covers looked up for tracks that came without one (curator/catalogue/covers.py):
        # calls to Spotify's GET /tracks/{id} a minute at most, one after another.
        self.COVER_LOOKUPS_PER_MINUTE = _number("COVER_LOOKUPS_PER_MINUTE", "60")
        self.FEATURE_PROVIDERS = _get("FEATURE_PROVIDERS", "local,reccobeats")
        # Each feature provider's own settings (curator/catalogue/providers/<name>.py reads them).
        self.RECCOBEATS_API_URL = _with_slash(
            _get("RECCOBEATS_API_URL", "https://api.reccobeats.com/v1/")
        )
        self.RECCOBEATS_TIMEOUT = _number("RECCOBEATS_TIMEOUT", "10")  # seconds per request
        self.RECCOBEATS_MAX_RETRY_WAIT = _number("RECCOBEATS_MAX_RETRY_WAIT", "10")  # longest Retry-After waited

        instance = Path(_get("CURATOR_INSTANCE_PATH", str(ROOT / "instance")))
        self.INSTANCE_PATH = str(instance)
        self.SQLALCHEMY_DATABASE_URI = _database_url(
            _get("DATABASE_URL", f"sqlite:///{instance / 'curator.sqlite'}")
        )
        # Threads per gunicorn worker (gunicorn.conf.py reads the same setting). A request holds at
        # most one database connection, so a process needs one per thread, plus two for its
        # background refresh thread and a lease; PostgreSQL must allow workers × that many.
        self.WEB_THREADS = _number("WEB_THREADS", "4", int)
        # gunicorn (gunicorn.conf.py): worker processes (previews are CPU work, saves mostly wait on
        # Spotify: two per core keep the cores busy) and seconds before a stuck worker is restarted.
        self.WEB_CONCURRENCY = _number("WEB_CONCURRENCY", str(max(2, multiprocessing.cpu_count() * 2)), int)
        self.WEB_TIMEOUT = _number("WEB_TIMEOUT", "60", int)
        # Threads per process that run saves (see SAVE_ANSWER_SECONDS). They wait on Spotify with no
        # connection and take one for a moment per step, so they share a few extra connections.
        self.SAVE_THREADS = _number("SAVE_THREADS", str(4 * self.WEB_THREADS), int)
        self.SQLALCHEMY_ENGINE_OPTIONS = _engine_options(self.SQLALCHEMY_DATABASE_URI, self.WEB_THREADS,
                                                         self.SAVE_THREADS)
        # BLAS threads per process that serves requests (curator/blas.py); 1 suits several workers.
        self.BLAS_THREADS = _number("BLAS_THREADS", "1", int)
        self.REDIS_URL = _get("REDIS_URL", "")
        # The job runner (curator/jobs/): the RQ queue its workers listen on (with REDIS_URL); the
        # lease of a running job, renewed every third of it while its process lives (a job whose
        # process died counts as lost that many seconds later); how long a job may wait queued with
        # no RQ worker alive before a new job of the same `unique` key replaces it.
        self.JOBS_QUEUE = _get("JOBS_QUEUE", "curator")
        self.JOBS_LEASE_SECONDS = _number("JOBS_LEASE_SECONDS", "30")
        self.JOBS_STALE_QUEUED_SECONDS = _number("JOBS_STALE_QUEUED_SECONDS", "60")
        # Tests: run every enqueued job at once, in the caller's app context.
        self.JOBS_INLINE = _bool("JOBS_INLINE")
        # Limits on previews and saves per listener (curator/ratelimit.py); 0 switches them off.
        self.RATELIMIT_ENABLED = _bool("RATELIMIT_ENABLED", default=True)
        self.ADMIN_SPOTIFY_IDS = _list("ADMIN_SPOTIFY_IDS")
        self.CRISIS_HELP_URL = _get("CRISIS_HELP_URL", "https://findahelpline.com/")

        self.MOODS_FILE = _get("MOODS_FILE", str(ROOT / "config" / "moods.yaml"))
        self.SEEDS_FILE = _get("SEEDS_FILE", str(ROOT / "config" / "seeds.yaml"))

        # Cookie holds only a signed, random session id; the data stays in the database.
        self.SESSION_COOKIE_NAME = "curator_session"
        self.SESSION_COOKIE_HTTPONLY = True
        self.SESSION_COOKIE_SAMESITE = "Lax"
        # Secure (HTTPS-only) cookies outside debug, except on a plain-http loopback install:
        # Spotify accepts http redirect URIs only for loopback addresses, and there a Secure cookie
        # would be dropped by HTTP clients such as python-requests, breaking login.
        served_over_http = self.SPOTIFY_REDIRECT_URI.startswith("http://")
        self.SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", default=not (self.DEBUG or served_over_http))
        self.PERMANENT_SESSION_LIFETIME = _number("SESSION_LIFETIME_SECONDS", str(30 * 86400), int)
        # The largest form is a seed list or a calibration paste (tens of kB); refuse far bigger bodies (413).
        self.MAX_CONTENT_LENGTH = 2 * 1024 * 1024
        # How many reverse proxies (e.g. one TLS terminator) sit in front and set X-Forwarded-*;
        # 0 (default) trusts none of those headers.
        self.TRUSTED_PROXIES = _number("TRUSTED_PROXIES", "0", int)
        self.WTF_CSRF_TIME_LIMIT = None  # tied to the session instead; forms left open stay valid

    def as_dict(self) -> dict:
        return {k: v for k, v in vars(self).items() if k.isupper()}


def _with_slash(url: str) -> str:
    return url if url.endswith("/") else url + "/"


def _engine_options(url: str, threads: int, save_threads: int = 0) -> dict:
    options = {}
    # A server's connections can drop (restarts, idle timeouts): check one before use. SQLite is a
    # file, so there is nothing to check, and the ping was a statement on every request.
    if not url.startswith("sqlite"):
        options["pool_pre_ping"] = True
    if ":memory:" not in url:  # an in-memory SQLite database has a single connection, no pool
        options.update(pool_size=max(1, threads) + 2, max_overflow=2 + max(0, save_threads) // 4, pool_timeout=30)
    return options


def _database_url(url: str) -> str:
    # Heroku-style URLs and plain "postgresql://" both mean psycopg 3 here.
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url
