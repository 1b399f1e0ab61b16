"""The listener's taste in the engine: never-again, avoided artists, years, familiar <-> new."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from curator.engine import Catalogue, CurateOptions, Edit, Length, curate
from curator.engine.taste import ShareControl, Taste, taste_rows

from .synthetic import HIGH, LOW, dense_catalogue


def _artist_catalogue(n=60_000, artists=600, seed=3):
    primary = np.random.default_rng(seed + 1).integers(0, artists, n)
    names = [(f"Artist {int(a)}",) for a in primary.tolist()]
    base = dense_catalogue(n, seed=seed)
    cat = Catalogue.from_arrays(base.features, primary_artist=primary, artists=names, key=base.key,
                                durations_ms=base.durations_ms)
    years = np.random.default_rng(seed).integers(1960, 2025, n)
    return dataclasses.replace(cat, years=years.astype(np.int16))


@pytest.fixture(scope="module")
def cat():
    return _artist_catalogue()


def _artists(playlist):
    return [t.artists[0] for t in playlist.tracks]


def _preferred_places(familiar: int, n_positions: int) -> np.ndarray:
    """Which places prefer known rows when each place gets the kind it prefers."""
    share = ShareControl(familiar, np.array([False, True]), n_positions)  # candidate 0 new, 1 known
    places = []
    for _ in range(n_positions):
        places.append(share.wants_known())
        share.passed(1 if places[-1] else 0)
    return np.array(places)


def test_the_share_control_spreads_the_share_along_the_arc():
    assert _preferred_places(0, 20).sum() == 0
    assert _preferred_places(100, 20).all()
    half = _preferred_places(50, 20)
    assert half.sum() == 10 and not half[:2].all() and half[-2:].any()
    assert _preferred_places(30, 10).sum() == 3


def test_never_again_tracks_and_avoided_artists_are_never_chosen(cat):
    first = curate(cat, LOW, HIGH, Length(tracks=20), CurateOptions(seed=1))
    never = frozenset(t.id for t in first.tracks[:10])
    avoid = frozenset(a.upper() for a in _artists(first)[10:14])  # case-insensitive
    taste = Taste(never_ids=never, avoid_artists=avoid)
    for seed in range(30):
        again = curate(cat, LOW, HIGH, Length(tracks=20), CurateOptions(seed=seed, taste=taste))
        assert len(again.tracks) == 20
        assert not never & {t.id for t in again.tracks}
        assert not {a.casefold() for a in avoid} & {a.casefold() for a in _artists(again)}


def test_a_swap_never_brings_back_a_never_again_track(cat):
    first = curate(cat, LOW, HIGH, Length(tracks=12), CurateOptions(seed=2))
    ids = [t.id for t in first.tracks]
    never = frozenset({ids[5]})
    nearest_others = set()
    for _ in range(8):  # swap position 5 again and again: never the removed one
        taste = Taste(never_ids=never)
        swapped = curate(cat, LOW, HIGH, Length(tracks=12), CurateOptions(seed=2, taste=taste),
                         edit=Edit(previous=ids, replace=5))
        new = swapped.tracks[5].id
        assert new not in never and new not in nearest_others
        assert [t.id for i, t in enumerate(swapped.tracks) if i != 5] == [x for i, x in enumerate(ids) if i != 5]
        nearest_others.add(new)
        never = never | {new}
        ids[5] = new


def test_familiar_share_follows_the_control_and_reasons_say_so(cat):
    rng = np.random.default_rng(0)
    known_artists = frozenset(f"Artist {a}" for a in rng.choice(600, 120, replace=False))
    shares = {}
    for familiar in (0, 50, 100):
        taste = Taste(familiar=familiar, known_artists=known_artists)
        got = []
        for seed in range(6):
            p = curate(cat, LOW, HIGH, Length(tracks=20), CurateOptions(seed=seed, taste=taste))
            got += [a in known_artists for a in _artists(p)]
            if familiar == 100:
                assert all(t.reason.startswith("An artist you play often. ") for t in p.tracks
                           if t.artists[0] in known_artists)
            if familiar == 0:
                assert any(t.reason.startswith("New to you, close to the last track. ") for t in p.tracks)
        shares[familiar] = np.mean(got)
    assert shares[100] >= 0.9
    assert abs(shares[50] - 0.5) <= 0.1
    assert shares[0] <= 0.1


def test_known_rows_join_a_preselection_that_would_miss_them():
    cat = _artist_catalogue(n=200_000, artists=5000, seed=5)
    # The listener knows one artist whose tracks sit nowhere near the arc's anchors' nearest rows.
    plain = curate(cat, LOW, HIGH, Length(tracks=20), CurateOptions(seed=0))
    known = frozenset({"Artist 4242", "Artist 17", "Artist 999", "Artist 3000", "Artist 1234"})
    p = curate(cat, LOW, HIGH, Length(tracks=20), CurateOptions(seed=0, taste=Taste(familiar=100, known_artists=known)))
    assert not {a for a in _artists(plain)} & known
    assert sum(a in known for a in _artists(p)) >= 5  # a handful of artists: the artist cap limits them
    # Fit is still measured honestly: distances are the tracks' own, not the taste's penalties.
    assert all(t.distance < 1.0 for t in p.tracks)


def test_artists_removed_twice_are_used_less(cat):
    counts = {"plain": 0, "less": 0}
    for seed in range(10):
        plain = curate(cat, LOW, HIGH, Length(tracks=20), CurateOptions(seed=seed))
        less = frozenset(_artists(plain))
        again = curate(cat, LOW, HIGH, Length(tracks=20), CurateOptions(seed=seed, taste=Taste(less_artists=less)))
        counts["plain"] += 20
        counts["less"] += sum(a in less for a in _artists(again))
    assert counts["less"] < counts["plain"] / 2


def test_years_range_and_a_catalogue_without_years(cat):
    taste = Taste(years=(1980, 1989))
    p = curate(cat, LOW, HIGH, Length(tracks=20), CurateOptions(seed=0, taste=taste))
    rows = cat.rows_of([t.id for t in p.tracks])
    assert len(p.tracks) == 20 and ((cat.years[rows] >= 1980) & (cat.years[rows] <= 1989)).all()
    open_end = curate(cat, LOW, HIGH, Length(tracks=20), CurateOptions(seed=0, taste=Taste(years=(2015, None))))
    assert (cat.years[cat.rows_of([t.id for t in open_end.tracks])] >= 2015).all()
    no_years = dense_catalogue(3000)
    q = curate(no_years, LOW, HIGH, Length(tracks=10), CurateOptions(seed=0, taste=taste))
    assert len(q.tracks) == 10 and any("release years" in n for n in q.notes)


def test_taste_is_deterministic_with_a_seed_and_remembered_per_catalogue(cat):
    taste = Taste(familiar=50, known_artists={f"Artist {i}" for i in range(0, 600, 3)}, never_ids={"t1", "t2"})
    a = curate(cat, LOW, HIGH, Length(tracks=20), CurateOptions(seed=9, taste=taste))
    b = curate(cat, LOW, HIGH, Length(tracks=20), CurateOptions(seed=9, taste=Taste(
        familiar=50, known_artists={f"artist {i}" for i in range(0, 600, 3)}, never_ids={"t2", "t1"})))
    assert a.to_dict() == b.to_dict()
    assert taste_rows(cat, taste) is taste_rows(cat, Taste(
        familiar=0, known_artists={f"Artist {i}" for i in range(0, 600, 3)}, never_ids={"t1", "t2"}))


def test_years_survive_the_stored_arrays(cat):
    from curator.engine.catalogue import Catalogue
    again = Catalogue.from_stored_arrays(cat.to_arrays())
    assert (again.years == cat.years).all() and again.knows_years
    old = {k: v for k, v in cat.to_arrays().items() if k != "years"}
    assert not Catalogue.from_stored_arrays(old).knows_years


def test_taste_rejects_a_familiar_share_out_of_range():
    with pytest.raises(ValueError):
        Taste(familiar=101)


@pytest.mark.parametrize("familiar", [0, 50, 100])
def test_a_taste_gets_the_playlist_scoring_every_row_would_give(monkeypatch, cat, familiar):
    """The certified pre-selection with a taste's known rows grown in (up to KNOWN_CANDIDATES of them)
    picks what scoring every eligible row with the taste's penalties picks."""
    import sys

    module = sys.modules["curator.engine.curate"]
    rng = np.random.default_rng(familiar)
    taste = Taste(familiar=familiar, known_artists=frozenset(f"Artist {a}" for a in rng.choice(600, 12, replace=False)),
                  never_ids=frozenset(f"t{i}" for i in rng.choice(60_000, 300, replace=False)))
    options = CurateOptions(seed=4, near_tie=0.0, taste=taste)
    fast = curate(cat, LOW, HIGH, Length(tracks=30), options)
    monkeypatch.setattr(module, "_exact_limit", lambda n: 10**9)
    exact = curate(cat, LOW, HIGH, Length(tracks=30), options)
    assert [t.id for t in fast.tracks] == [t.id for t in exact.tracks]


