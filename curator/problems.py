"""Problems a person can act on, as types. `CuratorError` is the one root: every problem Curator
tells a listener, a curator or an API client about derives from it (Spotify's included), so callers
can catch them once. No Flask here, so any module may raise them; `curator.errors` maps each kind
to a status, a code and a page title in one table and shows the message as written.
"""
from __future__ import annotations


class CuratorError(Exception):
    """A problem a person can act on.

    `message` is written where the fact is known and reaches the page and the API unchanged;
    `field` names the input at fault, when there is one; `code` names the problem more finely than
    its kind does (e.g. "slug_taken" for a `Conflict`), for API clients.
    """

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.code = code  # None: the kind's own code (curator.errors.HTTP)


class NotFound(CuratorError):
    """There is no such thing, or not for this person (no hint which)."""


class Conflict(CuratorError):
    """Someone or something else got there first (a taken slug, a newer version, a save under way)."""


class Unprocessable(CuratorError):
    """The input can't be used as it is; `field` says which."""
