"""Load through the production server: preview and save throughput and latency under 1..64 clients,
or previews arriving at fixed rates (--open-loop).

    python -m bench.load [--tracks 100000] [--clients 1,8,32,64] [--seconds 5] [--max-requests 3000]
                         [--saves-per-client 2] [--database-url postgresql://...] [--workers N --threads N]
                         [--client raw|requests]
    python -m bench.load --open-loop [--rates 25,50,100,150,200] [--seconds 10] [--listeners 100]
                         [--fresh-share 0.1] [--pin-cpu N] [--database-url ...]

Starts, on loopback only, the fake Spotify (tests/fake_spotify, every request checked against the
OpenAPI document when it is available) and the app through the project's gunicorn.conf.py
(`gunicorn -c gunicorn.conf.py 'curator:create_app()'`) on a fresh database (SQLite in a temporary
folder unless --database-url) holding the shipped moods and a synthetic catalogue of --tracks
tracks imported with the app's own CSV importer. It logs in as many listeners as the largest
client count, then for each client count:

- preview: every client posts 20-track anxious -> calm previews back to back for --seconds
  (at most --max-requests in all);
- save: every client saves --saves-per-client previews made beforehand (untimed) to the fake Spotify.

It prints requests/s and p50/p95/p99 latency in ms for both, the non-2xx answers by status
(0 = the connection failed), and the CPU time per request of the server's processes (gunicorn's
master and workers, from /proc) and of this bench's own process (clients and fake Spotify): the
CPU figures hold up when something else shares the machine, the rates do not.
The rate limit is switched off with the app's own setting (RATELIMIT_ENABLED=false). The clients,
the fake Spotify and the server share this machine's cores: figures are for the whole loop. So the
timed previews are posted with the standard library's http.client over one kept-alive connection
per client (`--client raw`, the default): it spends about a fifth of the CPU per request that the
`requests` library does (`--client requests`, the earlier figures), CPU the server then has.
Logging in and saving always use `requests` (tests/served.py's Listener).

Open loop (--open-loop): previews are sent on a fixed schedule, one every 1/rate seconds whatever
the answers, and each latency runs from the request's *scheduled* send time to its answer, so a
request held up behind slow ones (in the driver's queue or the server's) counts all its wait (no
coordinated omission: closed-loop clients wait for an answer before sending again, so a slow
server slows the arrivals and hides the queue). The mix: --listeners logged-in listeners (at
least 100) picked at random; from/to each a random shipped mood or a random point of the mood
wheel ('point:v,a'); 10-50 tracks; a random seed; a --fresh-share of the requests on a new
connection (the rest on kept-alive ones). Per rate it prints p50/p95/p99, the server's and the
driver's CPU per request, how late the driver sent (its own lag, which would otherwise hide in
the figures) and the load average; then the highest rate whose p95 is at most 100 ms with every
answer a 2xx. --pin-cpu keeps the driver (and the fake Spotify, in its process) on one core.
"""
from __future__ import annotations

import argparse
import csv
import http.client
import json
import math
import os
import random
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.fake_spotify.server import FakeSpotify  # noqa: E402
from tests.served import Listener, app_environment, free_port, gunicorn  # noqa: E402

CSV_COLUMNS = ["name", "album", "artist", "id", "release_date", "popularity", "length", "danceability",
               "acousticness", "energy", "instrumentalness", "liveness", "valence", "loudness", "speechiness",
               "tempo", "key", "time_signature", "mood"]


def synthetic_tracks(count: int, seed: int = 7) -> list[dict]:
    """Tracks spread over the mood space (energy drives loudness, tempo and acousticness, as in
    real music), one artist per ~8 tracks, as rows of the importer's CSV format."""
    rng = random.Random(seed)
    rows = []
    for i in range(count):
        energy, valence = rng.random(), rng.random()
        rows.append({
            "name": f"Song {i}", "album": f"Album {i // 10}", "artist": f"Artist {i // 8}",
            "id": f"Trk{i:019d}", "release_date": "2020-01-01", "popularity": 50,
            "length": 150_000 + rng.randint(0, 120_000), "danceability": round(rng.random(), 3),
            "acousticness": round(1 - energy * rng.random(), 3), "energy": round(energy, 3),
            "instrumentalness": round(rng.random() * 0.5, 3), "liveness": round(rng.random() * 0.3, 3),
            "valence": round(valence, 3), "loudness": round(-25 + 22 * energy, 2),
            "speechiness": round(rng.random() * 0.1, 3),
            "tempo": round(60 + 110 * energy + rng.uniform(-10, 10), 1), "key": rng.randint(0, 11),
            "time_signature": 4, "mood": "Calm",
        })
    return rows


