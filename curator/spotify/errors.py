"""What can go wrong talking to Spotify, as our own types (mapped to pages and JSON in one place)."""
from __future__ import annotations

from curator.retrying import whole_seconds


class SpotifyError(Exception):
    """Base: a Spotify call failed. `status` is the HTTP status we answer with."""

    status = 502
    code = "spotify_error"

    def __init__(self, message: str, *, http_status: int | None = None, operation: str = ""):
        super().__init__(message)
        self.message = message
        self.http_status = http_status
        self.operation = operation


class SpotifyNotConfigured(SpotifyError):
    status = 503
    code = "spotify_not_configured"


class SpotifyUnavailable(SpotifyError):
    """Timeouts, connection failures and 5xx after the retries ran out."""

    status = 503
    code = "spotify_unavailable"


class SpotifyRateLimited(SpotifyError):
    """429 with a Retry-After longer than we wait inside a request, or retries ran out."""

    status = 429
    code = "spotify_rate_limited"

    def __init__(self, message: str, *, retry_after: float, **kw):
        super().__init__(message, **kw)
        self.retry_after = retry_after

    @property
    def wait_seconds(self) -> int:
        """Whole seconds to tell a person (and a Retry-After header): never 0."""
        return whole_seconds(self.retry_after)


class SpotifyAuthError(SpotifyError):
    """Spotify refused our credentials (401): the login has to be renewed."""

    status = 401
    code = "spotify_login_expired"


class SpotifyTokenRevoked(SpotifyAuthError):
    """The refresh token was revoked (`invalid_grant`): the user must log in again."""


class SpotifyLoginRequired(SpotifyAuthError):
    """No Spotify token is stored for a logged-in listener (e.g. forgotten after a revocation in
    another browser session): they must log in again. Never answered by prompting."""


class SpotifyForbidden(SpotifyError):
    status = 403
    code = "spotify_forbidden"


class SpotifyNotFound(SpotifyError):
    status = 404
    code = "spotify_not_found"


class SpotifyBadRequest(SpotifyError):
    status = 502
    code = "spotify_bad_request"


class SpotifyLoginFailed(SpotifyError):
    """The authorization-code exchange failed (replayed or bad code, wrong client)."""

    status = 400
    code = "spotify_login_failed"
