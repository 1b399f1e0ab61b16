"""First-run chores: a `.env` with a fresh SECRET_KEY, and the shipped moods and seed lists.

`python -m curator.bootstrap` writes `.env` from `.env.example` when there is none, so the
README's single Run command works on a fresh clone without anyone inventing a secret.
"""
from __future__ import annotations

import secrets
import sys

from curator.config import ROOT


def write_env_file() -> bool:
    env = ROOT / ".env"
    if env.exists():
        return False
    example = (ROOT / ".env.example").read_text()
    lines = []
    for line in example.splitlines():
        if line.startswith("SECRET_KEY="):
            line = f"SECRET_KEY={secrets.token_hex(32)}"
        lines.append(line)
    env.write_text("\n".join(lines) + "\n")
    env.chmod(0o600)
    return True


# Loaders run by `flask --app curator setup` after migrations; each imports shipped data only
# into an empty table, so the database stays the source of truth after the first run.
FIRST_RUN_LOADERS: list[str] = [
    "curator.moods.service:import_shipped_if_empty",
    "curator.catalogue.seeds:import_shipped_if_empty",
]


def load_shipped_data() -> list[str]:
    """Run every registered first-run loader; return what each reported."""
    import importlib

    reports = []
    for dotted in FIRST_RUN_LOADERS:
        module_name, func_name = dotted.rsplit(":", 1)
        report = getattr(importlib.import_module(module_name), func_name)()
        if report:
            reports.append(report)
    return reports


if __name__ == "__main__":
    if write_env_file():
        print("Curator: wrote .env with a fresh SECRET_KEY (add your Spotify app's id and secret there).")
    sys.exit(0)
