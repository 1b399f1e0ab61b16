"""A mood's learned term: fitting, validation, the YAML round trip, and what it does to the picks."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from curator.engine import (
    Catalogue,
    CurateOptions,
    Length,
    MoodInvalid,
    curate,
    dump_moods_yaml,
    load_moods_yaml,
    parse_mood,
)
from curator.engine.arc import arc_fractions
from curator.engine.features import FEATURES
from curator.engine.learned import LearnedTerm, fit_learned, group_folds
from curator.engine.moods import mood_to_dict, scoring_features
from tests.engine.synthetic import HIGH, LOW, dense_catalogue
from tests.helpers import LABELLED_DEV_CSV, LISTENER_RATED_CSV, needs_shared_data

REPO = Path(__file__).resolve().parents[2]
ENERGY = FEATURES.index("energy")


def synthetic(n: int = 600, seed: int = 3) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Raw rows whose label is (noisily) "high energy and loud"; 100 artists."""
    rng = np.random.default_rng(seed)
    raw = np.column_stack([rng.uniform(0, 1, n) for _ in FEATURES])
    raw[:, FEATURES.index("loudness")] = rng.uniform(-25, -3, n)
    raw[:, FEATURES.index("tempo")] = rng.uniform(60, 180, n)
    raw[:, FEATURES.index("mode")] = rng.integers(0, 2, n)
    score = 3 * raw[:, ENERGY] + (raw[:, FEATURES.index("loudness")] + 14) / 8 + rng.normal(0, 0.5, n)
    return raw, score > np.quantile(score, 0.7), [f"artist {i % 100}" for i in range(n)]


def test_fit_finds_the_direction_and_says_it_in_words():
    raw, labels, artists = synthetic()
    fit = fit_learned(raw, labels, artists, weight=0.5)
    coef = {name: f.coefficient for name, f in fit.term.features.items()}
    assert coef["energy"] > 1 and coef["loudness"] > 0.5
    assert max(abs(c) for name, c in coef.items() if name not in ("energy", "loudness")) < 0.5 * coef["loudness"]
    assert fit.penalty in fit.log_loss and set(fit.log_loss) == {0.1, 1.0, 10.0, 100.0}
    assert fit.term.describe() == "leans toward higher-energy, louder tracks"
    # The logit ranks the examples above the rest.
    z = fit.term.logit(raw)
    assert z[labels].mean() > z[~labels].mean() + 2


def test_artist_folds_keep_an_artist_together():
    artists = [f"a{i % 37}" for i in range(400)]
    folds = group_folds(artists, 5)
    for name in set(artists):
        assert len({folds[i] for i, a in enumerate(artists) if a == name}) == 1
    assert set(folds) == set(range(5))


def test_weight_blends_from_the_targets_to_the_model():
    raw, labels, artists = synthetic()
    term = fit_learned(raw, labels, artists, weight=1.0).term
    quiet = parse_mood({"slug": "quiet", "name": "Quiet", "colour": "#000000", "valence": 0.5, "arousal": 0.2,
                        "features": {"energy": {"target": 0.1}, "loudness": {"target": -24}}})
    catalogue = Catalogue.from_arrays(raw.astype(np.float32), primary_artist=np.arange(len(raw)) % 100)

    def energy_of(weight: float) -> float:
        mood = quiet.model_copy(update={"learned": term.model_copy(update={"weight": weight})})
        playlist = curate(catalogue, mood, mood, Length(tracks=20), CurateOptions(seed=1))
        return float(np.mean([t.features["energy"] for t in playlist.tracks]))

    targets_only, half, model_only = energy_of(0.0), energy_of(0.5), energy_of(1.0)
    assert targets_only < 0.2 < half < model_only and model_only > 0.8
    # Weight 0 is exactly the targets; the model's picks are its own top tracks, mostly labelled ones.
    assert scoring_features(quiet.model_copy(update={"learned": term.model_copy(update={"weight": 0.0})})) == dict(quiet.features)
    mood = quiet.model_copy(update={"learned": term})
    rows = [catalogue.index_of(t.id) for t in curate(catalogue, mood, mood, Length(tracks=20), CurateOptions(seed=1)).tracks]
    assert labels[rows].mean() >= 0.8


