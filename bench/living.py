"""Living playlists at scale: N playlists all due at once, refreshed in place by worker processes.

    python -m bench.living [--playlists 10000] [--workers 2] [--min-tracks 20] [--max-tracks 50]
                           [--fault-playlists 2000] [--faults 0.01] [--retry-after 1] [--redis]
                           [--database-url postgresql://postgres@127.0.0.1:5432/test] [--seed N]

Starts, on loopback only, the fake Spotify (tests/fake_spotify: every request checked against the
OpenAPI document) in this process, and a fresh database (a schema of its own on PostgreSQL with
--database-url, else SQLite in a temporary folder) with the shipped moods and a synthetic
catalogue. It seeds --playlists listeners, each with one saved playlist of 20-50 tracks kept fresh
daily and due now, then starts --workers processes that each run the schedule once
(`service.refresh_due`, what `flask jobs run-due` runs), while this process watches every playlist
in the fake Spotify (none may ever be empty). Then it checks:

- every playlist refreshed exactly once for its due time (one done refresh each, no other rows);
- the playlist in Spotify is the new version, complete and in order (none lost, doubled or half);
- Spotify calls per refresh = ceil(N/100) (one PUT, then one POST per further 100);
- throughput (refreshes per second) and p50/p95 lateness (due time to done).

Then the same with --fault-playlists playlists while --faults of the calls answer 503 and as many
429 with Retry-After --retry-after seconds (the pause shared in Redis with --redis): 0 lost,
0 doubled, 0 half-refreshed. Exits 1 on any violation. Prints the load average beside the figures.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import random
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

ITEMS = re.compile(r"^/v1/playlists/([^/]+)/items$")


def app_config(database_url: str, fake_api: str, fake_accounts: str, folder: str, schema: str | None,
               redis_url: str) -> dict:
    options: dict = {"pool_pre_ping": True}
    if schema:
        options["connect_args"] = {"options": f"-csearch_path={schema}"}
    return {
        "TESTING": True, "SECRET_KEY": "bench-secret-key-" + "x" * 32,
        "SQLALCHEMY_DATABASE_URI": database_url, "SQLALCHEMY_ENGINE_OPTIONS": options,
        "INSTANCE_PATH": os.path.join(folder, "instance"),
        "SPOTIFY_CLIENT_ID": "test-client-id", "SPOTIFY_CLIENT_SECRET": "test-client-secret",
        "SPOTIFY_REDIRECT_URI": "http://127.0.0.1:5000/callback",
        "SPOTIFY_API_URL": fake_api, "SPOTIFY_ACCOUNTS_URL": fake_accounts,
        "SPOTIFY_TIMEOUT": 5.0, "REDIS_URL": redis_url, "SAVE_LEASE_SECONDS": 6,
        "LIVING_RETRY_BUDGET": 120,
    }


# -- a worker process -----------------------------------------------------------------------------

def worker(config_path: str, at: str) -> None:
    from datetime import datetime

    from curator import create_app
    from curator.extensions import db
    from curator.playlists import service

    app = create_app(json.loads(Path(config_path).read_text()))
    with app.app_context():
        report = service.refresh_due(datetime.fromisoformat(at))
        db.session.remove()
    print(json.dumps({"claimed": report.claimed, "refreshed": report.refreshed, "failed": report.failed,
                      "gone": report.gone, "paused": report.paused, "calls": report.calls}), flush=True)


# -- the fake Spotify with random faults ----------------------------------------------------------

def faulty_fake(rate: float, retry_after: float, seed: int):
    from tests.fake_spotify.server import FakeSpotify, _Fault
    from tests.fake_spotify.spec import SpecChecker

    class FaultyFake(FakeSpotify):
        """`rate` of the calls to a playlist's items answer 503, as many 429 with Retry-After."""

        def __init__(self, **kw):
            super().__init__(**kw)
            self.rng, self.rate = random.Random(seed), 0.0
            self.injected = {503: 0, 429: 0}

        def _take_fault(self, request):
            fault = super()._take_fault(request)
            if fault is not None or not self.rate or not ITEMS.match(request.path):
                return fault
            with self._lock:
                roll = self.rng.random()
                if roll < self.rate:
                    self.injected[503] += 1
                    return _Fault(None, ITEMS, 503, 1, None, None)
                if roll < 2 * self.rate:
                    self.injected[429] += 1
                    return _Fault(None, ITEMS, 429, 1, retry_after, None)
            return None

    return FaultyFake(checker=SpecChecker())


