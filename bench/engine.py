"""Engine speed: a 50-track anxious -> calm arc on synthetic catalogues of 10k, 100k and 1M tracks.

    python -m bench.engine [path/to/moods-labelled-dev.csv] [--repeats 15] [--sizes 10000,100000,1000000]
                           [--threads 1,all]

Each size is timed with one BLAS thread (what a web worker runs, curator/blas.py) and with every
thread OpenBLAS wants (the CLI), on an idle machine and beside a CPU-burning neighbour process the
bench starts itself (stopped after each line, and by itself after 5 minutes at most). Then the
catalogue is written as the web workers' shared files and a fresh process opens it and runs its
first, cold curate(): load time, first-call time and the memory the process added on its own
(beyond the shared, memory-mapped columns).

Synthetic tracks are resampled from the labelled dev set with Gaussian jitter (a tenth of each
feature's spread), so their joint feature distribution looks like real music; mode (absent from
the CSV) is drawn 60% major, keys uniformly, one artist per ~8 tracks. The naive baseline is a
straightforward per-track, per-position pure-Python scorer; it is timed on 10k rows and
extrapolated linearly to larger sizes (the output says so).
"""
from __future__ import annotations

import argparse
import csv
import math
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from contextlib import contextmanager, nullcontext
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

from curator.catalogue.matrix import open_stored, write_stored
from curator.engine import (
    FEATURES,
    Catalogue,
    CurateOptions,
    Length,
    curate,
    load_moods_yaml,
)
from curator.engine.arc import build_arc
from curator.engine.features import normalise
from curator.engine.scoring import normalised_weights

REPO = Path(__file__).resolve().parents[1]
DEFAULT_CSV = REPO.parent / "shared" / "data" / "moods-labelled-dev.csv"
CSV_FEATURES = [f for f in FEATURES if f != "mode"]
DOMAIN = {"loudness": (-60.0, 0.0), "tempo": (30.0, 250.0)}


def load_feature_rows(path: Path) -> tuple[np.ndarray, np.ndarray]:
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    feats = np.array([[float(r[f]) for f in CSV_FEATURES] for r in rows])
    durations = np.array([float(r["length"]) for r in rows])
    return feats, durations


