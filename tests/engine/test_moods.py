from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from curator.engine import (
    FEATURES,
    MoodInvalid,
    dump_moods_yaml,
    load_moods_yaml,
    mood_to_dict,
    parse_mood,
    parse_moods_document,
)
from curator.engine.moods import _CONTROL

REPO = Path(__file__).resolve().parents[2]
SHIPPED = ("anxious", "angry", "melancholic", "tired", "calm", "focused", "uplifted", "energised")


def valid(**overrides) -> dict:
    data = {
        "slug": "calm", "name": "Calm", "description": "d", "guidance": "g", "colour": "#3a9e8f",
        "valence": 0.6, "arousal": 0.2,
        "features": {"energy": {"target": 0.2, "max": 0.5, "weight": 1}, "tempo": {"target": 75, "min": 50, "max": 110}},
    }
    data.update(overrides)
    return data


def errors_of(data: dict, prefix: str = "") -> list[tuple[str, str]]:
    with pytest.raises(MoodInvalid) as info:
        parse_mood(data, prefix)
    return info.value.errors


def test_valid_mood_parses_with_defaults():
    mood = parse_mood(valid())
    assert mood.allow_explicit is True
    assert mood.features["tempo"].weight == 1.0
    assert mood.features["energy"].min is None


def test_min_greater_than_max_names_path_and_values():
    data = valid(features={"tempo": {"target": 75, "min": 90, "max": 60}})
    assert ("features.tempo.min", "min (90) is greater than max (60)") in errors_of(data)


def test_target_outside_own_range():
    errs = errors_of(valid(features={"energy": {"target": 0.8, "max": 0.5}}))
    assert errs == [("features.energy.target", "target (0.8) is above max (0.5)")]
    errs = errors_of(valid(features={"energy": {"target": 0.1, "min": 0.3}}))
    assert errs == [("features.energy.target", "target (0.1) is below min (0.3)")]


def test_negative_weight():
    errs = errors_of(valid(features={"energy": {"target": 0.2, "weight": -1}}))
    assert errs == [("features.energy.weight", "weight (-1) must not be negative")]


def test_unknown_feature_and_unknown_field():
    errs = errors_of(valid(features={"enrgy": {"target": 0.2}}, mood_colour="x"))
    paths = dict(errs)
    assert paths["features.enrgy"].startswith("unknown feature 'enrgy'")
    assert paths["mood_colour"] == "unknown field 'mood_colour'"
    errs = errors_of(valid(features={"energy": {"target": 0.2, "wieght": 1}}))
    assert errs == [("features.energy.wieght", "unknown field 'wieght'")]


@pytest.mark.parametrize("colour", ["3a9e8f", "#3a9e8", "#zzzzzz", "red"])
def test_bad_colour(colour):
    assert errors_of(valid(colour=colour)) == [("colour", "colour must be a hex colour like #5b8def")]


@pytest.mark.parametrize("slug", ["Calm", "1calm", "c", "calm mood", "x" * 41, "calm_mood"])
def test_bad_slug(slug):
    errs = errors_of(valid(slug=slug))
    assert [p for p, _ in errs] == ["slug"]
    assert "lowercase letters" in errs[0][1]


def test_domains_per_feature():
    errs = dict(errors_of(valid(features={
        "loudness": {"target": 5}, "tempo": {"target": 20}, "mode": {"target": 2}, "energy": {"target": 1.5},
    })))
    assert errs["features.loudness.target"] == "target (5) must be between -60 and 0 for loudness"
    assert errs["features.tempo.target"] == "target (20) must be between 30 and 250 for tempo"
    assert "features.mode.target" in errs and "features.energy.target" in errs
    assert errors_of(valid(valence=1.2))[0][0] == "valence"


def test_all_errors_reported_at_once_with_prefix():
    data = valid(slug="Bad", colour="nope", features={"tempo": {"target": 75, "min": 90, "max": 60}, "x": {"target": 1}})
    paths = [p for p, _ in errors_of(data, "moods[2].")]
    assert {"moods[2].slug", "moods[2].colour", "moods[2].features.tempo.min", "moods[2].features.x"} <= set(paths)


def test_document_duplicates_and_positions():
    doc = {"moods": [valid(), valid(slug="tired"), valid()]}
    with pytest.raises(MoodInvalid) as info:
        parse_moods_document(doc)
    assert info.value.errors == [("moods[2].slug", "duplicate slug 'calm' (already used by moods[0])")]
    bad = {"moods": [valid(), valid(slug="x2", features={"tempo": {"target": 75, "min": 90, "max": 60}})]}
    with pytest.raises(MoodInvalid) as info:
        parse_moods_document(bad)
    assert info.value.errors == [("moods[1].features.tempo.min", "min (90) is greater than max (60)")]


def test_yaml_syntax_error_has_line_number():
    text = "moods:\n  - slug: calm\n    name: [unclosed\n"
    with pytest.raises(MoodInvalid) as info:
        load_moods_yaml(text)
    path, message = info.value.errors[0]
    assert path.startswith("line ")
    assert "line" in message and "YAML" in message