def test_the_familiar_share_follows_the_setting_when_known_rows_sit_near_part_of_the_arc_only(cat):
    """Known rows near the arc's second half only: the places that prefer known rows move there (a
    share control), so familiar = 50 still gives about half, not a fixed half of the places' luck."""
    from curator.engine.arc import build_arc
    from curator.engine.scoring import exact_distances

    arc = build_arc(LOW, HIGH, 20)
    d = exact_distances(cat.features, arc)
    # Known: rows close to the second half's targets and more than 0.2 (the familiar penalty) from
    # every target of the first half, so no place of the first half can take one.
    library = np.flatnonzero((d[:, :10].min(axis=1) > 0.2) & (d[:, 10:].min(axis=1) < 0.1))
    taste = Taste(familiar=50, known_ids=frozenset(cat.ids.take(library)))
    known = set(library.tolist())
    shares = []
    for seed in range(6):
        p = curate(cat, LOW, HIGH, Length(tracks=20), CurateOptions(seed=seed, taste=taste))
        shares.append(np.mean([r in known for r in cat.rows_of([t.id for t in p.tracks]).tolist()]))
    assert abs(np.mean(shares) - 0.5) <= 0.1, shares
    none = Taste(familiar=0, known_ids=taste.known_ids)
    assert not known & set(cat.rows_of([t.id for t in curate(cat, LOW, HIGH, Length(tracks=20),
                                                               CurateOptions(seed=0, taste=none)).tracks]).tolist())
