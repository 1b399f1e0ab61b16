"""A plain preview (no pins, no replace, no keep) is byte for byte what the engine gave before
edits went through it: the playlists of many random requests, recorded from the engine as it was
(``plain_previews.json``), compared by a hash of their JSON. The reasons' wording is left out of
the hash (it is test_reasons.py's to keep), so a better sentence needs no new recording; the
choices, distances, features, stats and notes are all in it.

Re-record only for a deliberate change to plain curation:
    python -m tests.engine.test_plain_previews --record
"""
from __future__ import annotations

import hashlib
import json
import sys
from functools import cache
from pathlib import Path

import numpy as np
import pytest

from curator.engine import CurateOptions, Length, curate

from .synthetic import HIGH, LOW, dense_catalogue, mood

RECORDED = Path(__file__).with_name("plain_previews.json")
CASES = 160

RANGED = mood("ranged", energy={"target": 0.3, "min": 0.15, "max": 0.45, "weight": 1.0},
              valence={"target": 0.6, "weight": 0.5}, tempo={"target": 95, "max": 120, "weight": 0.3})
MOODS = (LOW, HIGH, RANGED)


@cache
def catalogues():
    # Small enough to be scored exhaustively, and big enough for the pre-selection path.
    small = dense_catalogue(3000, seed=5, artists=300, explicit=np.random.default_rng(1).random(3000) < 0.2)
    big = dense_catalogue(40_000, seed=6, artists=4000, explicit=np.random.default_rng(2).random(40_000) < 0.1)
    return small, big


def case(i: int):
    """The i-th request: catalogue, moods, length and options drawn from a generator seeded by i."""
    rng = np.random.default_rng(1000 + i)
    cat = catalogues()[int(rng.integers(2))]
    start, target = MOODS[int(rng.integers(3))], MOODS[int(rng.integers(3))]
    if rng.random() < 0.8:
        length = Length(tracks=int(rng.choice([1, 2, 5, 12, 20, 20, 37, 60])))
    else:
        length = Length(minutes=float(rng.choice([10, 45, 62.5])))
    ids = cat.ids.take(np.arange(len(cat)))
    exclude = frozenset(ids[j] for j in rng.choice(len(cat), int(rng.integers(0, 50)), replace=False)) \
        if rng.random() < 0.4 else frozenset()
    candidates = frozenset(ids[j] for j in rng.choice(len(cat), int(rng.integers(5, 2500)), replace=False)) \
        if rng.random() < 0.2 else None
    options = CurateOptions(
        exclude_explicit=bool(rng.random() < 0.3), max_per_artist=int(rng.integers(1, 4)),
        exclude_ids=exclude, candidate_ids=candidates, seed=int(rng.integers(2**32)),
        arc=str(rng.choice(["linear", "ease-in-out", "hold"])),
        max_tempo_jump=float(rng.choice([25.0, 10.0])),
    )
    return cat, start, target, length, options


def fingerprint(i: int) -> str:
    data = curate(*case(i)).to_dict()
    for track in data["tracks"]:
        del track["reason"]
    text = json.dumps(data, sort_keys=True, ensure_ascii=True)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


@pytest.mark.skipif(not RECORDED.exists(), reason="no recorded playlists")
def test_plain_previews_are_what_the_engine_gave_before_edits():
    recorded = json.loads(RECORDED.read_text())
    assert len(recorded) == CASES
    differ = [i for i in range(CASES) if fingerprint(i) != recorded[str(i)]]
    assert differ == []


if __name__ == "__main__" and "--record" in sys.argv:
    RECORDED.write_text(json.dumps({str(i): fingerprint(i) for i in range(CASES)}, indent=0) + "\n")
    print(f"recorded {CASES} playlists in {RECORDED}")
