"""Reasons a person would write: each track against its neighbours, never one sentence twice."""
from __future__ import annotations

import itertools
import random
from pathlib import Path

from curator.engine import CurateOptions, Length, curate, load_moods_yaml
from curator.engine.features import FEATURES
from curator.engine.reasons import arc_reasons, row_reasons

from .synthetic import dense_catalogue

REPO = Path(__file__).resolve().parents[2]


def track(energy=0.5, valence=0.5, tempo=110.0, acousticness=0.3, loudness=-9.0, danceability=0.5, mode=0):
    return {"energy": energy, "valence": valence, "tempo": tempo, "acousticness": acousticness,
            "loudness": loudness, "danceability": danceability, "mode": mode}


def test_first_meets_the_listener_and_last_arrives():
    reasons = arc_reasons([track(energy=0.8, valence=0.2, tempo=128), track(), track(energy=0.2, valence=0.7, tempo=70)],
                          "Anxious", "Calm")
    assert reasons[0] == "Meets you in your anxious mood: high energy, dark mood, 128 BPM"
    assert reasons[-1] == "Arrives at calm: low energy, bright mood, 70 BPM"


def test_a_small_step_down_in_tempo_and_energy_reads_as_slower_and_softer():
    reasons = arc_reasons([track(), track(), track(tempo=102, energy=0.44), track()], "Anxious", "Calm")
    assert reasons[2] == "A little slower and softer than the last"


def test_a_large_change_says_much():
    reasons = arc_reasons([track(), track(), track(valence=0.95, tempo=112), track()], "Tired", "Uplifted")
    assert reasons[2] == "Much brighter than the last"


def test_first_major_key_track_is_noted():
    tracks = [track(mode=0), track(mode=0), track(mode=0), track(mode=1, valence=0.6), track(mode=1)]
    reasons = arc_reasons(tracks, "Melancholic", "Calm")
    assert reasons[3].startswith("First major-key track")
    assert "first major-key" not in reasons[4].lower()  # only the first one is first


def test_unknown_mode_is_not_a_key_change():
    tracks = [track(mode=0), track(mode=0), track(mode=None), track(mode=0.5), track(mode=0)]
    assert not any("key" in r for r in arc_reasons(tracks, "Tired", "Calm"))


def test_softer_and_quieter_is_said_once():
    reasons = arc_reasons([track(), track(), track(energy=0.3, loudness=-14), track()], "Angry", "Calm")
    assert reasons[2] == "Softer than the last"


def test_the_midpoint_says_halfway():
    reasons = arc_reasons([track(tempo=150 - 10 * i) for i in range(7)], "Anxious", "Calm")
    assert reasons[3].startswith("Halfway to calm: ")


def test_steady_tracks_still_never_repeat_a_sentence():
    reasons = arc_reasons([track() for _ in range(12)], "Calm", "Calm")
    assert len(set(reasons)) == len(reasons), reasons


def test_a_steady_playlist_is_never_halfway_and_ends_in_the_mood_it_began_in():
    tracks = [track(tempo=70 + i, energy=0.2 + 0.01 * i) for i in range(20)]
    reasons = arc_reasons(tracks, "Calm", "Calm")
    assert not any("halfway" in r.lower() for r in reasons), reasons
    assert reasons[0].startswith("Meets you in your calm mood")
    assert reasons[-1].startswith("Ends in your calm mood")
    assert arc_reasons(tracks, "Anxious", "Calm")[9].startswith("Halfway to calm: ")


def test_a_most_so_far_is_said_once():
    # A calming arc: every track is gentler than all before it.
    tracks = [track(energy=0.9 - 0.04 * i, tempo=140 - 3 * i, valence=0.5) for i in range(20)]
    reasons = arc_reasons(tracks, "Anxious", "Calm")
    assert sum("the gentlest so far" in r.lower() for r in reasons) == 1, reasons
    assert len(set(reasons)) == 20


def test_curated_playlists_never_repeat_a_reason():
    """Every pair of the shipped moods, 20 tracks: no sentence twice, no "most so far" twice, and
    no "(track N)" — the last resort when every wording is used."""
    moods = load_moods_yaml((REPO / "config" / "moods.yaml").read_text(encoding="utf-8"))
    cat = dense_catalogue(6000, seed=21, artists=900)
    for start, target in itertools.product(moods, moods):
        reasons = [t.reason for t in curate(cat, start, target, Length(tracks=20), CurateOptions(seed=2)).tracks]
        assert len(set(reasons)) == 20, reasons
        assert not any("(track" in r for r in reasons), reasons
        for note in ("gentlest", "liveliest", "brightest", "darkest"):
            assert sum(f"the {note} so far" in r.lower() for r in reasons) <= 1, reasons
        assert (start.slug == target.slug) == (not any(r.startswith("Halfway") for r in reasons)), reasons


def test_random_arcs_never_repeat_a_sentence():
    rng = random.Random(11)
    for _ in range(200):
        n = rng.randint(1, 40)
        tracks = [track(energy=rng.random(), valence=rng.random(), tempo=rng.uniform(60, 180),
                        acousticness=rng.random(), loudness=rng.uniform(-25, -3), danceability=rng.random(),
                        mode=rng.choice([0, 1, None])) for _ in range(n)]
        # Runs of identical tracks are the hardest case for variety.
        if n > 4:
            tracks[2:5] = [dict(tracks[2]) for _ in range(3)]
        reasons = arc_reasons(tracks, "Anxious", "Calm")
        assert len(reasons) == n and all(reasons)
        assert len(set(reasons)) == n, reasons


def test_one_track_is_just_the_target():
    assert arc_reasons([track(energy=0.2)], "Anxious", "Calm") == ["Calm: low energy, bittersweet mood, 110 BPM"]


def test_rows_read_as_their_mappings():
    rng = random.Random(5)
    for _ in range(300):
        n = rng.randint(1, 25)
        rows = [[rng.choice([rng.random(), rng.uniform(-30, 200), 0.5, float("nan")]) for _ in FEATURES] for _ in range(n)]
        if n > 3:
            rows[1:3] = [list(rows[1]) for _ in range(2)]
        known = [rng.random() < 0.8 for _ in range(n)]
        mappings = [dict(zip(FEATURES, row), **({} if k else {"mode": None})) for row, k in zip(rows, known)]
        traits = [rng.choice(["", "low energy", "70 BPM"]) for _ in range(n)] if rng.random() < 0.5 else None
        assert row_reasons(rows, known, "Anxious", "Calm", traits) == arc_reasons(mappings, "Anxious", "Calm", traits)
