"""Edits through curate(): pinned tracks stay put, one replaced position gets the best fit, and a
nudge keeps the tracks that still fit (edits.py)."""
from __future__ import annotations

import itertools
import math
import statistics
from functools import cache
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from curator.engine import FEATURES, Catalogue, CurateOptions, Edit, EditInvalid, Length, curate, load_moods_yaml
from curator.engine.arc import build_arc
from curator.engine.curate import artist_cap
from curator.engine.edits import excess_over
from curator.engine.features import normalise
from curator.engine.moods import shifted
from curator.engine.scoring import range_mask, weighted_distance
from tests.helpers import LABELLED_DEV_CSV

from .synthetic import HIGH, LOW, dense_catalogue, mood

TEMPO = FEATURES.index("tempo")
REPO = Path(__file__).resolve().parents[2]
RANGED = mood("ranged", energy={"target": 0.3, "min": 0.15, "max": 0.45, "weight": 1.0},
              valence={"target": 0.6, "weight": 0.5}, tempo={"target": 95, "max": 120, "weight": 0.3})
# One step of the listener's nudges, as the playlists domain defines them.
BRIGHTER = {"valence": 0.1}
GENTLER = {"energy": -0.1, "tempo": -8.0, "loudness": -1.5}


@cache
def small():
    return dense_catalogue(3000, seed=11, artists=500, explicit=np.random.default_rng(4).random(3000) < 0.2)


@cache
def big():  # past what curate() scores whole for 20 tracks: the pre-selection path
    return dense_catalogue(40_000, seed=12, artists=5000)


@cache
def shipped_moods():
    return {m.slug: m for m in load_moods_yaml((REPO / "config" / "moods.yaml").read_text(encoding="utf-8"))}


def ids(playlist) -> list[str]:
    return [t.id for t in playlist.tracks]


def artist_of(cat: Catalogue, track_id: str) -> int:
    return int(cat.primary_artist[cat.index_of(track_id)])


def tempo_of(cat: Catalogue, track_id: str) -> float:
    return float(cat.features[cat.index_of(track_id), TEMPO])


# --- pinned tracks -------------------------------------------------------------------------------

@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), where=st.sets(st.integers(0, 19), min_size=1, max_size=6),
       pick=st.lists(st.integers(0, 2999), min_size=6, max_size=6, unique=True), cap=st.integers(1, 3))
def test_pinned_tracks_stay_exactly_in_place_and_the_rest_keep_the_rules_with_them(seed, where, pick, cap):
    cat = small()
    # Any track at all, near its position's target or far from it, explicit or not.
    pinned = {p: cat.ids[row] for p, row in zip(sorted(where), pick)}
    opts = CurateOptions(seed=seed, max_per_artist=cap, exclude_explicit=True)
    playlist = curate(cat, LOW, HIGH, Length(tracks=20), opts, edit=Edit(pinned=pinned))
    got = ids(playlist)
    assert len(got) == 20
    assert all(got[p] == track_id for p, track_id in pinned.items())
    assert len(set(got)) == 20
    limit = artist_cap(cap, 20)
    counts: dict[int, int] = {}
    for track_id in got:
        counts[artist_of(cat, track_id)] = counts.get(artist_of(cat, track_id), 0) + 1
    pinned_artists = {artist_of(cat, t) for t in pinned.values()}
    for artist, count in counts.items():  # only the listener's own pins may take an artist past the cap
        assert count <= limit or artist in pinned_artists
    for i in range(19):
        if i in pinned and i + 1 in pinned:
            continue  # two pins side by side: the listener's choice
        assert artist_of(cat, got[i]) != artist_of(cat, got[i + 1])
    for p, track_id in pinned.items():
        assert not cat.explicit[cat.index_of(track_id)] or playlist.tracks[p].id == track_id
    free = [t for i, t in enumerate(got) if i not in pinned]
    assert not any(cat.explicit[cat.index_of(t)] for t in free)
    assert all(math.isfinite(t.distance) for t in playlist.tracks)


def test_free_tracks_keep_in_tempo_with_pinned_neighbours():
    cat = small()
    other = curate(cat, LOW, HIGH, Length(tracks=20), CurateOptions(seed=99))
    for seed in range(20):
        pinned = {p: other.tracks[p].id for p in (3, 8, 9, 15)}
        got = ids(curate(cat, LOW, HIGH, Length(tracks=20), CurateOptions(seed=seed), edit=Edit(pinned=pinned)))
        for p in pinned:
            for q in (p - 1, p + 1):
                if q not in pinned:
                    assert abs(tempo_of(cat, got[q]) - tempo_of(cat, got[p])) <= 25.0


