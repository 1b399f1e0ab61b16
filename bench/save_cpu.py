"""Server CPU per save: N saves through the app against the fake Spotify in another process.

    python -m bench.save_cpu [--saves 100] [--tracks 20] [--catalogue 3000] [--cover]
                             [--database-url postgresql://...] [--profile] [--profile-file FILE]

The fake Spotify (tests/fake_spotify, every request checked against the OpenAPI document) runs in
a child process, answering at once, so this process's CPU time is the app's own (the Flask test
client included, which stands in for gunicorn's HTTP parsing; a save's waits on Spotify cost no
CPU here). The app runs in this process on a fresh SQLite database in a temporary folder (or a
schema of its own on --database-url) with the shipped moods and a synthetic catalogue, with the
project's settings for saves (each runs on a save thread beside its request, SAVE_ANSWER_SECONDS).
One listener logs in (with the cover's scope when --cover), makes --saves previews of --tracks
tracks (untimed) and saves each once through `POST /api/v1/previews/<id>/playlist`; the first save
is untimed (it warms the path). Prints the CPU time per save (`time.process_time`: every thread of
this process, so it holds on a machine others share) beside the wall time, the SQL statements of
one save by kind, and with --profile the costliest functions (the request's thread and the save
thread's, profiled apart and added up). Checks that every save made one complete playlist.
"""
from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import sys
import tempfile
import threading
import time
from multiprocessing.managers import BaseManager
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.load import prepare_database, synthetic_tracks  # noqa: E402
from bench.preview import print_statements, statements_of  # noqa: E402
from tests.fake_spotify.server import FakeSpotify  # noqa: E402
from tests.helpers import csrf_token  # noqa: E402


class RemoteFake(FakeSpotify):
    """The fake, served from the manager's process; what the bench needs as methods."""

    def settings(self) -> dict:
        self.start()
        return {"SPOTIFY_CLIENT_ID": self.client_id, "SPOTIFY_CLIENT_SECRET": self.client_secret,
                "SPOTIFY_API_URL": self.api_url, "SPOTIFY_ACCOUNTS_URL": self.accounts_url,
                "RECCOBEATS_API_URL": self.reccobeats_url}

    def add_tracks(self, rows: list[dict]) -> None:
        for row in rows:
            self.add_track(row["id"], name=row["name"], duration_ms=int(row["length"]))

    def playlist_sizes(self, user_id: str) -> list[int]:
        return [len(p.uris) for p in self.playlists_of(user_id)]

    def violation_count(self) -> int:
        return len(self.violations) + len(self.errors)


class _Manager(BaseManager):
    pass


_Manager.register("Fake", RemoteFake, exposed=("settings", "add_tracks", "playlist_sizes", "violation_count",
                                                "add_user", "authorize_as"))


def _login(client, fake, spotify_id: str, scopes: str | None) -> None:
    """tests.helpers.login, with the fake behind a proxy."""
    from urllib.parse import parse_qs, urlsplit

    import requests

    fake.add_user(spotify_id, display_name="Bench Listener")
    fake.authorize_as(spotify_id)
    response = client.get("/login", query_string={"scopes": scopes} if scopes else {})
    assert response.status_code == 302, response.data
    approved = requests.get(response.headers["Location"], allow_redirects=False, timeout=5)
    assert approved.status_code in (302, 303), approved.text
    callback = urlsplit(approved.headers["Location"])
    response = client.get(callback.path, query_string=parse_qs(callback.query))
    assert response.status_code in (302, 303), response.data