def write_csv(path: Path, rows: list[dict]) -> Path:
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return path


def prepare_database(config: dict, tracks: list[dict], csv_path: Path) -> None:
    """Migrations, the shipped moods and the catalogue, through the app's own code."""
    from flask_migrate import upgrade

    from curator import create_app
    from curator.catalogue.importer import import_csv
    from curator.extensions import db
    from curator.moods.service import import_shipped_if_empty

    app = create_app(config)
    with app.app_context():
        upgrade()
        import_shipped_if_empty()
        result = import_csv(str(write_csv(csv_path, tracks)))
        assert result.status == "imported", result
        db.session.remove()
        db.engine.dispose()


def add_tracks_to_fake(fake: FakeSpotify, tracks: list[dict]) -> None:
    for row in tracks:
        fake.add_track(row["id"], name=row["name"], duration_ms=int(row["length"]))


def percentile(sorted_ms: list[float], q: float) -> float:
    if not sorted_ms:
        return float("nan")
    return sorted_ms[min(len(sorted_ms) - 1, int(round(q * (len(sorted_ms) - 1))))]


class Phase:
    """Latencies and statuses of one timed phase."""

    def __init__(self) -> None:
        self.latencies_ms: list[float] = []
        self.errors: dict[int, int] = {}
        self.lock = threading.Lock()
        self.elapsed = 0.0
        self.unprepared = 0  # saves not attempted: their preview could not be made
        self.server_cpu = self.bench_cpu = math.nan  # seconds over the phase

    def timed(self, run, server_cpu) -> None:
        """Run the phase's clients, timing them and measuring the CPU the server and we spent."""
        began, server_began, bench_began = time.perf_counter(), server_cpu(), time.process_time()
        run()
        self.elapsed = time.perf_counter() - began
        self.server_cpu = server_cpu() - server_began
        self.bench_cpu = time.process_time() - bench_began

    def record(self, started: float, status: int) -> None:
        ms = (time.perf_counter() - started) * 1000
        with self.lock:
            self.latencies_ms.append(ms)
            if not 200 <= status < 300:
                self.errors[status] = self.errors.get(status, 0) + 1

    def row(self, label: str, clients: int) -> str:
        done = sorted(self.latencies_ms)
        rate = len(done) / self.elapsed if self.elapsed else 0.0
        errors = ", ".join(f"{n}×{s}" for s, n in sorted(self.errors.items())) or "0"
        if self.unprepared:
            errors += f" ({self.unprepared} not attempted: preview failed)"
        per = 1000 / len(done) if done else math.nan
        return (f"| {label} | {clients} | {len(done)} | {rate:.0f} | {percentile(done, .5):.0f} | "
                f"{percentile(done, .95):.0f} | {percentile(done, .99):.0f} | {self.server_cpu * per:.1f} | "
                f"{self.bench_cpu * per:.1f} | {errors} |")


def server_cpu_meter(port: int):
    """CPU seconds used so far by the gunicorn processes serving `port` (the master and its workers)."""
    tick = os.sysconf("SC_CLK_TCK")
    marker = f"127.0.0.1:{port}".encode()

    def used() -> float:
        total = 0
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                if marker not in (entry / "cmdline").read_bytes():
                    continue
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:  # the process ended meanwhile
                continue
            total += int(fields[11]) + int(fields[12])  # utime, stime
        return total / tick

    return used


PREVIEW_BODY = {"from": "anxious", "to": "calm", "tracks": 20}


