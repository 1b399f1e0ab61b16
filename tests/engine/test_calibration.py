from pathlib import Path

import numpy as np
import pytest

from curator.engine import FEATURES, Catalogue, CurateOptions, Length, curate, load_moods_yaml, parse_mood
from curator.engine.calibration import precision_at_k, propose_mood_features
from tests.helpers import LABELLED_DEV_CSV as DEV_CSV
from tests.helpers import skip_without_shared_data

from .synthetic import dense_catalogue, mood

ENERGY, VALENCE = FEATURES.index("energy"), FEATURES.index("valence")
REPO = Path(__file__).resolve().parents[2]


def as_mood(features, slug="proposal"):
    """Round-trip a proposal through parse_mood: every proposal must be a valid mood."""
    return parse_mood({"slug": slug, "name": slug.title(), "colour": "#000000", "valence": 0.5, "arousal": 0.5,
                       "features": {k: v.model_dump() for k, v in features.items()}})


def test_proposal_centres_on_examples_and_weights_the_separating_feature():
    cat = dense_catalogue(2000, seed=8)
    examples = cat.features[:, ENERGY] < 0.2  # examples differ from the rest only in energy
    proposal = propose_mood_features(cat, examples)
    energy = proposal["energy"]
    assert energy.target < 0.2
    assert energy.weight == 1.0
    assert all(spec.weight < 0.2 for name, spec in proposal.items() if name != "energy")
    if "tempo" in proposal:
        assert proposal["tempo"].min is None or proposal["tempo"].min >= 30
    low = as_mood(proposal, "low")
    playlist = curate(cat, low, low, Length(tracks=20), CurateOptions(seed=0))
    assert all(t.features["energy"] < 0.2 for t in playlist.tracks)


def test_precision_at_k_counts_label_hits():
    cat = dense_catalogue(1000, seed=9)
    bright = parse_mood({"slug": "bright", "name": "B", "colour": "#ffffff", "valence": 0.9, "arousal": 0.5,
                         "features": {"valence": {"target": 0.95}}})
    high_valence = cat.features[:, VALENCE] > 0.8
    assert precision_at_k(cat, bright, high_valence, k=20) == 1.0
    assert precision_at_k(cat, bright, ~high_valence, k=20) == 0.0
    assert precision_at_k(cat, bright, np.arange(1000) < 0, k=10) == 0.0
    # Excluded rows are never picked: with every high-valence row excluded there are no hits.
    assert precision_at_k(cat, bright, high_valence, k=20, exclude=high_valence) == 0.0


def test_proposal_finds_a_conjunction_the_current_mood_misses():
    # Examples are "energetic but dark": the centre of their two features, not either alone.
    cat = dense_catalogue(3000, seed=3)
    examples = (cat.features[:, ENERGY] > 0.75) & (cat.features[:, VALENCE] < 0.3)
    current = mood("wrong", energy={"target": 0.9, "weight": 1.0}, valence={"target": 0.9, "weight": 1.0})
    before = precision_at_k(cat, current, examples)
    proposal = propose_mood_features(cat, examples, current=current)
    after = precision_at_k(cat, current.model_copy(update={"features": as_mood(proposal).features}), examples)
    assert before < 0.2
    assert after >= 0.9


def test_proposal_keeps_a_current_mood_nothing_beats():
    cat = dense_catalogue(2000, seed=4)
    examples = cat.features[:, VALENCE] > 0.8
    current = mood("bright", valence={"target": 0.95, "min": 0.8, "weight": 1.0})
    assert precision_at_k(cat, current, examples) == 1.0
    assert propose_mood_features(cat, examples, current=current) == dict(current.features)


@pytest.mark.parametrize("seed", range(4))
def test_proposal_is_never_worse_than_the_current_mood_even_for_noisy_examples(seed):
    cat = dense_catalogue(1500, seed=seed)
    rng = np.random.default_rng(seed)
    # Half structure, half noise: a random quarter of the high-energy rows plus random rows.
    examples = ((cat.features[:, ENERGY] > 0.6) & (rng.random(len(cat)) < 0.25)) | (rng.random(len(cat)) < 0.03)
    current = mood("current", energy={"target": 0.7, "weight": 1.0}, valence={"target": 0.5, "weight": 0.3})
    proposal = propose_mood_features(cat, examples, current=current, k=20)
    proposed = current.model_copy(update={"features": as_mood(proposal).features})
    assert precision_at_k(cat, proposed, examples) >= precision_at_k(cat, current, examples)


def test_few_examples_still_give_a_valid_proposal():
    cat = dense_catalogue(500, seed=5)
    examples = np.zeros(len(cat), dtype=bool)
    examples[[3, 40, 77]] = True  # too few for a held-out check
    as_mood(propose_mood_features(cat, examples))  # raises MoodInvalid if a range is broken
    with pytest.raises(ValueError):
        propose_mood_features(cat, np.zeros(len(cat), dtype=bool))


