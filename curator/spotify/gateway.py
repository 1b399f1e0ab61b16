"""The one door to Spotify. Every Web API and accounts-service call of the app goes through here.

Built on `requests` directly rather than on spotipy's client, because spotipy's surface is in the
way of what Curator must do:
- its methods still point at retired paths or send undocumented bodies (items through
  /playlists/{id}/tracks, creation through /users/{id}/playlists), and the only way to send
  anything else is its private `_internal_call`;
- its urllib3 retry layer answers 429 itself and drops Retry-After, unless one mounts adapters on
  its private `_session`;
- its auth manager, asked for a token it does not have, prompts on standard input or opens a
  browser: in a web worker that is a hung request or a 500 (issue 12);
- its `SpotifyOAuth` cannot send a PKCE verifier alongside the client secret.
So this module speaks HTTP itself: the authorize URL (with PKCE S256), the code exchange, the
token refresh, and the Web API calls. spotipy remains only as the token-cache interface
(`get_cached_token` / `save_token_to_cache`, which `token_store.DatabaseTokenCache` implements),
and token dicts keep spotipy's shape (access_token, refresh_token, expires_at, scope).

What it guarantees:
- only current operations (create with POST /me/playlists, items through /playlists/{id}/items,
  search pages of at most `SEARCH_PAGE`);
- bounded retries through `curator.retrying` (the one retry/backoff helper, shared with the
  ReccoBeats provider): 429 waits out Retry-After, 5xx and network errors back off, and an
  ambiguous non-idempotent write is never retried;
- a timeout on every request, shortened to what is left of the caller's `deadline` (a web request's
  budget); a write (POST) is not started unless its whole timeout fits, so running out of time never
  leaves a write whose answer was lost (`SpotifyOutOfTime`, nothing sent);
- `before_call` runs right before anything is sent (the app ends any database transaction there:
  no lock is held while Spotify thinks, `curator.remote_call`);
- a renewed token is handed to the cache at once (which stores it before the call goes on); two
  threads holding the same expired token renew it once, and a refresh token another process has
  just rotated is picked up from the cache instead of being taken for a revoked login;
- failures as `curator.spotify.errors` types; no stored token is `SpotifyLoginRequired` (log in
  again), never a prompt.
"""
from __future__ import annotations

import base64
import hashlib
import logging
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import quote, urlencode

import requests