# -- seeding --------------------------------------------------------------------------------------

def seed_playlists(app, fake, count: int, rows: list[dict], rng: random.Random, min_tracks: int, max_tracks: int,
                   first: int = 0) -> dict[str, int]:
    """`count` listeners with one saved playlist each, kept fresh daily; playlist id -> its length."""
    from sqlalchemy import insert

    from curator.clock import utcnow
    from curator.extensions import db
    from curator.models.listening import PlaylistSave, Preview
    from curator.models.living import LivingPlaylist
    from curator.models.user import SpotifyToken, User
    from curator.spotify.token_store import cipher

    ids = [r["id"] for r in rows]
    now = utcnow()
    lengths: dict[str, int] = {}
    with app.app_context():
        box = cipher()
        for start in range(first, first + count, 500):
            stop = min(first + count, start + 500)
            users, tokens, previews, saves = [], [], [], []
            for i in range(start, stop):
                spotify_id = f"bench-{i}"
                token = fake.issue_token(spotify_id)
                token["expires_at"] = int(time.time()) + 86400
                users.append({"id": i + 1, "spotify_id": spotify_id, "display_name": spotify_id, "roles": "",
                              "created_at": now, "last_login_at": now})
                tokens.append({"user_id": i + 1, "ciphertext": box.encrypt(token), "scope": token.get("scope", ""),
                               "updated_at": now})
                n = rng.randint(min_tracks, max_tracks)
                chosen = rng.sample(ids, n)
                tracks = [{"id": t, "name": t, "artists": ["A"], "duration_ms": 200000, "position": p,
                           "reason": "", "distance": 0.0, "position_target": {}, "features": {},
                           "album_image": None} for p, t in enumerate(chosen)]
                pid = f"liv{i:07d}"
                previews.append({"id": f"bp{i:010d}", "user_id": i + 1, "parent_id": None, "from_slug": "anxious",
                                 "to_slug": "calm", "from_version_id": None, "to_version_id": None,
                                 "length_tracks": n, "length_minutes": None, "options": {}, "seed": i,
                                 "arc": "linear", "tracks": tracks, "stats": {}, "shortfall": None, "notices": [],
                                 "created_at": now})
                saves.append({"id": i + 1, "preview_id": f"bp{i:010d}", "user_id": i + 1, "idempotency_key": None,
                              "state": "done", "marker": "m", "name": f"Living {i}", "description": "d",
                              "playlist_id": pid, "url": f"https://open.spotify.com/playlist/{pid}",
                              "items_added": n, "batches_done": 1, "attempts": 1, "sending_items": 0, "cover": "",
                              "created_at": now, "updated_at": now, "completed_at": now})
                fake.add_playlist(pid, spotify_id, chosen, name=f"Living {i}", public=False)
                lengths[pid] = n
            db.session.execute(insert(User), users)
            db.session.execute(insert(SpotifyToken), tokens)
            db.session.execute(insert(Preview), previews)
            db.session.execute(insert(PlaylistSave), saves)
            db.session.execute(insert(LivingPlaylist), [
                {"user_id": s["user_id"], "save_id": s["id"], "playlist_id": s["playlist_id"], "every": "daily",
                 "hour": 7, "timezone": "UTC", "weekday": None, "next_due_at": now + timedelta(days=1),
                 "status": "active", "tracks": p["tracks"], "new_tracks": 0, "failures": 0,
                 # Spotify said today that each is still in its listener's library (a weekly look).
                 "library_checked_at": now,
                 "created_at": now, "updated_at": now} for s, p in zip(saves, previews)])
            db.session.commit()
        db.session.remove()
    return lengths


def make_due(app, at, playlist_ids: list[str]) -> None:
    from sqlalchemy import update

    from curator.extensions import db
    from curator.models.living import LivingPlaylist

    with app.app_context():
        for start in range(0, len(playlist_ids), 1000):
            db.session.execute(update(LivingPlaylist).where(LivingPlaylist.playlist_id.in_(playlist_ids[start:start + 1000]))
                               .values(next_due_at=at).execution_options(synchronize_session=False))
        db.session.commit()
        db.session.remove()


