"""Benchmark: `catalog import` of a 100,000-row CSV, a re-import (all updates), and loading the
engine matrix from the database.

    python bench/catalogue_import.py [--rows 100000]            # SQLite in a temp dir
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test python bench/catalogue_import.py

The CSV is generated in a temp dir from the distribution of ../shared/data/moods-labelled-dev.csv
(each row is a dev track's features with a little noise, a fresh Spotify-style id and a mood
label); without the shared data it falls back to uniform random features and says so.
Tables are created for the run and dropped afterwards.
"""
from __future__ import annotations

import argparse
import csv
import os
import random
import string
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEV = ROOT.parent / "shared" / "data" / "moods-labelled-dev.csv"
COLUMNS = ["name", "album", "artist", "id", "release_date", "popularity", "length", "danceability", "acousticness",
           "energy", "instrumentalness", "liveness", "valence", "loudness", "speechiness", "tempo", "key",
           "time_signature", "mood"]
UNIT = {"danceability", "acousticness", "energy", "instrumentalness", "liveness", "valence", "speechiness"}


def _id(rng: random.Random) -> str:
    return "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(22))


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
            row.update(name=f"Track {i}", album=f"Album {i // 12}", artist=f"Artist {i // 40}", id=_id(rng))
            writer.writerow(row[c] for c in COLUMNS)
    return origin


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        csv_path = tmp_path / "bench-100k.csv"
        started = time.perf_counter()
        origin = generate(csv_path, args.rows)
        print(f"generated {args.rows} rows from {origin} in {time.perf_counter() - started:.1f} s")

        os.environ.setdefault("SECRET_KEY", "bench")
        from curator import create_app
        from curator.config import _database_url
        from curator.extensions import db

        url = _database_url(os.environ.get("DATABASE_URL") or f"sqlite:///{tmp_path / 'bench.sqlite'}")
        app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "INSTANCE_PATH": str(tmp_path)})
        with app.app_context():
            db.create_all()
            try:
                from curator.catalogue.importer import import_csv
                from curator.catalogue.matrix import _cache, current_catalogue

                for label in ("import (all new)", "re-import (all updates)"):
                    started = time.perf_counter()
                    result = import_csv(str(csv_path))
                    seconds = time.perf_counter() - started
                    print(f"{label}: {seconds:.2f} s ({result.imported} imported, {result.updated} updated, "
                          f"{result.skipped} skipped) on {db.engine.dialect.name}")
                _cache.clear()
                started = time.perf_counter()
                catalogue = current_catalogue()
                print(f"matrix load: {time.perf_counter() - started:.2f} s for {len(catalogue)} tracks")
                started = time.perf_counter()
                current_catalogue()
                print(f"matrix (cached, version check only): {1000 * (time.perf_counter() - started):.2f} ms")
            finally:
                db.session.remove()
                db.drop_all()
                db.engine.dispose()


if __name__ == "__main__":
    main()
