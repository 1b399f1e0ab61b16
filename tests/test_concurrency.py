"""A hundred listeners at once through gunicorn (several processes and threads) on this run's
database, SQLite or PostgreSQL, each saving five previews at the same moment: every login, preview
and save answers without a server error, and every listener ends with five complete playlists of
their own (500 in all).

This is the lock-up the production issue measured (a request holding two database connections,
the pool running dry, the session row unreadable); a request now holds at most one connection.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from bench.load import synthetic_tracks, write_csv
from curator.catalogue.importer import import_csv
from curator.extensions import db
from curator.moods.service import import_shipped_if_empty
from tests.served import Listener, app_environment, free_port, gunicorn

pytestmark = pytest.mark.long  # started first (tests/conftest.py)

LISTENERS = 100
SAVES_EACH = 5  # issue 12: 100 listeners x 5 concurrent saves end with 500 complete playlists


def test_a_hundred_listeners_saving_five_at_once_without_a_server_error(
        app, app_config, pg_schema, fake_spotify, tmp_path):
    tracks = synthetic_tracks(300)
    with app.app_context():
        import_shipped_if_empty()
        assert import_csv(str(write_csv(tmp_path / "tracks.csv", tracks))).status == "imported"
        db.session.remove()
        db.engine.dispose()
    for row in tracks:
        fake_spotify.add_track(row["id"], name=row["name"], duration_ms=int(row["length"]))

    port = free_port()
    env = app_environment(app_config, pg_schema, f"http://127.0.0.1:{port}", RATELIMIT_ENABLED="false")
    listeners: list[Listener] = []

    def journey(number: int) -> list[int]:
        listener = Listener(base, fake_spotify, f"crowd-{number}")
        listeners.append(listener)
        listener.login()
        preview_ids = []
        for _ in range(SAVES_EACH):
            preview = listener.preview()
            assert preview.status_code == 201, (preview.status_code, preview.text[:300])
            assert len(preview.json()["tracks"]) == 20
            preview_ids.append(preview.json()["id"])
        # The listener's saves go at once, each with its own key, beside every other listener's. A save
        # still under way after a few seconds answers 202 and carries on in the background: the listener
        # then looks at the preview until it is saved (as an API client does).
        with ThreadPoolExecutor(SAVES_EACH) as saves:
            return list(saves.map(lambda pid: listener.save_to_the_end(pid, key=f"crowd-{number}-{pid}", every=1.0,
                                                                       limit=120)[1],
                                  preview_ids))

    # Two processes of eight threads: each process gets more simultaneous requests than threads,
    # so requests queue, share the pools and write the same tables at the same moment.
    with gunicorn(env, workers=2, threads=8, port=port, log_path=tmp_path / "gunicorn.log") as base:
        with ThreadPoolExecutor(LISTENERS) as pool:
            outcomes = list(pool.map(journey, range(LISTENERS)))

    statuses = [status for listener in listeners for status in listener.statuses]
    server_errors = [s for s in statuses if s >= 500]
    assert not server_errors, f"{len(server_errors)} server errors: {(tmp_path / 'gunicorn.log').read_text()[-3000:]}"
    # login, callback, home page; previews; saves (and looks at the previews of saves answered 202)
    assert len(statuses) >= LISTENERS * (3 + 2 * SAVES_EACH)
    assert all(status in (200, 201) for group in outcomes for status in group), outcomes
    for number in range(LISTENERS):
        # Each playlist lands in its own listener's account: no save ran under another's token.
        playlists = fake_spotify.playlists_of(f"crowd-{number}")
        assert len(playlists) == SAVES_EACH and all(len(p.track_ids) == 20 for p in playlists)