def _own_database(url: str, name: str, drop: bool = False) -> str:
    """A database of its own on the server of `url` (made, or dropped); its URL."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from curator.config import _database_url

    server = make_url(_database_url(url))
    engine = create_engine(server, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)' if drop else f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return server.set(database=name).render_as_string(hide_password=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--saves", type=int, default=100)
    parser.add_argument("--tracks", type=int, default=20, help="tracks per preview (one add per 100)")
    parser.add_argument("--catalogue", type=int, default=3000, help="synthetic tracks in the catalogue")
    parser.add_argument("--cover", action="store_true", help="the listener allows the cover (a JPEG per save)")
    parser.add_argument("--database-url", default="", help="PostgreSQL URL (a schema of its own is made)")
    parser.add_argument("--profile", action="store_true", help="print the costliest functions")
    parser.add_argument("--profile-file", default="", help="also write the profile's raw data here (pstats)")
    args = parser.parse_args(argv)


    from curator import create_app
    from curator.playlists import service

    manager = _Manager()
    manager.start()
    fake = manager.Fake()
    tmp = Path(tempfile.mkdtemp(prefix="curator-save-cpu-"))
    schema = None
    try:
        config = {
            "SECRET_KEY": "save-bench-" + os.urandom(16).hex(),
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp / 'save.sqlite'}",
            "INSTANCE_PATH": str(tmp / "instance"),
            "SPOTIFY_REDIRECT_URI": "http://127.0.0.1:5000/callback",
            "FEATURE_PROVIDERS": "local", "SESSION_COOKIE_SECURE": False, "RATELIMIT_ENABLED": False,
            **fake.settings(),
        }
        if args.database_url:
            schema = f"bench_save_{os.getpid()}"
            config["SQLALCHEMY_DATABASE_URI"] = _own_database(args.database_url, schema)
        tracks = synthetic_tracks(args.catalogue)
        prepare_database(config, tracks, tmp / "catalogue.csv")
        fake.add_tracks(tracks)
        app = create_app(config)
        client = app.test_client()
        _login(client, fake, "bench-saver", "cover" if args.cover else None)
        headers = {"X-CSRFToken": csrf_token(client)}
        ids = []
        for n in range(args.saves + 1):
            response = client.post("/api/v1/previews", headers=headers, json={
                "from": "anxious", "to": "calm", "tracks": args.tracks, "seed": n})
            assert response.status_code == 201, response.get_data(as_text=True)[:300]
            ids.append(response.json["id"])

        def save(preview_id: str) -> None:
            response = client.post(f"/api/v1/previews/{preview_id}/playlist",
                                   headers={**headers, "Idempotency-Key": f"bench-{preview_id}"})
            assert response.status_code == 201, (response.status_code, response.get_data(as_text=True)[:300])

        save(ids[0])  # warms the save path: not part of any figure
        statements = statements_of(app, lambda: save(ids[1]))

        profilers: list[cProfile.Profile] = []
        if args.profile:  # the save thread's share, profiled on that thread
            real_carry_on = service._carry_on

            def carry_on_profiled(*a):
                profiler = cProfile.Profile(time.thread_time)  # CPU, not waits
                profilers.append(profiler)
                profiler.enable()
                try:
                    return real_carry_on(*a)
                finally:
                    profiler.disable()

            service._carry_on = carry_on_profiled
        request_profiler = cProfile.Profile(time.thread_time) if args.profile else None
        walls = []
        cpu_began = time.process_time()
        for preview_id in ids[2:]:
            t0 = time.perf_counter()
            if request_profiler:
                request_profiler.enable()
            save(preview_id)
            if request_profiler:
                request_profiler.disable()
            walls.append((time.perf_counter() - t0) * 1000)
        cpu = (time.process_time() - cpu_began) * 1000 / len(walls)
        sizes = fake.playlist_sizes("bench-saver")
        assert len(sizes) == len(ids) and all(s == args.tracks for s in sizes), sizes
        assert fake.violation_count() == 0
        walls.sort()
        backend = "PostgreSQL" if args.database_url else "SQLite"
        print(f"{len(walls)} saves of {args.tracks}-track previews{' with a cover' if args.cover else ''}, one "
              f"listener, {backend}, fake Spotify in another process; {threading.active_count()} threads; "
              f"load average {os.getloadavg()[0]:.1f}")
        print(f"  per save: CPU {cpu:.1f} ms (mean, this process){' with the profiler on' if args.profile else ''}; "
              f"wall median {statistics.median(walls):.1f} ms, p95 {walls[int(0.95 * (len(walls) - 1))]:.1f} ms")
        print_statements(statements, "save")
        if args.profile:
            stats = pstats.Stats(request_profiler)
            for profiler in profilers:
                stats.add(profiler)
            if args.profile_file:
                stats.dump_stats(args.profile_file)
            stats.sort_stats("cumulative").print_stats(30)
            stats.sort_stats("tottime").print_stats(25)
    finally:
        manager.shutdown()
        if schema:
            _own_database(args.database_url, schema, drop=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
