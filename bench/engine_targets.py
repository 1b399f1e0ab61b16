"""Engine time for targets never seen before, and whether each playlist is the exhaustive engine's.

    python -m bench.engine_targets [path/to/moods-labelled-dev.csv] [--sizes 100000,1000000]
                                   [--requests 60] [--check]

On bench/engine.py's synthetic catalogues (the labelled dev set resampled with jitter), curate()
runs --requests random requests like bench/load.py's open-loop mix: from/to each a shipped mood or
a random point of the mood wheel, 10-50 tracks, a random seed, the explicit filter one time in five.
Every request starts with the catalogue's memos empty (a target never seen before), one BLAS thread
as a web worker runs. Prints the median and p95 wall time and CPU time (this process's: it holds
up better than wall time on a machine others share), the load average, how many requests the
pre-selection proved to be the exhaustive engine's choice at once or after widening, and with
--check how many playlists differ from scoring every row (curate with no pre-selection).
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.engine import DEFAULT_CSV, load_feature_rows, synthetic_catalogue  # noqa: E402
from curator.engine import CurateOptions, Length, curate, load_moods_yaml  # noqa: E402
from curator.engine.wheel import mood_at  # noqa: E402


def requests_mix(count: int, seed: int = 1):
    moods = load_moods_yaml((REPO / "config" / "moods.yaml").read_text(encoding="utf-8"))
    rng = np.random.default_rng(seed)

    def place():
        if rng.random() < 0.5:
            return moods[int(rng.integers(len(moods)))]
        return mood_at(round(float(rng.random()), 2), round(float(rng.random()), 2), moods)

    return [(place(), place(), Length(tracks=int(rng.integers(10, 51))),
             CurateOptions(seed=int(rng.integers(2**32)), exclude_explicit=bool(rng.random() < 0.2)))
            for _ in range(count)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("csv", nargs="?", default=str(DEFAULT_CSV))
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--check", action="store_true", help="also compare with scoring every row")
    args = parser.parse_args(argv)
    module = sys.modules["curator.engine.curate"]
    outcomes: list[bool] = []
    real = module._certified_choice

    def watched(*a):
        attempt = real(*a)
        outcomes.append(attempt is not None)
        return attempt

    module._certified_choice = watched
    feats, durations = load_feature_rows(Path(args.csv))
    threadpool_limits(1)
    for n in (int(s) for s in args.sizes.split(",")):
        catalogue = synthetic_catalogue(n, feats, durations).warm()
        mix = requests_mix(args.requests)
        curate(catalogue, *mix[0])  # first call of the process: imports and lazy columns
        walls, cpus, differ = [], [], 0
        outcomes.clear()
        for request in mix:
            catalogue.preselection_memo.clear()
            catalogue.candidate_memo.clear()
            w0, c0 = time.perf_counter(), time.process_time()
            playlist = curate(catalogue, *request)
            walls.append((time.perf_counter() - w0) * 1000)
            cpus.append((time.process_time() - c0) * 1000)
            if args.check:
                limit = module._exact_limit
                module._exact_limit = lambda positions: 10**9
                try:
                    exact = curate(catalogue, *request)
                finally:
                    module._exact_limit = limit
                differ += playlist.to_dict() != exact.to_dict()
        walls.sort()
        cpus.sort()
        p95 = int(0.95 * (len(walls) - 1))
        proved = sum(outcomes)
        print(f"{n:>9,} tracks, {args.requests} new targets: wall median {statistics.median(walls):6.1f} ms "
              f"p95 {walls[p95]:6.1f}; CPU median {statistics.median(cpus):6.1f} ms p95 {cpus[p95]:6.1f}; "
              f"proved the exhaustive choice {proved}/{len(outcomes)}"
              + (f"; differ from scoring every row: {differ}" if args.check else "")
              + f"; load average {os.getloadavg()[0]:.1f}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