class RawClient:
    """One logged-in listener posting previews with http.client over a kept-alive connection."""

    def __init__(self, listener: Listener):
        address = urlsplit(listener.base)
        self.connect = lambda: http.client.HTTPConnection(address.hostname, address.port, timeout=60)
        self.connection = self.connect()
        cookies = "; ".join(f"{c.name}={c.value}" for c in listener.http.cookies)
        self.headers = {"Cookie": cookies, "X-CSRFToken": listener.csrf, "Content-Type": "application/json"}
        self.body = json.dumps(PREVIEW_BODY).encode()

    def preview(self) -> int:
        try:
            self.connection.request("POST", "/api/v1/previews", body=self.body, headers=self.headers)
            response = self.connection.getresponse()
            response.read()
            return response.status
        except (http.client.HTTPException, OSError):
            self.connection.close()  # the next request opens a fresh connection
            self.connection = self.connect()
            raise


def preview_phase(listeners: list[Listener], seconds: float, max_requests: int, client_kind: str,
                  server_cpu) -> Phase:
    phase = Phase()
    budget = threading.Semaphore(max_requests)
    deadline = time.perf_counter() + seconds
    if client_kind == "raw":
        senders = [RawClient(listener).preview for listener in listeners]
    else:
        senders = [lambda listener=listener: listener.preview(**PREVIEW_BODY).status_code for listener in listeners]

    def client(send) -> None:
        while time.perf_counter() < deadline and budget.acquire(blocking=False):
            started = time.perf_counter()
            try:
                status = send()
            except Exception:  # a dropped connection counts as an error, not a crash of the bench
                status = 0
            phase.record(started, status)

    def run() -> None:
        with ThreadPoolExecutor(len(listeners)) as pool:
            list(pool.map(client, senders))

    phase.timed(run, server_cpu)
    return phase


def save_phase(listeners: list[Listener], per_client: int, round_no: int, server_cpu) -> Phase:
    previews: dict[int, list[str]] = {}
    phase = Phase()

    def make(index: int) -> None:
        previews[index] = []
        for _ in range(per_client):
            try:
                response = listeners[index].preview()
            except Exception:
                response = None
            if response is not None and response.status_code == 201:
                previews[index].append(response.json()["id"])
            else:
                with phase.lock:
                    phase.unprepared += 1

    with ThreadPoolExecutor(min(8, len(listeners))) as pool:
        list(pool.map(make, range(len(listeners))))

    def client(index: int) -> None:
        for n, preview_id in enumerate(previews[index]):
            started = time.perf_counter()
            try:
                status = listeners[index].save(preview_id, f"bench-{round_no}-{index}-{n}").status_code
            except Exception:
                status = 0
            phase.record(started, status)

    def run() -> None:
        with ThreadPoolExecutor(len(listeners)) as pool:
            list(pool.map(client, range(len(listeners))))

    phase.timed(run, server_cpu)
    return phase


def random_mix(seed: int, count: int, listeners: int, fresh_share: float) -> list[tuple[int, bytes, bool]]:
    """(listener index, JSON body, on a fresh connection?) for ``count`` previews of the open-loop mix."""
    from curator.engine import load_moods_yaml
    from curator.engine.wheel import point_slug

    slugs = [m.slug for m in load_moods_yaml((REPO / "config" / "moods.yaml").read_text(encoding="utf-8"))]
    rng = random.Random(seed)

    def place() -> str:
        if rng.random() < 0.5:
            return rng.choice(slugs)
        return point_slug(rng.random(), rng.random())

    return [(rng.randrange(listeners),
             json.dumps({"from": place(), "to": place(), "tracks": rng.randint(10, 50),
                         "seed": rng.randrange(2**31)}).encode(),
             rng.random() < fresh_share)
            for _ in range(count)]


