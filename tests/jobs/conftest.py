"""The job runner's fixtures: the toy tasks registered for one test, and where their runs are logged."""
from __future__ import annotations

import pytest

from tests.jobs import toys


@pytest.fixture
def toy_log(app, tmp_path):
    """The toys registered for this test; the file each of their runs appends a line to."""
    path = tmp_path / "toy.log"
    app.config["TOY_LOG"] = str(path)
    toys.register()
    toys.gate.clear()
    yield path
    toys.gate.set()
    toys.forget()
