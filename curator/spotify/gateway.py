"""The one door to Spotify. Every Web API call of the app goes through `SpotifyGateway`.

spotipy does the HTTP and OAuth plumbing; this module adds what spotipy leaves to us:
- only current operations (create with POST /me/playlists, items through /playlists/{id}/items,
  search pages of at most 10), called through spotipy's low-level `_internal_call` where a
  spotipy method still points at a retired path or sends a body the spec does not document;
- bounded retries that honour `Retry-After` on 429 and back off on 5xx and network errors,
  never retrying an ambiguous non-idempotent write;
- a timeout on every request and errors mapped to `curator.spotify.errors` types.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.parse import quote

import requests
import spotipy
from spotipy.cache_handler import CacheHandler, MemoryCacheHandler
from spotipy.oauth2 import SpotifyOauthError

from curator.spotify.errors import (
    SpotifyAuthError,
    SpotifyBadRequest,
    SpotifyError,
    SpotifyForbidden,
    SpotifyLoginFailed,
    SpotifyNotConfigured,
    SpotifyNotFound,
    SpotifyRateLimited,
    SpotifyTokenRevoked,
    SpotifyUnavailable,
)

log = logging.getLogger(__name__)

ADD_ITEMS_BATCH = 100  # the API's maximum URIs per POST /playlists/{id}/items
SEARCH_PAGE = 10  # search pages hold at most 10 items since 2025
PLAYLIST_ITEMS_PAGE = 50
ALBUM_TRACKS_PAGE = 50
ARTIST_ALBUMS_PAGE = 10
LIBRARY_PAGE = 50

# What the login asks for: the narrowest set for creating private playlists for the user.
BASE_SCOPES = ("playlist-modify-private", "playlist-modify-public", "user-read-private")
# Asked for only when the listener first chooses "from music I know".
LIBRARY_SCOPES = ("user-library-read", "user-top-read")
# Asked for only when the listener opts into generated playlist covers.
COVER_SCOPES = ("ugc-image-upload",)
# Asked for when an admin refreshes seed playlists: Spotify serves a playlist's items only to its
# owner or collaborators, and private or collaborative ones only with these scopes.
SEED_SCOPES = ("playlist-read-private", "playlist-read-collaborative")

Observer = Callable[[str, int], None]


@dataclass(frozen=True)
class SpotifySettings:
    client_id: str
    client_secret: str
    redirect_uri: str
    api_url: str = "https://api.spotify.com/v1/"
    accounts_url: str = "https://accounts.spotify.com/"
    timeout: float = 10.0
    max_retries: int = 3
    max_retry_wait: float = 10.0

    @property
    def configured(self) -> bool:
        return bool(self.client_id and self.client_secret)

    @classmethod
    def from_config(cls, config) -> SpotifySettings:
        return cls(
            client_id=config["SPOTIFY_CLIENT_ID"],
            client_secret=config["SPOTIFY_CLIENT_SECRET"],
            redirect_uri=config["SPOTIFY_REDIRECT_URI"],
            api_url=config["SPOTIFY_API_URL"],
            accounts_url=config["SPOTIFY_ACCOUNTS_URL"],
            timeout=config["SPOTIFY_TIMEOUT"],
            max_retries=config["SPOTIFY_MAX_RETRIES"],
            max_retry_wait=config["SPOTIFY_MAX_RETRY_WAIT"],
        )


def make_oauth(settings: SpotifySettings, cache_handler: CacheHandler, scope: str = "") -> spotipy.SpotifyOAuth:
    """A spotipy OAuth manager pointed at our configured accounts service."""
    if not settings.configured:
        raise SpotifyNotConfigured("Spotify client id and secret are not set.")
    oauth = spotipy.SpotifyOAuth(
        client_id=settings.client_id,
        client_secret=settings.client_secret,
        redirect_uri=settings.redirect_uri,
        scope=scope or None,
        cache_handler=cache_handler,
        open_browser=False,
        requests_timeout=settings.timeout,
    )
    # Instance attributes shadow spotipy's class constants, so tests can aim at a fake server.
    oauth.OAUTH_AUTHORIZE_URL = settings.accounts_url + "authorize"
    oauth.OAUTH_TOKEN_URL = settings.accounts_url + "api/token"
    return oauth


def authorize_url(settings: SpotifySettings, state: str, scopes: tuple[str, ...], show_dialog=False) -> str:
    oauth = make_oauth(settings, MemoryCacheHandler(), " ".join(scopes))
    oauth.show_dialog = show_dialog
    return oauth.get_authorize_url(state=state)


def exchange_code(settings: SpotifySettings, code: str, scopes: tuple[str, ...]) -> dict:
    """Trade an authorization code for a token_info dict (access, refresh, expires_at, scope)."""
    memory = MemoryCacheHandler()
    oauth = make_oauth(settings, memory, " ".join(scopes))
    try:
        oauth.get_access_token(code, as_dict=False, check_cache=False)
    except SpotifyOauthError as exc:
        raise SpotifyLoginFailed(
            f"Spotify did not accept the login ({exc.error or 'error'}: {exc.error_description or ''})."
        ) from exc
    except requests.RequestException as exc:
        raise SpotifyUnavailable("Spotify's login service did not answer.") from exc
    token = memory.get_cached_token()
    if not token or "access_token" not in token:
        raise SpotifyLoginFailed("Spotify answered the login without a token.")
    return token


class SpotifyGateway:
    """Spotify Web API for one user (or one app token), with retries and typed errors."""

    def __init__(
        self,
        settings: SpotifySettings,
        cache_handler: CacheHandler,
        *,
        observer: Observer | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings
        self._cache = cache_handler
        self._oauth = make_oauth(settings, cache_handler)
        self._sp = spotipy.Spotify(
            auth_manager=self._oauth,
            requests_timeout=settings.timeout,
            # Retries are ours (below), so spotipy's urllib3 layer must not retry on its own.
            retries=0,
            status_retries=0,
            status_forcelist=(),
        )
        self._sp.prefix = settings.api_url
        # spotipy's urllib3 Retry still intercepts 429s (dropping Retry-After); plain adapters
        # hand every response to the loop below.
        for scheme in ("http://", "https://"):
            self._sp._session.mount(scheme, requests.adapters.HTTPAdapter())
        self._observer = observer
        self._sleep = sleep
        self.calls = 0

    # -- the core loop -------------------------------------------------------------------
    def request(self, method: str, path: str, *, params=None, json=None, operation: str = "",
                idempotent: bool | None = None, content_type: str | None = None, data=None):
        """Send one Web API request; retry what is safe to retry; map failures to our types.

        `operation` names the spec operation for logs ("GET /playlists/{playlist_id}/items").
        A non-idempotent request (POST) is retried only when Spotify certainly did not act on
        it (429), never after a timeout or 5xx, where it may have.
        """
        operation = operation or f"{method} /{path}"
        if idempotent is None:
            idempotent = method in ("GET", "PUT", "DELETE")
        params = dict(params or {})
        payload = json
        if content_type:
            params["content_type"] = content_type
            payload = data
        attempt = 0
        refreshed = refresh_now = False
        while True:
            attempt += 1
            status = 0
            try:
                if refresh_now:
                    refresh_now = False
                    self._force_refresh()
                result = self._sp._internal_call(method, path, payload, dict(params))
                status = 200
                return result
            except spotipy.SpotifyException as exc:
                status = exc.http_status
                error = self._classify(exc, operation)
                if isinstance(error, SpotifyRateLimited):
                    if attempt > self.settings.max_retries or error.retry_after > self.settings.max_retry_wait:
                        raise error from exc
                    log.warning("Spotify rate limit on %s; waiting %.0fs", operation, error.retry_after)
                    self._sleep(error.retry_after)
                    continue
                if isinstance(error, SpotifyUnavailable):
                    if not idempotent or attempt > self.settings.max_retries:
                        raise error from exc
                    self._sleep(min(0.5 * 2 ** (attempt - 1), 8))
                    continue
                if isinstance(error, SpotifyAuthError) and not refreshed:
                    # Spotify may expire a token before our clock says so: refresh once, retry.
                    refreshed = refresh_now = True
                    continue
                raise error from exc
            except SpotifyOauthError as exc:
                status = 400
                if exc.error == "invalid_grant":
                    raise SpotifyTokenRevoked(
                        "Your Spotify login was revoked or has expired. Please log in again.",
                        operation=operation,
                    ) from exc
                raise SpotifyAuthError(f"Spotify refused to renew the login: {exc.error}", operation=operation) from exc
            except (requests.Timeout, requests.ConnectionError) as exc:
                status = 0
                if not idempotent or attempt > self.settings.max_retries:
                    raise SpotifyUnavailable(
                        "Spotify did not answer in time.", operation=operation
                    ) from exc
                self._sleep(min(0.5 * 2 ** (attempt - 1), 8))
            finally:
                self.calls += 1
                if self._observer is not None:
                    try:
                        self._observer(operation, status)
                    except Exception:  # counting calls must never break a call
                        log.exception("Spotify call observer failed")

    def _force_refresh(self) -> None:
        token = self._cache.get_cached_token()
        if not token or not token.get("refresh_token"):
            raise SpotifyAuthError("Your Spotify login has expired. Please log in again.")
        self._oauth.refresh_access_token(token["refresh_token"])

    @staticmethod
    def _classify(exc: spotipy.SpotifyException, operation: str) -> SpotifyError:
        status = exc.http_status
        message = str(exc.msg).split("\n")[-1].strip() if exc.msg else ""
        if status == 429:
            headers = exc.headers or {}
            try:
                retry_after = float(headers.get("Retry-After", 1))
            except (TypeError, ValueError):
                retry_after = 1.0
            return SpotifyRateLimited(
                f"Spotify is busy; try again in {int(retry_after) or 1} s.",
                retry_after=retry_after, http_status=status, operation=operation,
            )
        if status >= 500:
            return SpotifyUnavailable(f"Spotify answered {status}.", http_status=status, operation=operation)
        if status == 401:
            return SpotifyAuthError("Your Spotify login has expired. Please log in again.",
                                    http_status=status, operation=operation)
        if status == 403:
            return SpotifyForbidden(f"Spotify refused {operation}: {message}", http_status=status, operation=operation)
        if status == 404:
            return SpotifyNotFound(f"Spotify has no such item ({operation}).", http_status=status, operation=operation)
        return SpotifyBadRequest(f"Spotify rejected {operation} ({status}): {message}",
                                 http_status=status, operation=operation)

    def _paged(self, first: dict | None, operation: str, limit: int | None = None,
               envelope: str | None = None) -> Iterator[dict]:
        """Yield items of a paging object, following `next` links until `limit` items.

        `envelope` names the key that wraps each page (search answers `{"tracks": {...}}` on
        every page, including the ones reached through `next`).
        """
        page = (first or {}).get(envelope) if envelope else first
        count = 0
        while page:
            for item in page.get("items") or []:
                yield item
                count += 1
                if limit is not None and count >= limit:
                    return
            next_url = page.get("next")
            if not next_url:
                return
            page = self.request("GET", next_url, operation=operation)
            if envelope:
                page = (page or {}).get(envelope)

    # -- operations ----------------------------------------------------------------------
    def me(self) -> dict:
        return self.request("GET", "me", operation="GET /me")

    def create_playlist(self, name: str, description: str = "", public: bool = False) -> dict:
        body = {"name": name, "public": public, "description": description}
        return self.request("POST", "me/playlists", json=body, operation="POST /me/playlists")

    def add_items(self, playlist_id: str, uris: list[str], position: int | None = None) -> str:
        """Add up to 100 URIs in one call; returns the new snapshot id."""
        if not 0 < len(uris) <= ADD_ITEMS_BATCH:
            raise ValueError(f"add_items takes 1..{ADD_ITEMS_BATCH} URIs, got {len(uris)}")
        body: dict = {"uris": list(uris)}
        if position is not None:
            body["position"] = position
        result = self.request(
            "POST", f"playlists/{quote(playlist_id)}/items", json=body,
            operation="POST /playlists/{playlist_id}/items",
        )
        return (result or {}).get("snapshot_id", "")

    def my_playlists(self, limit: int | None = None) -> Iterator[dict]:
        """The current user's playlists (owned and followed), newest first as Spotify lists them."""
        op = "GET /me/playlists"
        first = self.request("GET", "me/playlists", params={"limit": LIBRARY_PAGE, "offset": 0}, operation=op)
        return self._paged(first, op, limit)

    def playlist(self, playlist_id: str, fields: str | None = None) -> dict:
        params = {"fields": fields} if fields else None
        return self.request("GET", f"playlists/{quote(playlist_id)}", params=params,
                            operation="GET /playlists/{playlist_id}")

    def playlist_items(self, playlist_id: str, limit: int | None = None) -> Iterator[dict]:
        op = "GET /playlists/{playlist_id}/items"
        first = self.request("GET", f"playlists/{quote(playlist_id)}/items",
                             params={"limit": PLAYLIST_ITEMS_PAGE, "offset": 0}, operation=op)
        return self._paged(first, op, limit)

    def upload_cover(self, playlist_id: str, jpeg_base64: str) -> None:
        self.request("PUT", f"playlists/{quote(playlist_id)}/images", content_type="image/jpeg",
                     data=jpeg_base64, operation="PUT /playlists/{playlist_id}/images")

    def track(self, track_id: str) -> dict:
        return self.request("GET", f"tracks/{quote(track_id)}", operation="GET /tracks/{id}")

    def artist(self, artist_id: str) -> dict:
        return self.request("GET", f"artists/{quote(artist_id)}", operation="GET /artists/{id}")

    def search_tracks(self, query: str, limit: int = 50) -> Iterator[dict]:
        op = "GET /search"
        first = self.request("GET", "search", operation=op, params={
            "q": query, "type": "track", "limit": min(SEARCH_PAGE, limit), "offset": 0})
        return self._paged(first, op, limit, envelope="tracks")

    def artist_albums(self, artist_id: str, limit: int | None = None) -> Iterator[dict]:
        op = "GET /artists/{id}/albums"
        first = self.request("GET", f"artists/{quote(artist_id)}/albums", operation=op, params={
            "include_groups": "album,single", "limit": ARTIST_ALBUMS_PAGE, "offset": 0})
        return self._paged(first, op, limit)

    def album_tracks(self, album_id: str, limit: int | None = None) -> Iterator[dict]:
        op = "GET /albums/{id}/tracks"
        first = self.request("GET", f"albums/{quote(album_id)}/tracks", operation=op,
                             params={"limit": ALBUM_TRACKS_PAGE, "offset": 0})
        return self._paged(first, op, limit)

    def saved_tracks(self, limit: int | None = 200) -> Iterator[dict]:
        op = "GET /me/tracks"
        first = self.request("GET", "me/tracks", params={"limit": LIBRARY_PAGE, "offset": 0}, operation=op)
        return self._paged(first, op, limit)

    def top_tracks(self, limit: int | None = 100, time_range: str = "medium_term") -> Iterator[dict]:
        op = "GET /me/top/tracks"
        first = self.request("GET", "me/top/tracks", operation=op,
                             params={"limit": LIBRARY_PAGE, "offset": 0, "time_range": time_range})
        return self._paged(first, op, limit)

    def audio_features(self, track_ids: list[str]) -> list[dict | None]:
        """Spotify's retired audio-features endpoint, for the few apps that still have it.

        Development-mode apps get 403 here since 27 Nov 2024; the feature provider that calls
        this switches itself off after the first 403.
        """
        result = self.request("GET", "audio-features", params={"ids": ",".join(track_ids)},
                              operation="GET /audio-features")
        return (result or {}).get("audio_features") or []
