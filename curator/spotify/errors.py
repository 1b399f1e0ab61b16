"""What can go wrong talking to Spotify, as our own types under `CuratorError` (mapped to pages and
JSON, with the status we answer, in `curator.errors.HTTP`)."""
from __future__ import annotations

from curator.problems import CuratorError
from curator.retrying import whole_seconds


class SpotifyError(CuratorError):
    """Base: a Spotify call failed. `http_status` is what Spotify answered (None: no answer)."""

    def __init__(self, message: str, *, http_status: int | None = None, operation: str = ""):
        super().__init__(message)
        self.http_status = http_status
        self.operation = operation


class SpotifyNotConfigured(SpotifyError):
    """Curator has no Spotify client id and secret."""


class SpotifyUnavailable(SpotifyError):
    """Timeouts, connection failures and 5xx after the retries ran out."""


class SpotifyRateLimited(SpotifyError):
    """429 with a Retry-After longer than we wait inside a request, or retries ran out."""

    def __init__(self, message: str, *, retry_after: float, **kw):
        super().__init__(message, **kw)
        self.retry_after = retry_after

    @property
    def wait_seconds(self) -> int:
        """Whole seconds to tell a person (and a Retry-After header): never 0."""
        return whole_seconds(self.retry_after)


class SpotifyAuthError(SpotifyError):
    """Spotify refused our credentials (401): the login has to be renewed."""


class SpotifyTokenRevoked(SpotifyAuthError):
    """The refresh token was revoked (`invalid_grant`): the user must log in again."""


class SpotifyLoginRequired(SpotifyAuthError):
    """No Spotify token is stored for a logged-in listener (e.g. forgotten after a revocation in
    another browser session): they must log in again. Never answered by prompting."""


class SpotifyForbidden(SpotifyError):
    """Spotify refused the operation (403)."""


class SpotifyNotFound(SpotifyError):
    """Spotify has no such thing (404)."""


class SpotifyBadRequest(SpotifyError):
    """Spotify refused our request as malformed (400): our bug, not the listener's."""


class SpotifyLoginFailed(SpotifyError):
    """The authorization-code exchange failed (replayed or bad code, wrong client)."""
