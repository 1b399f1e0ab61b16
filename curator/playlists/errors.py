"""The playlist domain's problems, each written where the fact is known (mapped to pages and JSON
in `curator.errors`)."""
from __future__ import annotations

from curator.errors import Conflict, CuratorError, Unprocessable


class CatalogueNotReady(CuratorError):
    """The catalogue has no tracks yet: the listener sees a "being prepared" page."""

    status = 503
    code = "catalogue_empty"


class ScopeRequired(CuratorError):
    """The listener has not (yet) let Curator read this part of their Spotify account."""

    status = 403
    code = "scope_required"

    def __init__(self, message: str, *, scopes: str):
        super().__init__(message, field="from_my_music")
        self.scopes = scopes


class SaveInProgress(Conflict):
    def __init__(self):
        super().__init__("This playlist is being saved right now. Give it a moment and reload.",
                         code="save_in_progress")


class IdempotencyKeyReused(Unprocessable):
    def __init__(self):
        super().__init__("This Idempotency-Key was already used to save a different preview.",
                         field="Idempotency-Key", code="idempotency_key_reused")
