
import numpy as np

from curator.engine import CurateOptions, Length, curate
from curator.engine.listener import SHIPPED_MODEL, artist_folds, fit_listener_model
from curator.engine.moods import scoring_features
from tests.helpers import LISTENER_RATED_CSV as VA_CSV
from tests.helpers import needs_shared_data

from .synthetic import dense_catalogue, mood


def test_fit_recovers_a_linear_listener_rating_and_reports_out_of_fold_figures():
    rng = np.random.default_rng(1)
    cat = dense_catalogue(600, seed=2)
    raw = cat.features.astype(np.float64)
    valence = 2 * raw[:, 0] + rng.normal(0, 0.5, len(raw))  # listeners follow Spotify valence...
    arousal = 3 * raw[:, 1] + rng.normal(0, 0.5, len(raw))  # ...and energy, with noise
    model = fit_listener_model(raw, valence, arousal, artist_folds([f"a{i % 50}" for i in range(600)], 5))
    assert max(model.valence, key=lambda f: abs(model.valence[f]) if f != "intercept" else 0) == "valence"
    assert max(model.arousal, key=lambda f: abs(model.arousal[f]) if f != "intercept" else 0) == "energy"
    assert 0.5 < model.r_out_of_fold[0] <= model.r_in_sample[0] + 0.02
    est_v, est_a = model.estimate(raw)
    assert np.corrcoef(est_v, valence)[0, 1] > 0.5 and np.corrcoef(est_a, arousal)[0, 1] > 0.5


def test_artist_folds_keep_an_artist_together():
    folds = artist_folds(["Adele", "adele ", "Blur", "Blur", "Coldplay"], 3)
    assert folds[0] == folds[1] and folds[2] == folds[3]
    assert set(folds) <= {0, 1, 2}


def test_pull_moves_targets_toward_the_circumplex_point_and_nothing_else():
    bright = mood("bright", valence={"target": 0.5, "weight": 1.0}, energy={"target": 0.5, "weight": 1.0},
                  tempo={"target": 100, "weight": 0.0, "min": 60})
    pulled = bright.model_copy(update={"valence": 0.9, "arousal": 0.5, "listener_pull": 1.0})
    assert scoring_features(bright) == dict(bright.features)  # no pull: the curator's targets
    moved = scoring_features(pulled)
    # Listeners hear higher Spotify valence and energy as more positive: both targets rise.
    assert moved["valence"].target > 0.5 and moved["energy"].target > 0.5
    assert moved["tempo"] == bright.features["tempo"]  # a weightless feature does not move
    assert all(moved[f].min == bright.features[f].min and moved[f].weight == bright.features[f].weight for f in moved)
    darker = scoring_features(pulled.model_copy(update={"valence": 0.1}))
    assert darker["valence"].target < 0.5


def test_pulled_playlist_sounds_more_positive_to_listeners():
    cat = dense_catalogue(3000, seed=4)
    base = mood("calmish", energy={"target": 0.3, "weight": 1.0}, acousticness={"target": 0.7, "weight": 1.0},
                valence={"target": 0.4, "weight": 0.5})
    pulled = base.model_copy(update={"valence": 0.9, "arousal": 0.2, "listener_pull": 1.0})

    def listener_valence(m):
        playlist = curate(cat, m, m, Length(tracks=20), CurateOptions(seed=0))
        rows = [cat.index_of(t.id) for t in playlist.tracks]
        return SHIPPED_MODEL.estimate(cat.features[rows].astype(np.float64))[0].mean()

    assert listener_valence(pulled) > listener_valence(base) + 0.1


@needs_shared_data(VA_CSV)
def test_shipped_model_is_the_fit_on_the_listener_rated_set():
    from bench.curation_quality import load_listener_rated

    data = load_listener_rated(VA_CSV)
    model = fit_listener_model(data.raw, data.valence, data.arousal, artist_folds(data.artists, SHIPPED_MODEL.folds))
    assert model.alpha == SHIPPED_MODEL.alpha and model.n == SHIPPED_MODEL.n
    for which in ("valence", "arousal"):
        assert np.allclose(model.coefficients(which), SHIPPED_MODEL.coefficients(which), atol=1e-3)
    assert model.r_out_of_fold == SHIPPED_MODEL.r_out_of_fold