def test_previews_with_a_learned_term_are_deterministic_for_a_seed():
    raw, labels, artists = synthetic()
    moods = {m.slug: m for m in load_moods_yaml((REPO / "config" / "moods.yaml").read_text())}
    catalogue = Catalogue.from_arrays(raw.astype(np.float32), primary_artist=np.arange(len(raw)) % 100)
    runs = [[t.id for t in curate(catalogue, moods["anxious"], moods["calm"], Length(tracks=50),
                                  CurateOptions(seed=11)).tracks] for _ in range(2)]
    assert runs[0] == runs[1] and len(runs[0]) == 50


def test_yaml_round_trips_the_learned_term_and_leaves_it_out_when_absent():
    moods = load_moods_yaml((REPO / "config" / "moods.yaml").read_text())
    assert all(m.learned is not None and 0 < m.learned.weight <= 1 for m in moods)
    assert load_moods_yaml(dump_moods_yaml(moods)) == moods
    plain = moods[0].model_copy(update={"learned": None})
    assert "learned" not in mood_to_dict(plain)
    assert load_moods_yaml(dump_moods_yaml([plain])) == [plain]


def test_a_bad_learned_term_is_named_by_its_path():
    data = mood_to_dict(load_moods_yaml((REPO / "config" / "moods.yaml").read_text())[0])
    data["learned"]["weight"] = 1.5
    data["learned"]["features"]["energy"]["sd"] = 0
    with pytest.raises(MoodInvalid) as caught:
        parse_mood(data)
    paths = dict(caught.value.errors)
    assert paths["learned.weight"] == "the learned term's weight (1.5) must be between 0 and 1"
    assert "learned.features.energy.sd" in paths
    data = mood_to_dict(load_moods_yaml((REPO / "config" / "moods.yaml").read_text())[0])
    data["learned"]["features"]["warmth"] = {"coefficient": 1, "mean": 0, "sd": 1}
    with pytest.raises(MoodInvalid, match="unknown feature 'warmth'"):
        parse_mood(data)
    with pytest.raises(ValueError):
        LearnedTerm.model_validate({"weight": 0.5, "bias": 0, "features": {}})


def test_long_arcs_arrive_early_and_hold_the_target():
    assert np.allclose(arc_fractions(40), np.arange(40) / 39)  # up to 40 tracks: all the way, as before
    fifty = arc_fractions(50)
    assert fifty[0] == 0 and np.all(np.diff(fifty) >= 0)
    assert np.all(fifty[39:] == 1) and fifty[38] < 1  # arrives at 80% and holds the last fifth
    assert np.all(arc_fractions(50, "ease-in-out")[39:] == 1)


def test_a_long_arcs_held_tail_is_what_a_steady_playlist_of_the_target_would_be():
    """The tail is chosen first, so the approach cannot use up the target's nearest tracks (issue 19.3)."""
    catalogue = dense_catalogue(3000, seed=11)  # small enough to be scored exhaustively; one artist a row
    options = CurateOptions(seed=4)
    arc = curate(catalogue, HIGH, LOW, Length(tracks=50), options)
    assert arc_fractions(50)[39] == 1 and arc_fractions(50)[38] < 1
    steady = curate(catalogue, LOW, LOW, Length(tracks=11), options)
    assert [t.id for t in arc.tracks[39:]] == [t.id for t in steady.tracks]
    assert [t.id for t in curate(catalogue, HIGH, LOW, Length(tracks=50), options).tracks] == [t.id for t in arc.tracks]


@needs_shared_data(LABELLED_DEV_CSV)
@needs_shared_data(LISTENER_RATED_CSV)
def test_shipped_learned_terms_are_what_the_data_gives():
    """config/moods.yaml's learned terms equal a refit on ../shared/data (python -m bench.ship_learned)."""
    from bench.ship_learned import SOURCES
    from curator.moods.labelled import fit_mood, read_labelled

    sets = [read_labelled(p.read_text(), p.name) for p in (LABELLED_DEV_CSV, LISTENER_RATED_CSV)]
    for mood in load_moods_yaml((REPO / "config" / "moods.yaml").read_text()):
        chosen = [s for s in sets if s.name in SOURCES.get(mood.slug, (s.name,))]
        fit = fit_mood(mood, chosen, weight=mood.learned.weight)
        assert fit.term == mood.learned, mood.slug
