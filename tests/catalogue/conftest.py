"""Fixtures for catalogue tests: an admin logged in through the fake Spotify, and small CSV files
written inline."""
from __future__ import annotations

import pytest

from tests.helpers import login


@pytest.fixture
def admin_client(client, fake_spotify, moods):
    login(client, fake_spotify, "admin-user", display_name="Ada Admin")
    return client


@pytest.fixture
def write_csv(tmp_path):
    """write_csv(text, name="data.csv", encoding="utf-8") -> path"""

    def write(text: str, name: str = "data.csv", encoding: str = "utf-8") -> str:
        path = tmp_path / name
        path.write_bytes(text.encode(encoding))
        return str(path)

    return write