# -- watching and checking ------------------------------------------------------------------------

class Watcher(threading.Thread):
    """Looks at every playlist in the fake Spotify, again and again: none may ever be empty."""

    def __init__(self, fake, playlist_ids: set[str]):
        super().__init__(daemon=True)
        self.fake, self.ids, self.stop_flag = fake, playlist_ids, threading.Event()
        self.scans = self.empty_seen = 0
        self.empty_ids: set[str] = set()

    def run(self) -> None:
        while not self.stop_flag.is_set():
            with self.fake._lock:
                empty = [pid for pid in self.ids if not self.fake._playlists[pid].entries]
            self.scans += 1
            self.empty_seen += len(empty)
            self.empty_ids.update(empty)
            time.sleep(0.05)


def check(app, fake, lengths: dict[str, int], due_at, calls_before: int, strict_calls: bool) -> dict:
    from sqlalchemy import select

    from curator.extensions import db
    from curator.models.living import LivingPlaylist, PlaylistRefresh

    result = {"lost": 0, "doubled": 0, "half": 0, "wrong_calls": 0, "not_exactly_once": 0}
    writes: dict[str, int] = {}
    for call in fake.requests[calls_before:]:
        match = ITEMS.match(call.path)
        if match and call.method in ("PUT", "POST") and call.status < 300:
            writes[match.group(1)] = writes.get(match.group(1), 0) + 1
    with app.app_context():
        living = {row.playlist_id: row.id for row in db.session.execute(
            select(LivingPlaylist.playlist_id, LivingPlaylist.id).where(LivingPlaylist.playlist_id.in_(list(lengths))))}
        refreshes: dict[int, list] = {}
        for row in db.session.scalars(select(PlaylistRefresh).where(PlaylistRefresh.due_at == due_at)):
            refreshes.setdefault(row.living_id, []).append(row)
        lateness = []
        for pid, n in lengths.items():
            rows = refreshes.get(living[pid], [])
            done = [r for r in rows if r.state == "done"]
            if len(rows) != 1 or len(done) != 1:
                result["not_exactly_once" if rows else "lost"] += 1
                if not done:
                    continue
            wanted = [t["id"] for t in done[0].tracks]
            have = fake.playlist(pid).track_ids
            if have != wanted:
                if len(have) > len(wanted) or len(set(have)) < len(have):
                    result["doubled"] += 1
                else:
                    result["half"] += 1
            if writes.get(pid, 0) != math.ceil(len(wanted) / 100):
                result["wrong_calls"] += 1
            lateness.append((done[0].completed_at - done[0].due_at).total_seconds())
        db.session.remove()
    result["lateness"] = lateness
    result["strict_calls"] = strict_calls
    return result