from curator.retrying import TryAgain, retry_after_seconds, retrying, whole_seconds
from curator.spotify.errors import (
    SpotifyAuthError,
    SpotifyBadRequest,
    SpotifyError,
    SpotifyForbidden,
    SpotifyLoginFailed,
    SpotifyLoginRequired,
    SpotifyNotConfigured,
    SpotifyNotFound,
    SpotifyOutOfTime,
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
# Renew an access token this many seconds before Spotify says it expires (clocks differ).
EXPIRY_MARGIN = 60
# A token fetched by `ready()` is used by the next request only if it starts within this many seconds.
READY_FOR = 5.0
# Below this many seconds left in the caller's budget a call is not worth starting.
LEAST_USEFUL_TIMEOUT = 0.5
# After `invalid_grant`, how long to keep looking in the cache for the token another process renewed
# with the same refresh token (it is stored a moment after Spotify answers it).
ROTATED_TOKEN_WAIT = 2.0

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

    @property
    def token_url(self) -> str:
        return self.accounts_url + "api/token"

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


class MemoryTokenCache:
    """A token held for one piece of work (the login callback, a test): nothing is stored."""

    def __init__(self, token: dict | None = None) -> None:
        self.token = token

    def get_cached_token(self) -> dict | None:
        return self.token

    def save_token_to_cache(self, token_info: dict) -> None:
        self.token = token_info


# -- login: Authorization Code with PKCE ------------------------------------------------------

def pkce_pair() -> tuple[str, str]:
    """A fresh (code_verifier, code_challenge) for PKCE S256 (RFC 7636): the verifier stays in the
    server-side session, the challenge goes to /authorize."""
    verifier = secrets.token_urlsafe(64)  # 86 characters of [A-Za-z0-9_-]
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=")
    return verifier, challenge.decode("ascii")


def authorize_url(settings: SpotifySettings, state: str, scopes: tuple[str, ...], code_challenge: str,
                  show_dialog: bool = False) -> str:
    if not settings.configured:
        raise SpotifyNotConfigured("Spotify client id and secret are not set.")
    params = {
        "client_id": settings.client_id,
        "response_type": "code",
        "redirect_uri": settings.redirect_uri,
        "state": state,
        "scope": " ".join(scopes),
        "code_challenge_method": "S256",
        "code_challenge": code_challenge,
    }
    if show_dialog:
        params["show_dialog"] = "true"
    return settings.accounts_url + "authorize?" + urlencode(params, quote_via=quote)


def exchange_code(settings: SpotifySettings, code: str, code_verifier: str, scopes: tuple[str, ...] = (),
                  session: requests.Session | None = None) -> dict:
    """Trade an authorization code (and the PKCE verifier of the browser session that asked for
    it) for a token dict: access_token, refresh_token, expires_at, scope."""
    try:
        token = _token_request(settings, session or requests.Session(), {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": settings.redirect_uri,
            "code_verifier": code_verifier,
        })
    except _TokenRefused as refused:
        raise SpotifyLoginFailed(f"Spotify did not accept the login ({refused.error}: {refused.description}).") from None
    except SpotifyUnavailable as exc:
        raise SpotifyUnavailable("Spotify's login service did not answer.") from exc
    if not token.get("access_token"):
        raise SpotifyLoginFailed("Spotify answered the login without a token.")
    token.setdefault("scope", " ".join(scopes))  # Spotify names the granted scopes; if not, what we asked
    return token


class _TokenRefused(Exception):
    def __init__(self, status: int, error: str, description: str):
        super().__init__(f"{status} {error}: {description}")
        self.status, self.error, self.description = status, error, description


def _token_request(settings: SpotifySettings, session: requests.Session, form: dict,
                   timeout: float | None = None) -> dict:
    """POST to the accounts service's token endpoint with our client credentials."""
    if not settings.configured:
        raise SpotifyNotConfigured("Spotify client id and secret are not set.")
    try:
        response = session.post(settings.token_url, data=form, auth=(settings.client_id, settings.client_secret),
                                headers={"Accept": "application/json"}, timeout=timeout or settings.timeout)
    except (requests.Timeout, requests.ConnectionError) as exc:
        raise SpotifyUnavailable("Spotify's accounts service did not answer in time.", operation="POST /api/token") from exc
    if response.status_code >= 500 or response.status_code == 429:
        raise SpotifyUnavailable(f"Spotify's accounts service answered {response.status_code}.",
                                 http_status=response.status_code, operation="POST /api/token")
    try:
        body = response.json()
    except ValueError:
        body = {}
    if response.status_code != 200:
        raise _TokenRefused(response.status_code, str(body.get("error") or "error"),
                            str(body.get("error_description") or ""))
    if not isinstance(body, dict):
        raise SpotifyBadRequest("Spotify's accounts service answered something that is not a token.",
                                operation="POST /api/token")
    body["expires_at"] = int(time.time()) + int(body.get("expires_in") or 3600)
    return body


# -- the Web API ------------------------------------------------------------------------------

# One lock per refresh token being renewed in this process: threads holding the same expired token
# renew it once (with rotating refresh tokens a second renewal would be refused as revoked).
_renewing: dict[str, threading.Lock] = {}
_renewing_guard = threading.Lock()


def _renewal_lock(refresh_token: str) -> threading.Lock:
    with _renewing_guard:
        if len(_renewing) > 10_000:
            _renewing.clear()
        return _renewing.setdefault(refresh_token, threading.Lock())


class SpotifyGateway:
    """Spotify Web API for one user, with token renewal, retries and typed errors.

    `cache_handler` holds the user's token (`get_cached_token`, `save_token_to_cache`).
    `deadline` answers when the caller must be done (time.monotonic(); None: no limit) and
    `before_call` runs right before each request is sent (see the module's docstring).
    """

    def __init__(
        self,
        settings: SpotifySettings,
        cache_handler,
        *,
        observer: Observer | None = None,
        sleep: Callable[[float], None] = time.sleep,
        session: requests.Session | None = None,
        deadline: Callable[[], float | None] | None = None,
        before_call: Callable[[], None] | None = None,
    ) -> None:
        self.settings = settings
        self._cache = cache_handler
        self._http = session or requests.Session()
        self._http.headers.setdefault("Accept", "application/json")
        self._observer = observer
        self._sleep = sleep
        self._deadline = deadline
        self._before_call = before_call
        self.calls = 0
        self._ready: tuple[str, float] | None = None  # (access token, when) fetched by `ready()`
        # The token this gateway last read or renewed: used again while it is fresh (a gateway lives
        # for one request or one save), read again from the store once Spotify refuses it.
        self._token: dict | None = None

    # -- time ----------------------------------------------------------------------------
    def seconds_left(self) -> float | None:
        """Seconds left before the caller's deadline (None: no deadline)."""
        end = self._deadline() if self._deadline else None
        return None if end is None else end - time.monotonic()

    def _timeout(self, operation: str, *, write: bool = False) -> float:
        """This call's timeout: Spotify's, or what is left when less; a write needs the whole of it."""
        left = self.seconds_left()
        if left is None:
            return self.settings.timeout
        if left < LEAST_USEFUL_TIMEOUT or (write and left < self.settings.timeout):
            raise SpotifyOutOfTime("We stopped waiting for Spotify: this request ran out of time.",
                                   operation=operation)
        return min(self.settings.timeout, left)

    def _prepare(self) -> None:
        if self._before_call is not None:
            self._before_call()

    def ready(self) -> None:
        """Do now what the next request does before it is sent (a valid access token, renewed if due,
        and the end of the caller's read-only transaction), so that a caller that records "about to
        send" right after this (the save journal) sends moments later, not after a token read that
        may wait on the database: a process killed in between leaves a write recorded as sent that
        never was, which the next run must then wait out."""
        self._ready = (self._access_token(), time.monotonic())
        self._prepare()

    # -- tokens --------------------------------------------------------------------------
    def _access_token(self, *, refused: str | None = None) -> str:
        """A valid access token; `refused` is one Spotify just refused (401), renewed unless another
        thread or process already has."""
        token = self._token
        if refused is None and token is not None and _fresh(token):
            return token["access_token"]
        token = self._token = self._cache.get_cached_token()
        if not token or not token.get("access_token"):
            # E.g. the login was revoked and forgotten in another browser session: ask for a
            # new login (the caller keeps what it had done), never prompt.
            raise SpotifyLoginRequired("Please log in with Spotify again to carry on.")
        if refused is not None and token["access_token"] != refused and _fresh(token):
            return token["access_token"]  # renewed elsewhere since Spotify refused ours
        if refused is not None or not _fresh(token):
            token = self._token = self._renew(token)
        return token["access_token"]

    def granted_scopes(self) -> set[str] | None:
        """The scopes granted with the token in hand (read once, renewed if due); None when the token
        does not name them."""
        self._access_token()
        scope = (self._token or {}).get("scope")
        return None if scope is None else set(scope.split())

    def _renew(self, token: dict) -> dict:
        refresh_token = token.get("refresh_token")
        if not refresh_token:
            raise SpotifyLoginRequired("Your Spotify login has expired. Please log in again.")
        with _renewal_lock(refresh_token):
            stored = self._cache.get_cached_token() or {}
            if stored.get("access_token") not in (None, token.get("access_token")) and _fresh(stored):
                return stored  # another thread renewed it while this one waited
            operation = "POST /api/token"
            timeout = self._timeout(operation)
            self._prepare()
            try:
                fresh = _token_request(self.settings, self._http,
                                       {"grant_type": "refresh_token", "refresh_token": refresh_token},
                                       timeout=timeout)
            except _TokenRefused as refused:
                if refused.error == "invalid_grant":
                    rotated = self._rotated_elsewhere(refresh_token)
                    if rotated is not None:
                        return rotated
                    raise SpotifyTokenRevoked("Your Spotify login was revoked or has expired. Please log in again.",
                                              http_status=refused.status, operation=operation) from None
                raise SpotifyAuthError(f"Spotify refused to renew the login: {refused.error}",
                                       http_status=refused.status, operation=operation) from None
            # Spotify may keep the refresh token (no new one in the answer) and the granted scopes.
            fresh.setdefault("refresh_token", refresh_token)
            fresh.setdefault("scope", token.get("scope", ""))
            self._cache.save_token_to_cache(fresh)  # stored at once: a rotated refresh token must never be lost
            return fresh

    def _rotated_elsewhere(self, used: str) -> dict | None:
        """The token another process renewed with the refresh token `used` (Spotify then refuses the
        old one), looked for in the cache a little while; None when there is none: really revoked."""
        give_up = time.monotonic() + ROTATED_TOKEN_WAIT
        while True:
            stored = self._cache.get_cached_token() or {}
            if stored.get("refresh_token") not in (None, used) and stored.get("access_token"):
                return stored
            if time.monotonic() >= give_up:
                return None
            self._sleep(0.25)

    # -- the core loop -------------------------------------------------------------------
    def request(self, method: str, path: str, *, params=None, json=None, operation: str = "",
                idempotent: bool | None = None, content_type: str | None = None, data=None):
        """Send one Web API request; retry what is safe to retry; map failures to our types.

        `path` is relative to the API base (or a full `next` URL from a paging object).
        `operation` names the spec operation for logs ("GET /playlists/{playlist_id}/items").
        A non-idempotent request (POST) is retried only when Spotify certainly did not act on
        it (429), never after a timeout or 5xx, where it may have.
        """
        operation = operation or f"{method} /{path}"
        if idempotent is None:
            idempotent = method in ("GET", "PUT", "DELETE")
        url = path if path.startswith(("http://", "https://")) else self.settings.api_url + path
        renewed = False
        refused: str | None = None  # the access token Spotify just refused, to renew once

        def attempt():
            nonlocal renewed, refused
            self._timeout(operation, write=not idempotent)  # out of time: nothing is sent, nor renewed
            ready, self._ready = self._ready, None
            fresh = ready is not None and refused is None and time.monotonic() - ready[1] < READY_FOR
            access = ready[0] if fresh else self._access_token(refused=refused)
            refused = None
            headers = {"Authorization": f"Bearer {access}"}
            if content_type:
                headers["Content-Type"] = content_type
            status = 0
            timeout = self._timeout(operation, write=not idempotent)
            self._prepare()
            try:
                response = self._http.request(method, url, params=params, headers=headers, timeout=timeout,
                                              json=None if content_type else json, data=data if content_type else None)
                status = response.status_code
            except (requests.Timeout, requests.ConnectionError) as exc:
                error = SpotifyUnavailable("Spotify did not answer in time.", operation=operation)
                if not idempotent:
                    raise error from exc
                raise TryAgain(error) from exc
            finally:
                self._count(operation, status)
            if status < 300:
                return _body(response)
            error = _classify(response, operation)
            if isinstance(error, SpotifyRateLimited):
                raise TryAgain(error, wait=error.retry_after)
            if isinstance(error, SpotifyUnavailable) and idempotent:
                raise TryAgain(error)
            if isinstance(error, SpotifyAuthError) and not renewed:
                # Spotify may expire a token before our clock says so: renew once, then retry.
                renewed, refused = True, access
                raise TryAgain(error, wait=0)
            raise error

        return retrying(attempt, retries=self.settings.max_retries, max_wait=self.settings.max_retry_wait,
                        sleep=self._pause, on_wait=lambda wait, again: _log_wait(operation, wait, again),
                        deadline=self._deadline() if self._deadline else None)

    def _pause(self, seconds: float) -> None:
        if seconds > 0:
            self._sleep(seconds)

    def _count(self, operation: str, status: int) -> None:
        self.calls += 1
        if self._observer is not None:
            try:
                self._observer(operation, status)
            except Exception:  # counting calls must never break a call
                log.exception("Spotify call observer failed")

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

    def replace_items(self, playlist_id: str, uris: list[str]) -> str:
        """Replace everything in a playlist with up to 100 URIs, in order (PUT, so sending it again
        gives the same playlist); returns the new snapshot id."""
        if not 0 < len(uris) <= ADD_ITEMS_BATCH:
            raise ValueError(f"replace_items takes 1..{ADD_ITEMS_BATCH} URIs, got {len(uris)}")
        result = self.request(
            "PUT", f"playlists/{quote(playlist_id)}/items", json={"uris": list(uris)},
            operation="PUT /playlists/{playlist_id}/items",
        )
        return (result or {}).get("snapshot_id", "")

    def in_library(self, uris: list[str]) -> list[bool]:
        """Whether each item (up to 40 URIs, e.g. `spotify:playlist:{id}`) is in the current user's
        library: an owner who "deleted" a playlist has only taken it out of theirs."""
        result = self.request("GET", "me/library/contains", params={"uris": ",".join(uris)},
                              operation="GET /me/library/contains")
        return [bool(x) for x in (result or [])]

    def my_playlists(self, limit: int | None = None) -> Iterator[dict]:
        """The current user's playlists (owned and followed), newest first as Spotify lists them."""
        op = "GET /me/playlists"
        first = self.request("GET", "me/playlists", params={"limit": LIBRARY_PAGE, "offset": 0}, operation=op)
        return self._paged(first, op, limit)

    def remove_playlist(self, playlist_id: str) -> None:
        """Take a playlist out of the current user's library (Spotify's way of deleting one: its
        owner unfollows it). DELETE /me/library, which replaced DELETE /playlists/{id}/followers."""
        self.request("DELETE", "me/library", params={"uris": f"spotify:playlist:{playlist_id}"},
                     operation="DELETE /me/library")

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

    def top_artists(self, limit: int | None = 50, time_range: str = "medium_term") -> Iterator[dict]:
        op = "GET /me/top/artists"
        first = self.request("GET", "me/top/artists", operation=op,
                             params={"limit": LIBRARY_PAGE, "offset": 0, "time_range": time_range})
        return self._paged(first, op, limit)

    def top_tracks(self, limit: int | None = 100, time_range: str = "medium_term") -> Iterator[dict]:
        op = "GET /me/top/tracks"
        first = self.request("GET", "me/top/tracks", operation=op,
                             params={"limit": LIBRARY_PAGE, "offset": 0, "time_range": time_range})
        return self._paged(first, op, limit)

    def followed_artists(self, limit: int | None = None) -> Iterator[dict]:
        """The artists the current user follows (``user-follow-read``). Cursor-paged by artist id
        (``after`` = the last id of a page, in the ``next`` link), so the order says nothing about
        when an artist was followed."""
        op = "GET /me/following"
        first = self.request("GET", "me/following", operation=op, params={"type": "artist", "limit": LIBRARY_PAGE})
        return self._paged(first, op, limit, envelope="artists")

    def recently_played(self, after_ms: int | None = None, limit: int | None = None) -> Iterator[dict]:
        """The current user's play history (``user-read-recently-played``): PlayHistoryObjects.

        Without ``after_ms``: newest first, following the ``before`` cursor of each page's ``next``
        link. With it (a Unix time in milliseconds): only the plays after it, following ``next``
        until a page holds a play at or before it, or none after it: whichever way Spotify's
        ``next`` runs (on forward from ``after``, or back through ``before``), no page of plays
        already read is asked for twice."""
        op = "GET /me/player/recently-played"
        params: dict = {"limit": LIBRARY_PAGE}
        if after_ms is not None:
            params["after"] = int(after_ms)
        page = self.request("GET", "me/player/recently-played", params=params, operation=op)
        count = 0
        while page:
            fresh = reached = 0
            for item in page.get("items") or []:
                if after_ms is not None and played_at_ms(item) <= after_ms:
                    reached += 1
                    continue
                fresh += 1
                yield item
                count += 1
                if limit is not None and count >= limit:
                    return
            if not page.get("next") or (after_ms is not None and (reached or not fresh)):
                return
            page = self.request("GET", page["next"], operation=op)

    def audio_features(self, track_ids: list[str]) -> list[dict | None]:
        """Spotify's retired audio-features endpoint, for the few apps that still have it.

        Development-mode apps get 403 here since 27 Nov 2024; the feature provider that calls
        this switches itself off after the first 403.
        """
        result = self.request("GET", "audio-features", params={"ids": ",".join(track_ids)},
                              operation="GET /audio-features")
        return (result or {}).get("audio_features") or []


def played_at_ms(item: dict | None) -> int:
    """A PlayHistoryObject's ``played_at`` as a Unix time in milliseconds (0 when unreadable)."""
    text = str((item or {}).get("played_at") or "")
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return 0
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return int(round(when.timestamp() * 1000))


def _fresh(token: dict) -> bool:
    return float(token.get("expires_at") or 0) - time.time() >= EXPIRY_MARGIN


def _body(response: requests.Response):
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return None


def _classify(response: requests.Response, operation: str) -> SpotifyError:
    status = response.status_code
    try:
        error = (response.json() or {}).get("error")
        message = error.get("message", "") if isinstance(error, dict) else str(error or "")
    except (ValueError, AttributeError):
        message = response.text[:200]
    if status == 429:
        retry_after = retry_after_seconds(response.headers)
        return SpotifyRateLimited(f"Spotify is busy right now: please try again in {whole_seconds(retry_after)} seconds.",
                                  retry_after=retry_after, http_status=status, operation=operation)
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


def _log_wait(operation: str, wait: float, again: TryAgain) -> None:
    if isinstance(again.error, SpotifyRateLimited):
        log.warning("Spotify rate limit on %s; waiting %.1fs", operation, wait)
    elif wait:
        log.info("Spotify %s on %s; retrying in %.1fs", again.error, operation, wait)
