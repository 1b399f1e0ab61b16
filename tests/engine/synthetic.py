"""Small helpers to build moods and catalogues for engine tests."""
from __future__ import annotations

import numpy as np

from curator.engine import FEATURES, Catalogue, MoodDefinition, parse_mood


def mood(slug: str = "steady", **features: dict) -> MoodDefinition:
    """A mood with the given feature specs, e.g. mood("calm", energy={"target": 0.2})."""
    specs = features or {"energy": {"target": 0.5}}
    return parse_mood({
        "slug": slug, "name": slug.title(), "colour": "#123456",
        "valence": 0.5, "arousal": 0.5, "features": specs,
    })


LOW = mood("low", energy={"target": 0.1, "weight": 1.0}, valence={"target": 0.2, "weight": 0.5})
HIGH = mood("high", energy={"target": 0.9, "weight": 1.0}, valence={"target": 0.8, "weight": 0.5})


def dense_catalogue(n: int = 3000, seed: int = 0, artists: int | None = None, **columns) -> Catalogue:
    """Uniformly spread features (tempo 60..180 BPM, loudness -30..-3 dB), one artist per row."""
    rng = np.random.default_rng(seed)
    feats = rng.random((n, len(FEATURES))).astype(np.float32)
    feats[:, FEATURES.index("tempo")] = rng.uniform(60, 180, n)
    feats[:, FEATURES.index("loudness")] = rng.uniform(-30, -3, n)
    feats[:, FEATURES.index("mode")] = rng.random(n) < 0.5
    kwargs = {"key": rng.integers(0, 12, n), "durations_ms": rng.integers(150_000, 300_000, n)}
    if artists is not None:
        kwargs["primary_artist"] = rng.integers(0, artists, n)
    kwargs.update(columns)
    return Catalogue.from_arrays(feats, **kwargs)


def records(n: int, seed: int = 0) -> list[dict]:
    """Spotify-like track records with features spread over their ranges."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        rec = {f: float(rng.random()) for f in FEATURES}
        rec.update({
            "id": f"id{i}", "name": f"Song {i}", "artists": [f"Artist {i}"], "duration_ms": 200_000,
            "explicit": False, "key": int(rng.integers(0, 12)), "mode": int(rng.integers(0, 2)),
            "tempo": float(rng.uniform(60, 180)), "loudness": float(rng.uniform(-30, -3)),
        })
        out.append(rec)
    return out
