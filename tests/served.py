"""The app as production runs it: a real gunicorn process (the project's gunicorn.conf.py) on a
loopback port, aimed at the fake Spotify; and listeners driving it over HTTP like browsers."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import requests

from tests.fake_spotify.server import SIGNED_IN_COOKIE
from tests.helpers import csrf_from

REPO = Path(__file__).resolve().parents[1]
# base URL -> the gunicorn master's process id, while it runs
MASTERS: dict[str, int] = {}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url_for_process(app_config: dict, pg_schema: str | None) -> str:
    """The test database's URL, with the run's own PostgreSQL schema folded into it."""
    url = app_config["SQLALCHEMY_DATABASE_URI"]
    if pg_schema:
        url += ("&" if "?" in url else "?") + "options=" + quote(f"-csearch_path={pg_schema}")
    return url


def app_environment(app_config: dict, pg_schema: str | None, base: str, **extra: str) -> dict:
    """Environment settings for a served app that shares the test app's database and fake Spotify."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SPOTIFY_", "DATABASE_", "REDIS_"))}
    env.update({
        "SECRET_KEY": app_config["SECRET_KEY"],
        "DATABASE_URL": database_url_for_process(app_config, pg_schema),
        "CURATOR_INSTANCE_PATH": app_config["INSTANCE_PATH"],
        "SPOTIFY_CLIENT_ID": app_config["SPOTIFY_CLIENT_ID"],
        "SPOTIFY_CLIENT_SECRET": app_config["SPOTIFY_CLIENT_SECRET"],
        "SPOTIFY_REDIRECT_URI": base + "/callback",
        "SPOTIFY_API_URL": app_config["SPOTIFY_API_URL"],
        "SPOTIFY_ACCOUNTS_URL": app_config["SPOTIFY_ACCOUNTS_URL"],
        "RECCOBEATS_API_URL": app_config["RECCOBEATS_API_URL"],
        "ADMIN_SPOTIFY_IDS": ",".join(app_config.get("ADMIN_SPOTIFY_IDS") or []),
        "FEATURE_PROVIDERS": "local",
        "SESSION_COOKIE_SECURE": "false",
    })
    env.update(extra)
    return env


@contextmanager
def gunicorn(env: dict, *, workers: int | None = None, threads: int | None = None, port: int | None = None,
             log_path=None):
    """`gunicorn -c gunicorn.conf.py 'curator:create_app()'` on 127.0.0.1; yields the base URL.

    Worker and thread counts left out are gunicorn.conf.py's own choice."""
    with gunicorns([(env, port or free_port(), log_path)], workers=workers, threads=threads) as (base,):
        yield base


@contextmanager
def gunicorns(servers: list[tuple[dict, int, object]], *, workers: int | None = None, threads: int | None = None):
    """Several servers, each (environment, port, log path or None), booted side by side."""
    started = []
    try:
        for env, port, log_path in servers:
            env = dict(env)
            if workers:
                env["WEB_CONCURRENCY"] = str(workers)
            if threads:
                env["WEB_THREADS"] = str(threads)
            log = open(log_path, "wb") if log_path else subprocess.DEVNULL
            process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "-c", str(REPO / "gunicorn.conf.py"), "--bind",
                 f"127.0.0.1:{port}", "curator:create_app()"],
                cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
            started.append((process, log, f"http://127.0.0.1:{port}"))
            MASTERS[f"http://127.0.0.1:{port}"] = process.pid
        for process, _log, base in started:
            wait_until_up(base, process)
        yield [base for _process, _log, base in started]
    finally:
        for process, _log, base in started:
            MASTERS.pop(base, None)
            process.terminate()
        for process, log, _base in started:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            if log is not subprocess.DEVNULL:
                log.close()


def worker_pids(base: str) -> list[int]:
    """The worker processes of the gunicorn serving `base` (its master's children, from /proc)."""
    master, children = MASTERS[base], []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == master:
            children.append(int(stat.parent.name))
    return children


def wait_until_up(base: str, process, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with status {process.returncode}")
        try:
            if requests.get(base + "/healthz", timeout=2).status_code < 500:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer on {base} within {timeout:.0f} s")


class Listener:
    """One browser: its own cookie jar, logging in through the fake Spotify and using the JSON API."""

    def __init__(self, base: str, fake, spotify_id: str):
        self.base, self.fake, self.spotify_id = base, fake, spotify_id
        self.http = requests.Session()
        self.statuses: list[int] = []
        self.csrf = ""

    def _record(self, response):
        self.statuses.append(response.status_code)
        return response

    def login(self, scopes: str = "") -> None:
        start = self._record(self.http.get(self.base + "/login", params={"scopes": scopes} if scopes else None,
                                           allow_redirects=False, timeout=30))
        assert start.status_code == 302, start.status_code
        # Signed in to Spotify as itself (a cookie of its own), so listeners log in side by side: a
        # shared "approve as" switch made them queue, each holding an idle keep-alive connection to
        # gunicorn that its keepalive (5 s) closed just as GET /callback was sent (connection reset).
        approved = requests.get(start.headers["Location"], cookies={SIGNED_IN_COOKIE: self.spotify_id},
                                allow_redirects=False, timeout=30)
        assert approved.status_code in (302, 303), approved.text
        back = self._record(self.http.get(approved.headers["Location"], allow_redirects=False, timeout=30))
        assert back.status_code == 302, back.status_code
        self.csrf = csrf_from(self._record(self.http.get(self.base + "/", timeout=30)).text)

    def preview(self, **body) -> requests.Response:
        body = {"from": "anxious", "to": "calm", "tracks": 20, **body}
        return self._record(self.http.post(self.base + "/api/v1/previews", json=body,
                                           headers={"X-CSRFToken": self.csrf}, timeout=60))

    def save(self, preview_id: str, key: str) -> requests.Response:
        return self._record(self.http.post(self.base + f"/api/v1/previews/{preview_id}/playlist",
                                           headers={"X-CSRFToken": self.csrf, "Idempotency-Key": key}, timeout=60))

    def look(self, preview_id: str) -> requests.Response:
        return self._record(self.http.get(self.base + f"/api/v1/previews/{preview_id}", timeout=60))

    def save_to_the_end(self, preview_id: str, key: str, *, limit: float = 180.0, every: float = 2.0,
                        again_when_stopped: bool = True) -> tuple[float, int]:
        """Save as a client of the API does: after a 202 (carrying on in the background) or a 409 look at
        the preview every `every` s until the save has ended; when it stopped unfinished, save again
        ("Finish saving"), unless told not to. (Seconds until the playlist was saved or `limit` ran
        out, the last answer's status: 200/201 saved, else how it stopped; 0 for a cut connection.)"""
        started = time.monotonic()
        status = 0
        while time.monotonic() - started < limit:
            try:
                status = self.save(preview_id, key).status_code
            except requests.RequestException:
                status = 0
            if status in (200, 201):
                return time.monotonic() - started, status
            if status not in (0, 202, 409, 503):
                return time.monotonic() - started, status
            while time.monotonic() - started < limit:  # the preview says when the save has ended
                time.sleep(every)
                try:
                    shown = self.look(preview_id).json()
                except (requests.RequestException, ValueError):
                    continue
                if shown.get("playlist"):
                    return time.monotonic() - started, 200
                if not shown.get("save_running"):
                    break
            if not again_when_stopped:
                return time.monotonic() - started, status
        return time.monotonic() - started, status
