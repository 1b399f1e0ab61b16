"""Fixtures for the curator pages: shipped moods, a catalogue, and users holding roles."""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from curator.engine import FEATURES
from curator.moods.service import import_shipped_if_empty
from tests.helpers import LABELLED_DEV_CSV as DEV_CSV
from tests.helpers import login, login_with_role, skip_without_shared_data  # noqa: F401  (login_with_role: imported from here by other modules)


@pytest.fixture
def moods(app):
    with app.app_context():
        import_shipped_if_empty()


def synthetic_records(n: int = 240, seed: int = 7) -> list[dict]:
    """Tracks spread over the feature space; a quarter tagged mood:calm (quiet, slow, acoustic)."""
    rng = np.random.default_rng(seed)
    records = []
    for i in range(n):
        calm = i % 4 == 0
        rec = {
            "id": f"{i:022d}",
            "name": f"Track {i}",
            "artists": [f"Artist {i % 60}"],
            "artist_ids": [f"artist{i % 60}"],
            "duration_ms": 200_000,
            "explicit": False,
            "valence": float(rng.uniform(0.3, 0.7) if calm else rng.uniform(0, 1)),
            "energy": float(rng.uniform(0.05, 0.3) if calm else rng.uniform(0.3, 1)),
            "danceability": float(rng.uniform(0.2, 0.8)),
            "acousticness": float(rng.uniform(0.6, 1) if calm else rng.uniform(0, 0.6)),
            "instrumentalness": float(rng.uniform(0, 1)),
            "speechiness": float(rng.uniform(0.02, 0.1)),
            "liveness": float(rng.uniform(0.05, 0.3)),
            "loudness": float(rng.uniform(-25, -12) if calm else rng.uniform(-12, -3)),
            "tempo": float(rng.uniform(60, 95) if calm else rng.uniform(90, 170)),
            "mode": int(rng.integers(0, 2)),
            "key": int(rng.integers(0, 12)),
            "tags": ["mood:calm"] if calm else (["mood:energetic"] if i % 4 == 1 else []),
        }
        records.append(rec)
    return records


def write_csv(records: list[dict], path: Path) -> Path:
    """Records as a dataset CSV (one `mood` label column), the format `catalog import` reads."""
    columns = ["id", "name", "artists", "duration_ms", "explicit", "key", *FEATURES, "mood"]
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        for rec in records:
            label = next((t.removeprefix("mood:") for t in rec["tags"] if t.startswith("mood:")), "")
            writer.writerow([rec["id"], rec["name"], rec["artists"][0], rec["duration_ms"], rec["explicit"],
                             rec["key"], *(rec[f] for f in FEATURES), label])
    return path


def import_catalogue(app, runner, path: Path):
    """Import a CSV through `flask --app curator catalog import`, and return the engine catalogue."""
    from curator.catalogue.matrix import current_catalogue

    result = runner.invoke(args=["catalog", "import", str(path)])
    assert result.exit_code == 0, result.output
    with app.app_context():
        return current_catalogue()


@pytest.fixture
def catalogue(app, runner, tmp_path):
    """A synthetic catalogue, imported into the database the way an admin would."""
    return import_catalogue(app, runner, write_csv(synthetic_records(), tmp_path / "synthetic.csv"))


@pytest.fixture
def dev_catalogue(app, runner):
    """The labelled dev set (../shared), imported with `catalog import`; skipped when absent."""
    skip_without_shared_data(DEV_CSV)
    return import_catalogue(app, runner, DEV_CSV)