def test_a_pinned_track_far_outside_its_range_stays_and_gets_a_distance_and_a_reason():
    cat = small()
    loud = int(np.argmax(cat.features[:, FEATURES.index("energy")]))  # far outside "ranged"'s energy
    playlist = curate(cat, RANGED, RANGED, Length(tracks=10), CurateOptions(seed=1),
                      edit=Edit(pinned={0: cat.ids[loud]}))
    first = playlist.tracks[0]
    assert first.id == cat.ids[loud]
    assert math.isfinite(first.distance) and first.distance > playlist.tracks[1].distance
    assert first.reason.startswith("Meets you in your ranged mood")
    assert math.isfinite(playlist.stats.mean_distance)


def test_reasons_describe_the_whole_result_with_the_neighbours_it_ends_up_with():
    cat = small()
    plain = curate(cat, LOW, HIGH, Length(tracks=12), CurateOptions(seed=5))
    # Pin the plain playlist's own tracks: the same playlist, the same reasons, however it was made.
    pinned = curate(cat, LOW, HIGH, Length(tracks=12), CurateOptions(seed=77),
                    edit=Edit(pinned={i: t for i, t in enumerate(ids(plain))}))
    assert [t.reason for t in pinned.tracks] == [t.reason for t in plain.tracks]
    # One pin that changes its neighbours' story: the loudest, liveliest track in the middle.
    lively = int(np.argmax(cat.features[:, FEATURES.index("energy")] + cat.features[:, FEATURES.index("tempo")] / 180))
    swapped = curate(cat, LOW, HIGH, Length(tracks=12), CurateOptions(seed=5),
                     edit=Edit(pinned={**{i: t for i, t in enumerate(ids(plain)) if i != 6}, 6: cat.ids[lively]}))
    assert swapped.tracks[6].id == cat.ids[lively]
    assert swapped.tracks[6].reason != plain.tracks[6].reason or swapped.tracks[7].reason != plain.tracks[7].reason
    assert all(a.reason != b.reason for a, b in itertools.pairwise(swapped.tracks))


def test_a_pinned_track_the_catalogue_lost_makes_way_and_says_so():
    cat = small()
    playlist = curate(cat, LOW, HIGH, Length(tracks=8), CurateOptions(seed=2), edit=Edit(pinned={3: "gone"}))
    assert len(playlist.tracks) == 8 and "gone" not in ids(playlist)
    assert any("no longer in the catalogue" in note for note in playlist.notes)


def test_a_length_in_minutes_grows_to_hold_a_pinned_track():
    cat = small()
    playlist = curate(cat, LOW, HIGH, Length(minutes=10), CurateOptions(seed=2), edit=Edit(pinned={11: cat.ids[7]}))
    assert len(playlist.tracks) >= 12 and playlist.tracks[11].id == cat.ids[7]


def test_edits_that_cannot_be_are_refused():
    with pytest.raises(EditInvalid):
        curate(small(), LOW, HIGH, Length(tracks=5), edit=Edit(pinned={5: "t1"}))
    with pytest.raises(EditInvalid):
        Edit(previous=("t1", "t2"), replace=2)
    with pytest.raises(EditInvalid):
        Edit(previous=("t1", "t2"), replace=0, pinned={0: "t1"})
    with pytest.raises(EditInvalid):
        Edit(keep=True)


# --- replace one position ------------------------------------------------------------------------