class OpenLoop:
    """Previews at a fixed rate: a dispatcher hands each one, at its scheduled time, to a pool of
    sender threads (far more than the server has) with a kept-alive connection each."""

    def __init__(self, listeners: list[Listener], senders: int = 256):
        address = urlsplit(listeners[0].base)
        self.host, self.port = address.hostname, address.port
        self.headers = [{"Cookie": "; ".join(f"{c.name}={c.value}" for c in listener.http.cookies),
                         "X-CSRFToken": listener.csrf, "Content-Type": "application/json"}
                        for listener in listeners]
        self.senders = senders

    def run(self, rate: float, seconds: float, mix: list[tuple[int, bytes, bool]], server_cpu) -> dict:
        import queue

        count = len(mix)
        latencies: list[float] = [math.nan] * count
        statuses: list[int] = [0] * count
        lags: list[float] = []
        jobs: queue.Queue = queue.Queue()
        local = threading.local()

        def connection(fresh: bool) -> http.client.HTTPConnection:
            if fresh:
                return http.client.HTTPConnection(self.host, self.port, timeout=60)
            kept = getattr(local, "connection", None)
            if kept is None:
                kept = local.connection = http.client.HTTPConnection(self.host, self.port, timeout=60)
            return kept

        def sender() -> None:
            while True:
                job = jobs.get()
                if job is None:
                    return
                i, scheduled = job
                who, body, fresh = mix[i]
                conn = connection(fresh)
                status = 0
                try:
                    conn.request("POST", "/api/v1/previews", body=body, headers=self.headers[who])
                    response = conn.getresponse()
                    response.read()
                    status = response.status
                except (http.client.HTTPException, OSError):
                    conn.close()
                    if not fresh:
                        local.connection = None
                if fresh:
                    conn.close()
                latencies[i] = (time.perf_counter() - scheduled) * 1000
                statuses[i] = status

        threads = [threading.Thread(target=sender, daemon=True) for _ in range(self.senders)]
        for thread in threads:
            thread.start()
        interval = 1.0 / rate
        cpu0, bench0, wall0 = server_cpu(), time.process_time(), time.perf_counter()
        start = time.perf_counter() + 0.05
        for i in range(count):
            scheduled = start + i * interval
            delay = scheduled - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            lags.append((time.perf_counter() - scheduled) * 1000)
            jobs.put((i, scheduled))
        for _ in threads:
            jobs.put(None)
        cutoff = time.perf_counter() + 60  # answers still missing a minute after the last send: lost
        for thread in threads:
            thread.join(max(0.0, cutoff - time.perf_counter()))
        elapsed = time.perf_counter() - wall0
        server, bench = server_cpu() - cpu0, time.process_time() - bench0
        answered = [ms for ms in latencies if not math.isnan(ms)]
        missing = count - len(answered)
        # A lost answer counts as the slowest possible, so it can only raise the percentiles.
        done = sorted(answered) + [math.inf] * missing
        errors: dict[int, int] = {}
        for ms, status in zip(latencies, statuses):
            if math.isnan(ms) or not 200 <= status < 300:
                code = -1 if math.isnan(ms) else status
                errors[code] = errors.get(code, 0) + 1
        lags.sort()
        return {"rate": rate, "sent": count, "seconds": elapsed, "p50": percentile(done, .5),
                "p95": percentile(done, .95), "p99": percentile(done, .99), "errors": errors,
                "server_ms": server * 1000 / count, "bench_ms": bench * 1000 / count,
                "lag_p99": percentile(lags, .99), "load": os.getloadavg()[0],
                "answered_per_s": len(answered) / elapsed if elapsed else 0.0}


