"""The mood wheel's arithmetic (engine/wheel.py): a point of the valence/arousal circle as a mood."""
from __future__ import annotations

from pathlib import Path

import pytest

from curator.engine import wheel
from curator.engine.moods import load_moods_yaml

MOODS = load_moods_yaml((Path(__file__).resolve().parents[2] / "config" / "moods.yaml").read_text())
BY_SLUG = {m.slug: m for m in MOODS}


def test_a_point_travels_as_a_slug_no_mood_can_have():
    assert wheel.point_slug(0.8, 0.2) == "point:0.8,0.2"
    assert wheel.point_slug(0.254, 1.0) == "point:0.25,1" and wheel.point_slug(0, 0.5) == "point:0,0.5"
    assert wheel.parse_point("point:0.8,0.2") == (0.8, 0.2)
    assert wheel.parse_point("point:0,1") == (0.0, 1.0)
    for bad in ("point:1.5,0", "point:-0.1,0.2", "point:0.8", "calm", "point:0.8,0.2,0.1", "point:nan,0"):
        assert wheel.parse_point(bad) is None
    for bad in ((1.2, 0.5), (0.5, -0.01), (float("nan"), 0.5), (True, 0.5)):
        with pytest.raises(wheel.PointInvalid):
            wheel.point_slug(*bad)


def test_at_a_named_moods_own_point_the_point_is_that_mood():
    calm = BY_SLUG["calm"]
    at = wheel.mood_at(calm.valence, calm.arousal, MOODS)
    assert at.name == "Calm" and at.features == calm.features and at.colour == calm.colour


def test_near_a_mood_the_point_is_mostly_that_mood_and_says_so():
    calm = BY_SLUG["calm"]
    near = wheel.mood_at(0.78, 0.22, MOODS)
    assert near.name == "Nearly calm"
    assert near.features["energy"].target == pytest.approx(calm.features["energy"].target, abs=0.05)
    assert near.valence == 0.78 and near.arousal == 0.22


def test_between_moods_every_target_lies_between_theirs_and_ranges_hold_the_target():
    for valence, arousal in [(0.6, 0.3), (0.5, 0.9), (0.1, 0.1), (0.35, 0.55), (0.95, 0.45)]:
        mood = wheel.mood_at(valence, arousal, MOODS)
        mix = wheel.neighbours(valence, arousal, MOODS)
        assert sum(share for _, share in mix) == pytest.approx(1.0)
        for name, spec in mood.features.items():
            setting = [m.features[name].target for m, _ in mix if name in m.features]
            assert min(setting) - 1e-3 <= spec.target <= max(setting) + 1e-3, (valence, arousal, name)
            assert spec.min is None or spec.min <= spec.target
            assert spec.max is None or spec.max >= spec.target


def test_moving_the_point_toward_energy_raises_the_energy_target():
    low, high = wheel.mood_at(0.5, 0.2, MOODS), wheel.mood_at(0.5, 0.85, MOODS)
    assert high.features["energy"].target > low.features["energy"].target + 0.3


def test_a_point_needs_moods_to_sit_between():
    with pytest.raises(wheel.PointInvalid):
        wheel.mood_at(0.5, 0.5, [])


def test_a_learned_term_goes_only_to_a_point_that_is_mostly_its_mood():
    with_terms = [m for m in MOODS if m.learned is not None]
    if not with_terms:
        pytest.skip("no shipped mood has a learned term")
    mood = with_terms[0]
    near = wheel.mood_at(min(1.0, mood.valence + 0.02), mood.arousal, MOODS)
    assert near.learned is not None and near.learned.features == mood.learned.features
    assert near.learned.weight <= mood.learned.weight
    far = [wheel.mood_at(v / 10, a / 10, MOODS) for v in range(11) for a in range(11)]
    assert any(p.learned is None for p in far)