def synthetic_catalogue(n: int, feats: np.ndarray, durations: np.ndarray, seed: int = 0) -> Catalogue:
    """Resample real rows and jitter them, clipped to each feature's domain."""
    rng = np.random.default_rng(seed)
    pick = rng.integers(0, len(feats), size=n)
    jitter = rng.standard_normal((n, len(CSV_FEATURES))) * (feats.std(axis=0) / 10)
    sample = feats[pick] + jitter
    for j, name in enumerate(CSV_FEATURES):
        lo, hi = DOMAIN.get(name, (0.0, 1.0))
        np.clip(sample[:, j], lo, hi, out=sample[:, j])
    matrix = np.empty((n, len(FEATURES)), dtype=np.float32)
    for j, name in enumerate(CSV_FEATURES):
        matrix[:, FEATURES.index(name)] = sample[:, j]
    matrix[:, FEATURES.index("mode")] = rng.random(n) < 0.6
    return Catalogue.from_arrays(
        matrix,
        primary_artist=rng.integers(0, max(1, n // 8), size=n).astype(np.int32),
        durations_ms=(durations[pick] * rng.uniform(0.9, 1.1, size=n)).astype(np.int32),
        explicit=rng.random(n) < 0.1,
        key=rng.integers(0, 12, size=n),
        recording_keys=np.arange(n, dtype=np.int64),
    )


def naive_scores(catalogue: Catalogue, start, target, length: int) -> list[int]:
    """The straightforward way: for each position, loop over every track in Python."""
    arc = build_arc(start, target, length)
    weights = normalised_weights(arc.weights).tolist()
    targets = arc.targets.tolist()
    lo = [float(v) for v in normalise(np.zeros(len(FEATURES)))]
    span = [float(v) for v in (normalise(np.ones(len(FEATURES))) - normalise(np.zeros(len(FEATURES))))]
    rows = catalogue.features.tolist()
    best = []
    for p in range(length):
        w, t = weights[p], targets[p]
        best_row, best_d = -1, math.inf
        for i, row in enumerate(rows):
            d = 0.0
            for f in range(len(FEATURES)):
                x = lo[f] + row[f] * span[f]
                d += w[f] * (x - t[f]) ** 2
            if d < best_d:
                best_row, best_d = i, d
        best.append(best_row)
    return best


def time_curate(catalogue: Catalogue, start, target, repeats: int, same_pair: bool) -> list[float]:
    """Per-call ms over seeds. ``same_pair``: the pre-selection remembered from the warm-up run
    answers (a mood pair asked for again); otherwise every call scans the whole matrix (a new pair)."""
    curate(catalogue, start, target, Length(tracks=50), CurateOptions(seed=0))  # warm caches
    times = []
    for seed in range(repeats):
        if not same_pair:
            catalogue.preselection_memo.clear()
        t0 = time.perf_counter()
        curate(catalogue, start, target, Length(tracks=50), CurateOptions(seed=seed))
        times.append((time.perf_counter() - t0) * 1000)
    return times


def _burn(deadline: float) -> None:
    x = 0
    while time.monotonic() < deadline:
        x += 1


@contextmanager
def busy_neighbour(seconds: float):
    """A CPU-burning process beside the engine, stopped on leaving (or by itself after ``seconds``)."""
    process = multiprocessing.get_context("spawn").Process(target=_burn, args=(time.monotonic() + seconds,), daemon=True)
    process.start()
    time.sleep(0.3)  # let it get going
    try:
        yield
    finally:
        process.terminate()
        process.join(5)


def _anon_rss_mib() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def cold_start(folder: str, threads: int) -> dict:
    """In a fresh process: open a stored catalogue (memory-mapped) and run the first curate()."""
    with threadpool_limits(limits=threads, user_api="blas"):
        moods = {m.slug: m for m in load_moods_yaml((REPO / "config" / "moods.yaml").read_text(encoding="utf-8"))}
        start, target = moods["anxious"], moods["calm"]
        base = _anon_rss_mib()
        t0 = time.perf_counter()
        catalogue = open_stored(Path(folder))
        load_ms = (time.perf_counter() - t0) * 1000
        t0 = time.perf_counter()
        curate(catalogue, start, target, Length(tracks=50), CurateOptions(seed=0))
        first_ms = (time.perf_counter() - t0) * 1000
        t0 = time.perf_counter()
        curate(catalogue, start, target, Length(tracks=50), CurateOptions(seed=1))
        second_ms = (time.perf_counter() - t0) * 1000
        return {"load_ms": load_ms, "first_ms": first_ms, "second_ms": second_ms, "process_mib": _anon_rss_mib(),
                "private_mib": _anon_rss_mib() - base, "shared_mib": catalogue.column_bytes() / 2**20}


def p95(values: list[float]) -> float:
    return float(np.percentile(values, 95))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("csv", nargs="?", default=str(DEFAULT_CSV))
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--threads", default="1,all", help="BLAS thread settings to compare (1 = a web worker)")
    args = parser.parse_args()
    path = Path(args.csv)
    if not path.is_file():
        print(f"Labelled data not found at {path}. Pass the CSV path as the first argument.", file=sys.stderr)
        return 2
    moods = {m.slug: m for m in load_moods_yaml((REPO / "config" / "moods.yaml").read_text(encoding="utf-8"))}
    start, target = moods["anxious"], moods["calm"]
    feats, durations = load_feature_rows(path)
    sizes = [int(s) for s in args.sizes.split(",")]
    settings = [None if t == "all" else int(t) for t in args.threads.split(",")]

    blas = [f"{p['internal_api']} {p['version']} ({p['architecture']}, {p['num_threads']} threads)"
            for p in threadpool_info() if p["user_api"] == "blas"]
    print(f"numpy {np.__version__}, {os.cpu_count()} CPUs, BLAS {', '.join(blas)}, "
          f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}, load average {os.getloadavg()[0]:.1f}")
    print(f"50-track arc anxious -> calm, {args.repeats} runs per line (after one warm-up run); "
          "'new pair' scans the whole matrix every call, 'same pair' reuses the remembered pre-selection")
    medians = {}
    for n in sizes:
        catalogue = synthetic_catalogue(n, feats, durations)
        for threads in settings:
            label = "1 BLAS thread " if threads == 1 else (f"{threads} BLAS threads" if threads else "all BLAS threads")
            with threadpool_limits(limits=threads, user_api="blas"):
                for neighbour in ("idle", "busy"):
                    with busy_neighbour(300) if neighbour == "busy" else nullcontext():
                        fresh = time_curate(catalogue, start, target, args.repeats, same_pair=False)
                        again = time_curate(catalogue, start, target, args.repeats, same_pair=True)
                    if threads == 1 and neighbour == "idle":
                        medians[n] = statistics.median(fresh)
                    print(f"  {n:>9,} tracks, {label}, {neighbour}: new pair median {statistics.median(fresh):6.1f} ms"
                          f"  p95 {p95(fresh):6.1f} ms;  same pair median {statistics.median(again):6.1f} ms"
                          f"  p95 {p95(again):6.1f} ms", flush=True)
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp) / "catalogue"
            t0 = time.perf_counter()
            write_stored(folder, catalogue)
            write_s = time.perf_counter() - t0
            del catalogue
            with multiprocessing.get_context("spawn").Pool(1) as pool:
                cold = pool.apply(cold_start, (str(folder), 1))
        print(f"  {n:>9,} tracks, cold worker (1 BLAS thread): written once in {write_s:.1f} s "
              f"({cold['shared_mib']:.0f} MiB of columns, shared); opened and warmed in {cold['load_ms']:.1f} ms; "
              f"first curate() {cold['first_ms']:.1f} ms, second {cold['second_ms']:.1f} ms; "
              f"private memory the catalogue and both calls added {cold['private_mib']:.1f} MiB "
              f"(the whole process: {cold['process_mib']:.0f} MiB)", flush=True)

    naive_n = 10_000
    catalogue = synthetic_catalogue(naive_n, feats, durations)
    t0 = time.perf_counter()
    naive_scores(catalogue, start, target, 50)
    naive_ms = (time.perf_counter() - t0) * 1000
    print(f"naive pure-Python scorer (distances only, no rules): {naive_ms:,.0f} ms on {naive_n:,} tracks (measured)")
    for n in sizes:
        estimate = naive_ms * n / naive_n
        label = "measured" if n == naive_n else "extrapolated linearly"
        print(f"  {n:>9,} tracks: naive ~{estimate:,.0f} ms ({label}); engine {medians[n]:.1f} ms; "
              f"speed-up x{estimate / medians[n]:,.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
