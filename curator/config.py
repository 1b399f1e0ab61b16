"""Settings, read once from the environment (and `.env` through python-dotenv).

The names are a contract: deployment scripts and test tools drive the app through them.
"""
from __future__ import annotations

import os
from pathlib import Path

from dotenv import load_dotenv

ROOT = Path(__file__).resolve().parent.parent
load_dotenv(ROOT / ".env")


def _bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _list(name: str) -> list[str]:
    return [part.strip() for part in os.environ.get(name, "").split(",") if part.strip()]


class Config:
    """Everything configurable, with safe defaults for a local install."""

    def __init__(self) -> None:
        env = os.environ
        self.DEBUG = _bool("FLASK_DEBUG")
        self.SECRET_KEY = env.get("SECRET_KEY", "")
        self.TOKEN_ENCRYPTION_KEY = env.get("TOKEN_ENCRYPTION_KEY", "")

        self.SPOTIFY_CLIENT_ID = env.get("SPOTIFY_CLIENT_ID", "")
        self.SPOTIFY_CLIENT_SECRET = env.get("SPOTIFY_CLIENT_SECRET", "")
        self.SPOTIFY_REDIRECT_URI = env.get("SPOTIFY_REDIRECT_URI", "http://127.0.0.1:5000/callback")
        self.SPOTIFY_API_URL = _with_slash(env.get("SPOTIFY_API_URL", "https://api.spotify.com/v1/"))
        self.SPOTIFY_ACCOUNTS_URL = _with_slash(
            env.get("SPOTIFY_ACCOUNTS_URL", "https://accounts.spotify.com/")
        )
        # Seconds; every outbound request carries a timeout so a slow Spotify never pins a worker.
        self.SPOTIFY_TIMEOUT = float(env.get("SPOTIFY_TIMEOUT", "10"))
        self.SPOTIFY_MAX_RETRIES = int(env.get("SPOTIFY_MAX_RETRIES", "3"))
        # A Retry-After longer than this is reported to the user instead of waited out in a request.
        self.SPOTIFY_MAX_RETRY_WAIT = float(env.get("SPOTIFY_MAX_RETRY_WAIT", "10"))

        self.FEATURE_PROVIDERS = env.get("FEATURE_PROVIDERS", "local,reccobeats")
        self.RECCOBEATS_API_URL = _with_slash(
            env.get("RECCOBEATS_API_URL", "https://api.reccobeats.com/v1/")
        )

        instance = Path(env.get("CURATOR_INSTANCE_PATH", ROOT / "instance"))
        self.INSTANCE_PATH = str(instance)
        self.SQLALCHEMY_DATABASE_URI = _database_url(
            env.get("DATABASE_URL", f"sqlite:///{instance / 'curator.sqlite'}")
        )
        self.SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
        self.REDIS_URL = env.get("REDIS_URL", "")
        self.ADMIN_SPOTIFY_IDS = _list("ADMIN_SPOTIFY_IDS")
        self.CRISIS_HELP_URL = env.get("CRISIS_HELP_URL", "https://findahelpline.com/")

        self.MOODS_FILE = env.get("MOODS_FILE", str(ROOT / "config" / "moods.yaml"))
        self.SEEDS_FILE = env.get("SEEDS_FILE", str(ROOT / "config" / "seeds.yaml"))

        # Cookie holds only a signed, random session id; the data stays in the database.
        self.SESSION_COOKIE_NAME = "curator_session"
        self.SESSION_COOKIE_HTTPONLY = True
        self.SESSION_COOKIE_SAMESITE = "Lax"
        self.SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", default=not self.DEBUG)
        self.PERMANENT_SESSION_LIFETIME = int(env.get("SESSION_LIFETIME_SECONDS", str(30 * 86400)))
        self.WTF_CSRF_TIME_LIMIT = None  # tied to the session instead; forms left open stay valid

    def as_dict(self) -> dict:
        return {k: v for k, v in vars(self).items() if k.isupper()}


def _with_slash(url: str) -> str:
    return url if url.endswith("/") else url + "/"


def _database_url(url: str) -> str:
    # Heroku-style URLs and plain "postgresql://" both mean psycopg 3 here.
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url
