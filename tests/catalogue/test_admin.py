"""The admin catalogue pages: access, seed editor, refresh button (thread and RQ), lock, progress JSON."""
from __future__ import annotations

import socket
import time
import uuid

import pytest
from sqlalchemy import select

from curator.catalogue import jobs
from curator.extensions import db
from curator.jobs import lease
from curator.models.catalogue import CatalogueTrack, RefreshRun, Seed
from tests.helpers import PLAYLIST, QUERY, add_seeds, build_world, csrf_token, dev_style, in_app, login

PAGES = ["/admin/catalogue", "/admin/catalogue/seeds", "/admin/catalogue/seeds/calm", "/admin/catalogue/refresh/status"]


def wait_for_run(client, timeout=20.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        data = client.get("/admin/catalogue/refresh/status").get_json()
        if data["run"] and not data["running"]:
            return data
        time.sleep(0.1)
    raise AssertionError("the refresh did not finish in time")


@pytest.mark.parametrize("path", PAGES)
def test_listeners_get_403_and_strangers_are_sent_to_login(client, fake_spotify, moods, path):
    assert client.get(path).status_code == 302
    login(client, fake_spotify, "listener-1")
    assert client.get(path).status_code == 403
    token = csrf_token(client)
    response = client.post("/admin/catalogue/refresh", data={"csrf_token": token})
    assert response.status_code == 403


def test_catalogue_page_shows_size_coverage_and_imports(app, admin_client, runner, write_csv):
    runner.invoke(args=["catalog", "import", write_csv(dev_style(8))])
    page = admin_client.get("/admin/catalogue").get_data(as_text=True)
    assert "8 tracks, 8 with audio features (100.0%)" in page
    assert "Coverage per mood" in page and ">Calm</a>" in page
    assert "data.csv" in page and "8 read, 8 imported" in page
    assert 'id="refresh-progress"' in page and "admin-refresh.js" in page


def test_seed_editor_normalises_links_and_keeps_typed_text_on_error(app, admin_client):
    token = csrf_token(admin_client)
    typed_bad = "https://open.spotify.com/track/4uLU6hMCjMI75M1A2tKUQC\nnot a link"
    response = admin_client.post("/admin/catalogue/seeds/calm", data={
        "csrf_token": token, "playlist": typed_bad, "search": "genre:ambient"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Line 1: “https://open.spotify.com/track/4uLU6hMCjMI75M1A2tKUQC” is a Spotify track, not a playlist" in page
    assert "Line 2: “not a link” is not a Spotify playlist" in page
    assert "not a link</textarea>" in page and "genre:ambient</textarea>" in page
    assert 'aria-invalid="true"' in page
    assert in_app(app, lambda: db.session.scalar(select(Seed.id))) is None

    response = admin_client.post("/admin/catalogue/seeds/calm", data={
        "csrf_token": token, "playlist": f"https://open.spotify.com/playlist/{PLAYLIST}?si=abc",
        "track": "https://open.spotify.com/intl-de/track/4uLU6hMCjMI75M1A2tKUQC", "search": "genre:ambient"})
    assert response.status_code == 302
    stored = in_app(app, lambda: sorted(db.session.execute(select(Seed.kind, Seed.value)).all()))
    assert stored == [("playlist", PLAYLIST), ("search", "genre:ambient"), ("track", "4uLU6hMCjMI75M1A2tKUQC")]
    page = admin_client.get("/admin/catalogue/seeds/calm").get_data(as_text=True)
    assert f"{PLAYLIST}</textarea>" in page
    assert admin_client.get("/admin/catalogue/seeds/nosuchmood").status_code == 404


def test_seed_editor_of_an_archived_mood_says_it_is_archived(app, admin_client):
    admin_client.post("/curate/moods/tired/archive", data={"csrf_token": csrf_token(admin_client)})
    response = admin_client.get("/admin/catalogue/seeds/tired")
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert "“tired” is archived" in page and "There is no mood called" not in page


def test_refresh_button_runs_in_a_thread_and_reports_progress(app, admin_client, fake_spotify):
    build_world(fake_spotify, playlist_tracks=5, albums=1, search_hits=3, featureless=0)
    add_seeds(app, playlist=PLAYLIST, search=QUERY)
    response = admin_client.post("/admin/catalogue/refresh", data={"csrf_token": csrf_token(admin_client)})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/admin/catalogue#refresh-heading")  # opens at the progress
    data = wait_for_run(admin_client)
    run = data["run"]
    assert run["status"] == "finished" and run["done"] == run["total"] == 3 and run["percent"] == 100
    assert run["spotify_calls"] == 3 and run["provider_calls"] == {"reccobeats": 1}  # snapshot + items + one search page
    assert run["report"][0].startswith("2 seeds read: 8 tracks added")
    assert in_app(app, lambda: db.session.scalar(select(db.func.count(CatalogueTrack.features_source)))) == 8
    page = admin_client.get("/admin/catalogue").get_data(as_text=True)
    assert "Run #1: finished" in page and "Spotify 3, ReccoBeats 1" in page


def test_second_refresh_is_refused_while_one_runs(app, admin_client, fake_spotify):
    build_world(fake_spotify, playlist_tracks=2, albums=1, search_hits=2)
    add_seeds(app, search=QUERY)
    fake_spotify.delay_next("GET", r"^/v1/search$", 1.5)
    token = csrf_token(admin_client)
    admin_client.post("/admin/catalogue/refresh", data={"csrf_token": token})
    status = admin_client.get("/admin/catalogue/refresh/status").get_json()
    assert status["running"] is True and status["run"]["status"] in ("queued", "running")
    assert set(status["run"]) >= {"id", "done", "total", "percent", "message"}

    response = admin_client.post("/admin/catalogue/refresh", data={"csrf_token": token}, follow_redirects=True)
    assert "A catalogue refresh is already running" in response.get_data(as_text=True)
    assert in_app(app, lambda: len(db.session.scalars(select(RefreshRun)).all())) == 1
    # The command line respects the same lock.
    result = app.test_cli_runner().invoke(args=["seeds", "refresh"])
    assert result.exit_code == 1 and "already running" in result.output

    assert wait_for_run(admin_client)["run"]["status"] == "finished"
    assert in_app(app, lambda: lease.held(jobs.LOCK)) is None


def test_lock_expires_when_its_holder_died(app):
    from datetime import timedelta

    def scenario():
        assert lease.acquire("test-lock", "dead-worker", timedelta(seconds=-1))  # already expired
        assert lease.held("test-lock") is None
        assert lease.acquire("test-lock", "next-worker")
        assert not lease.acquire("test-lock", "third-worker")
        assert not lease.renew("test-lock", "dead-worker")
        lease.release("test-lock", "next-worker")
        assert lease.acquire("test-lock", "third-worker")

    in_app(app, scenario)


def redis_up() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=0.5).close()
        return True
    except OSError:
        return False


@pytest.mark.skipif(not redis_up(), reason="no Redis on 127.0.0.1:6379")
def test_refresh_button_enqueues_on_rq_when_redis_is_configured(app, admin_client, fake_spotify, monkeypatch):
    from redis import Redis
    from rq import Queue, SimpleWorker

    url = "redis://127.0.0.1:6379/15"
    app.config["REDIS_URL"] = url
    app.config["JOBS_QUEUE"] = f"curator-test-{uuid.uuid4().hex[:8]}"
    build_world(fake_spotify, playlist_tracks=2, albums=1, search_hits=2, featureless=0)
    add_seeds(app, search=QUERY)
    connection = Redis.from_url(url)
    queue = Queue(app.config["JOBS_QUEUE"], connection=connection)
    try:
        admin_client.post("/admin/catalogue/refresh", data={"csrf_token": csrf_token(admin_client)})
        assert queue.count == 1
        assert admin_client.get("/admin/catalogue/refresh/status").get_json()["run"]["status"] == "queued"
        with app.app_context():
            SimpleWorker([queue], connection=connection).work(burst=True)
        data = admin_client.get("/admin/catalogue/refresh/status").get_json()
        assert data["run"]["status"] == "finished" and not data["running"]
        assert in_app(app, lambda: db.session.scalar(select(db.func.count(CatalogueTrack.id)))) == 2
    finally:
        queue.empty()
        queue.delete(delete_jobs=True)


def test_catalogue_page_offers_the_playlist_read_scopes_until_granted(app, client, fake_spotify, moods):
    login(client, fake_spotify, "admin-user")
    assert b"scopes=seeds" in client.get("/admin/catalogue").data
    login(client, fake_spotify, "admin-user", scopes="seeds")
    assert "playlist-read-private" in fake_spotify.granted_scopes("admin-user")
    assert b"scopes=seeds" not in client.get("/admin/catalogue").data


def test_coverage_counts_what_each_mood_can_use_even_when_no_label_names_a_mood(app, admin_client, runner, tmp_path):
    """Issue 20: labels that name no mood ("joyful", "gloomy") linked nothing, and coverage said 0%
    for moods that could use many of the tracks."""
    from curator.catalogue.health import catalogue_health
    from tests.helpers import import_with_cli, in_app, synthetic_records, write_records_csv

    records = synthetic_records(240)
    for i, record in enumerate(records):
        record["tags"] = ["mood:joyful" if i % 2 else "mood:gloomy"]
    import_with_cli(app, runner, write_records_csv(records, tmp_path / "labels.csv"))
    moods = in_app(app, catalogue_health)["moods"]
    assert all(m["tracks"] == 0 for m in moods), "no label names a mood: nothing is linked"
    usable = {m["slug"]: (m["usable"], m["close"]) for m in moods}
    assert sum(1 for u, _ in usable.values() if u > 0) >= 6, usable  # most moods can use many of them
    assert usable["calm"][1] > 0  # a quarter of the synthetic tracks are quiet, slow and acoustic
    page = admin_client.get("/admin/catalogue").get_data(as_text=True)
    calm_usable, calm_close = usable["calm"]
    assert f'<td>{calm_usable} ({round(100 * calm_usable / 240, 1)}%)</td>' in page
    assert "a dataset whose labels name no mood links none, yet its tracks can be usable" in page