def run_round(app, fake, config_path: str, lengths: dict[str, int], workers: int, label: str,
              strict_calls: bool) -> bool:
    from curator.clock import utcnow

    due = utcnow().replace(microsecond=0)
    make_due(app, due, list(lengths))
    calls_before = len(fake.requests)
    watcher = Watcher(fake, set(lengths))
    watcher.start()
    started = time.monotonic()
    procs = [subprocess.Popen([sys.executable, "-m", "bench.living", "--worker", config_path, due.isoformat()],
                              cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(workers)]
    outs = [p.communicate() for p in procs]
    took = time.monotonic() - started
    watcher.stop_flag.set()
    watcher.join()
    reports = []
    for (out, err), proc in zip(outs, procs):
        if proc.returncode != 0:
            print(f"worker failed ({proc.returncode}):\n{err[-3000:]}")
            return False
        reports.append(json.loads(out.strip().splitlines()[-1]))
    result = check(app, fake, lengths, due, calls_before, strict_calls)
    lateness = sorted(result.pop("lateness"))
    p95 = lateness[int(0.95 * (len(lateness) - 1))] if lateness else float("nan")
    p50 = statistics.median(lateness) if lateness else float("nan")
    calls = sum(r["calls"] for r in reports)
    load = os.getloadavg()
    print(f"\n== {label}: {len(lengths)} playlists of {min(lengths.values())}-{max(lengths.values())} tracks, "
          f"{workers} workers")
    print(f"   per worker: {[{k: r[k] for k in ('claimed', 'refreshed', 'failed', 'calls')} for r in reports]}")
    print(f"   wall {took:.1f} s, {len(lateness) / took:.1f} refreshes/s; lateness p50 {p50:.1f} s, p95 {p95:.1f} s, "
          f"max {lateness[-1] if lateness else float('nan'):.1f} s")
    print(f"   Spotify calls by the refreshes: {calls} ({calls / max(1, len(lateness)):.3f} per refresh); "
          f"writes not ceil(N/100): {result['wrong_calls']}")
    print(f"   watched every playlist {watcher.scans} times: empty seen {watcher.empty_seen} times "
          f"({len(watcher.empty_ids)} playlists)")
    print(f"   lost {result['lost']}, doubled {result['doubled']}, half {result['half']}, "
          f"not exactly once {result['not_exactly_once']}")
    injected = getattr(fake, "injected", None)
    if injected and fake.rate:
        print(f"   injected: {injected[503]} x 503, {injected[429]} x 429 (Retry-After)")
    print(f"   spec violations: {len(fake.violations)}; load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    ok = (result["lost"] == result["doubled"] == result["half"] == result["not_exactly_once"] == 0
          and watcher.empty_seen == 0 and not fake.violations and not fake.errors
          and (not strict_calls or result["wrong_calls"] == 0))
    return ok


def main(argv=None) -> int:
    if argv is None and len(sys.argv) > 1 and sys.argv[1] == "--worker":
        worker(sys.argv[2], sys.argv[3])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--playlists", type=int, default=10_000)
    parser.add_argument("--fault-playlists", type=int, default=2_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--min-tracks", type=int, default=20)
    parser.add_argument("--max-tracks", type=int, default=50)
    parser.add_argument("--faults", type=float, default=0.01)
    parser.add_argument("--retry-after", type=float, default=1.0)
    parser.add_argument("--redis", default="", help="a Redis URL: the 429 pause shared by the workers")
    parser.add_argument("--database-url", default="")
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args(argv)
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    print(f"seed {seed}; load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    rng = random.Random(seed)

    from curator import create_app
    from curator.extensions import db
    from tests.helpers import import_rows, synthetic_rows

    folder = tempfile.mkdtemp(prefix="living-bench-")
    schema = None
    database_url = f"sqlite:///{folder}/bench.sqlite"
    if args.database_url:
        from sqlalchemy import create_engine

        from curator.config import _database_url

        database_url = _database_url(args.database_url)
        schema = f"living_bench_{os.getpid()}_{secrets.token_hex(3)}"
        with create_engine(database_url, isolation_level="AUTOCOMMIT").connect() as conn:
            conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    fake = faulty_fake(args.faults, args.retry_after, seed)
    fake.start()
    try:
        config = app_config(database_url, fake.api_url, fake.accounts_url, folder, schema, args.redis)
        config_path = os.path.join(folder, "config.json")
        Path(config_path).write_text(json.dumps(config))
        app = create_app(config)
        with app.app_context():
            db.create_all()
            from curator.moods.service import import_shipped_if_empty

            import_shipped_if_empty()
            db.session.remove()
        rows = import_rows(app, fake, Path(folder), synthetic_rows(count=2000, artists=400))
        t = time.monotonic()
        lengths = seed_playlists(app, fake, args.playlists, rows, rng, args.min_tracks, args.max_tracks)
        print(f"seeded {len(lengths)} listeners with a living playlist each in {time.monotonic() - t:.1f} s")
        ok = run_round(app, fake, config_path, lengths, args.workers, "all due at once", strict_calls=True)
        if args.fault_playlists:
            chosen = dict(list(lengths.items())[:args.fault_playlists])
            fake.rate = args.faults
            ok = run_round(app, fake, config_path, chosen, args.workers,
                           f"{args.faults:.0%} 503 and {args.faults:.0%} 429 (Retry-After {args.retry_after:g} s)",
                           strict_calls=False) and ok
            fake.rate = 0.0
    finally:
        fake.stop()
        if schema:
            from sqlalchemy import create_engine

            with create_engine(database_url, isolation_level="AUTOCOMMIT").connect() as conn:
                conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    print("\nOK" if ok else "\nVIOLATIONS")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
