"""The playlist domain's problems (mapped to pages and JSON, with their status and code, in
`curator.errors.HTTP`); each message is written where the fact is known."""
from __future__ import annotations

from curator.catalogue.errors import CatalogueNotReady  # raised by the catalogue, met by every preview
from curator.problems import Conflict, CuratorError, Unprocessable

__all__ = ["CatalogueNotReady", "IdempotencyKeyReused", "SaveInProgress", "ScopeRequired"]


class ScopeRequired(CuratorError):
    """The listener has not (yet) let Curator read this part of their Spotify account."""

    def __init__(self, message: str, *, scopes: str):
        super().__init__(message, field="from_my_music")
        self.scopes = scopes


class SaveInProgress(Conflict):
    """Another request is saving this preview and did not finish within a few seconds."""

    def __init__(self):
        super().__init__("This playlist is being saved right now. Give it a moment and reload.",
                         code="save_in_progress")


class IdempotencyKeyReused(Unprocessable):
    """An API client sent a key it already used to save another preview."""

    def __init__(self):
        super().__init__("This Idempotency-Key was already used to save a different preview.",
                         field="Idempotency-Key", code="idempotency_key_reused")
