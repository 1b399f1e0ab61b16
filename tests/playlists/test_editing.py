"""Editing helpers: one position swapped for the best fit there, locks put back, nudges bounded."""
from __future__ import annotations

import numpy as np
import pytest

from curator.engine import FEATURES, CurateOptions, Length, curate
from curator.engine.arc import build_arc
from curator.engine.features import normalise
from curator.engine.scoring import weighted_distance
from curator.playlists.editing import (
    NUDGE_LIMIT,
    NoReplacement,
    add_nudge,
    best_replacement,
    changed_positions,
    nudged,
    pin,
    track_row,
    with_reasons,
)
from tests.engine.synthetic import HIGH, LOW, dense_catalogue


@pytest.fixture(scope="module")
def cat():
    return dense_catalogue(2000, seed=3, artists=400)


def rows_of(cat, playlist, arc):
    return [track_row(cat, cat.index_of(t.id), i, arc, None) for i, t in enumerate(playlist.tracks)]


def test_best_replacement_is_the_nearest_unused_track_at_that_position(cat):
    playlist = curate(cat, LOW, HIGH, Length(tracks=12), CurateOptions(seed=1))
    arc = build_arc(LOW, HIGH, 12)
    rows = rows_of(cat, playlist, arc)
    removed = rows[5]["id"]
    row = best_replacement(cat, arc, 5, rows, exclude_ids=frozenset({removed}))
    assert str(cat.ids[row]) not in {r["id"] for r in rows}
    # Nothing unused within the tempo step of both neighbours is nearer to position 5's target.
    tempo = cat.features[:, FEATURES.index("tempo")]
    d = weighted_distance(normalise(cat.features), arc.targets[5], arc.weights[5])
    near = [i for i in range(len(cat)) if str(cat.ids[i]) not in {r["id"] for r in rows}
            and abs(tempo[i] - rows[4]["features"]["tempo"]) <= 25 and abs(tempo[i] - rows[6]["features"]["tempo"]) <= 25]
    assert d[row] == pytest.approx(min(d[i] for i in near))


def test_replacement_respects_explicit_and_candidates(cat):
    arc = build_arc(LOW, HIGH, 5)
    explicit = np.zeros(len(cat), dtype=bool)
    explicit[::2] = True
    marked = dense_catalogue(2000, seed=3, artists=400, explicit=explicit)
    row = best_replacement(marked, arc, 2, [], exclude_explicit=True)
    assert not explicit[row]
    only = frozenset(str(cat.ids[i]) for i in (10, 11))
    assert str(cat.ids[best_replacement(cat, arc, 2, [], candidate_ids=only)]) in only
    with pytest.raises(NoReplacement):
        best_replacement(cat, arc, 2, [], candidate_ids=only, exclude_ids=only)


def test_pin_puts_locked_tracks_back_in_place():
    rows = [{"id": c} for c in "abcde"]
    assert [r["id"] for r in pin(rows, {1: {"id": "X"}, 4: {"id": "Y"}})] == ["a", "X", "c", "d", "Y"]
    assert [r["id"] for r in pin(rows[:2], {3: {"id": "Z"}})] == ["a", "b", "Z"]


def test_changed_positions():
    a = [{"id": c} for c in "abcd"]
    assert changed_positions(a, [{"id": c} for c in "abXd"]) == [2]
    assert changed_positions(a, [{"id": c} for c in "abc"]) == [3]


def test_nudges_accumulate_within_limits_and_move_the_moods():
    shift = {}
    for _ in range(10):
        shift = add_nudge(shift, "gentler")
    assert shift["energy"] == -NUDGE_LIMIT["energy"] and shift["tempo"] == -NUDGE_LIMIT["tempo"]
    assert add_nudge({"valence": 0.1}, "darker") == {}
    with pytest.raises(KeyError):
        add_nudge({}, "louder")
    moved = nudged(HIGH, {"energy": -0.2, "valence": 0.5})
    assert moved.features["energy"].target == pytest.approx(0.7)
    assert moved.features["valence"].target == pytest.approx(1.0)  # kept inside 0..1
    assert nudged(HIGH, {}) is HIGH


def test_with_reasons_renumbers_and_never_repeats(cat):
    playlist = curate(cat, LOW, HIGH, Length(tracks=10), CurateOptions(seed=2))
    arc = build_arc(LOW, HIGH, 10)
    rows = with_reasons(list(reversed(rows_of(cat, playlist, arc))), arc, "Low", "High")
    assert [r["position"] for r in rows] == list(range(10))
    assert rows[0]["reason"].startswith("Meets you in your low mood")
    assert all(a["reason"] != b["reason"] for a, b in zip(rows, rows[1:]))