def test_yaml_round_trip_exact():
    moods = load_moods_yaml((REPO / "config" / "moods.yaml").read_text(encoding="utf-8"))
    assert load_moods_yaml(dump_moods_yaml(moods)) == moods
    assert "min" not in mood_to_dict(moods[0])["features"]["mode"]


def test_shipped_moods_validate_and_have_the_eight_slugs():
    moods = load_moods_yaml((REPO / "config" / "moods.yaml").read_text(encoding="utf-8"))
    assert [m.slug for m in moods] == list(SHIPPED)
    for m in moods:
        assert m.guidance and m.description
    by = {m.slug: m for m in moods}
    assert by["anxious"].valence < 0.5 < by["anxious"].arousal
    assert by["angry"].arousal > by["anxious"].arousal
    assert by["melancholic"].valence < 0.5 and by["melancholic"].arousal < 0.5
    assert by["tired"].arousal == min(m.arousal for m in moods)
    assert by["calm"].valence > 0.5 > by["calm"].arousal
    assert by["energised"].valence > 0.5 and by["energised"].arousal > 0.7


unit = st.floats(0, 1, allow_nan=False)
# Mood text may hold line breaks and tabs but no other control characters (NUL is refused).
letters = st.characters(exclude_categories=("Cs",), exclude_characters="".join(sorted(_CONTROL)))


@st.composite
def mood_dicts(draw):
    features = {}
    for name in draw(st.lists(st.sampled_from(FEATURES), min_size=1, max_size=5, unique=True)):
        lo, hi = {"loudness": (-60, 0), "tempo": (30, 250)}.get(name, (0, 1))
        a, b, c = sorted(draw(st.floats(lo, hi, allow_nan=False)) for _ in range(3))
        spec = {"target": b, "weight": draw(st.floats(0, 5, allow_nan=False))}
        if draw(st.booleans()):
            spec["min"] = a
        if draw(st.booleans()):
            spec["max"] = c
        features[name] = spec
    return {
        "slug": draw(st.from_regex(r"[a-z][a-z0-9-]{1,20}", fullmatch=True)),
        "name": draw(st.text(letters, min_size=1, max_size=30).filter(lambda s: s.strip())),
        "description": draw(st.text(letters, max_size=40)), "guidance": draw(st.text(letters, max_size=40)),
        "colour": draw(st.from_regex(r"#[0-9a-f]{6}", fullmatch=True)),
        "valence": draw(unit), "arousal": draw(unit), "features": features,
        "allow_explicit": draw(st.booleans()), "listener_pull": draw(st.sampled_from([0.0, 0.25, 1.0])),
    }


@settings(max_examples=60, deadline=None)
@given(mood_dicts())
def test_round_trip_property(data):
    mood = parse_mood(data)
    assert load_moods_yaml(dump_moods_yaml([mood])) == [mood]
    assert yaml.safe_load(dump_moods_yaml([mood]))["moods"][0] == mood_to_dict(mood)


def test_weight_must_be_finite_and_bounded():
    errs = errors_of(valid(features={"energy": {"target": 0.2, "weight": 1e308}}))
    assert errs == [("features.energy.weight",
                     "weight (1e+308) is too large; weights are relative, use a number from 0 to 100")]
    assert parse_mood(valid(features={"energy": {"target": 0.2, "weight": 100}})).features["energy"].weight == 100
    errs = errors_of(valid(features={"energy": {"target": 0.2, "weight": float("inf")}}))
    assert errs and errs[0][0] == "features.energy.weight"


@pytest.mark.parametrize("field", ["name", "description", "guidance"])
def test_nul_and_control_characters_in_text_are_refused(field):
    errs = errors_of(valid(**{field: "Ca\x00lm"}))
    assert errs == [(field, f"{field} must not contain control characters such as NUL")]
    # Line breaks and tabs are ordinary prose.
    assert getattr(parse_mood(valid(**{field: "Calm\n\tand slow"})), field) == "Calm\n\tand slow"


def test_yaml_with_nul_is_refused():
    text = dump_moods_yaml([parse_mood(valid())]).replace("Calm", "Ca\x00lm", 1)
    with pytest.raises(MoodInvalid) as info:
        load_moods_yaml(text)
    assert "NUL" in str(info.value)


def test_deeply_nested_yaml_is_a_clear_error_not_a_recursion_error():
    with pytest.raises(MoodInvalid) as info:
        load_moods_yaml("moods: " + "[" * 5000 + "]" * 5000)
    assert "nested more than 32 levels" in str(info.value)
    with pytest.raises(MoodInvalid) as info:
        load_moods_yaml("moods:\n" + "".join("  " * i + "- a:\n" for i in range(1, 5000)))
    assert "nested more than 32 levels" in str(info.value)


def test_listener_pull_is_bounded_and_round_trips():
    assert errors_of(valid(listener_pull=1.5)) == [("listener_pull", "listener pull (1.5) must be between 0 and 1")]
    mood = parse_mood(valid(listener_pull=0.6))
    assert mood_to_dict(mood)["listener_pull"] == 0.6
    assert load_moods_yaml(dump_moods_yaml([mood])) == [mood]
    # Without a pull the field stays out of exports, so older files and versions compare equal.
    assert "listener_pull" not in mood_to_dict(parse_mood(valid()))
