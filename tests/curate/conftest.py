"""Fixtures for the curator pages: shipped moods, a catalogue, and users holding roles."""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from curator.engine import FEATURES, Catalogue
from curator.extensions import db
from curator.models.user import User
from curator.moods.store import import_shipped_if_empty
from tests.helpers import login

DEV_CSV = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "moods-labelled-dev.csv"


def login_with_role(client, fake, app, spotify_id: str, role: str | None):
    """Log in through the fake Spotify, then hold `role` (granted in the database, as an admin would)."""
    login(client, fake, spotify_id)
    if role:
        with app.app_context():
            user = db.session.scalar(db.select(User).where(User.spotify_id == spotify_id))
            user.grant(role)
            db.session.commit()
    return client


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


def csv_records(path: Path) -> list[dict]:
    """The labelled dev set as catalogue records, each tagged `mood:<label>` (lowercase)."""
    records = []
    with path.open(newline="") as handle:
        for row in csv.DictReader(handle):
            rec = {name: float(row[name]) for name in FEATURES if name != "mode" and row.get(name) not in (None, "")}
            rec.update(id=row["id"], name=row["name"], artists=[row["artist"]], duration_ms=int(float(row["length"])),
                       key=int(float(row["key"])), tags=[f"mood:{row['mood'].strip().lower()}"])
            records.append(rec)
    return records


@pytest.fixture
def catalogue(monkeypatch):
    """The editor's catalogue, built from records (replaces the database-backed catalogue)."""
    built = Catalogue.from_records(synthetic_records())
    monkeypatch.setattr("curator.curate.preview.load_catalogue", lambda: built)
    return built