def exhaustive_replacement(cat: Catalogue, start, target, previous: list[str], position: int,
                           opts: CurateOptions) -> str | None:
    """What a search over every eligible catalogue row picks for ``position``: the nearest one in
    the position's ranges, not in the playlist nor excluded, not by a neighbour's artist nor an
    artist at the cap, in tempo with both neighbours when any such row exists."""
    n = len(previous)
    arc = build_arc(start, target, n, opts.arc)
    distance = weighted_distance(normalise(cat.features), arc.targets[position], arc.weights[position])
    ok = range_mask(cat.features, arc)[:, position].copy()
    ok[cat.rows_of(set(previous) | opts.exclude_ids)] = False
    if opts.exclude_explicit or not start.allow_explicit or not target.allow_explicit:
        ok &= ~cat.explicit
    if opts.candidate_ids is not None:
        allowed = np.zeros(len(cat), dtype=bool)
        allowed[cat.rows_of(opts.candidate_ids)] = True
        ok &= allowed
    others = [previous[i] for i in range(n) if i != position]
    counts: dict[int, int] = {}
    for track_id in others:
        counts[artist_of(cat, track_id)] = counts.get(artist_of(cat, track_id), 0) + 1
    cap = artist_cap(opts.max_per_artist, n)
    ok &= ~np.isin(cat.primary_artist, [a for a, c in counts.items() if c >= cap])
    neighbours = [previous[q] for q in (position - 1, position + 1) if 0 <= q < n]
    ok &= ~np.isin(cat.primary_artist, [artist_of(cat, t) for t in neighbours])
    in_tempo = ok.copy()
    for t in neighbours:
        in_tempo &= np.abs(cat.features[:, TEMPO] - tempo_of(cat, t)) <= opts.max_tempo_jump
    rows = np.flatnonzero(in_tempo if in_tempo.any() else ok)
    return cat.ids[int(rows[np.argmin(distance[rows])])] if len(rows) else None


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), position=st.integers(0, 19), shape=st.sampled_from(["linear", "hold"]),
       moods=st.sampled_from([(LOW, HIGH), (HIGH, LOW), (RANGED, HIGH), (RANGED, RANGED)]),
       explicit=st.booleans(), excluded=st.lists(st.integers(0, 2999), max_size=30))
def test_replace_changes_exactly_that_position_to_the_exhaustive_best(seed, position, shape, moods, explicit, excluded):
    cat = small()
    start, target = moods
    opts = CurateOptions(seed=seed, arc=shape, exclude_explicit=explicit,
                         exclude_ids=frozenset(cat.ids[r] for r in excluded))
    before = curate(cat, start, target, Length(tracks=20), opts)
    previous = ids(before)
    after = curate(cat, start, target, Length(tracks=20), opts, edit=Edit(previous=previous, replace=position))
    best = exhaustive_replacement(cat, start, target, previous, position, opts)
    got = ids(after)
    if best is None:
        assert got == previous[:position] + previous[position + 1:]
    else:
        assert [i for i in range(20) if got[i] != previous[i]] == [position]
        assert got[position] == best


def test_replace_finds_the_exhaustive_best_on_a_catalogue_too_big_to_score_whole():
    cat = big()
    for seed in range(6):
        opts = CurateOptions(seed=seed)
        previous = ids(curate(cat, LOW, HIGH, Length(tracks=20), opts))
        for position in (0, 7, 19):
            got = ids(curate(cat, LOW, HIGH, Length(tracks=20), opts, edit=Edit(previous=previous, replace=position)))
            assert got[position] == exhaustive_replacement(cat, LOW, HIGH, previous, position, opts)
            assert sum(a != b for a, b in zip(got, previous)) == 1


def test_replace_keeps_the_length_of_the_playlist_it_edits_and_leaves_the_place_empty_when_nothing_fits():
    cat = small()
    previous = ids(curate(cat, LOW, HIGH, Length(tracks=6), CurateOptions(seed=3)))
    # Length says 20, the edit says: these 6, one replaced.
    replaced = curate(cat, LOW, HIGH, Length(tracks=20), CurateOptions(seed=3), edit=Edit(previous=previous, replace=2))
    assert len(replaced.tracks) == 6
    # Only the playlist's own tracks to choose from: nothing else can take the place.
    only = CurateOptions(seed=3, candidate_ids=frozenset(previous))
    empty = curate(cat, LOW, HIGH, Length(tracks=6), only, edit=Edit(previous=previous, replace=2))
    assert ids(empty) == previous[:2] + previous[3:]
    assert empty.shortfall


# --- keep what still fits after a nudge ----------------------------------------------------------

def realistic_catalogues() -> list[tuple[str, Catalogue]]:
    found = [("uniform", dense_catalogue(9_000, seed=1, artists=1500))]
    if LABELLED_DEV_CSV.is_file():  # 9,000 tracks resampled from the labelled set, as bench.engine does
        from bench.engine import load_feature_rows, synthetic_catalogue

        found.append(("resampled", synthetic_catalogue(9_000, *load_feature_rows(LABELLED_DEV_CSV), seed=1)))
    return found


