"""Property tests: whatever the catalogue and options, the playlist rules hold."""
import math

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from curator.engine import FEATURES, Catalogue, CurateOptions, Length, curate
from curator.engine.curate import artist_cap

from .synthetic import mood

TEMPO = FEATURES.index("tempo")


@st.composite
def catalogues(draw):
    n = draw(st.integers(1, 120))
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    feats = rng.random((n, len(FEATURES))).astype(np.float32)
    feats[:, TEMPO] = rng.uniform(50, 200, n)
    feats[:, FEATURES.index("loudness")] = rng.uniform(-40, -2, n)
    feats[:, FEATURES.index("mode")] = rng.integers(0, 2, n)
    n_artists = draw(st.integers(1, max(1, n)))
    n_songs = draw(st.integers(1, n))  # fewer songs than rows => duplicate recordings
    songs = rng.integers(0, n_songs, n)
    artists = rng.integers(0, n_artists, n)
    return Catalogue.from_arrays(
        feats,
        names=[f"Song {s}" for s in songs],
        artists=[(f"Artist {a}",) for a in artists],
        primary_artist=artists,
        explicit=rng.random(n) < 0.3,
        isrc=[f"ISRC{s % 7}" if rng.random() < 0.2 else None for s in songs],
        key=rng.integers(-1, 12, n),
        durations_ms=rng.integers(60_000, 400_000, n),
    )


unit = st.floats(0, 1)
spec = st.builds(lambda t, w: {"target": t, "weight": w}, unit, st.floats(0, 3))
moods = st.builds(lambda e, v, a: mood("mm", energy=e, valence=v, acousticness=a), spec, spec, spec)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    cat=catalogues(), start=moods, target=moods,
    tracks=st.integers(1, 40), cap=st.integers(1, 4), seed=st.integers(0, 1000),
    explicit=st.booleans(), arc=st.sampled_from(["linear", "ease-in-out", "hold"]),
)
def test_playlist_rules_hold(cat, start, target, tracks, cap, seed, explicit, arc):
    opts = CurateOptions(seed=seed, max_per_artist=cap, exclude_explicit=explicit, arc=arc)
    playlist = curate(cat, start, target, Length(tracks=tracks), opts)
    rows = [cat.index_of(t.id) for t in playlist.tracks]
    assert len(rows) <= tracks
    assert (len(rows) == tracks) == (playlist.shortfall is None)
    assert len(set(rows)) == len(rows)
    assert len({cat.recording_key[r] for r in rows}) == len(rows)
    isrcs = [cat.isrc[r] for r in rows if cat.isrc[r]]
    assert len(set(isrcs)) == len(isrcs)
    artists = [int(cat.primary_artist[r]) for r in rows]
    assert all(a != b for a, b in zip(artists, artists[1:]))
    if artists:
        assert max(np.bincount(artists)) <= artist_cap(cap, tracks)
    if explicit:
        assert not any(cat.explicit[r] for r in rows)
    assert all(math.isfinite(t.distance) and t.distance >= 0 for t in playlist.tracks)
    again = curate(cat, start, target, Length(tracks=tracks), opts)
    assert [t.id for t in again.tracks] == [t.id for t in playlist.tracks]
