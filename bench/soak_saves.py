"""Soak the save to Spotify: N saves under random faults, each checked to end well.

    python -m bench.soak_saves [--saves 1000] [--seed N] [--timeout 0.4] [--budget 2] [--batch 10]
                               [--max-tracks 40] [--listeners N] [--gateway-retries 3]

Starts, on loopback only, the fake Spotify (tests/fake_spotify, every request checked against the
OpenAPI document) and the app in-process on a fresh SQLite database in a temporary folder, with
the shipped moods and a synthetic catalogue. Listeners (one per 100 saves unless --listeners)
take turns saving --saves previews of 5 to --max-tracks tracks through the JSON API, one after
another. Before each save, 0-3 faults are set on the
requests a save makes (create, add items, reading the listener's playlists or a playlist's
items): 429 with Retry-After, 500, 502, 503, a timeout, a reset connection, a lost response
(Spotify acted, the answer never came), a late create or add (it lands after we stopped
waiting), a very late create (it lands after the save stopped waiting for it and made another:
3.5-5 timeouts after it was sent), an expired access token, or an outage of 3-8 failures in a row.

Each save must end with exactly one playlist carrying its marker, holding the preview's tracks
in order; or with a clear error (a message naming the cause), a record that is not done and a
playlist, if any, that saving again ("finish saving", with Spotify recovered) completes. Once every
late request has landed, the look for strays that the job runner makes at SAVE_STRAY_CHECK_SECONDS
runs (`service.remove_strays`, as of that time), and only then are the listener's playlists
checked: at the end no playlist of the listener may be empty, incomplete or a second copy. Exits 1 on any
violation. Times are scaled down so a thousand saves run in minutes: --timeout is
SPOTIFY_TIMEOUT, --budget SAVE_RETRY_BUDGET, backoff is scaled by budget/10, --batch shrinks the
100-URI batch so long playlists take several adds; --gateway-retries is SPOTIFY_MAX_RETRIES
(the gateway's own retries of reads, whose backoff is scaled too). The seed is printed; the
same seed gives the same faults (their exact timing still depends on the machine).
"""
from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

OPERATIONS = {
    "create": ("POST", r"^/v1/me/playlists$"),
    "add": ("POST", r"^/v1/playlists/[^/]+/items$"),
    "find": ("GET", r"^/v1/me/playlists$"),
    "read": ("GET", r"^/v1/playlists/[^/]+/items$"),
}
FAULTS = ("429", "500", "502", "503", "timeout", "reset", "lost", "late", "very-late", "expired", "outage")
# Phrases the listener may see as the cause of a save that stopped (saving.plain_cause).
CAUSES = ("Spotify is having trouble right now", "Spotify didn't answer in time", "connection to Spotify broke off",
          "Spotify is busy", "Spotify asked us to slow down")


@dataclass
class SoakReport:
    seed: int
    saves: int = 0
    completed_first_time: int = 0
    stopped_then_finished: int = 0
    faults: Counter = field(default_factory=Counter)
    statuses: Counter = field(default_factory=Counter)
    violations: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> str:
        faults = ", ".join(f"{k} {v}" for k, v in sorted(self.faults.items()))
        statuses = ", ".join(f"{k}: {v}" for k, v in sorted(self.statuses.items()))
        return (f"seed {self.seed}: {self.saves} saves in {self.seconds:.0f} s; "
                f"{self.completed_first_time} complete at the first try, {self.stopped_then_finished} stopped "
                f"with a clear error and finished on the second; first answers {statuses}; "
                f"faults set: {faults}; violations: {len(self.violations)}")


def _inject(fake, rng: random.Random, user: str, timeout: float, scale: float, report: SoakReport) -> None:
    for _ in range(rng.choice((0, 1, 1, 2, 3))):
        kind = rng.choice(FAULTS)
        op = rng.choice(tuple(OPERATIONS))
        method, path = OPERATIONS[op]
        report.faults[kind] += 1
        if kind == "429":
            fake.fail_next(method, path, 429, retry_after=rng.choice((0.5, 1.5, 3.0)) * scale)
        elif kind in ("500", "502", "503"):
            fake.fail_next(method, path, int(kind))
        elif kind == "outage":
            fake.fail_next(method, path, rng.choice((500, 502, 503)), times=rng.randint(3, 8))
        elif kind == "timeout":
            fake.delay_next(method, path, timeout * 1.5)
        elif kind == "late":
            method, path = OPERATIONS[rng.choice(("create", "add"))]
            fake.delay_next(method, path, timeout * rng.uniform(1.2, 2.0))
        elif kind == "very-late":  # past the settle window: the save makes another, the sweep removes this
            fake.delay_next(*OPERATIONS["create"], timeout * rng.uniform(3.5, 5.0))
        elif kind == "reset":
            fake.drop_next(method, path)
        elif kind == "lost":
            fake.drop_next(method, path, after=True)
        elif kind == "expired":
            fake.expire_tokens(user)


