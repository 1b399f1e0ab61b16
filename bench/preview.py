"""Where a preview's time goes: one listener's 20-track anxious -> calm previews through the app,
in this process (Flask's test client, no server), with the SQL statements each one runs.

    python -m bench.preview [--tracks 100000] [--requests 200] [--edits 0] [--mix] [--profile]

Builds a fresh SQLite database in a temporary folder with the shipped moods and the synthetic
catalogue bench/load.py uses (imported with the app's own importer), logs one listener in through
the fake Spotify on loopback, makes one untimed preview (it opens the catalogue), then times
--requests previews. Prints the median and p95 per preview, the SQL statements per preview (each
kind once, with its count), and with --profile the functions that take the most time. With
--edits N, then times N of each edit through the API on one preview: a "brighter" nudge and a swap
(of each position in turn), each making a new preview from the same one. With --mix the previews
are bench/load.py's open-loop mix (random moods and wheel points, 10-50 tracks, random seeds)
instead of one 20-track anxious -> calm preview again and again. The CPU time per preview (this
process's, all of it the app's) is printed beside the wall time: it holds up better on a machine
others share.
"""
from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import re
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.load import add_tracks_to_fake, prepare_database, synthetic_tracks  # noqa: E402
from tests.fake_spotify.server import FakeSpotify  # noqa: E402
from tests.helpers import csrf_token, login  # noqa: E402

BODY = {"from": "anxious", "to": "calm", "tracks": 20}


def _kind(statement: str) -> str:
    """'SELECT moods', 'INSERT previews', ...: the verb and the first table it names."""
    text = " ".join(statement.split())
    verb = text.split(" ", 1)[0].upper()
    table = re.search(r"\b(?:FROM|INTO|UPDATE)\s+\"?(\w+)", text, re.IGNORECASE)
    return f"{verb} {table.group(1) if table else ''}".strip()


def statements_of(app, action) -> list[str]:
    """The SQL statements `action()` runs on the app's engine (printed whole with SHOW_SQL=1)."""
    from sqlalchemy import event

    from curator.extensions import db

    statements: list[str] = []
    with app.app_context():
        engine = db.engine

    def count(conn, cursor, statement, *rest):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        action()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    if os.environ.get("SHOW_SQL"):
        print("\n".join(statements))
    return statements


def print_statements(statements: list[str], per: str) -> None:
    """How many statements `per` (a preview, a save), then how many of each kind, most first."""
    print(f"  SQL statements per {per}: {len(statements)}")
    for kind, n in sorted(Counter(_kind(s) for s in statements).items(), key=lambda kv: (-kv[1], kv[0])):
        print(f"    {n} x {kind}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tracks", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--edits", type=int, default=0, help="also time this many nudges and swaps")
    parser.add_argument("--mix", action="store_true", help="the open-loop mix of bench/load.py, not one request")
    parser.add_argument("--profile", action="store_true", help="print the 25 costliest functions (cumulative)")
    parser.add_argument("--profile-file", default="", help="also write the profile's raw data here (pstats)")
    args = parser.parse_args(argv)


    from curator import create_app

    tmp = Path(tempfile.mkdtemp(prefix="curator-preview-"))
    fake = FakeSpotify()
    fake.start()
    try:
        config = {
            "SECRET_KEY": "preview-bench-" + os.urandom(16).hex(),
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp / 'preview.sqlite'}",
            "INSTANCE_PATH": str(tmp / "instance"),
            "SPOTIFY_CLIENT_ID": fake.client_id, "SPOTIFY_CLIENT_SECRET": fake.client_secret,
            "SPOTIFY_API_URL": fake.api_url, "SPOTIFY_ACCOUNTS_URL": fake.accounts_url,
            "RECCOBEATS_API_URL": fake.reccobeats_url, "SPOTIFY_REDIRECT_URI": "http://127.0.0.1:5000/callback",
            "FEATURE_PROVIDERS": "local", "SESSION_COOKIE_SECURE": False, "RATELIMIT_ENABLED": False,
        }
        tracks = synthetic_tracks(args.tracks)
        prepare_database(config, tracks, tmp / "catalogue.csv")
        add_tracks_to_fake(fake, tracks)
        app = create_app(config)
        client = app.test_client()
        login(client, fake, "bench-listener")
        headers = {"X-CSRFToken": csrf_token(client)}

        bodies = iter(())
        if args.mix:
            from bench.load import random_mix

            bodies = iter([body for _, body, _ in random_mix(7, args.requests + 2, 1, 0.0)])

        def preview():
            body = next(bodies, None)
            response = (client.post("/api/v1/previews", data=body, headers=headers, content_type="application/json")
                        if body is not None else client.post("/api/v1/previews", json=BODY, headers=headers))
            assert response.status_code == 201, (response.status_code, response.get_data(as_text=True)[:300])

        preview()  # opens the catalogue: not part of any figure
        statements = statements_of(app, preview)

        times = []
        profiler = cProfile.Profile(time.thread_time) if args.profile else None  # CPU, not waits
        cpu_began = time.process_time()
        for _ in range(args.requests):
            t0 = time.perf_counter()
            if profiler:
                profiler.enable()
            preview()
            if profiler:
                profiler.disable()
            times.append((time.perf_counter() - t0) * 1000)
        cpu = (time.process_time() - cpu_began) * 1000 / args.requests
        times.sort()
        what = "the open-loop mix" if args.mix else "20 tracks (anxious -> calm)"
        print(f"{args.tracks:,} tracks, {args.requests} previews of {what}, one listener, "
              f"in-process test client; load average {os.getloadavg()[0]:.1f}")
        print(f"  per preview: median {statistics.median(times):.1f} ms, p95 {times[int(0.95 * (len(times) - 1))]:.1f} ms, "
              f"CPU {cpu:.1f} ms (mean){' with the profiler on' if profiler else ''}")
        print_statements(statements, "preview")
        if args.edits:
            base = client.post("/api/v1/previews", json={**BODY, "seed": 7}, headers=headers).json
            edits = {"nudge": lambda i: {"op": "nudge", "direction": "brighter"},
                     "swap": lambda i: {"op": "swap", "track_id": base["tracks"][i % len(base["tracks"])]["id"]}}
            for name, body in edits.items():
                took, cpu = [], []
                for i in range(args.edits + 1):
                    t0, c0 = time.perf_counter(), time.process_time()
                    response = client.post(f"/api/v1/previews/{base['id']}/edits", json=body(i), headers=headers)
                    took.append((time.perf_counter() - t0) * 1000)
                    cpu.append((time.process_time() - c0) * 1000)
                    assert response.status_code == 201, (response.status_code, response.get_data(as_text=True)[:300])
                took, cpu = sorted(took[1:]), cpu[1:]  # the first of each kind warms its path
                print(f"  per {name}: median {statistics.median(took):.1f} ms, p95 "
                      f"{took[int(0.95 * (len(took) - 1))]:.1f} ms, CPU median {statistics.median(cpu):.1f} ms "
                      f"({args.edits} edits; load average {os.getloadavg()[0]:.1f})")
        if profiler:
            if args.profile_file:
                profiler.dump_stats(args.profile_file)
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
            pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
    finally:
        fake.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
