"""The catalogue's problems (mapped to pages and JSON in `curator.errors.HTTP`)."""
from __future__ import annotations

from curator.problems import CuratorError


class CatalogueNotReady(CuratorError):
    """The catalogue has no tracks yet, or its current version is still being built: the listener
    sees a "being prepared" page."""
