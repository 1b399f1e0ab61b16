"""A mood diff compares every field of the schema: a field added to `MoodDefinition` shows in diffs
and history without touching `moods/diff.py` (issue 17: it was the file a new field missed)."""
from __future__ import annotations

from curator.engine import MoodDefinition
from curator.moods.diff import SCALAR_FIELDS, STRUCTURED_FIELDS, TEXT_FIELDS, diff_moods


def test_every_field_of_the_schema_is_compared():
    assert set(SCALAR_FIELDS) | set(TEXT_FIELDS) | set(STRUCTURED_FIELDS) == set(MoodDefinition.model_fields)


def test_a_field_left_out_by_an_older_version_compares_as_its_default():
    old = {"slug": "calm", "name": "Calm", "colour": "#88aacc", "valence": 0.7, "arousal": 0.2,
           "features": {"energy": {"target": 0.2}}}
    same = old | {"allow_explicit": True, "listener_pull": 0.0}
    assert diff_moods(old, same).empty
    changed = diff_moods(old, old | {"allow_explicit": False})
    assert [c.path for c in changed.changes] == ["allow_explicit"]
