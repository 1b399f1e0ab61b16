import json

import numpy as np
import pytest

from curator.engine import (
    FEATURES,
    Catalogue,
    CatalogueEmpty,
    CurateOptions,
    EngineError,
    Length,
    LengthInvalid,
    curate,
)
from curator.engine.arc import build_arc, mood_point
from curator.engine.catalogue import normalise_title
from curator.engine.features import normalise
from curator.engine.scoring import weighted_distance
from curator.engine.sequencing import camelot_codes, camelot_compatible

from .synthetic import HIGH, LOW, dense_catalogue, mood, records

ENERGY = FEATURES.index("energy")


@pytest.fixture(scope="module")
def dense():
    return dense_catalogue(3000, seed=1, artists=600)


def test_length_in_tracks_is_honoured(dense):
    playlist = curate(dense, LOW, HIGH, Length(tracks=30), CurateOptions(seed=1))
    assert len(playlist.tracks) == 30
    assert playlist.shortfall is None
    assert [t.position for t in playlist.tracks] == list(range(30))


def test_shortfall_message_when_ranges_leave_too_few():
    narrow = mood("narrow", energy={"target": 0.5, "min": 0.45, "max": 0.55})
    cat = dense_catalogue(200, seed=2)
    inside = int(((cat.features[:, ENERGY] >= 0.45) & (cat.features[:, ENERGY] <= 0.55)).sum())
    playlist = curate(cat, narrow, narrow, Length(tracks=inside + 10), CurateOptions(seed=0))
    assert len(playlist.tracks) == inside
    assert playlist.shortfall == (
        f"Only {inside} of {inside + 10} tracks could be chosen: {inside} tracks match the moods' ranges."
    )
    assert all(0.45 <= t.features["energy"] <= 0.55 for t in playlist.tracks)


def test_no_duplicate_recordings():
    recs = records(40, seed=3)
    # The same song three ways: same ISRC, a remaster of the same title+artist, and a duplicate id.
    recs[1].update(isrc="USABC0000001")
    recs[2].update(isrc="usabc0000001", name="Other title", artists=["Someone"])
    recs[3].update(name="Song 0 - Remastered 2011", artists=["Artist 0"])
    recs[4].update(name="Song 0 (Live)", artists=["artist 0"], artist_ids=["x"])
    recs[5].update(id="id6")
    for r in recs[:7]:
        r.update(energy=0.5, valence=0.5, tempo=100.0)
    cat = Catalogue.from_records(recs)
    steady = mood("steady", energy={"target": 0.5}, valence={"target": 0.5})
    playlist = curate(cat, steady, steady, Length(tracks=40), CurateOptions(seed=0, max_per_artist=20))
    ids = [t.id for t in playlist.tracks]
    assert len(ids) == len(set(ids))
    rows = [cat.index_of(i) for i in ids]
    isrcs = [cat.isrc[r] for r in rows if cat.isrc[r]]
    assert len(isrcs) == len(set(isrcs))
    keys = [cat.recording_key[r] for r in rows]
    assert len(keys) == len(set(keys))
    assert sum(r in (0, 3, 4) for r in rows) == 1  # one version of "Song 0"
    assert sum(r in (1, 2) for r in rows) == 1  # one track per ISRC
    assert len(playlist.tracks) == 40 - 2 - 1 - 1


def test_title_normalisation():
    assert normalise_title("Yesterday - Remastered 2009") == "yesterday"
    assert normalise_title("Yesterday (Live at the BBC)") == normalise_title("yesterday")
    assert normalise_title("Song feat. Someone") == "song"
    assert normalise_title("Another Song") != "song"


def test_artist_cap_and_no_artist_twice_in_a_row():
    cat = dense_catalogue(2000, seed=4, artists=8)
    playlist = curate(cat, LOW, HIGH, Length(tracks=40), CurateOptions(seed=2, max_per_artist=2))
    artists = [cat.primary_artist[cat.index_of(t.id)] for t in playlist.tracks]
    counts = np.bincount(artists)
    assert counts.max() <= 4  # ceil(2 * 40 / 20)
    assert all(a != b for a, b in zip(artists, artists[1:]))
    assert len(playlist.tracks) == 32  # 8 artists x 4
    assert "at most 4 tracks per artist" in playlist.shortfall


