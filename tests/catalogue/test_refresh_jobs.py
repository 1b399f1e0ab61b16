"""The seed refresh on the job runner: a provider registered by a module of its own shows in every
report by name; a refresh whose every seed failed ends "failed"; with Redis and no worker, a queued
refresh says so and a new one replaces it after a minute; a refresh whose worker died frees the lock."""
from __future__ import annotations

import time
import uuid
from datetime import timedelta

import pytest
import redis
from sqlalchemy import select, update

from curator import jobs
from curator.catalogue import jobs as refresh_jobs
from curator.catalogue import providers
from curator.catalogue.providers import FeatureProvider
from curator.clock import utcnow
from curator.extensions import db
from curator.jobs import lease
from curator.models.catalogue import CatalogueTrack, RefreshRun
from curator.models.jobs import Job
from tests.catalogue.test_admin import wait_for_run
from tests.helpers import FEATURES, PLAYLIST, QUERY, add_seeds, build_world, csrf_token, in_app


@pytest.fixture
def toy_provider(app):
    """A feature provider as a new module would define it: a class with a name, a label and its
    own setting (TOY_TEMPO), named in FEATURE_PROVIDERS before ReccoBeats."""

    class ToyProvider(FeatureProvider):
        name = "toy"
        label = "Toy Beats"

        def __init__(self, tempo: float) -> None:
            super().__init__()
            self.tempo = tempo

        @classmethod
        def from_config(cls, config, *, gateway=None, state, sleep):
            return cls(config["TOY_TEMPO"])

        def fetch(self, track_ids):
            self.calls += 1  # one request for every id it is asked about
            return {tid: {**FEATURES, "tempo": self.tempo} for tid in track_ids[:2]}

    app.config.update(FEATURE_PROVIDERS="local,toy,reccobeats", TOY_TEMPO=99.0)
    yield ToyProvider
    providers.REGISTRY.pop("toy", None)


def test_a_registered_provider_is_asked_and_counted_by_name_everywhere(app, admin_client, fake_spotify,
                                                                      toy_provider):
    build_world(fake_spotify, playlist_tracks=3, albums=1, search_hits=2, featureless=0)
    add_seeds(app, playlist=PLAYLIST, search=QUERY)
    admin_client.post("/admin/catalogue/refresh", data={"csrf_token": csrf_token(admin_client)})
    run = wait_for_run(admin_client)["run"]
    assert run["status"] == "finished"
    assert run["provider_calls"] == {"toy": 1, "reccobeats": 1}  # the toy knew two; ReccoBeats the rest
    assert run["api_calls"] == "Spotify 3, Toy Beats 1, ReccoBeats 1"
    assert "API calls: Spotify 3, Toy Beats 1, ReccoBeats 1." in run["report"]
    toy_tracks = in_app(app, lambda: db.session.scalars(
        select(CatalogueTrack.tempo).where(CatalogueTrack.features_source == "toy")).all())
    assert toy_tracks == [99.0, 99.0]
    assert "Spotify 3, Toy Beats 1, ReccoBeats 1" in admin_client.get("/admin/catalogue").get_data(as_text=True)
    assert "Spotify 3, Toy Beats 1, ReccoBeats 1" in admin_client.get("/admin/").get_data(as_text=True)
    health = admin_client.get("/healthz").get_json()
    assert health["feature_providers"] == {"local": {"calls_last_refresh": 0}, "toy": {"calls_last_refresh": 1},
                                           "reccobeats": {"calls_last_refresh": 1}}


def test_a_refresh_in_which_every_seed_failed_ends_failed(app, admin_client, fake_spotify):
    build_world(fake_spotify, playlist_tracks=2, albums=1, search_hits=2)
    add_seeds(app, search=QUERY)
    fake_spotify.fail_next("GET", r"^/v1/search$", 404)
    admin_client.post("/admin/catalogue/refresh", data={"csrf_token": csrf_token(admin_client)})
    run = wait_for_run(admin_client)["run"]
    assert run["status"] == "failed" and run["message"].startswith("Failed: no seed could be read")
    assert any("Spotify has no such search" in line for line in run["report"])


