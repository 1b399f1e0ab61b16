import numpy as np

from curator.engine import FEATURES, CurateOptions, Length, curate, parse_mood
from curator.engine.calibration import precision_at_k, propose_mood_features

from .synthetic import dense_catalogue

ENERGY, VALENCE = FEATURES.index("energy"), FEATURES.index("valence")


def test_proposal_centres_on_examples_and_weights_the_separating_feature():
    cat = dense_catalogue(2000, seed=8)
    examples = cat.features[:, ENERGY] < 0.2  # examples differ from the rest only in energy
    proposal = propose_mood_features(cat, examples)
    energy = proposal["energy"]
    assert 0.05 < energy.target < 0.15
    assert energy.min == 0.0 and 0.25 <= energy.max <= 0.35
    assert energy.weight == 1.0
    assert proposal["valence"].weight < 0.2
    assert proposal["tempo"].min >= 30 and proposal["tempo"].max <= 250
    mood = parse_mood({"slug": "low", "name": "Low", "colour": "#000000", "valence": 0.3, "arousal": 0.2,
                       "features": {k: v.model_dump() for k, v in proposal.items()}})
    playlist = curate(cat, mood, mood, Length(tracks=20), CurateOptions(seed=0))
    assert all(t.features["energy"] < 0.35 for t in playlist.tracks)


def test_precision_at_k_counts_label_hits():
    cat = dense_catalogue(1000, seed=9)
    bright = parse_mood({"slug": "bright", "name": "B", "colour": "#ffffff", "valence": 0.9, "arousal": 0.5,
                         "features": {"valence": {"target": 0.95}}})
    high_valence = cat.features[:, VALENCE] > 0.8
    assert precision_at_k(cat, bright, high_valence, k=20) == 1.0
    assert precision_at_k(cat, bright, ~high_valence, k=20) == 0.0
    assert precision_at_k(cat, bright, np.arange(1000) < 0, k=10) == 0.0