def test_arc_targets_and_picks_move_towards_the_target(dense):
    arc = build_arc(LOW, HIGH, 20)
    energy_targets = arc.raw_targets[:, ENERGY]
    assert np.all(np.diff(energy_targets) > 0)
    assert energy_targets[0] == pytest.approx(0.1) and energy_targets[-1] == pytest.approx(0.9)
    playlist = curate(dense, LOW, HIGH, Length(tracks=20), CurateOptions(seed=3))
    point, weight = mood_point(HIGH)
    to_target = [float(weighted_distance(normalise([t.features[f] or 0.5 for f in FEATURES]), point, weight))
                 for t in playlist.tracks]
    # Distances to the target mood trend down: strongly correlated with position, ends close.
    assert np.corrcoef(np.arange(20), to_target)[0, 1] < -0.95
    assert to_target[-1] < 0.05 and to_target[0] > 0.5
    energies = [t.features["energy"] for t in playlist.tracks]
    assert np.corrcoef(np.arange(20), energies)[0, 1] > 0.95
    assert playlist.stats.start_distance < 0.05 and playlist.stats.end_distance < 0.05


def test_arc_shapes():
    linear = build_arc(LOW, HIGH, 10, "linear").fractions
    ease = build_arc(LOW, HIGH, 10, "ease-in-out").fractions
    hold = build_arc(LOW, HIGH, 10, "hold").fractions
    assert linear[0] == ease[0] == hold[0] == 0 and linear[-1] == ease[-1] == hold[-1] == 1
    assert ease[1] < linear[1] and ease[-2] > linear[-2]
    assert np.all(hold[3:] == 1) and hold[2] < 1
    steady = build_arc(LOW, LOW, 10)
    assert np.all(steady.targets == steady.targets[0])


def test_same_seed_same_playlist_other_seed_differs_with_similar_quality(dense):
    def run(seed):
        return curate(dense, LOW, HIGH, Length(tracks=25), CurateOptions(seed=seed))

    a, b, c = run(11), run(11), run(12)
    assert [t.id for t in a.tracks] == [t.id for t in b.tracks]
    assert a.to_dict() == b.to_dict()
    assert [t.id for t in a.tracks] != [t.id for t in c.tracks]
    assert c.stats.mean_distance == pytest.approx(a.stats.mean_distance, rel=0.5, abs=0.02)
    greedy = curate(dense, LOW, HIGH, Length(tracks=25), CurateOptions(seed=11, near_tie=0.0))
    assert a.stats.mean_distance <= greedy.stats.mean_distance * 1.5 + 0.02


def test_unseeded_playlist_records_a_reproducible_seed(dense):
    first = curate(dense, LOW, HIGH, Length(tracks=10))
    again = curate(dense, LOW, HIGH, Length(tracks=10), CurateOptions(seed=first.seed))
    assert [t.id for t in first.tracks] == [t.id for t in again.tracks]


def test_minutes_length(dense):
    playlist = curate(dense, LOW, HIGH, Length(minutes=30), CurateOptions(seed=0))
    total = playlist.duration_ms
    typical = float(np.median(dense.durations_ms))
    assert total >= 30 * 60_000 - typical / 2
    # Not padded: dropping the last track would fall short of the goal.
    assert total - playlist.tracks[-1].duration_ms < 30 * 60_000 - typical / 2 + 1
    assert playlist.stats.end_distance < 0.1  # the arc still arrives


def test_minutes_shortfall_message():
    cat = dense_catalogue(5, seed=5)
    playlist = curate(cat, LOW, HIGH, Length(minutes=60), CurateOptions(seed=0, max_tempo_jump=500))
    assert len(playlist.tracks) == 5
    assert playlist.shortfall.startswith("Only ")
    assert "of 60 minutes could be filled (5 tracks)" in playlist.shortfall


def test_explicit_exclusion_and_mood_flag():
    explicit = np.arange(1000) % 2 == 0
    cat = dense_catalogue(1000, seed=6, explicit=explicit)
    playlist = curate(cat, LOW, HIGH, Length(tracks=20), CurateOptions(seed=0, exclude_explicit=True))
    assert not any(cat.explicit[cat.index_of(t.id)] for t in playlist.tracks)
    clean = LOW.model_copy(update={"allow_explicit": False})
    playlist = curate(cat, clean, HIGH, Length(tracks=20), CurateOptions(seed=0))
    assert not any(cat.explicit[cat.index_of(t.id)] for t in playlist.tracks)
    mixed = curate(cat, LOW, HIGH, Length(tracks=20), CurateOptions(seed=0))
    assert any(cat.explicit[cat.index_of(t.id)] for t in mixed.tracks)


def test_exclude_ids_and_candidate_ids(dense):
    first = curate(dense, LOW, HIGH, Length(tracks=15), CurateOptions(seed=0))
    banned = frozenset(t.id for t in first.tracks)
    second = curate(dense, LOW, HIGH, Length(tracks=15), CurateOptions(seed=0, exclude_ids=banned))
    assert not banned & {t.id for t in second.tracks}
    library = frozenset(f"t{i}" for i in range(0, 3000, 7))
    mine = curate(dense, LOW, HIGH, Length(tracks=15), CurateOptions(seed=0, candidate_ids=library))
    assert len(mine.tracks) == 15 and {t.id for t in mine.tracks} <= library
    none = curate(dense, LOW, HIGH, Length(tracks=5), CurateOptions(candidate_ids=frozenset({"nope"})))
    assert none.tracks == [] and "none of the 1 candidate tracks" in none.shortfall


