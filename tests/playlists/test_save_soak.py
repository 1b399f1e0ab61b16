"""A small soak of the save (bench/soak_saves.py runs the full 1,000): 100 saves under random
faults, each ending with one complete playlist in order, or a clear error and a save that
finishes when tried again; never a second or an empty playlist left behind."""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from bench.soak_saves import soak
from tests.helpers import import_rows, synthetic_rows

pytestmark = pytest.mark.long  # started first (tests/conftest.py)

SEED = int(os.environ.get("SOAK_SEED", "20261201"))


@pytest.fixture
def app_config(app_config):
    """Short timeouts and budget (the soak scales its waits to them), no rate limit; on SQLite the
    database sits on tmpfs when there is one, since this is about saving logic, not fsync."""
    app_config.update(SPOTIFY_TIMEOUT=0.3, SAVE_RETRY_BUDGET=1.0, SPOTIFY_MAX_RETRY_WAIT=0.2,
                      RATELIMIT_ENABLED=False)
    folder = None
    if app_config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite") and Path("/dev/shm").is_dir():
        folder = tempfile.mkdtemp(dir="/dev/shm", prefix="curator-soak-")
        app_config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{folder}/soak.sqlite"
    yield app_config
    if folder:
        shutil.rmtree(folder, ignore_errors=True)


def test_100_saves_under_random_faults_end_complete_or_clearly_resumable(app, moods, fake_spotify, tmp_path):
    import_rows(app, fake_spotify, tmp_path, synthetic_rows(count=600, artists=200))
    report = soak(app, fake_spotify, saves=100, seed=SEED, listeners=4, batch=5, max_tracks=12, log=None)
    assert report.violations == [], f"{report.summary()} (rerun with SOAK_SEED={SEED})"
    assert report.saves == 100
    assert sum(report.faults.values()) >= 100  # the faults really were there
    assert report.completed_first_time + report.stopped_then_finished == 100
