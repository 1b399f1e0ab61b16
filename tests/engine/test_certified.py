"""The pre-selection's playlists are the exhaustive engine's: curate() on a catalogue too big to
score whole gives exactly what scoring every row gives, for random targets (the shipped moods and
random points of the mood wheel, lengths 10-50, random seeds, the explicit filter), on a clustered
catalogue like real music (many tracks near each other, where near-ties are many and the old
pre-selection's choice differed in about one request in ten).
"""
from __future__ import annotations

import sys
from functools import cache
from pathlib import Path

import numpy as np
import pytest

from curator.engine import FEATURES, Catalogue, CurateOptions, Length, curate, load_moods_yaml
from curator.engine.arc import build_arc
from curator.engine.scoring import anchor_positions, certified_preselect, exact_distances
from curator.engine.wheel import mood_at

REPO = Path(__file__).resolve().parents[2]


@cache
def moods():
    return load_moods_yaml((REPO / "config" / "moods.yaml").read_text(encoding="utf-8"))


@cache
def clustered(n: int = 24_000, seed: int = 11) -> Catalogue:
    """Tracks around 400 'songs' (features jittered by a tenth of their spread), ~8 per artist."""
    rng = np.random.default_rng(seed)
    centres = rng.random((400, len(FEATURES)))
    centres[:, FEATURES.index("tempo")] = rng.uniform(60, 190, 400)
    centres[:, FEATURES.index("loudness")] = rng.uniform(-30, -2, 400)
    pick = rng.integers(0, 400, n)
    spread = centres.std(axis=0) / 10
    feats = (centres[pick] + rng.standard_normal((n, len(FEATURES))) * spread).astype(np.float32)
    for f, name in enumerate(FEATURES):
        if name not in ("tempo", "loudness"):
            np.clip(feats[:, f], 0, 1, out=feats[:, f])
    feats[:, FEATURES.index("mode")] = rng.random(n) < 0.6
    return Catalogue.from_arrays(
        feats, primary_artist=rng.integers(0, n // 8, n).astype(np.int32), key=rng.integers(0, 12, n),
        explicit=rng.random(n) < 0.1, durations_ms=rng.integers(150_000, 300_000, n),
        recording_keys=np.arange(n, dtype=np.int64))


def _target(rng):
    if rng.random() < 0.4:
        return moods()[int(rng.integers(len(moods())))]
    return mood_at(round(float(rng.random()), 2), round(float(rng.random()), 2), moods())


def _exhaustive(monkeypatch, *args):
    module = sys.modules["curator.engine.curate"]
    with monkeypatch.context() as patch:
        patch.setattr(module, "_exact_limit", lambda n: 10**9)
        return curate(*args)


@pytest.mark.parametrize("block", range(4))
def test_playlists_are_the_exhaustive_engines_for_random_targets(monkeypatch, block):
    cat = clustered()
    module = sys.modules["curator.engine.curate"]
    outcomes = []
    real = module._certified_choice

    def watched(*args):
        attempt = real(*args)
        outcomes.append(attempt is not None)
        return attempt

    monkeypatch.setattr(module, "_certified_choice", watched)
    rng = np.random.default_rng(500 + block)
    for _ in range(15):
        start, target = _target(rng), _target(rng)
        length = Length(tracks=int(rng.integers(10, 51)))
        options = CurateOptions(seed=int(rng.integers(2**32)), exclude_explicit=bool(rng.random() < 0.25),
                                arc=str(rng.choice(["linear", "linear", "ease-in-out", "hold"])))
        cat.preselection_memo.clear()
        cat.candidate_memo.clear()
        fast = curate(cat, start, target, length, options).to_dict()
        exact = _exhaustive(monkeypatch, cat, start, target, length, options).to_dict()
        assert fast == exact, (start.name, target.name, length, options)
    assert outcomes and all(outcomes)  # every one was shown to be the exhaustive choice, not just found so


def test_every_row_within_a_positions_radius_is_preselected():
    cat = clustered()
    rng = np.random.default_rng(3)
    for _ in range(6):
        arc = build_arc(_target(rng), _target(rng), int(rng.integers(10, 51)))
        distances = exact_distances(cat.features, arc, ranges=False)
        for anchors in (anchor_positions(arc), anchor_positions(arc, len(arc)), np.array([len(arc) // 2])):
            rows, radius = certified_preselect(cat.features, arc, 128, cat.threshold_sample, cat.scan,
                                               anchors=anchors)
            assert np.all(radius >= 0) and radius[anchors].min() > 0
            left_out = np.setdiff1d(np.arange(len(cat)), rows)
            assert np.all(distances[left_out] > radius[None, :])
            # ...and the radius is no empty promise: at the anchors, about 128 rows lie within it.
            within = (distances[:, anchors] <= radius[anchors][None, :]).sum(axis=0)
            assert within.min() >= 32 and within.max() < 2_000


def test_the_scan_matrix_is_stored_and_shared_like_the_other_columns(tmp_path):
    from curator.catalogue.matrix import open_stored, write_stored

    cat = clustered()
    write_stored(tmp_path / "v1", cat)
    opened = open_stored(tmp_path / "v1")
    assert isinstance(opened.__dict__["scan"], np.ndarray) and not opened.scan.flags.writeable
    assert np.array_equal(opened.scan, cat.scan) and opened.scan.shape == (2 * len(FEATURES) + 1, len(cat))
    rng = np.random.default_rng(9)
    start, target = _target(rng), _target(rng)
    a = curate(opened, start, target, Length(tracks=25), CurateOptions(seed=1))
    b = curate(cat, start, target, Length(tracks=25), CurateOptions(seed=1))
    assert a.to_dict() == b.to_dict()
