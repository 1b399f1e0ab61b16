"""Two app servers on one Redis and one database behave as one service: a rate limit is counted
once across both, a refresh started on one is seen (and refused again) on the other and runs on
the RQ worker, and tracks imported while both run are in the other's next preview.

Each server is a real gunicorn process of the project's configuration; the listener's cookie
works on both, as behind a load balancer.
"""
from __future__ import annotations

import os
import re
import runpy
from pathlib import Path

import pytest
import redis
from rq import Queue, SimpleWorker

from bench.load import synthetic_tracks, write_csv
from curator.catalogue import seeds as catalogue_seeds
from curator.catalogue.importer import import_csv
from curator.extensions import db
from curator.moods.service import import_shipped_if_empty
from curator.ratelimit import PREVIEWS_PER_MINUTE
from tests.served import REPO, Listener, app_environment, free_port, gunicorns


@pytest.fixture
def redis_url():
    """A Redis database of this test run's own (emptied before and after)."""
    url = f"redis://127.0.0.1:6379/{8 + os.getpid() % 8}"
    connection = redis.Redis.from_url(url, socket_connect_timeout=1)
    try:
        connection.ping()
    except redis.RedisError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    connection.flushdb()
    yield url
    connection.flushdb()


def _import(app, tmp_path, name: str, tracks: list[dict], fake) -> None:
    with app.app_context():
        assert import_csv(str(write_csv(tmp_path / name, tracks))).status == "imported"
        db.session.remove()
    for row in tracks:
        fake.add_track(row["id"], name=row["name"], duration_ms=int(row["length"]))


@pytest.mark.long  # started first (tests/conftest.py)
def test_two_servers_share_limits_refreshes_and_catalogue_changes(
        app, app_config, pg_schema, fake_spotify, tmp_path, redis_url):
    with app.app_context():
        import_shipped_if_empty()
        catalogue_seeds.import_shipped_if_empty()
        db.session.remove()
    everything = synthetic_tracks(300)
    _import(app, tmp_path, "first.csv", everything[:6], fake_spotify)  # too few for a 20-track arc

    ports = free_port(), free_port()
    servers = [(app_environment(app_config, pg_schema, f"http://127.0.0.1:{port}", REDIS_URL=redis_url,
                                RATELIMIT_ENABLED="true"), port, tmp_path / f"gunicorn-{port}.log")
               for port in ports]
    with gunicorns(servers, workers=1, threads=4) as (one, two):
        listener = Listener(one, fake_spotify, "listener-1")
        listener.login()
        on_two = Listener(two, fake_spotify, "listener-1")
        on_two.http.cookies, on_two.csrf = listener.http.cookies, listener.csrf  # same browser, other server

        # An import while both run is in the other server's next preview.
        before = on_two.preview()
        assert before.status_code == 422 or len(before.json()["tracks"]) < 20
        _import(app, tmp_path, "more.csv", everything[6:], fake_spotify)
        after = on_two.preview()
        assert after.status_code == 201 and len(after.json()["tracks"]) == 20, after.text[:300]
        assert {t["id"] for t in after.json()["tracks"]} - {t["id"] for t in everything[:6]}

        # One limit for both servers: the previews above count, then alternate until it is reached.
        used = 2
        for n in range(used, PREVIEWS_PER_MINUTE):
            response = (listener if n % 2 else on_two).preview()
            assert response.status_code == 201, (n, response.status_code, response.text[:200])
        refused = [listener.preview(), on_two.preview()]
        assert [r.status_code for r in refused] == [429, 429]
        assert all(int(r.headers["Retry-After"]) >= 1 for r in refused)

        # A refresh started on one server is seen on the other, which refuses a second one.
        admin = Listener(one, fake_spotify, "admin-user")
        admin.login(scopes="seeds")
        admin_on_two = Listener(two, fake_spotify, "admin-user")
        admin_on_two.http.cookies, admin_on_two.csrf = admin.http.cookies, admin.csrf
        started = admin.http.post(one + "/admin/catalogue/refresh", data={"csrf_token": admin.csrf},
                                  allow_redirects=False, timeout=30)
        assert started.status_code == 302
        seen = admin_on_two.http.get(two + "/admin/catalogue/refresh/status", timeout=30).json()
        assert seen["run"]["status"] == "queued" and seen["running"] is True
        again = admin_on_two.http.post(two + "/admin/catalogue/refresh", data={"csrf_token": admin.csrf},
                                       timeout=30)
        assert re.search(r"already running", again.text)

        # The queued job runs on an RQ worker (here in this process, on the same Redis and database).
        with app.app_context():
            queue = Queue(app.config["JOBS_QUEUE"], connection=redis.Redis.from_url(redis_url))
            assert len(queue) == 1
            SimpleWorker([queue], connection=queue.connection).work(burst=True)
            db.session.remove()
        done = listener.http.get(one + "/admin/catalogue/refresh/status", timeout=30)
        assert done.status_code in (302, 403)  # listeners may not look; the admin may, on either server
        for server, who in ((one, admin), (two, admin_on_two)):
            status = who.http.get(server + "/admin/catalogue/refresh/status", timeout=30).json()
            assert status["run"]["status"] == "finished" and status["running"] is False, status

    statuses = listener.statuses + on_two.statuses + admin.statuses
    assert not [s for s in statuses if s >= 500]


class _Log:
    def __init__(self):
        self.warnings = []

    def warning(self, message, *args):
        self.warnings.append(message % args)


class _Server:
    def __init__(self, workers):
        self.cfg = type("Cfg", (), {"workers": workers})()
        self.log = _Log()


@pytest.mark.parametrize(("workers", "redis_setting", "warned"), [(4, "", True), (1, "", False),
                                                                   (4, "redis://127.0.0.1:6379/0", False)])
def test_gunicorn_warns_when_several_workers_run_without_redis(monkeypatch, workers, redis_setting, warned):
    monkeypatch.setenv("REDIS_URL", redis_setting or " ")  # blank counts as unset, and beats a value in .env
    conf = runpy.run_path(str(Path(REPO) / "gunicorn.conf.py"))
    server = _Server(workers)
    conf["on_starting"](server)
    assert bool(server.log.warnings) is warned
    if warned:
        assert "REDIS_URL" in server.log.warnings[0] and f"{workers} workers" in server.log.warnings[0]