def test_tempo_jumps_respected_when_possible(dense):
    playlist = curate(dense, LOW, HIGH, Length(tracks=30), CurateOptions(seed=0, max_tempo_jump=10))
    tempos = [t.features["tempo"] for t in playlist.tracks]
    assert max(abs(a - b) for a, b in zip(tempos, tempos[1:])) <= 10 + 1e-3


def test_tempo_rule_relaxes_instead_of_leaving_gaps():
    feats = np.full((6, len(FEATURES)), 0.5, dtype=np.float32)
    feats[:, FEATURES.index("tempo")] = [60, 200, 60, 200, 60, 200]
    cat = Catalogue.from_arrays(feats)
    steady = mood("steady", energy={"target": 0.5})
    playlist = curate(cat, steady, steady, Length(tracks=6), CurateOptions(seed=0))
    assert len(playlist.tracks) == 6 and playlist.shortfall is None


def test_camelot_wheel():
    codes = camelot_codes(np.array([0, 7, 9, 5, 0, -1]), np.array([1, 1, 0, 1, 0, 1]))
    c_major, g_major, a_minor, f_major, c_minor, unknown = codes
    assert camelot_compatible(np.array([g_major, a_minor, f_major, c_minor]), c_major).tolist() == [True, True, True, False]
    assert unknown == -1 and not camelot_compatible(np.array([unknown]), c_major)[0]


def test_harmonic_tie_break_prefers_compatible_keys():
    # Identical features: every candidate is a near-tie, so the key decides.
    feats = np.full((40, len(FEATURES)), 0.5, dtype=np.float32)
    feats[:, FEATURES.index("mode")] = 1
    keys = np.arange(40) % 12
    cat = Catalogue.from_arrays(feats, key=keys)
    steady = mood("steady", energy={"target": 0.5})
    playlist = curate(cat, steady, steady, Length(tracks=10), CurateOptions(seed=5))
    codes = [camelot_codes(np.array([cat.key[cat.index_of(t.id)]]), np.array([1]))[0] for t in playlist.tracks]
    assert all(camelot_compatible(np.array([b]), a)[0] for a, b in zip(codes, codes[1:]))


def test_reasons_and_json(dense):
    calm = mood("calm", energy={"target": 0.1, "weight": 1.0}, acousticness={"target": 0.9, "weight": 0.8},
                tempo={"target": 72, "weight": 0.6}, valence={"target": 0.5, "weight": 0.1})
    playlist = curate(dense, calm, calm, Length(tracks=5), CurateOptions(seed=0))
    # The first and last reasons describe the track by the features its mood weighs most.
    for track in (playlist.tracks[0], playlist.tracks[-1]):
        parts = track.reason.split(": ", 1)[1].split(", ")
        assert parts[0] == "low energy" and parts[1] == "acoustic" and parts[2].endswith(" BPM")
    assert playlist.tracks[0].reason.startswith("Meets you in your calm mood: ")
    assert playlist.tracks[-1].reason.startswith("Ends in your calm mood: ")  # calm to calm: no arrival
    for track in playlist.tracks:
        assert set(track.position_target) == {"energy", "acousticness", "tempo", "valence"}
        assert track.position_target["tempo"] == pytest.approx(72)
    data = json.loads(json.dumps(playlist.to_dict()))
    assert data["start"] == "calm" and data["arc"] == "linear" and len(data["tracks"]) == 5
    assert set(data["stats"]) == {"start_distance", "end_distance", "mean_distance", "largest_step"}


def test_errors():
    empty = Catalogue.from_records([])
    with pytest.raises(CatalogueEmpty):
        curate(empty, LOW, HIGH, Length(tracks=5))
    for bad in (dict(tracks=0), dict(tracks=501), dict(minutes=0), dict(minutes=601), dict(), dict(tracks=3, minutes=3)):
        with pytest.raises(LengthInvalid) as info:
            Length(**bad)
        assert isinstance(info.value, EngineError) and str(info.value)
    with pytest.raises(EngineError):
        CurateOptions(arc="zigzag")


def test_preselection_matches_exhaustive_search(monkeypatch):
    import sys

    cat = dense_catalogue(30_000, seed=7, artists=5000)
    module = sys.modules["curator.engine.curate"]
    fast = curate(cat, LOW, HIGH, Length(tracks=40), CurateOptions(seed=4, near_tie=0.0))
    monkeypatch.setattr(module, "_exact_limit", lambda n: 10**9)
    exact = curate(cat, LOW, HIGH, Length(tracks=40), CurateOptions(seed=4, near_tie=0.0))
    assert [t.id for t in fast.tracks] == [t.id for t in exact.tracks]


