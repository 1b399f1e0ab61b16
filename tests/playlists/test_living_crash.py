"""A worker killed with `kill -9` in the middle of a 250-track refresh: the next run completes it, in
order, once (the refresh journal and its lease, `curator/playlists/refreshing.py`)."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from curator.extensions import db
from curator.models.living import LivingPlaylist, PlaylistRefresh
from curator.playlists import pace, service
from tests.helpers import api_headers, api_login, api_preview, api_save

ROOT = Path(__file__).resolve().parents[2]
ITEMS = r"^/v1/playlists/[^/]+/items$"

WORKER = """
import json, sys
from datetime import datetime
from curator import create_app
from curator.extensions import db
from curator.playlists import service

app = create_app(json.loads(open(sys.argv[1]).read()))
with app.app_context():
    service.refresh_due(datetime.fromisoformat(sys.argv[2]))
"""


@pytest.mark.long
def test_a_worker_killed_mid_refresh_is_completed_by_the_next_run_in_order_once(
        app, app_config, client, large_catalogue, fake_spotify, tmp_path):
    pace.reset()
    token = api_login(client, fake_spotify)
    preview = api_preview(client, token, tracks=150, **{"from": "calm", "to": "energised"})
    assert api_save(client, token, preview["id"]).status_code == 201
    pid = fake_spotify.playlists_of("listener-1")[0].id
    assert client.put(f"/api/v1/playlists/{pid}/freshness", json={"every": "daily", "hour": 7, "timezone": "UTC"},
                      headers=api_headers(token)).status_code == 200
    with app.app_context():
        living = db.session.scalar(db.select(LivingPlaylist))
        due = living.next_due_at
        # The refresh re-curates the stored request: made 250 tracks long here (a preview is at most
        # 150), so it takes one PUT and two POSTs.
        from curator.models.listening import Preview
        stored = db.session.get(Preview, preview["id"])
        stored.length_tracks = 250
        db.session.commit()
        db.session.remove()
    posts_before = len(fake_spotify.calls("POST", ITEMS))
    config = dict(app_config, SAVE_LEASE_SECONDS=2, SPOTIFY_TIMEOUT=4.0)
    config_path = tmp_path / "worker.json"
    config_path.write_text(json.dumps(config))
    # The first POST hangs in Spotify for 3 s: the worker is killed while waiting for it, and it
    # lands afterwards (Spotify still acts on it).
    fake_spotify.delay_next("POST", ITEMS, 3.0)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    worker = subprocess.Popen([sys.executable, "-c", WORKER, str(config_path), due.isoformat()], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        # Wait until the PUT landed and the first POST is on its way (sent, not answered).
        while time.monotonic() < deadline:
            if fake_spotify.calls("PUT", ITEMS) and fake_spotify._in_flight:
                break
            assert worker.poll() is None, worker.communicate()
            time.sleep(0.02)
        else:
            pytest.fail("the worker never reached the POSTs")
        time.sleep(0.5)
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        if worker.poll() is None:
            worker.kill()
    assert worker.returncode == -signal.SIGKILL
    with app.app_context():
        refresh = db.session.scalar(db.select(PlaylistRefresh))
        assert refresh.state == "adding" and refresh.sending_since is not None  # killed mid-refresh
        assert refresh.lease_holder is not None
        db.session.remove()
    in_spotify = fake_spotify.playlist(pid).track_ids
    assert 100 <= len(in_spotify) < 250  # half-way: never empty
    time.sleep(3.0)  # the dead worker's lease runs out (no heartbeat any more)
    with app.app_context():
        app.config.update(SAVE_LEASE_SECONDS=2, SPOTIFY_TIMEOUT=4.0)
        report = service.refresh_due(due)
        assert report.refreshed == 1 and report.claimed == 0  # the same due time, completed
        refresh = db.session.scalar(db.select(PlaylistRefresh))
        wanted = [t["id"] for t in refresh.tracks]
        assert refresh.state == "done" and len(wanted) == 250
        assert db.session.scalar(db.select(db.func.count()).select_from(PlaylistRefresh)) == 1
        db.session.remove()
    fake_spotify.wait_idle(timeout=10)
    assert fake_spotify.playlist(pid).track_ids == wanted  # complete, in order, nothing doubled
    assert len(fake_spotify.calls("PUT", ITEMS)) == 1
    assert len(fake_spotify.calls("POST", ITEMS)) - posts_before == 2  # each further 100 added once
    with app.app_context():
        assert service.refresh_due(due).refreshed == 0  # and never again for that due time