def _clear_faults(fake) -> None:
    with fake._lock:
        fake._faults.clear()
        fake._delays.clear()
        fake._drops.clear()


def _playlists_with(fake, user: str, marker: str):
    return [p for p in fake.playlists_of(user) if marker in (p.description or "")]


def sweep(app, service, utcnow) -> None:
    """The job runner's look for strays, as it runs once their check is due (every late request has
    landed by now: `fake.wait_idle`)."""
    from datetime import timedelta

    with app.app_context():
        service.remove_strays(now=utcnow() + timedelta(seconds=app.config["SAVE_STRAY_CHECK_SECONDS"]))


def soak(app, fake, *, saves: int, seed: int, listeners: int = 0, batch: int = 10, max_tracks: int = 40,
         log=print) -> SoakReport:
    """Run the soak with an app whose moods and catalogue are loaded.

    `listeners` (default: one per 100 saves) log in and take turns, so each holds about 100
    playlists, as a real listener might; the marker search reads all of them.
    """
    from curator import retrying
    from curator.clock import utcnow
    from curator.extensions import db
    from curator.models.listening import PlaylistSave
    from curator.playlists import saving, service
    from tests.helpers import login

    rng = random.Random(seed)
    report = SoakReport(seed=seed)
    timeout = app.config["SPOTIFY_TIMEOUT"]
    scale = app.config["SAVE_RETRY_BUDGET"] / 10
    saved_batch, saved_waits = saving.ADD_BATCH, (retrying.BACKOFF_FIRST, saving.RETRY_MAX_WAIT, saving.WAIT_FOR_OTHER_SECONDS)
    saving.ADD_BATCH = batch
    retrying.BACKOFF_FIRST, saving.RETRY_MAX_WAIT = retrying.BACKOFF_FIRST * scale, saving.RETRY_MAX_WAIT * scale
    saving.WAIT_FOR_OTHER_SECONDS = 0.2
    people = []
    for n in range(listeners or -(-saves // 100)):
        user, client = f"soak-listener-{n}", app.test_client()
        login(client, fake, user)
        people.append((user, client, {"X-CSRFToken": client.get("/api/v1/session").json["csrf_token"]}))
    moods = [m["slug"] for m in people[0][1].get("/api/v1/moods", headers=people[0][2]).json["moods"]]
    started = time.monotonic()
    try:
        for i in range(saves):
            user, client, headers = people[i % len(people)]
            body = {"from": rng.choice(moods), "to": rng.choice(moods), "tracks": rng.randint(min(5, max_tracks), max_tracks),
                    "seed": rng.randrange(2**31)}
            made = client.post("/api/v1/previews", json=body, headers=headers)
            if made.status_code != 201:
                report.violations.append(f"save {i}: preview {body} answered {made.status_code} {made.json}")
                continue
            preview = made.json
            wanted = [t["id"] for t in preview["tracks"]]
            key = {**headers, "Idempotency-Key": f"soak-{i}"}
            faults_before, calls_before = Counter(report.faults), len(fake.requests)
            _inject(fake, rng, user, timeout, scale, report)
            first = client.post(f"/api/v1/previews/{preview['id']}/playlist", headers=key)
            report.saves += 1
            report.statuses[first.status_code] += 1
            _clear_faults(fake)
            fake.wait_idle(timeout=30)  # late requests land now, if they ever do
            sweep(app, service, utcnow)
            with app.app_context():
                row = db.session.scalar(db.select(PlaylistSave).where(PlaylistSave.preview_id == preview["id"]))
                marker, state = row.marker, row.state
            problem = None
            if first.status_code in (200, 201):
                report.completed_first_time += 1
            else:
                message = (first.json or {}).get("error", {}).get("message", "")
                if state == "done":
                    problem = f"answered {first.status_code} but the record is done"
                elif not any(cause in message for cause in CAUSES):
                    problem = f"unclear error {first.status_code}: {message!r}"
                else:
                    finish = client.post(f"/api/v1/previews/{preview['id']}/playlist", headers=key)
                    fake.wait_idle(timeout=30)
                    sweep(app, service, utcnow)
                    if finish.status_code not in (200, 201):
                        problem = f"finish saving answered {finish.status_code}: {finish.json}"
                    else:
                        report.stopped_then_finished += 1
            found = _playlists_with(fake, user, marker)
            if problem is None and len(found) != 1:
                problem = f"{len(found)} playlists carry its marker"
            elif problem is None and found[0].track_ids != wanted:
                problem = f"playlist holds {len(found[0].track_ids)} of {len(wanted)} tracks or out of order"
            if problem:
                trail = [f"{c.method} {c.path.rsplit('/', 1)[-1] if 'items' in c.path else c.path} {c.status}"
                         for c in fake.requests[calls_before:]]
                report.violations.append(f"save {i} (faults: {dict(report.faults - faults_before)}): {problem}; "
                                         f"requests: {trail}")
            if log and (i + 1) % 100 == 0:
                log(f"  {i + 1} saves, {len(report.violations)} violations, {time.monotonic() - started:.0f} s")
        # Nothing left behind: every playlist of a listener is one complete save, each marker once.
        playlists = [p for user, _, _ in people for p in fake.playlists_of(user)]
        markers = Counter((p.description or "").rsplit("(", 1)[-1] for p in playlists)
        report.violations += [f"empty playlist left behind: {p.id} {p.description!r}"
                              for p in playlists if not p.track_ids]
        report.violations += [f"marker {m!r} on {n} playlists" for m, n in markers.items() if n > 1]
        if len(playlists) != report.saves:
            report.violations.append(f"{len(playlists)} playlists for {report.saves} saves")
    finally:
        saving.ADD_BATCH = saved_batch
        retrying.BACKOFF_FIRST, saving.RETRY_MAX_WAIT, saving.WAIT_FOR_OTHER_SECONDS = saved_waits
        report.seconds = time.monotonic() - started
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--saves", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--timeout", type=float, default=0.4, help="SPOTIFY_TIMEOUT in seconds")
    parser.add_argument("--budget", type=float, default=2.0, help="SAVE_RETRY_BUDGET in seconds")
    parser.add_argument("--batch", type=int, default=10, help="URIs per add (Spotify allows 100)")
    parser.add_argument("--max-tracks", type=int, default=40)
    parser.add_argument("--listeners", type=int, default=0, help="default: one per 100 saves")
    parser.add_argument("--gateway-retries", type=int, default=3, help="SPOTIFY_MAX_RETRIES")
    args = parser.parse_args(argv)
    if not 1 <= args.saves <= 100_000:
        parser.error("--saves is between 1 and 100000")
    seed = args.seed if args.seed is not None else random.randrange(2**31)
    print(f"soak_saves: {args.saves} saves, seed {seed} (rerun with --seed {seed})", flush=True)

    from curator import create_app
    from curator.extensions import db
    from curator.moods.service import import_shipped_if_empty
    from tests.fake_spotify.server import FakeSpotify
    from tests.helpers import import_rows, synthetic_rows

    # tmpfs when there is one: the soak is about saving logic, not the disk's fsync latency.
    shm = "/dev/shm" if Path("/dev/shm").is_dir() else None
    with tempfile.TemporaryDirectory(dir=shm) as tmp, FakeSpotify() as fake:
        app = create_app({
            "TESTING": True, "SECRET_KEY": "soak-" + "x" * 40, "SESSION_COOKIE_SECURE": False,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/soak.sqlite", "INSTANCE_PATH": f"{tmp}/instance",
            "SPOTIFY_CLIENT_ID": "test-client-id", "SPOTIFY_CLIENT_SECRET": "test-client-secret",
            "SPOTIFY_REDIRECT_URI": "http://127.0.0.1:5000/callback", "SPOTIFY_API_URL": fake.api_url,
            "SPOTIFY_ACCOUNTS_URL": fake.accounts_url, "RECCOBEATS_API_URL": fake.reccobeats_url,
            "SPOTIFY_TIMEOUT": args.timeout, "SAVE_RETRY_BUDGET": args.budget,
            "SPOTIFY_MAX_RETRY_WAIT": 0.2, "SPOTIFY_MAX_RETRIES": args.gateway_retries, "RATELIMIT_ENABLED": False, "REDIS_URL": "",
            # Each save in its request, so it has ended when the check after it runs (the threads
            # saves run on in production are tests/playlists/test_save_beside.py's and bench/slow_spotify's).
            "SAVE_ANSWER_SECONDS": 0,
        })
        with app.app_context():
            db.create_all()
            import_shipped_if_empty()
        import_rows(app, fake, Path(tmp), synthetic_rows(count=1500, artists=500))
        report = soak(app, fake, saves=args.saves, seed=seed, listeners=args.listeners, batch=args.batch,
                      max_tracks=args.max_tracks)
    print(report.summary())
    for line in report.violations[:20]:
        print("  VIOLATION", line)
    print(f"spec violations in requests to the fake Spotify: {len(fake.violations)}")
    return 1 if report.violations or fake.violations or fake.errors else 0


if __name__ == "__main__":
    sys.exit(main())