def test_a_refresh_whose_worker_died_frees_the_lock_for_the_next(app, admin_client, fake_spotify):
    build_world(fake_spotify, playlist_tracks=2, albums=1, search_hits=2)
    add_seeds(app, search=QUERY)

    def a_run_whose_worker_died():
        identity = refresh_jobs.refresh_identity()
        run = refresh_jobs._new_run(identity, None, None, False)
        job_id = jobs.records.create(refresh_jobs.TASK, {"run_id": run.id}, backend="rq",
                                     unique=refresh_jobs.TASK)
        jobs.records.claim(job_id, "a-worker-that-was-killed")
        assert lease.acquire(refresh_jobs.LOCK, job_id)  # the refresh's ten-minute lock
        run.job_id, run.status = job_id, "running"
        db.session.commit()
        with db.engine.begin() as conn:  # its job's lease (30 s) runs out: the worker is gone
            conn.execute(update(Job.__table__).where(Job.id == job_id)
                         .values(lease_expires_at=utcnow() - timedelta(seconds=1)))
        return run.id

    dead = in_app(app, a_run_whose_worker_died)
    status = admin_client.get(f"/admin/catalogue/refresh/status?run={dead}").get_json()
    assert status["run"]["status"] == "interrupted" and not status["running"]
    admin_client.post("/admin/catalogue/refresh", data={"csrf_token": csrf_token(admin_client)})
    run = wait_for_run(admin_client)["run"]
    assert run["id"] != dead and run["status"] == "finished"


URL = "redis://127.0.0.1:6379/14"


@pytest.fixture
def on_redis_without_worker(app):
    connection = redis.Redis.from_url(URL, socket_connect_timeout=1)
    try:
        connection.ping()
    except redis.RedisError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    app.config.update(REDIS_URL=URL, JOBS_QUEUE=f"curator-test-{uuid.uuid4().hex[:10]}", JOBS_STALE_QUEUED_SECONDS=5)
    yield
    with app.app_context():
        from curator.jobs import rq_backend

        rq_backend.queue().delete(delete_jobs=True)


def test_with_redis_and_no_worker_a_queued_refresh_says_so_and_does_not_block_the_next(
        app, admin_client, fake_spotify, on_redis_without_worker):
    build_world(fake_spotify, playlist_tracks=2, albums=1, search_hits=2)
    add_seeds(app, search=QUERY)
    token = csrf_token(admin_client)
    admin_client.post("/admin/catalogue/refresh", data={"csrf_token": token})
    first = admin_client.get("/admin/catalogue/refresh/status").get_json()["run"]
    assert first["status"] == "queued" and "none is running" in first["message"]
    assert "none is running" in admin_client.get("/admin/catalogue").get_data(as_text=True)
    health = admin_client.get("/healthz").get_json()
    assert health["status"] == "degraded" and any("no RQ worker" in p for p in health["problems"])

    refused = admin_client.post("/admin/catalogue/refresh", data={"csrf_token": token}, follow_redirects=True)
    assert "already running" in refused.get_data(as_text=True)
    time.sleep(5.1)  # JOBS_STALE_QUEUED_SECONDS (60 by default): no worker took it meanwhile
    admin_client.post("/admin/catalogue/refresh", data={"csrf_token": token})
    second = admin_client.get("/admin/catalogue/refresh/status").get_json()["run"]
    assert second["id"] != first["id"] and second["status"] == "queued"
    replaced = admin_client.get(f"/admin/catalogue/refresh/status?run={first['id']}").get_json()["run"]
    assert replaced["status"] == "failed" and replaced["message"].startswith("No worker took it")

    # A worker that comes now runs the newer one only (the replaced job is skipped).
    from rq import SimpleWorker

    from curator.jobs import rq_backend

    with app.app_context():
        queue = rq_backend.queue()
        assert queue.count == 2
        SimpleWorker([queue], connection=queue.connection).work(burst=True)
        db.session.remove()
    statuses = in_app(app, lambda: dict(db.session.execute(select(RefreshRun.id, RefreshRun.status)).all()))
    assert statuses == {first["id"]: "queued", second["id"]: "finished"}
    shown = admin_client.get(f"/admin/catalogue/refresh/status?run={first['id']}").get_json()["run"]
    assert shown["status"] == "failed"