@pytest.fixture(scope="module")
def labelled():
    skip_without_shared_data(DEV_CSV)
    from bench.curation_quality import LABEL_TO_MOOD, load_labelled

    records, labels = load_labelled(DEV_CSV)
    moods = {m.slug: m for m in load_moods_yaml((REPO / "config" / "moods.yaml").read_text(encoding="utf-8"))}
    return Catalogue.from_records(records), labels, moods, LABEL_TO_MOOD


@pytest.mark.parametrize("label", ["Calm", "Energetic", "Happy", "Sad"])
def test_proposal_on_labelled_examples_is_at_least_as_good_as_the_shipped_mood(labelled, label):
    cat, labels, moods, label_to_mood = labelled
    current = moods[label_to_mood[label]]
    examples = labels == label
    proposal = propose_mood_features(cat, examples, current=current, k=20)
    proposed = current.model_copy(update={"features": as_mood(proposal).features})
    assert precision_at_k(cat, proposed, examples) >= precision_at_k(cat, current, examples)


def test_a_candidate_that_finds_fewer_examples_is_never_chosen_even_if_it_generalises_better(monkeypatch):
    import curator.engine.calibration as calibration

    cat = dense_catalogue(400, seed=6)
    examples = cat.features[:, ENERGY] > 0.5  # enough examples for the held-out check
    current = mood("current", energy={"target": 0.8, "weight": 1.0})
    candidate = {"energy": calibration.FeatureTarget(target=0.3, weight=1.0)}

    def scripted_precision(catalogue, m, label_mask, k=20, *, exclude=None, candidates=None):
        is_current = m.features["energy"].target == 0.8
        if exclude is None:  # on all the examples: the candidate finds fewer
            return 0.8 if is_current else 0.7
        return 0.6 if is_current else 1.0  # held out: the candidate looks better

    monkeypatch.setattr(calibration, "precision_at_k", scripted_precision)
    monkeypatch.setattr(calibration, "_RECIPES", (("scripted", lambda stats, cur: dict(candidate), False),))
    assert propose_mood_features(cat, examples, current=current) == dict(current.features)
    # Without the floor the scripted candidate would have won on the combined score; and with a
    # better full precision it does win.
    monkeypatch.setattr(calibration, "precision_at_k",
                        lambda c, m, labels, k=20, *, exclude=None, candidates=None: 0.9 if m.features["energy"].target == 0.3 else 0.8)
    assert propose_mood_features(cat, examples, current=current) == candidate


def test_pooled_precision_matches_the_whole_catalogue():
    """Calibration chooses playlists among each candidate's nearest rows: same answer, linear cost."""
    import curator.engine.calibration as calibration

    cat = dense_catalogue(5000, seed=11, artists=900)
    examples = (cat.features[:, ENERGY] < 0.3) & (cat.features[:, VALENCE] > 0.5)
    fit = examples & (np.arange(len(cat)) % 2 == 0)
    moods = [mood("aa", energy={"target": 0.1, "weight": 1.0}, valence={"target": 0.8, "weight": 0.5}),
             mood("bb", energy={"target": 0.6, "max": 0.9, "weight": 1.0}, tempo={"target": 90, "weight": 0.3}),
             mood("cc", valence={"target": 0.2, "weight": 1.0})]
    jobs = [calibration._Job(m, examples, 20, None) for m in moods] + [calibration._Job(moods[0], examples, 20, fit)]
    nearest = calibration._nearest(cat, jobs)
    assert all(len(rows) <= calibration.POOL_PER_MOOD for rows in nearest)
    assert not fit[nearest[3]].any()  # the fitting half is left out of the held-out job's rows
    assert calibration._precisions(cat, jobs) == [
        precision_at_k(cat, job.mood, job.labels, k=job.k, exclude=job.exclude) for job in jobs]


def test_ridge_is_chosen_by_cross_validation():
    from curator.engine.calibration import RIDGES, _choose_ridge
    from curator.engine.features import normalise

    cat = dense_catalogue(3000, seed=12)
    raw = cat.features.astype(np.float64)
    noise = np.random.default_rng(0).random(len(cat)) < 0.1  # examples unrelated to any feature
    signal = cat.features[:, ENERGY] < 0.1
    assert _choose_ridge(normalise(raw), raw, noise) == max(RIDGES)
    assert _choose_ridge(normalise(raw), raw, signal) < max(RIDGES)


def test_proposal_reports_held_out_precision_beside_in_sample():
    from curator.engine.calibration import propose

    cat = dense_catalogue(3000, seed=13)
    examples = cat.features[:, ENERGY] < 0.15
    current = mood("wrong", energy={"target": 0.9, "weight": 1.0})
    result = propose(cat, examples, current=current)
    assert result.current_precision == 0.0 and result.current_held_out == 0.0
    assert result.precision >= 0.9 and 0.8 <= result.held_out <= 1.0
    few = propose(cat, np.arange(len(cat)) < 5, current=current)
    assert few.held_out is None and few.current_held_out is None
