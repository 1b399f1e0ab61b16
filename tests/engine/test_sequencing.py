"""select's short walk over each position's nearest rows chooses what its vectorised passes choose."""
import math
from dataclasses import replace

import numpy as np
import pytest

from curator.engine import sequencing
from curator.engine.sequencing import Candidates, select


def candidates(rng: np.random.Generator) -> Candidates:
    n = int(rng.choice([1, 5, 40, 200, 1500]))
    positions = int(rng.integers(1, 25))
    distances = rng.random((n, positions)) * rng.choice([0.05, 0.5, 2.0])
    if rng.random() < 0.5:  # coarse distances: many exact ties, also at the twelfth place
        distances = np.round(distances, int(rng.integers(1, 3)))
    distances[rng.random((n, positions)) < rng.choice([0.0, 0.3, 0.9])] = math.inf
    tempo_step = float(rng.choice([1e-9, 5.0]))  # whole steps: jumps exactly at the limit
    return Candidates(
        distances=distances,
        artist=rng.integers(0, max(1, n // int(rng.choice([1, 3, 10]))), n),
        id_code=rng.integers(0, max(1, n - n // 10), n),
        isrc_code=np.where(rng.random(n) < 0.3, rng.integers(0, max(1, n // 2), n), -1),
        recording=rng.integers(0, max(1, n - n // 8), n),
        tempo=np.where(rng.random(n) < 0.02, math.nan, np.round(rng.uniform(60, 180, n) / tempo_step) * tempo_step),
        camelot=rng.integers(-1, 24, n),
        durations_ms=rng.integers(60_000, 400_000, n),
    )


def choices(cands: Candidates, seed: int, **options):
    sel = select(cands, rng=np.random.default_rng(seed), **options)
    return sel.picks, sel.positions, sel.unfilled, sel.artist_cap_hit


@pytest.mark.parametrize("case", range(6))
def test_the_nearest_rows_walk_agrees_with_the_vectorised_passes(case, monkeypatch):
    rng = np.random.default_rng(case)
    for _ in range(40):
        cands = candidates(rng)
        options = {"artist_cap": int(rng.choice([1, 2, 3, 50])), "max_tempo_jump": float(rng.choice([2.0, 25.0, 500.0])),
                   "near_tie": float(rng.choice([0.0, 0.05, 0.5, 1.0]))}
        if rng.random() < 0.3:  # a held tail chosen first (long arcs)
            options["tail_first"] = int(rng.integers(0, cands.distances.shape[1] + 1))
        elif rng.random() < 0.3:  # a steady playlist: chosen, then put in order
            options["steady"] = True
        seed = int(rng.integers(2**32))
        walked = choices(cands, seed, **options)
        with monkeypatch.context() as m:
            m.setattr(sequencing, "_near_ties_head", lambda *args: None)  # always the vectorised passes
            assert choices(replace(cands), seed, **options) == walked


def test_a_tail_chosen_first_takes_the_nearest_rows_and_keeps_the_rules():
    # Six rows, four positions that all want rows 0 and 1 most; the tail (positions 2-3) goes first.
    distances = np.array([[0.1, 0.1, 0.0, 0.0], [0.11, 0.11, 0.01, 0.01], [0.2, 0.2, 0.5, 0.5],
                          [0.3, 0.4, 0.6, 0.6], [0.4, 0.3, 0.7, 0.7], [0.5, 0.5, 0.8, 0.8]])
    n = len(distances)
    cands = Candidates(distances=distances, artist=np.arange(n), id_code=np.arange(n), isrc_code=np.full(n, -1),
                       recording=np.arange(n), tempo=np.array([100.0, 100, 100, 100, 160, 100]),
                       camelot=np.full(n, -1), durations_ms=np.full(n, 200_000))
    options = {"artist_cap": 1, "max_tempo_jump": 25.0, "near_tie": 0.0, "rng": np.random.default_rng(0)}
    assert select(cands, **options).picks[:2] == [0, 1]  # left to right, the approach takes them
    sel = select(cands, tail_first=2, **options)
    assert sel.positions == [0, 1, 2, 3] and sel.picks[2:] == [0, 1]
    assert sel.picks[:2] == [2, 3]  # not row 4, nearer but out of tempo with row 0, the tail's first pick
    assert select(cands, tail_first=0, **options).picks == select(cands, **options).picks


def test_a_steady_playlist_takes_the_nearest_tracks_and_orders_them_in_tempo():
    # Every place wants the same; left to right, the tempo rule would pass over rows 1 and 2 (too
    # fast after row 0) for the farther rows 3 and 4.
    def steady_candidates(tempo: list[float]) -> Candidates:
        n = len(tempo)
        column = np.array([0.0, 0.01, 0.02, 0.5, 0.6])
        return Candidates(distances=np.tile(column[:, None], (1, 3)), artist=np.arange(n), id_code=np.arange(n),
                          isrc_code=np.full(n, -1), recording=np.arange(n), tempo=np.array(tempo),
                          camelot=np.full(n, -1), durations_ms=np.full(n, 200_000))

    options = {"artist_cap": 1, "max_tempo_jump": 25.0, "near_tie": 0.0}
    cands = steady_candidates([100.0, 160, 150, 100, 100])
    assert select(cands, rng=np.random.default_rng(0), **options).picks == [0, 3, 4]
    sel = select(cands, rng=np.random.default_rng(0), steady=True, **options)
    assert sel.picks == [0, 1, 2] and sel.positions == [0, 1, 2]  # nothing in tempo with 0: the nearest left
    assert len(sel.reach) == 3 and min(sel.reach) == max(sel.reach)
    in_tempo = select(steady_candidates([100.0, 160, 110, 100, 100]), rng=np.random.default_rng(0), steady=True, **options)
    assert in_tempo.picks == [0, 2, 1]  # 2 is in tempo with 0, so it comes second
