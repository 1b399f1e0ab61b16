"""The API's description (`openapi.yaml`), read once per app and again when the file changes."""
from __future__ import annotations

from pathlib import Path

import yaml

from curator import caching

OPENAPI_FILE = Path(__file__).with_name("openapi.yaml")


def openapi_document() -> dict:
    return caching.per_app("curator.openapi", OPENAPI_FILE.stat().st_mtime_ns,
                           lambda: yaml.safe_load(OPENAPI_FILE.read_text()))
