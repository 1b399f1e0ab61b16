"""`flask --app curator setup`: the shipped moods and seed lists are read with a size limit and a
clear error, never a traceback, a hang or a MemoryError (issue 18's rule for every input file)."""
from __future__ import annotations

import pytest

from curator.extensions import db
from curator.models.catalogue import Seed
from curator.models.mood import Mood


class SetupRunner:
    """`setup` without its migrations (the test database is already built), in the app's context
    as `flask --app curator setup` runs it."""

    def __init__(self, app):
        self.app, self.runner = app, app.test_cli_runner()

    def invoke(self, args):
        with self.app.app_context():
            return self.runner.invoke(args=args)


@pytest.fixture
def setup_runner(app, monkeypatch):
    monkeypatch.setattr("curator.cli.upgrade", lambda: None)
    return SetupRunner(app)


def counts(app) -> tuple[int, int]:
    with app.app_context():
        return (db.session.scalar(db.select(db.func.count(Mood.id))),
                db.session.scalar(db.select(db.func.count(Seed.id))))


def test_setup_imports_the_shipped_moods_and_seeds(app, setup_runner):
    result = setup_runner.invoke(args=["setup"])
    assert result.exit_code == 0, result.output
    moods, seeds = counts(app)
    assert moods == 8 and seeds > 0
    assert "Curator: database ready." in result.output


def test_a_seeds_file_over_a_mebibyte_is_refused_by_name(app, setup_runner, tmp_path):
    big = tmp_path / "seeds.yaml"
    big.write_text("seeds:\n  calm:\n    searches:\n" + "      - calm piano\n" * 80_000)  # 1.5 MB
    app.config["SEEDS_FILE"] = str(big)
    result = setup_runner.invoke(args=["setup"])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert "seeds.yaml is larger than 1,024 KiB; a seeds file is far smaller" in result.output
    assert "Traceback" not in result.output
    assert counts(app)[1] == 0


def test_a_seeds_file_that_is_a_device_is_refused_without_reading_it(app, setup_runner):
    app.config["SEEDS_FILE"] = "/dev/zero"
    result = setup_runner.invoke(args=["setup"])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit) and "Traceback" not in result.output
    assert "zero" in result.output and counts(app)[1] == 0


def test_seed_entries_that_are_not_text_are_named_not_expanded(app, setup_runner, tmp_path):
    # Aliases nest a list a thousand times a thousand: printed as text it would never end.
    bomb = tmp_path / "seeds.yaml"
    bomb.write_text("a: &a [x, x, x, x, x, x, x, x, x, x]\n"
                    "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
                    "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
                    "seeds:\n  calm:\n    searches: [*c, calm piano]\n")
    app.config["SEEDS_FILE"] = str(bomb)
    result = setup_runner.invoke(args=["setup"])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert "calm.searches: each entry is one link, id or search as text (found a list)." in result.output
    assert counts(app)[1] == 0


def test_a_moods_file_over_a_mebibyte_is_refused_by_name(app, setup_runner, tmp_path):
    big = tmp_path / "moods.yaml"
    big.write_text("# padding\n" * 120_000)
    app.config["MOODS_FILE"] = str(big)
    result = setup_runner.invoke(args=["setup"])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit) and "Traceback" not in result.output
    assert "moods.yaml is larger than 1,024 KiB; a moods file is far smaller" in result.output
    assert counts(app) == (0, 0)
