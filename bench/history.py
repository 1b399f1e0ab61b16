"""The history page with many saved playlists: time and size of GET /history.

    python -m bench.history [--playlists 10,100,1000,3000] [--repeats 20]

A throwaway SQLite database holds one listener with N saved 20-track playlists, a before and an
after check-in for each (all one mood pair, the chart's worst case: every session in one chart).
The page is fetched through the app (Flask test client, no network) and timed end to end:
query, template, response. Prints the median and p95 wall time of `repeats` fetches, the median
CPU time of the process per fetch (steadier on a busy machine), and the page size.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from curator import create_app  # noqa: E402
from curator.clock import utcnow  # noqa: E402
from curator.extensions import db  # noqa: E402
from curator.models.listening import SAVE_DONE, CheckIn, PlaylistSave, Preview  # noqa: E402
from curator.models.user import User  # noqa: E402
from curator.moods.service import import_shipped_if_empty  # noqa: E402

TRACK = {"name": "A track with a name", "artists": ["Someone"], "duration_ms": 210000, "position": 0,
         "reason": "a little softer than the last", "distance": 0.1, "position_target": {"energy": 0.5},
         "features": {"energy": 0.5, "valence": 0.5, "tempo": 110.0}, "album_image": None}


def fill(app, count: int) -> int:
    now = utcnow()
    with app.app_context():
        db.create_all()
        import_shipped_if_empty()
        user = User(spotify_id="bench-listener", display_name="Bench")
        db.session.add(user)
        db.session.flush()
        tracks = [{**TRACK, "id": f"T{i:021d}", "position": i} for i in range(20)]
        for i in range(count):
            at = now - timedelta(hours=count - i)
            pid = f"bench{i:08d}"
            db.session.add(Preview(id=pid, user_id=user.id, from_slug="anxious", to_slug="calm", seed=i,
                                   length_tracks=20, tracks=tracks, created_at=at))
            db.session.add(PlaylistSave(preview_id=pid, user_id=user.id, state=SAVE_DONE, marker=f"m{i}",
                                        name=f"Anxious to calm {i}", description="", playlist_id=f"p{i}",
                                        url=f"https://open.spotify.com/playlist/p{i}", completed_at=at))
            db.session.add(CheckIn(user_id=user.id, preview_id=pid, from_slug="anxious", to_slug="calm",
                                   moment="before", rating=1 + i % 5, at=at))
            db.session.add(CheckIn(user_id=user.id, preview_id=pid, from_slug="anxious", to_slug="calm",
                                   moment="after", rating=1 + (i + 2) % 5, at=at + timedelta(minutes=40)))
        db.session.commit()
        return user.id


def measure(count: int, repeats: int) -> tuple[float, float, float, int]:
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({
            "SECRET_KEY": "bench-" + "x" * 40, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/bench.sqlite",
            "INSTANCE_PATH": f"{tmp}/instance", "SPOTIFY_CLIENT_ID": "bench", "SPOTIFY_CLIENT_SECRET": "bench",
            "REDIS_URL": "", "SESSION_COOKIE_SECURE": False, "TESTING": True,
        })
        app.logger.disabled = True
        user_id = fill(app, count)
        client = app.test_client()
        # Log in the way a session would be after the Spotify callback.
        with client.session_transaction() as session:
            session["user_id"] = user_id
        first = client.get("/history")
        if first.status_code != 200:
            raise SystemExit(f"GET /history answered {first.status_code}: {first.get_data(as_text=True)[:500]}")
        size = len(first.data)
        times, cpu = [], []
        for _ in range(repeats):
            t0, c0 = time.perf_counter(), time.process_time()
            client.get("/history")
            times.append((time.perf_counter() - t0) * 1000)
            cpu.append((time.process_time() - c0) * 1000)
        with app.app_context():
            db.engine.dispose()
    times.sort()
    return statistics.median(times), times[max(0, int(len(times) * 0.95) - 1)], statistics.median(cpu), size


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--playlists", default="10,100,1000,3000")
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    print(f"{'playlists':>10} {'median ms':>10} {'p95 ms':>8} {'CPU ms':>7} {'page KB':>8}")
    for count in (int(x) for x in args.playlists.split(",")):
        median, p95, cpu, size = measure(count, args.repeats)
        print(f"{count:>10} {median:>10.1f} {p95:>8.1f} {cpu:>7.1f} {size / 1024:>8.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