def test_from_records_columns():
    recs = records(3)
    recs[0].pop("mode")
    recs[1]["tags"] = ["calm", "night"]
    cat = Catalogue.from_records(recs)
    assert len(cat) == 3 and cat.index_of("id2") == 2
    assert cat.mode[0] == -1 and cat.features[0, FEATURES.index("mode")] == 0.5
    assert cat.tags[1] == frozenset({"calm", "night"})
    assert cat.features.dtype == np.float32 and cat.features.flags.c_contiguous
    assert cat.matrix_bytes() == 3 * len(FEATURES) * 4


def test_columns_hold_no_object_per_track_and_round_trip_as_plain_arrays():
    recs = records(5)
    recs[3]["id"], recs[4]["id"] = "b", "a"  # unsorted ids, one duplicated below
    recs[2]["id"] = "a"
    recs[1].update(isrc="usabc1234567", artists=["Él", "Ña"], tags=["mood:calm"])
    cat = Catalogue.from_records(recs)
    assert cat.index_of("id0") == 0 and list(cat.rows_of(["a", "b", "zz", "id1"])) == [1, 2, 3, 4]
    assert cat.id_codes(np.array([2, 4])).tolist()[0] == cat.id_codes(np.array([4]))[0]  # same id, same code
    assert cat.isrc[1] == "USABC1234567" and cat.isrc[0] is None and cat.has_isrc.tolist() == [0, 1, 0, 0, 0]
    assert cat.artists[1] == ("Él", "Ña") and cat.names[4] == "Song 4" and list(cat.ids[[3, 4]]) == ["b", "a"]
    with pytest.raises(KeyError):
        cat.index_of("nope")
    arrays = cat.to_arrays()
    assert all(a.dtype != object for a in arrays.values())
    back = Catalogue.from_stored_arrays(arrays)
    assert back.ids == cat.ids and back.names == cat.names and back.artists == cat.artists
    assert back.tags == cat.tags and back.isrc == cat.isrc and back.tags[1] == frozenset({"mood:calm"})
    assert np.array_equal(back.features, cat.features) and back.rows_of(["a"]).tolist() == [2, 4]


def test_remembered_preselection_is_the_scans_answer(dense):
    from curator.engine.arc import build_arc
    from curator.engine.scoring import preselect

    cat = dense_catalogue(30_000, seed=3)
    arc = build_arc(LOW, HIGH, 30)
    memo: dict = {}
    scanned = preselect(cat.features, arc, 384, cat.threshold_sample)
    first = preselect(cat.features, arc, 384, cat.threshold_sample, memo=memo)
    again = preselect(cat.features, arc, 384, cat.threshold_sample, memo=memo)
    assert np.array_equal(first, scanned) and again is first and len(memo) == 1
    other = preselect(cat.features, build_arc(LOW, LOW, 30), 384, cat.threshold_sample, memo=memo)
    assert len(memo) == 2 and not np.array_equal(other, first)
    # curate() keeps the memo with the catalogue; playlists are the same with it as without.
    first_call = curate(cat, LOW, HIGH, Length(tracks=30), CurateOptions(seed=1))
    remembered = len(cat.preselection_memo)  # the first call's scans (the arc's, and any wider one)
    again = curate(cat, LOW, HIGH, Length(tracks=30), CurateOptions(seed=1))
    assert [t.id for t in first_call.tracks] == [t.id for t in again.tracks]
    assert len(cat.preselection_memo) == remembered
    # ...and so are the scored candidates (they depend on the arc and rows, never on the seed).
    candidates = len(cat.candidate_memo)
    assert candidates >= 1
    fresh = dense_catalogue(30_000, seed=3)  # same tracks, nothing remembered yet
    for seed in (2, 5):
        remembered = curate(cat, LOW, HIGH, Length(tracks=30), CurateOptions(seed=seed))
        computed = curate(fresh, LOW, HIGH, Length(tracks=30), CurateOptions(seed=seed))
        assert [t.id for t in remembered.tracks] == [t.id for t in computed.tracks]
        fresh.candidate_memo.clear()
        fresh.preselection_memo.clear()
    assert len(cat.candidate_memo) == candidates


def test_memos_stay_bounded_and_never_fail_under_threads():
    import threading

    from curator.engine.catalogue import remember

    memo: dict = {}
    errors = []

    def fill(offset):
        try:
            for i in range(5_000):
                remember(memo, (offset, i), i, 64)
        except Exception as exc:  # noqa: BLE001 - any error is the failure
            errors.append(exc)

    threads = [threading.Thread(target=fill, args=(t,)) for t in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors and len(memo) <= 64 + len(threads)