def open_loop(args, base: str, fake: FakeSpotify, server_cpu) -> None:
    rates = [float(r) for r in args.rates.split(",") if r.strip()]
    listeners = [Listener(base, fake, f"open-{i}") for i in range(args.listeners)]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda listener: listener.login(), listeners))
    # Every worker process loads the catalogue on its first preview, and every listener's first
    # preview creates their taste row: both before any figure (a steady state, not a launch).
    with ThreadPoolExecutor(8) as pool:
        firsts = list(pool.map(lambda listener: listener.preview().status_code, listeners))
    warm = preview_phase(listeners[:16], args.warmup, 16 * 50, "raw", server_cpu)
    print(f"warm-up: one preview per listener ({sum(1 for s in firsts if s != 201)} not 201), then "
          f"{len(warm.latencies_ms)} previews in {warm.elapsed:.1f} s", flush=True)
    if args.pin_cpu is not None:
        os.sched_setaffinity(0, {args.pin_cpu})  # after gunicorn started: its processes keep every core
    driver = OpenLoop(listeners)
    size = {"workers": args.workers or None, "threads": args.threads or None}
    pinned = f"pinned to CPU {args.pin_cpu}" if args.pin_cpu is not None else "not pinned"
    print(f"\n{args.tracks:,} tracks; server: gunicorn.conf.py ({_describe(size)}); "
          f"open loop, {args.seconds:g} s per rate; {args.listeners} listeners; random moods and wheel points, "
          f"10-50 tracks, random seeds; {args.fresh_share:.0%} on fresh connections; driver "
          f"{pinned}\n")
    print("| offered/s | sent | answered/s | p50 ms | p95 ms | p99 ms | server CPU ms/req | driver CPU ms/req "
          "| driver send lag p99 ms | not 2xx | load avg |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    best = None
    for n, rate in enumerate(rates):
        mix = random_mix(1000 + n, max(1, int(rate * args.seconds)), len(listeners), args.fresh_share)
        result = driver.run(rate, args.seconds, mix, server_cpu)
        errors = ", ".join(f"{count}×{'lost' if code == -1 else code}"
                           for code, count in sorted(result["errors"].items())) or "0"
        print(f"| {rate:g} | {result['sent']} | {result['answered_per_s']:.0f} | {_ms(result['p50'])} | "
              f"{_ms(result['p95'])} | {_ms(result['p99'])} | {result['server_ms']:.1f} | {result['bench_ms']:.1f} | "
              f"{result['lag_p99']:.1f} | {errors} | {result['load']:.1f} |", flush=True)
        if result["p95"] <= 100 and not result["errors"]:
            best = rate if best is None else max(best, rate)
        time.sleep(2)  # let the queue drain between rates
    found = "none of those tried" if best is None else f"{best:g}/s"
    print(f"\nhighest offered rate with p95 <= 100 ms and every answer 2xx: {found}")


def _ms(value: float) -> str:
    return "lost" if math.isinf(value) else f"{value:.0f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tracks", type=int, default=100_000)
    parser.add_argument("--clients", default="1,8,32,64")
    parser.add_argument("--seconds", type=float, default=5.0, help="length of each preview phase")
    parser.add_argument("--max-requests", type=int, default=3000, help="cap on previews per phase")
    parser.add_argument("--saves-per-client", type=int, default=2)
    parser.add_argument("--warmup", type=float, default=10.0, help="seconds of untimed previews first")
    parser.add_argument("--database-url", default="", help="PostgreSQL URL (default: SQLite in a temp folder)")
    parser.add_argument("--workers", type=int, default=0, help="default: gunicorn.conf.py's choice")
    parser.add_argument("--threads", type=int, default=0, help="default: gunicorn.conf.py's choice")
    parser.add_argument("--log", default="", help="write gunicorn's output to this file")
    parser.add_argument("--client", choices=("raw", "requests"), default="raw",
                        help="how the timed previews are sent (see the module docstring)")
    parser.add_argument("--open-loop", action="store_true", help="previews at fixed rates (see the module docstring)")
    parser.add_argument("--rates", default="25,50,100,150,200", help="open loop: previews per second, one phase each")
    parser.add_argument("--listeners", type=int, default=100, help="open loop: logged-in listeners (at least 100)")
    parser.add_argument("--fresh-share", type=float, default=0.1, help="open loop: share sent on a new connection")
    parser.add_argument("--pin-cpu", type=int, default=None, help="open loop: keep the driver on this core")
    args = parser.parse_args(argv)
    if args.open_loop and args.listeners < 100:
        parser.error("--listeners: the open-loop mix takes at least 100")
    levels = [int(c) for c in args.clients.split(",") if c.strip()]
    if not levels or min(levels) < 1 or max(levels) > 256:
        parser.error("--clients takes counts between 1 and 256")
    if args.database_url and not any(h in args.database_url for h in ("@127.0.0.1", "@localhost", "@[::1]")):
        parser.error("--database-url must point at a loopback server")

    tmp = Path(tempfile.mkdtemp(prefix="curator-load-"))
    fake = FakeSpotify(checker=_checker())
    fake.start()
    try:
        config = {
            "SECRET_KEY": "load-bench-" + os.urandom(16).hex(),
            "SQLALCHEMY_DATABASE_URI": _url(args.database_url) if args.database_url else f"sqlite:///{tmp / 'load.sqlite'}",
            "INSTANCE_PATH": str(tmp / "instance"),
            "SPOTIFY_CLIENT_ID": fake.client_id, "SPOTIFY_CLIENT_SECRET": fake.client_secret,
            "SPOTIFY_API_URL": fake.api_url, "SPOTIFY_ACCOUNTS_URL": fake.accounts_url,
            "RECCOBEATS_API_URL": fake.reccobeats_url,
        }
        started = time.perf_counter()
        tracks = synthetic_tracks(args.tracks)
        prepare_database(config, tracks, tmp / "catalogue.csv")
        add_tracks_to_fake(fake, tracks)
        print(f"catalogue of {args.tracks:,} tracks ready in {time.perf_counter() - started:.1f} s", flush=True)

        port = free_port()
        env = app_environment(config, None, f"http://127.0.0.1:{port}", RATELIMIT_ENABLED="false")
        size = {"workers": args.workers or None, "threads": args.threads or None}
        with gunicorn(env, port=port, log_path=args.log or None, **size) as base:
            server_cpu = server_cpu_meter(port)
            if args.open_loop:
                open_loop(args, base, fake, server_cpu)
                return _fake_ok(fake)
            listeners = [Listener(base, fake, f"load-{i}") for i in range(max(16, max(levels)))]
            with ThreadPoolExecutor(8) as pool:
                list(pool.map(lambda listener: listener.login(), listeners))
            # Every worker process loads the catalogue on its first preview: warm them all up first,
            # with enough simultaneous requests to reach each process (not part of any figure).
            warm = preview_phase(listeners[:16], args.warmup, 16 * 50, args.client, server_cpu)
            print(f"warm-up: {len(warm.latencies_ms)} previews in {warm.elapsed:.1f} s", flush=True)
            print(f"\n{args.tracks:,} tracks; server: gunicorn.conf.py ({_describe(size)}); "
                  f"{args.seconds:g} s per preview phase (≤ {args.max_requests} requests); "
                  f"{args.saves_per_client} saves per client; previews sent with {_client_name(args.client)}\n")
            print("| request | clients | done | req/s | p50 ms | p95 ms | p99 ms | server CPU ms/req "
                  "| bench CPU ms/req | non-2xx |")
            print("|---|---|---|---|---|---|---|---|---|---|")
            for round_no, clients in enumerate(levels):
                group = listeners[:clients]
                phase = preview_phase(group, args.seconds, args.max_requests, args.client, server_cpu)
                print(phase.row("preview", clients), flush=True)
                if args.saves_per_client:
                    print(save_phase(group, args.saves_per_client, round_no, server_cpu).row("save", clients),
                          flush=True)
        if fake.violations or fake.errors:
            print(f"\nfake Spotify: {len(fake.violations)} spec violations, {len(fake.errors)} errors", file=sys.stderr)
            return 1
    finally:
        fake.stop()
    return 0


