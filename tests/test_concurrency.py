"""Fifty listeners at once through gunicorn (the project's gunicorn.conf.py, several processes and
threads) on this run's database, SQLite or PostgreSQL: every login, preview and save answers
without a server error, and every listener ends with one complete playlist of their own.

This is the lock-up the production issue measured (a request holding two database connections,
the pool running dry, the session row unreadable); a request now holds at most one connection.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from bench.load import synthetic_tracks, write_csv
from curator.catalogue.importer import import_csv
from curator.extensions import db
from curator.moods.store import import_shipped_if_empty
from tests.served import Listener, app_environment, free_port, gunicorn

LISTENERS = 50


def test_fifty_concurrent_listeners_log_in_preview_and_save_without_a_server_error(
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

    def journey(number: int) -> tuple[int, int]:
        listener = Listener(base, fake_spotify, f"crowd-{number}")
        listeners.append(listener)
        listener.login()
        preview = listener.preview()
        assert preview.status_code == 201, (preview.status_code, preview.text[:300])
        saved = listener.save(preview.json()["id"], key=f"crowd-{number}")
        return saved.status_code, len(preview.json()["tracks"])

    # Two processes of eight threads: each process gets more simultaneous requests than threads,
    # so requests queue, share the pools and write the same tables at the same moment.
    with gunicorn(env, workers=2, threads=8, port=port, log_path=tmp_path / "gunicorn.log") as base:
        with ThreadPoolExecutor(LISTENERS) as pool:
            outcomes = list(pool.map(journey, range(LISTENERS)))

    statuses = [status for listener in listeners for status in listener.statuses]
    server_errors = [s for s in statuses if s >= 500]
    assert not server_errors, f"{len(server_errors)} server errors: {(tmp_path / 'gunicorn.log').read_text()[-3000:]}"
    assert len(statuses) == LISTENERS * 5  # login, callback, home page, preview, save
    assert [status for status, _ in outcomes] == [201] * LISTENERS
    for number, (_, length) in enumerate(outcomes):
        playlists = fake_spotify.playlists_of(f"crowd-{number}")
        assert len(playlists) == 1 and len(playlists[0].track_ids) == length == 20
