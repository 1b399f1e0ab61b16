"""Settings: `.env.example` lists exactly the settings `Config` reads, and the web server reads them
through `Config` too."""
from __future__ import annotations

import os
import re
import runpy
from pathlib import Path

import pytest

from curator import config

ROOT = Path(__file__).resolve().parents[1]


class RecordingEnviron(dict):
    """os.environ that remembers every name read from it."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.read: set[str] = set()

    def get(self, key, default=None):
        self.read.add(key)
        return super().get(key, default)

    def __getitem__(self, key):
        self.read.add(key)
        return super().__getitem__(key)

    def __contains__(self, key):
        self.read.add(key)
        return super().__contains__(key)


def names_config_reads(monkeypatch) -> set[str]:
    environ = RecordingEnviron(os.environ)
    monkeypatch.setattr(config.os, "environ", environ)
    config.Config()
    return environ.read


def names_in_env_example() -> set[str]:
    text = (ROOT / ".env.example").read_text()
    return set(re.findall(r"^([A-Z][A-Z0-9_]*)=", text, flags=re.M))


def test_env_example_lists_exactly_the_settings_config_reads(monkeypatch):
    read = names_config_reads(monkeypatch)
    listed = names_in_env_example()
    assert len(read) > 20, "the recorder saw too few reads: has Config stopped reading os.environ?"
    assert not read - listed, f"settings Config reads that .env.example does not list: {sorted(read - listed)}"
    assert not listed - read, f".env.example lists settings Config does not read: {sorted(listed - read)}"


def test_the_readme_table_names_only_real_settings(monkeypatch):
    read = names_config_reads(monkeypatch)
    readme = (ROOT / "README.md").read_text()
    in_table = set(re.findall(r"^\| `([A-Z][A-Z0-9_]*)`", readme, flags=re.M))
    assert in_table, "no settings table found in the README"
    assert not in_table - read, f"the README names settings Config does not read: {sorted(in_table - read)}"


def test_gunicorn_reads_its_numbers_from_config(monkeypatch):
    monkeypatch.setenv("WEB_CONCURRENCY", "3")
    monkeypatch.setenv("WEB_TIMEOUT", "45")
    monkeypatch.setenv("TRUSTED_PROXIES", "0")
    settings = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert settings["workers"] == 3 and settings["timeout"] == 45
    assert settings["forwarded_allow_ips"] == ""  # no proxy trusted: no forwarded header believed


def test_a_setting_that_is_not_a_number_stops_the_start_with_its_name(monkeypatch):
    monkeypatch.setenv("WEB_TIMEOUT", "soon")
    with pytest.raises(SystemExit, match="WEB_TIMEOUT='soon' is not a number"):
        config.Config()
