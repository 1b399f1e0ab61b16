"""`flask --app curator moods export|import|validate` through the CLI runner."""
from __future__ import annotations

import copy

import pytest
import yaml

from curator.extensions import db
from curator.models.audit import AuditEvent
from curator.models.mood import Mood, MoodVersion
from curator.moods.history import set_archived


def snapshot(app) -> list[tuple]:
    """The whole mood state: every mood's flags and every version's data."""
    with app.app_context():
        moods = [(m.slug, m.position, m.archived, m.current_version_id) for m in db.session.scalars(db.select(Mood).order_by(Mood.id))]
        versions = [(v.mood_id, v.number, v.data, v.note) for v in db.session.scalars(db.select(MoodVersion).order_by(MoodVersion.id))]
    return [moods, versions]


def test_export_then_import_round_trips_to_an_identical_state(app, runner, moods, tmp_path):
    path = tmp_path / "moods.yaml"
    result = runner.invoke(args=["moods", "export", str(path)])
    assert result.exit_code == 0, result.output
    data = yaml.safe_load(path.read_text())
    assert [m["slug"] for m in data["moods"]] == ["anxious", "angry", "melancholic", "tired", "calm", "focused",
                                                  "uplifted", "energised"]
    before = snapshot(app)
    result = runner.invoke(args=["moods", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "Nothing to import" in result.output and "unchanged: anxious" in result.output
    assert snapshot(app) == before


def test_export_to_stdout_leaves_archived_moods_out(app, runner, moods):
    with app.app_context():
        set_archived("tired", True, actor=None)
        db.session.commit()
    result = runner.invoke(args=["moods", "export"])
    assert result.exit_code == 0
    slugs = [m["slug"] for m in yaml.safe_load(result.stdout)["moods"]]
    assert "tired" not in slugs and "calm" in slugs


def test_import_with_one_bad_field_changes_nothing_and_names_it(app, runner, moods, tmp_path):
    result = runner.invoke(args=["moods", "export"])
    data = yaml.safe_load(result.stdout)
    data["moods"][0]["name"] = "Changed but must not land"
    data["moods"][2]["features"]["tempo"] = {"target": 70, "min": 90, "max": 60}
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(data))
    before = snapshot(app)
    result = runner.invoke(args=["moods", "import", str(bad)])
    assert result.exit_code == 1
    assert "moods[2].features.tempo.min: min (90) is greater than max (60)" in result.output
    assert "nothing was imported" in result.output
    assert snapshot(app) == before


def test_import_shows_changes_then_writes_them_in_one_go(app, runner, moods, tmp_path):
    data = yaml.safe_load(runner.invoke(args=["moods", "export"]).stdout)
    calm = next(m for m in data["moods"] if m["slug"] == "calm")
    old_tempo = calm["features"]["tempo"]["target"]
    calm["features"]["tempo"]["target"] = 68
    calm["features"]["tempo"]["min"] = 55
    data["moods"].append({**calm, "slug": "serene", "name": "Serene"})
    path = tmp_path / "edited.yaml"
    path.write_text(yaml.safe_dump(data))

    before = snapshot(app)
    dry = runner.invoke(args=["moods", "import", str(path), "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "new: serene (Serene)" in dry.output
    assert "changed: calm" in dry.output
    assert f"tempo target {old_tempo:g} → 68" in dry.output and "tempo min added: 55" in dry.output
    assert "Dry run: nothing was written." in dry.output
    assert snapshot(app) == before

    result = runner.invoke(args=["moods", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "Imported 2 moods" in result.output
    with app.app_context():
        calm_row = db.session.scalar(db.select(Mood).where(Mood.slug == "calm"))
        assert calm_row.current_version.number == 2 and calm_row.current_version.note == "imported from edited.yaml"
        tempo = calm_row.current_version.data["features"]["tempo"]
        assert tempo == {**calm["features"]["tempo"], "target": 68, "min": 55}
        actions = [e.action for e in db.session.scalars(db.select(AuditEvent).where(AuditEvent.action.like("mood%.import")))]
        assert sorted(actions) == ["mood.import", "mood.import", "moods.import"]
    # Importing the same file again is a no-op.
    again = runner.invoke(args=["moods", "import", str(path)])
    assert "Nothing to import" in again.output


def test_validate_lists_every_error_with_its_path(runner, app, moods, tmp_path):
    data = yaml.safe_load(runner.invoke(args=["moods", "export"]).stdout)
    good = tmp_path / "good.yaml"
    good.write_text(yaml.safe_dump(data))
    ok = runner.invoke(args=["moods", "validate", str(good)])
    assert ok.exit_code == 0 and "valid" in ok.output

    data["moods"][2]["features"]["tempo"] = {"target": 70, "min": 90, "max": 60}
    data["moods"][4]["colour"] = "teal"
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(data))
    result = runner.invoke(args=["moods", "validate", str(bad)])
    assert result.exit_code == 1
    assert "moods[2].features.tempo.min: min (90) is greater than max (60)" in result.output
    assert "moods[4].colour: colour must be a hex colour like #5b8def" in result.output

    broken = tmp_path / "broken.yaml"
    broken.write_text("moods:\n  - slug: [unclosed\n")
    result = runner.invoke(args=["moods", "validate", str(broken)])
    assert result.exit_code == 1 and "YAML syntax error" in result.output

    missing = runner.invoke(args=["moods", "validate", str(tmp_path / "nope.yaml")])
    assert missing.exit_code == 1 and "can't read" in missing.output.lower()


def test_import_refuses_bad_inputs_with_a_clear_error_and_changes_nothing(app, runner, moods, tmp_path):
    data = yaml.safe_load(runner.invoke(args=["moods", "export"]).stdout)
    before = snapshot(app)
    cases = {
        "weight.yaml": (lambda d: d["moods"][1]["features"]["energy"].update(weight=1e308),
                        "moods[1].features.energy.weight: weight (1e+308) is too large"),
        "nul.yaml": (lambda d: d["moods"][0].update(name="Anx\x00ious"),
                     "NUL"),
        "reserved.yaml": (lambda d: d["moods"].append({**d["moods"][0], "slug": "new"}),
                          "moods[8].slug: “new” is reserved"),
    }
    for name, (change, message) in cases.items():
        changed = copy.deepcopy(data)
        change(changed)
        path = tmp_path / name
        path.write_text(yaml.safe_dump(changed, allow_unicode=True), encoding="utf-8")
        result = runner.invoke(args=["moods", "import", str(path)])
        assert result.exit_code == 1, (name, result.output)
        assert message in result.output, (name, result.output)
    deep = tmp_path / "deep.yaml"
    deep.write_text("moods: " + "[" * 5000 + "]" * 5000)
    result = runner.invoke(args=["moods", "import", str(deep)])
    assert result.exit_code == 1 and "nested more than 32 levels" in result.output
    assert snapshot(app) == before


def test_listener_pull_round_trips_through_export_and_import(app, runner, moods, tmp_path):
    data = yaml.safe_load(runner.invoke(args=["moods", "export"]).stdout)
    pulls = {m["slug"]: m.get("listener_pull", 0) for m in data["moods"]}
    assert pulls["calm"] == 1.0 and pulls["focused"] == 0  # shipped values; 0 is left out of the file
    next(m for m in data["moods"] if m["slug"] == "focused")["listener_pull"] = 0.3
    path = tmp_path / "pull.yaml"
    path.write_text(yaml.safe_dump(data))
    result = runner.invoke(args=["moods", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "changed: focused" in result.output and "listener_pull 0 → 0.3" in result.output
    again = yaml.safe_load(runner.invoke(args=["moods", "export"]).stdout)
    assert next(m for m in again["moods"] if m["slug"] == "focused")["listener_pull"] == 0.3


def test_calibrate_refits_learned_terms_from_a_labelled_csv_as_new_versions(app, runner, moods, tmp_path):
    from tests.helpers import synthetic_records
    from tests.helpers import write_records_csv as write_csv

    path = write_csv(synthetic_records(), tmp_path / "labelled.csv")  # mood column: calm / energetic / ""
    before = snapshot(app)
    result = runner.invoke(args=["moods", "calibrate", str(path), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "refitted: calm (leans toward" in result.output and "refitted: energised" in result.output
    assert "fitted on labelled.csv (60 of 240)" in result.output
    assert "not labelled in these files: anxious" in result.output and "Dry run" in result.output
    assert snapshot(app) == before

    result = runner.invoke(args=["moods", "calibrate", str(path), "--mood", "calm", "--weight", "0.8"])
    assert result.exit_code == 0, result.output
    assert "Saved 1 mood as new versions." in result.output
    with app.app_context():
        mood = db.session.scalar(db.select(Mood).where(Mood.slug == "calm"))
        learned = mood.current_version.data["learned"]
        assert learned["weight"] == 0.8 and "labelled.csv" in learned["source"]
        assert mood.current_version.note == "learned term refitted from labelled.csv"
        # The synthetic calm tracks are quiet and slow: the model says so.
        assert learned["features"]["energy"]["coefficient"] < 0 and learned["features"]["loudness"]["coefficient"] < 0
        assert db.session.scalar(db.select(AuditEvent).where(AuditEvent.action == "mood.calibrate")).target == "calm"
    exported = yaml.safe_load(runner.invoke(args=["moods", "export"]).stdout)
    assert next(m for m in exported["moods"] if m["slug"] == "calm")["learned"] == learned


def test_calibrate_refuses_a_csv_it_cannot_read_and_writes_nothing(app, runner, moods, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("name,energy\nx,0.5\n")
    before = snapshot(app)
    result = runner.invoke(args=["moods", "calibrate", str(bad)])
    assert result.exit_code == 1
    assert "bad.csv has no valence" in result.output and "Traceback" not in result.output
    result = runner.invoke(args=["moods", "calibrate", str(bad), "--map", "nothing"])
    assert result.exit_code == 1 and "--map takes LABEL=SLUG" in result.output
    assert snapshot(app) == before


def test_files_a_moods_import_cannot_take_are_one_sentence_and_change_nothing(app, runner, moods, tmp_path):
    exported = runner.invoke(args=["moods", "export"]).stdout
    before = snapshot(app)
    huge = tmp_path / "huge.yaml"
    huge.write_text(exported + "#" * (1024 * 1024) + "\n")
    latin = tmp_path / "latin.yaml"
    latin.write_bytes(exported.replace("name: Calm", "name: Calmé", 1).encode("cp1252"))
    line = exported.splitlines().index("  name: Calm") + 1  # the export's calm mood names itself here
    cases = {
        "/dev/zero": "zero is not a regular file",
        str(huge): "huge.yaml is larger than 1,024 KiB",
        str(latin): f"latin.yaml, line {line}: byte 0xE9",
    }
    for path, message in cases.items():
        for command in ("import", "validate"):
            result = runner.invoke(args=["moods", command, path])
            assert result.exit_code == 1, (path, result.output)
            assert message in result.output and "Traceback" not in result.output, (path, result.output)
            assert isinstance(result.exception, SystemExit), result.exception
    assert snapshot(app) == before
    # UTF-16 with its byte-order mark is read as such.
    wide = tmp_path / "wide.yaml"
    wide.write_bytes(exported.encode("utf-16"))
    result = runner.invoke(args=["moods", "validate", str(wide)])
    assert result.exit_code == 0 and "valid" in result.output, result.output


@pytest.mark.parametrize("digits", [400, 5001])
def test_an_integer_beyond_a_float_is_a_field_error(app, runner, moods, tmp_path, digits):
    data = yaml.safe_load(runner.invoke(args=["moods", "export"]).stdout)
    before = snapshot(app)
    path = tmp_path / "big.yaml"
    path.write_text(yaml.safe_dump(data).replace(f"valence: {data['moods'][0]['valence']}", "valence: " + "9" * digits, 1))
    for command in ("import", "validate"):
        result = runner.invoke(args=["moods", command, str(path)])
        assert result.exit_code == 1, result.output
        assert "moods[0].valence: valence: input should be a" in result.output and "Traceback" not in result.output
        assert isinstance(result.exception, SystemExit), result.exception
    assert snapshot(app) == before
