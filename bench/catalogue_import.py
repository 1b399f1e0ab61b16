"""Benchmark: `catalog import` of a large CSV (1,000,000 rows by default): wall time and peak
memory of the importing process, for a first import (all new) and a re-import (all updates).

    python bench/catalogue_import.py [--rows 1000000] [--matrix]       # SQLite in a temp dir
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test python bench/catalogue_import.py

Each import runs the real command (`flask --app curator catalog import PATH`, through Flask's
CLI runner) in a fresh Python process, so "peak RSS" is that process's own high-water mark
(getrusage ru_maxrss), interpreter and app included, and "CPU" its own user+system time (on a
shared machine wall time includes waiting for a core; CPU time does not). The CSV is generated in a temp dir from the
distribution of ../shared/data/moods-labelled-dev.csv (each row is a dev track's features with
a little noise, a fresh Spotify-style id and a mood label); without the shared data it falls
back to uniform random features and says so. SQLite gets a temp file; PostgreSQL a schema of
the run's own, dropped afterwards. `--matrix` also times loading the engine matrix.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import string
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEV = ROOT.parent / "shared" / "data" / "moods-labelled-dev.csv"
COLUMNS = ["name", "album", "artist", "id", "release_date", "popularity", "length", "danceability", "acousticness",
           "energy", "instrumentalness", "liveness", "valence", "loudness", "speechiness", "tempo", "key",
           "time_signature", "mood"]
UNIT = {"danceability", "acousticness", "energy", "instrumentalness", "liveness", "valence", "speechiness"}
ALPHABET = string.ascii_letters + string.digits


def generate(path: Path, rows: int, seed: int = 1) -> str:
    rng = random.Random(seed)
    if DEV.exists():
        with DEV.open(newline="", encoding="utf-8") as handle:
            templates = list(csv.DictReader(handle))
        origin = f"the distribution of {DEV.name}"
    else:
        templates = [{"valence": rng.random(), "energy": rng.random(), "danceability": rng.random(),
                      "acousticness": rng.random(), "instrumentalness": rng.random(), "liveness": rng.random(),
                      "speechiness": rng.random() * 0.3, "loudness": -rng.random() * 30, "tempo": 60 + rng.random() * 120,
                      "key": rng.randrange(12), "time_signature": 4, "mood": rng.choice(["Calm", "Sad", "Happy", "Energetic"]),
                      "length": 200000, "popularity": 50, "release_date": "2020-01-01"} for _ in range(500)]
        origin = "uniform random features (../shared is absent)"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for i in range(rows):
            t = rng.choice(templates)
            row = {c: t.get(c, "") for c in COLUMNS}
            for name in UNIT:
                row[name] = f"{min(1.0, max(0.0, float(t[name]) + rng.gauss(0, 0.03))):.4f}"
            row["loudness"] = f"{min(0.0, float(t['loudness']) + rng.gauss(0, 1)):.2f}"
            row["tempo"] = f"{max(40.0, float(t['tempo']) + rng.gauss(0, 3)):.2f}"
            row.update(name=f"Track {i}", album=f"Album {i // 12}", artist=f"Artist {i // 40}",
                       id="".join(rng.choices(ALPHABET, k=22)))
            writer.writerow(row[c] for c in COLUMNS)
    return origin


def make_app(url: str, schema: str | None, instance: str):
    os.environ.setdefault("SECRET_KEY", "bench")
    from curator import create_app

    options = {"connect_args": {"options": f"-csearch_path={schema}"}} if schema else {}
    return create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "SQLALCHEMY_ENGINE_OPTIONS": options,
                       "INSTANCE_PATH": instance})


def child(args) -> None:
    """In a fresh process: one `catalog import` (or matrix load); prints one JSON line."""
    app = make_app(args.url, args.schema, args.instance)
    started = time.perf_counter()
    if args.child == "matrix":
        with app.app_context():
            from curator.catalogue.matrix import current_catalogue

            size = len(current_catalogue())
        out = {"tracks": size}
    else:
        result = app.test_cli_runner().invoke(args=["catalog", "import", args.csv])
        out = {"exit": result.exit_code, "summary": result.output.strip().splitlines()[-1:]}
    out["seconds"] = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    out["cpu_seconds"] = usage.ru_utime + usage.ru_stime  # this process only: the database server's work is not in it
    out["peak_rss_mb"] = usage.ru_maxrss / 1024
    print(json.dumps(out))


def run_child(kind: str, csv_path: Path, url: str, schema: str | None, instance: str) -> dict:
    command = [sys.executable, __file__, "--child", kind, "--csv", str(csv_path), "--url", url,
               "--instance", instance] + (["--schema", schema] if schema else [])
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, check=False)
    if done.returncode != 0:
        sys.exit(f"{kind} failed:\n{done.stdout}\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--matrix", action="store_true", help="also time loading the engine matrix")
    parser.add_argument("--child", choices=["import", "matrix"], help=argparse.SUPPRESS)
    parser.add_argument("--csv", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--schema", help=argparse.SUPPRESS)
    parser.add_argument("--instance", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        csv_path = tmp_path / f"bench-{args.rows}.csv"
        started = time.perf_counter()
        origin = generate(csv_path, args.rows)
        print(f"generated {args.rows} rows ({csv_path.stat().st_size / 2**20:.0f} MiB) from {origin} "
              f"in {time.perf_counter() - started:.1f} s")

        from curator.config import _database_url
        from curator.extensions import db

        url = _database_url(os.environ.get("DATABASE_URL") or f"sqlite:///{tmp_path / 'bench.sqlite'}")
        schema = f"bench_import_{uuid.uuid4().hex[:8]}" if url.startswith("postgresql") else None
        if schema:
            from sqlalchemy import create_engine

            with create_engine(url).begin() as conn:
                conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        app = make_app(url, schema, tmp)
        with app.app_context():
            db.create_all()
            dialect = db.engine.dialect.name
            db.engine.dispose()
        try:
            for label in ("import (all new)", "re-import (all updates)"):
                out = run_child("import", csv_path, url, schema, tmp)
                print(f"{label} on {dialect}: {out['seconds']:.1f} s wall ({out['cpu_seconds']:.1f} s CPU in the "
                      f"importing process), peak RSS {out['peak_rss_mb']:.0f} MB; "
                      f"{' '.join(out['summary'])}")
            if args.matrix:
                out = run_child("matrix", csv_path, url, schema, tmp)
                print(f"matrix load: {out['seconds']:.1f} s for {out['tracks']} tracks, peak RSS "
                      f"{out['peak_rss_mb']:.0f} MB")
        finally:
            if schema:
                from sqlalchemy import create_engine

                with create_engine(url).begin() as conn:
                    conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


if __name__ == "__main__":
    main()