def _fake_ok(fake: FakeSpotify) -> int:
    if fake.violations or fake.errors:
        print(f"\nfake Spotify: {len(fake.violations)} spec violations, {len(fake.errors)} errors", file=sys.stderr)
        return 1
    return 0


def _client_name(kind: str) -> str:
    return "http.client (kept-alive connections)" if kind == "raw" else "requests"


def _describe(size: dict) -> str:
    """The worker and thread counts the server runs with, as gunicorn.conf.py computes them."""
    import runpy

    saved = {k: os.environ.get(k) for k in ("WEB_CONCURRENCY", "WEB_THREADS")}
    try:
        for key, value in (("WEB_CONCURRENCY", size["workers"]), ("WEB_THREADS", size["threads"])):
            if value:
                os.environ[key] = str(value)
        conf = runpy.run_path(str(REPO / "gunicorn.conf.py"))
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return f"{conf['workers']} workers × {conf['threads']} threads"


def _checker():
    from tests.fake_spotify.spec import SpecChecker

    try:
        return SpecChecker()
    except Exception as exc:  # no OpenAPI document on this machine: run unchecked, and say so
        print(f"(requests to the fake Spotify are not spec-checked: {exc})", file=sys.stderr)
        return None


def _url(url: str) -> str:
    from curator.config import _database_url

    return _database_url(url)


if __name__ == "__main__":
    raise SystemExit(main())
