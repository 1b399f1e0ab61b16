"""Listener fixtures: shipped moods, a small synthetic catalogue imported through the real CSV
importer, the same tracks known to the fake Spotify, and a logged-in client."""
from __future__ import annotations

import csv
import random

import pytest

from curator.catalogue.importer import import_csv
from curator.extensions import db
from curator.moods.service import import_shipped_if_empty
from tests.helpers import api_headers, csrf_token, login  # noqa: F401  (api_headers: imported from here by other modules)

COLUMNS = ["name", "album", "artist", "id", "release_date", "popularity", "length", "danceability",
           "acousticness", "energy", "instrumentalness", "liveness", "valence", "loudness", "speechiness",
           "tempo", "key", "time_signature", "mood"]


def track_id(i: int) -> str:
    """22 alphanumeric characters, like a Spotify id."""
    return f"Trk{i:019d}"


def synthetic_rows(count: int = 240, seed: int = 7, artists: int = 60) -> list[dict]:
    """Tracks spread over the mood space: enough of every mood for 20-track arcs."""
    rng = random.Random(seed)
    rows = []
    for i in range(count):
        energy = rng.random()
        valence = rng.random()
        rows.append({
            "name": f"Song {i}", "album": f"Album {i}", "artist": f"Artist {i % artists}", "id": track_id(i),
            "release_date": "2020-01-01", "popularity": 50, "length": 150_000 + rng.randint(0, 120_000),
            "danceability": round(rng.random(), 3), "acousticness": round(1 - energy * rng.random(), 3),
            "energy": round(energy, 3), "instrumentalness": round(rng.random() * 0.5, 3),
            "liveness": round(rng.random() * 0.3, 3), "valence": round(valence, 3),
            "loudness": round(-25 + 22 * energy, 2), "speechiness": round(rng.random() * 0.1, 3),
            "tempo": round(60 + 110 * energy + rng.uniform(-10, 10), 1), "key": rng.randint(0, 11),
            "time_signature": 4, "mood": "Calm",
        })
    return rows


def write_csv(path, rows) -> str:
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return str(path)


@pytest.fixture
def moods(app):
    with app.app_context():
        import_shipped_if_empty()


def import_catalogue(app, fake_spotify, tmp_path, rows: list[dict]) -> list[dict]:
    path = write_csv(tmp_path / "catalogue.csv", rows)
    with app.app_context():
        result = import_csv(path)
        assert result.status == "imported", result
        db.session.remove()
    for row in rows:
        fake_spotify.add_track(row["id"], name=row["name"], duration_ms=row["length"])
    return rows


@pytest.fixture
def catalogue(app, moods, fake_spotify, tmp_path):
    """The synthetic catalogue, imported into the app and known to the fake Spotify."""
    return import_catalogue(app, fake_spotify, tmp_path, synthetic_rows())


@pytest.fixture
def large_catalogue(app, moods, fake_spotify, tmp_path):
    """Enough tracks and artists that every mood pair fills a 150-track playlist, whatever the seed."""
    return import_catalogue(app, fake_spotify, tmp_path, synthetic_rows(count=1500, artists=500))


@pytest.fixture
def listener(client, fake_spotify):
    """`client` logged in as listener-1; returns a CSRF token for its session."""
    response = login(client, fake_spotify, "listener-1")
    assert response.status_code == 302
    return csrf_token(client)


