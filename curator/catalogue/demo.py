"""The demo set: made-up tracks to try Curator with before any setup.

Until a Spotify app is configured nobody can log in, and a fresh clone's catalogue is empty, so a
visitor could see nothing of the product. The demo set fills that gap: 480 invented tracks with
plausible audio features (energy drives loudness, tempo and acousticness as in real music;
brightness goes with a major key and a groove), spread over the whole mood space so every pair of
the shipped moods makes a full 20-track arc. The titles and artists are invented and the ids are
not Spotify's (they start with DEMO_PREFIX), so pages say so and offer no player for them.

It never enters the database: `matrix.current_catalogue` serves it only while Spotify is not
configured and the real catalogue is empty, so an installation that goes on to import real music
and connect Spotify has nothing to clean up.
"""
from __future__ import annotations

import numpy as np

from curator import caching
from curator.engine import Catalogue

DEMO_PREFIX = "CuratorDemo"  # + 11 digits: 22 characters, like a Spotify id, never one of Spotify's
DEMO_TRACKS = 480
DEMO_ARTISTS = 120
DEMO_TAG = "source:demo"
SEED = 20  # the same set on every machine, so what a README or a test shows is what a visitor sees

_FIRST = ["Quiet", "Paper", "Slow", "Northern", "Low", "Glass", "Small", "Open", "Soft", "Blue", "Morning",
          "Salt", "Long", "Still", "Copper", "Warm", "First", "Silver", "Wild", "Golden", "Hollow", "Bright",
          "Midnight", "Velvet", "Electric", "Rising", "Falling", "Distant", "Neon", "Paper-thin"]
_SECOND = ["Harbour", "Lanterns", "Tide", "Window", "Sun", "Orchard", "Hours", "Field", "Static", "Season",
           "Road", "Cedar", "Weekend", "Water", "Sky", "Rain", "Light", "River", "Engine", "Garden", "Signal",
           "Embers", "Coastline", "Avenue", "Parade", "Horizon", "Echo", "Pulse", "Letters", "Heartbeat"]
_ARTIST_A = ["The", "Mira", "Ada &", "Kaito", "Lucía", "Oskar", "Nadia", "Juniper", "Northbound", "Velvet"]
_ARTIST_B = ["Lowlands", "Sol", "the Pines", "Mori", "Vela", "Lind", "Amari", "Avenue", "Club", "Static",
             "Harbour", "Kites"]


def is_demo_track(track_id: str) -> bool:
    """Whether `track_id` is one of the demo set's invented tracks (nothing to play or save)."""
    return str(track_id).startswith(DEMO_PREFIX)


def demo_records() -> list[dict]:
    """The demo set as catalogue records (the engine's `Catalogue.from_records` shape)."""
    rng = np.random.default_rng(SEED)
    records = []
    for i in range(DEMO_TRACKS):
        energy = float(rng.beta(1.1, 1.1))
        valence = float(rng.beta(1.1, 1.1))
        acoustic = float(np.clip(1.0 - energy * rng.uniform(0.6, 1.2), 0.0, 1.0))
        records.append({
            "id": f"{DEMO_PREFIX}{i:011d}",
            "name": f"{_FIRST[i % len(_FIRST)]} {_SECOND[(i * 7 + i // len(_FIRST)) % len(_SECOND)]}",
            "artists": [_artist(i % DEMO_ARTISTS)],
            "duration_ms": int(rng.integers(150_000, 290_000)),
            "explicit": False,
            "valence": round(valence, 3),
            "energy": round(energy, 3),
            "danceability": round(float(np.clip(0.25 + 0.5 * valence * rng.uniform(0.6, 1.3), 0, 1)), 3),
            "acousticness": round(acoustic, 3),
            "instrumentalness": round(float(rng.uniform(0.0, 0.6) if acoustic > 0.6 else rng.uniform(0, 0.2)), 3),
            "speechiness": round(float(rng.uniform(0.02, 0.09)), 3),
            "liveness": round(float(rng.uniform(0.05, 0.3)), 3),
            "loudness": round(float(-26 + 22 * energy + rng.uniform(-2.5, 2.5)), 2),
            "tempo": round(float(62 + 105 * energy + rng.uniform(-12, 12)), 1),
            "mode": int(rng.random() < 0.25 + 0.6 * valence),
            "key": int(rng.integers(0, 12)),
            "tags": [DEMO_TAG],
        })
    return records


def _artist(i: int) -> str:
    return f"{_ARTIST_A[i % len(_ARTIST_A)]} {_ARTIST_B[(i // len(_ARTIST_A)) % len(_ARTIST_B)]}"


def demo_catalogue() -> Catalogue:
    """The demo set as the engine's catalogue (built once per app, ~10 ms)."""
    return caching.per_app("curator.demo_catalogue", None, lambda: Catalogue.from_records(demo_records()))