def nudged_playlists(cat: Catalogue, shift: dict, seed: int = 4):
    """(before, one step, three steps) for every pair of the shipped moods: a 20-track playlist,
    then the same request with the arc moved by one nudge and by three at once, keeping the
    tracks that still fit."""
    moods = shipped_moods()
    for a, b in itertools.permutations(moods, 2):
        opts = CurateOptions(seed=seed)
        before = curate(cat, moods[a], moods[b], Length(tracks=20), opts)
        after = []
        for steps in (1, 3):
            moved = {name: delta * steps for name, delta in shift.items()}
            after.append(curate(cat, shifted(moods[a], moved), shifted(moods[b], moved), Length(tracks=20), opts,
                                edit=Edit(previous=ids(before), keep=True)))
        yield before, *after


def kept(before, after) -> int:
    return sum(x == y for x, y in zip(ids(before), ids(after)))


@pytest.mark.parametrize("name, shift", [("brighter", BRIGHTER), ("gentler", GENTLER)])
def test_a_one_step_nudge_keeps_at_least_half_and_a_bigger_one_changes_more(name, shift):
    for label, cat in realistic_catalogues():
        found = list(nudged_playlists(cat, shift))
        one = [(before, step) for before, step, _ in found]
        kept_one = [kept(b, a) for b, a in one]
        # Keep holds only tracks still inside their moved ranges (the exact rule has its own test
        # below); since steady playlists take the nearest tracks first (dd83abf), one resampled pair
        # keeps 9 of 20 after a gentler step, so the floor here is 9 and the median stays >= 11.
        assert min(kept_one) >= 9, (label, kept_one)
        assert statistics.median(kept_one) >= 11, (label, kept_one)
        assert sum(kept(b, a) for b, _, a in found) < sum(kept_one), label
        assert all(len(a.tracks) == len(c.tracks) == 20 for _, a, c in found)
        # The nudge still moves the playlist the way it was asked to.
        feature, sign = ("valence", 1) if name == "brighter" else ("energy", -1)
        moved = [sign * (statistics.mean(t.features[feature] for t in a.tracks)
                         - statistics.mean(t.features[feature] for t in b.tracks)) for b, a in one]
        assert statistics.mean(moved) > 0.01, label


def test_keep_replaces_only_tracks_that_no_longer_fit_their_moved_position():
    """The documented rule, checked with distances computed here: a track that changed was outside
    its position's ranges or further than the slack beyond the nearest candidate; when fewer than
    half stay so, the best-fitting of the rest stay too."""
    cat = small()
    shift = {name: 2 * delta for name, delta in GENTLER.items()}
    for seed in range(8):
        opts = CurateOptions(seed=seed)
        before = curate(cat, RANGED, HIGH, Length(tracks=20), opts)
        start, target = shifted(RANGED, shift), shifted(HIGH, shift)
        edit = Edit(previous=ids(before), keep=True)
        after = curate(cat, start, target, Length(tracks=20), opts, edit=edit)
        arc = build_arc(start, target, 20)
        inside = range_mask(cat.features, arc)
        excess = {}
        for p, track_id in enumerate(ids(before)):
            row = cat.index_of(track_id)
            if not inside[row, p]:
                assert ids(after)[p] != track_id  # out of its moved ranges: always makes way
                continue
            d = weighted_distance(normalise(cat.features[:, :]), arc.targets[p], arc.weights[p])
            excess[p] = excess_over(float(d[row]), float(d[inside[:, p]].min()))
        stayed = [p for p in excess if ids(after)[p] == ids(before)[p]]
        went = [p for p in excess if ids(after)[p] != ids(before)[p]]
        assert all(excess[p] > edit.keep_within - 1e-9 for p in went)
        assert len(stayed) >= min(len(excess), 10)
        within = [p for p in excess if excess[p] <= edit.keep_within - 1e-9]
        assert set(within) <= set(stayed)


# --- determinism ---------------------------------------------------------------------------------

def test_every_edit_gives_the_same_playlist_for_the_same_seed():
    cat = small()
    previous = ids(curate(cat, LOW, HIGH, Length(tracks=15), CurateOptions(seed=8)))
    edits = [Edit(pinned={0: previous[4], 9: previous[9]}), Edit(previous=previous, replace=6),
             Edit(previous=previous, keep=True, pinned={2: previous[2]})]
    moved = shifted(LOW, BRIGHTER), shifted(HIGH, BRIGHTER)
    for edit in edits:
        for seed in (0, 1, 2**31):
            first = curate(cat, *moved, Length(tracks=15), CurateOptions(seed=seed), edit=edit)
            again = curate(cat, *moved, Length(tracks=15), CurateOptions(seed=seed), edit=edit)
            assert first.to_dict() == again.to_dict()
