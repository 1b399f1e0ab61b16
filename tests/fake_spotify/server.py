"""A fake Spotify (accounts service + Web API) and ReccoBeats, served over real HTTP.

Every Web API request is checked against the Spotify OpenAPI document (see
``spec.py``); a violation is recorded in ``FakeSpotify.violations`` and answered
with 400, and the ``fake_spotify`` fixture fails the test at teardown.

Shapes follow the OpenAPI document (version 2026.5.31): playlists carry their
entries under ``items`` (``tracks`` is deprecated) and each entry its track under
``item`` (``track`` is deprecated); fields the document marks deprecated (user
``country``/``product``/``email``/``followers``, track ``popularity``, ...) are
omitted unless the schema requires them or ``legacy_fields=True``.

ReccoBeats stand-in (``/reccobeats/v1/``), mimicking what public sources say of
the real service, https://api.reccobeats.com/v1:

* ``GET /v1/audio-features?ids=...`` takes Spotify track ids (or ReccoBeats
  UUIDs), comma-separated or as repeated ``ids`` parameters
  (https://reccobeats.com/docs/documentation/request-and-response,
  https://reccobeats.com/docs/apis/get-audio-features). No API key.
* Between 1 and 40 ids a call; otherwise HTTP 400 with
  ``{"status": 4004, "errors": [{"message": "size must be between 1 and 40"}]}``
  (the error body as quoted in public client code that hit the limit; the MCP
  tool https://glama.ai/mcp/servers/FDeRubeis/reccobeats-mcp also says "up to 40").
* Answer ``{"content": [...]}``: one row per *known* track, unknown ids simply
  omitted (no nulls, not positional). Each row: ``id`` (the ReccoBeats UUID, not
  the Spotify id), ``href`` (``https://open.spotify.com/track/<spotify id>``, the
  only link back to the Spotify id), ``isrc`` when known, and ``acousticness``,
  ``danceability``, ``energy``, ``instrumentalness``, ``key``, ``liveness``,
  ``loudness``, ``mode``, ``speechiness``, ``tempo``, ``valence``; no
  ``time_signature``.
* ``GET /v1/track/{reccobeats uuid}/audio-features`` answers one bare features
  object (https://reccobeats.com/docs/apis/get-track-audio-features).
* Rate limits are internal and unpublished; over them the API answers 429 with a
  ``Retry-After`` header (https://reccobeats.com/docs/documentation/rate-limiting).
  Here that is simulated with ``fail_next(..., 429, retry_after=...)``.
"""

from __future__ import annotations

import base64
import binascii
import copy
import hashlib
import json
import re
import secrets
import socket
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Self
from urllib.parse import parse_qs, urlencode

from werkzeug.datastructures import MultiDict
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from .spec import SpecChecker

ALL_SCOPES = (
    "ugc-image-upload",
    "playlist-read-private",
    "playlist-read-collaborative",
    "playlist-modify-private",
    "playlist-modify-public",
    "user-read-private",
    "user-read-email",
    "user-library-read",
    "user-library-modify",
    "user-top-read",
    "user-read-recently-played",
)

# The cookie of a browser signed in to (fake) Spotify: /authorize approves as this user.
SIGNED_IN_COOKIE = "fake_spotify_user"
RECCOBEATS_MAX_IDS = 40
RECCOBEATS_NAMESPACE = uuid.UUID("6f1b7c2e-0c5d-4c4e-9d7e-2b1f0e5a9c31")
FEATURE_KEYS = (
    "acousticness",
    "danceability",
    "energy",
    "instrumentalness",
    "key",
    "liveness",
    "loudness",
    "mode",
    "speechiness",
    "tempo",
    "valence",
)
# SOI + EOI: a byte-wise JPEG for image URLs that tests may fetch.
_TINY_JPEG = b"\xff\xd8\xff\xd9"
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_URI = re.compile(r"^spotify:(track|episode):([A-Za-z0-9]+)$")


def _now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _api_error(status: int, message: str) -> dict:
    return {"error": {"status": status, "message": message}}


def reccobeats_id(spotify_track_id: str) -> str:
    """The (stable, fake) ReccoBeats UUID for a Spotify track id."""
    return str(uuid.uuid5(RECCOBEATS_NAMESPACE, spotify_track_id))


@dataclass
class RecordedRequest:
    """One request the fake answered."""

    method: str
    path: str
    query: dict[str, list[str]]
    json: Any
    user_id: str | None
    status: int
    body: bytes = b""
    content_type: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    at: float = field(default_factory=time.monotonic)  # when it was answered (time.monotonic())

    @property
    def form(self) -> dict[str, list[str]]:
        """The form-encoded body (e.g. of a token request), parsed."""
        if (self.content_type or "").startswith("application/x-www-form-urlencoded"):
            return parse_qs(self.body.decode("utf-8"), keep_blank_values=True)
        return {}


@dataclass
class User:
    id: str
    display_name: str
    product: str = "premium"
    country: str = "GB"
    email: str | None = None


@dataclass
class Track:
    id: str
    name: str
    artist_ids: list[str]
    album_id: str
    duration_ms: int
    explicit: bool
    isrc: str | None
    popularity: int = 50
    track_number: int = 1


@dataclass
class Album:
    id: str
    name: str
    image_url: str | None
    artist_ids: list[str]
    album_type: str = "album"
    release_date: str = "2020-01-01"
    track_ids: list[str] = field(default_factory=list)


@dataclass
class Artist:
    id: str
    name: str
    genres: list[str] = field(default_factory=list)


@dataclass
class PlaylistEntry:
    uri: str
    added_at: str
    added_by: str

    @property
    def track_id(self) -> str:
        return self.uri.rsplit(":", 1)[-1]


@dataclass
class Playlist:
    """A playlist as the fake holds it; ``playlists_of`` hands out copies."""

    id: str
    owner: str
    name: str
    public: bool = True
    collaborative: bool = False
    description: str | None = None
    entries: list[PlaylistEntry] = field(default_factory=list)
    collaborators: set[str] = field(default_factory=set)
    snapshot_id: str = ""
    image: bytes | None = None
    version: int = 0
    # False once its owner took it out of their library (DELETE /me/library): Spotify's way of
    # deleting a playlist. It still exists (GET /playlists/{id}) but is no longer theirs to list.
    in_owners_library: bool = True

    @property
    def uris(self) -> list[str]:
        return [e.uri for e in self.entries]

    @property
    def track_ids(self) -> list[str]:
        return [e.track_id for e in self.entries]


@dataclass
class _Client:
    client_id: str
    client_secret: str | None
    redirect_uris: set[str] | None


@dataclass
class _Grant:
    user_id: str
    client_id: str
    scope: str
    pkce: bool


@dataclass
class _AccessToken(_Grant):
    expires_at: float = 0.0
    expired: bool = False


@dataclass
class _RefreshToken(_Grant):
    revoked: bool = False


@dataclass
class _Code(_Grant):
    redirect_uri: str = ""
    code_challenge: str | None = None
    used: bool = False


@dataclass
class _Fault:
    method: str | None
    pattern: re.Pattern[str]
    status: int
    remaining: int
    retry_after: float | None
    body: Any
    passing: int = 0  # matching requests still let through before the fault starts


@dataclass
class _Drop:
    method: str | None
    pattern: re.Pattern[str]
    after: bool  # True: act on the request, then drop the answer (a lost response)
    remaining: int


@dataclass
class _Delay:
    method: str | None
    pattern: re.Pattern[str]
    seconds: float
    remaining: int


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:  # keep test output clean
        pass


class _Reply(Exception):
    """Raised inside a handler to answer at once."""

    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None):
        super().__init__(status)
        self.status, self.body, self.headers = status, body, headers or {}


def _parse_fields(spec: str) -> dict[str, Any]:
    """Parse Spotify's ``fields`` filter into {name: subtree | None}; '!name' excludes."""
    pos = 0

    def parse_list() -> dict[str, Any]:
        nonlocal pos
        tree: dict[str, Any] = {}
        while pos < len(spec):
            if spec[pos] == ")":
                return tree
            start = pos
            while pos < len(spec) and spec[pos] not in ",().":
                pos += 1
            name = spec[start:pos].strip()
            sub: Any = None
            if pos < len(spec) and spec[pos] == "(":
                pos += 1
                sub = parse_list()
                pos += 1  # ')'
            elif pos < len(spec) and spec[pos] == ".":
                pos += 1
                sub = parse_item_chain()
            if name:
                tree[name] = sub
            if pos < len(spec) and spec[pos] == ",":
                pos += 1
        return tree

    def parse_item_chain() -> dict[str, Any]:
        nonlocal pos
        start = pos
        while pos < len(spec) and spec[pos] not in ",().":
            pos += 1
        name = spec[start:pos].strip()
        sub: Any = None
        if pos < len(spec) and spec[pos] == "(":
            pos += 1
            sub = parse_list()
            pos += 1
        elif pos < len(spec) and spec[pos] == ".":
            pos += 1
            sub = parse_item_chain()
        return {name: sub}

    return parse_list()


def _apply_fields(value: Any, tree: dict[str, Any] | None) -> Any:
    if tree is None:
        return value
    if isinstance(value, list):
        return [_apply_fields(v, tree) for v in value]
    if not isinstance(value, dict):
        return value
    include = {k: v for k, v in tree.items() if not k.startswith("!")}
    exclude = {k[1:] for k in tree if k.startswith("!")}
    keys = include if include else {k: None for k in value if k not in exclude}
    return {
        k: _apply_fields(value[k], sub)
        for k, sub in keys.items()
        if k in value and k not in exclude
    }


class FakeSpotify:
    """Spotify accounts service, Web API and ReccoBeats on one local HTTP server.

    Use as a context manager or call ``start()``/``stop()``. Seed state with
    ``add_user``, ``add_track``, ``add_playlist``...; inspect ``requests``,
    ``violations``, ``calls()``, ``playlists_of()``.
    """

    def __init__(
        self,
        *,
        checker: SpecChecker | None = None,
        client_id: str = "test-client-id",
        client_secret: str = "test-client-secret",
        token_lifetime: int = 3600,
        rotate_refresh_tokens: bool = False,
        enforce_scopes: bool = True,
        legacy_fields: bool = False,
        host: str = "127.0.0.1",
    ):
        self.checker = checker if checker is not None else SpecChecker()
        self.token_lifetime = token_lifetime
        self.rotate_refresh_tokens = rotate_refresh_tokens
        self.enforce_scopes = enforce_scopes
        self.legacy_fields = legacy_fields
        # When set, /authorize refuses a request without a PKCE S256 code_challenge (the token
        # endpoint then always wants the matching code_verifier). Curator's tests set it.
        self.require_pkce = False
        self.client_id, self.client_secret = client_id, client_secret
        self.host = host
        self.requests: list[RecordedRequest] = []
        self.violations: list[str] = []
        self.errors: list[str] = []  # exceptions inside the fake itself
        self._lock = threading.RLock()
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self._clients: dict[str, _Client] = {}
        self.add_client(client_id, client_secret)
        self._users: dict[str, User] = {}
        self._granted_scopes: dict[str, set[str]] = {}
        self._authorize_user: str | None = None
        self._deny_next = 0
        self._codes: dict[str, _Code] = {}
        self._access: dict[str, _AccessToken] = {}
        self._refresh: dict[str, _RefreshToken] = {}
        self._tracks: dict[str, Track] = {}
        self._albums: dict[str, Album] = {}
        self._artists: dict[str, Artist] = {}
        self._top_artists: dict[str, dict[str, list[str]]] = {}
        self._followed: dict[str, set[str]] = {}
        self._played: dict[str, list[tuple[str, int]]] = {}  # (track id, played at in Unix ms), newest first
        self._playlists: dict[str, Playlist] = {}
        self._saved: dict[str, list[tuple[str, str]]] = {}
        self._top: dict[str, dict[str, list[str]]] = {}
        self._search: dict[str, list[str]] = {}
        self._features: dict[str, dict[str, Any]] = {}
        self._faults: list[_Fault] = []
        self._delays: list[_Delay] = []
        self._drops: list[_Drop] = []
        self._in_flight = 0
        self._idle = threading.Condition(self._lock)
        self._routes = self._api_routes()

    # -- lifecycle -----------------------------------------------------------------

    def start(self) -> Self:
        """Serve on an ephemeral port of ``host`` in a daemon thread."""
        if self._server is not None:
            return self
        self._server = make_server(
            self.host, 0, self, threaded=True, request_handler=_QuietHandler
        )
        # A short poll interval keeps stop() (and so each test's teardown) fast.
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.02},
            name="fake-spotify",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("FakeSpotify is not started")
        return f"http://{self.host}:{self._server.server_port}"

    @property
    def accounts_url(self) -> str:
        return f"{self.base_url}/accounts/"

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/v1/"

    @property
    def reccobeats_url(self) -> str:
        return f"{self.base_url}/reccobeats/v1/"

    @property
    def authorize_url(self) -> str:
        return f"{self.accounts_url}authorize"

    @property
    def token_url(self) -> str:
        return f"{self.accounts_url}api/token"

    # -- seeding: users and auth ---------------------------------------------------

    def add_client(
        self,
        client_id: str,
        client_secret: str | None = None,
        redirect_uris: Iterable[str] | None = None,
    ) -> None:
        """Register an app; ``client_secret=None`` means PKCE only; ``redirect_uris=None`` allows any."""
        with self._lock:
            uris = set(redirect_uris) if redirect_uris is not None else None
            self._clients[client_id] = _Client(client_id, client_secret, uris)

    def add_user(
        self,
        id: str,
        display_name: str | None = None,
        product: str = "premium",
        country: str = "GB",
        email: str | None = None,
    ) -> User:
        with self._lock:
            user = User(
                id,
                display_name if display_name is not None else id,
                product,
                country,
                email,
            )
            self._users[id] = user
            return user

    def authorize_as(self, user_id: str) -> None:
        """``/authorize`` approves as this user from now on."""
        with self._lock:
            if user_id not in self._users:
                self.add_user(user_id)
            self._authorize_user = user_id

    def deny_next_authorize(self) -> None:
        """The next ``/authorize`` redirects back with ``error=access_denied``."""
        with self._lock:
            self._deny_next += 1

    def granted_scopes(self, user_id: str) -> set[str]:
        with self._lock:
            return set(self._granted_scopes.get(user_id, set()))

    def issue_token(
        self,
        user_id: str,
        scopes: Iterable[str] | None = None,
        client_id: str | None = None,
    ) -> dict[str, Any]:
        """Mint tokens directly (no OAuth round trip); answers a token response dict."""
        with self._lock:
            if user_id not in self._users:
                self.add_user(user_id)
            scope = " ".join(ALL_SCOPES if scopes is None else scopes)
            self._granted_scopes.setdefault(user_id, set()).update(scope.split())
            grant = _Grant(user_id, client_id or self.client_id, scope, pkce=False)
            return self._token_response(grant, new_refresh=True)

    def token_for(self, user_id: str, scopes: Iterable[str] | None = None) -> str:
        """An access token for ``user_id`` (all scopes unless named)."""
        return self.issue_token(user_id, scopes)["access_token"]

    def user_for_token(self, token: str) -> str | None:
        with self._lock:
            found = self._access.get(token) or self._refresh.get(token)
            return found.user_id if found else None

    def expire_tokens(self, user_id: str) -> None:
        """Make the user's current access tokens invalid now (refreshing still works)."""
        with self._lock:
            for tok in self._access.values():
                if tok.user_id == user_id:
                    tok.expired = True

    def revoke_refresh_tokens(self, user_id: str) -> None:
        """Later refreshes with the user's refresh tokens fail with ``invalid_grant``."""
        with self._lock:
            for tok in self._refresh.values():
                if tok.user_id == user_id:
                    tok.revoked = True

    # -- seeding: catalogue --------------------------------------------------------

    def add_track(
        self,
        id: str,
        name: str | None = None,
        artists: Iterable[tuple[str, str]] | None = None,
        album: tuple[str, str, str | None] | tuple[str, str] | None = None,
        duration_ms: int = 200_000,
        explicit: bool = False,
        isrc: str | None = None,
        popularity: int = 50,
        album_type: str = "album",
        release_date: str = "2020-01-01",
    ) -> Track:
        """Add a track; its artists and album are created (or extended) from it."""
        with self._lock:
            artist_list = list(artists or [(f"artist-{id}", f"Artist of {id}")])
            for artist_id, artist_name in artist_list:
                self._artists.setdefault(artist_id, Artist(artist_id, artist_name))
            album_id, album_name, image_url = (
                (tuple(album) + (None,))[:3]
                if album
                else (f"album-{id}", name or id, None)
            )
            alb = self._albums.get(album_id)
            if alb is None:
                alb = Album(
                    album_id,
                    album_name,
                    image_url,
                    [a for a, _ in artist_list],
                    album_type,
                    release_date,
                )
                self._albums[album_id] = alb
            if id not in alb.track_ids:
                alb.track_ids.append(id)
            track = Track(
                id=id,
                name=name or id,
                artist_ids=[a for a, _ in artist_list],
                album_id=album_id,
                duration_ms=duration_ms,
                explicit=explicit,
                isrc=isrc,
                popularity=popularity,
                track_number=alb.track_ids.index(id) + 1,
            )
            self._tracks[id] = track
            return track

    def set_artist_genres(self, artist_id: str, genres: Iterable[str]) -> None:
        with self._lock:
            self._artists[artist_id].genres = list(genres)

    def add_playlist(
        self,
        id: str,
        owner: str,
        track_ids: Iterable[str] = (),
        collaborative: bool = False,
        name: str | None = None,
        public: bool | None = None,
        description: str | None = None,
        collaborators: Iterable[str] = (),
    ) -> Playlist:
        with self._lock:
            if owner not in self._users:
                self.add_user(owner)
            playlist = Playlist(
                id=id,
                owner=owner,
                name=name or id,
                public=(not collaborative) if public is None else public,
                collaborative=collaborative,
                description=description,
                collaborators=set(collaborators),
            )
            playlist.entries = [
                PlaylistEntry(self._uri(t), _now_iso(), owner) for t in track_ids
            ]
            self._bump(playlist)
            self._playlists[id] = playlist
            return playlist

    def add_collaborator(self, playlist_id: str, user_id: str) -> None:
        with self._lock:
            self._playlists[playlist_id].collaborators.add(user_id)

    def set_playlist_items(self, playlist_id: str, track_ids: Iterable[str]) -> str:
        """Replace a playlist's items (as its owner would); answers the new snapshot id."""
        with self._lock:
            playlist = self._playlists[playlist_id]
            playlist.entries = [
                PlaylistEntry(self._uri(t), _now_iso(), playlist.owner)
                for t in track_ids
            ]
            return self._bump(playlist)

    def save_tracks(self, user_id: str, track_ids: Iterable[str]) -> None:
        """Add to the user's Liked Songs; the latest saved comes first, as on Spotify."""
        with self._lock:
            saved = self._saved.setdefault(user_id, [])
            for track_id in track_ids:
                saved.insert(0, (track_id, _now_iso()))

    def set_top_artists(self, user_id: str, artist_ids: Iterable[str], time_range: str | None = None) -> None:
        """The user's top artists for one ``time_range`` (all three when None); the artists must exist."""
        with self._lock:
            for r in [time_range] if time_range else ["short_term", "medium_term", "long_term"]:
                self._top_artists.setdefault(user_id, {})[r] = list(artist_ids)

    def follow_artists(self, user_id: str, artist_ids: Iterable[str]) -> None:
        """The user follows these artists (they must exist)."""
        with self._lock:
            self._followed.setdefault(user_id, set()).update(artist_ids)

    def unfollow_artists(self, user_id: str, artist_ids: Iterable[str]) -> None:
        with self._lock:
            self._followed.setdefault(user_id, set()).difference_update(artist_ids)

    def play_tracks(self, user_id: str, track_ids: Iterable[str], at_ms: int | None = None) -> list[int]:
        """The user plays these tracks one after another, one second apart, the last at ``at_ms``
        (default: now); their play history keeps the newest first. The times given to each play."""
        with self._lock:
            ids = list(track_ids)
            end = int(time.time() * 1000) if at_ms is None else int(at_ms)
            played = self._played.setdefault(user_id, [])
            end = max(end, (played[0][1] + len(ids) * 1000) if played else end)
            times = [end - 1000 * (len(ids) - 1 - i) for i in range(len(ids))]
            for track_id, at in zip(ids, times):
                played.insert(0, (track_id, at))
            return times

    def set_top_tracks(
        self, user_id: str, track_ids: Iterable[str], time_range: str | None = None
    ) -> None:
        """The user's top tracks for one ``time_range`` (all three when None)."""
        with self._lock:
            ranges = (
                [time_range]
                if time_range
                else ["short_term", "medium_term", "long_term"]
            )
            for r in ranges:
                self._top.setdefault(user_id, {})[r] = list(track_ids)

    def add_search_results(self, q: str, track_ids: Iterable[str]) -> None:
        """``GET /search?q=<q>`` (exactly this q) answers exactly these tracks."""
        with self._lock:
            self._search[q] = list(track_ids)

    def set_features(self, track_id: str, features: dict[str, Any]) -> None:
        """Audio features ReccoBeats knows for a Spotify track id."""
        with self._lock:
            self._features[track_id] = dict(features)

    # -- fault injection -----------------------------------------------------------

    def fail_next(
        self,
        method: str | None,
        path_regex: str,
        status: int,
        times: int = 1,
        retry_after: float | None = None,
        body: Any = None,
        passing: int = 0,
    ) -> None:
        """The next ``times`` requests matching answer ``status`` (``method`` None or '*' = any),
        after letting ``passing`` matching requests through (a failure part-way through a save).

        ``path_regex`` is searched in the request path, e.g. ``r"/v1/playlists/.+/items"``,
        ``r"/accounts/api/token"``, ``r"/reccobeats/v1/audio-features"``.
        """
        with self._lock:
            self._faults.append(
                _Fault(
                    self._norm_method(method),
                    re.compile(path_regex),
                    status,
                    times,
                    retry_after,
                    body,
                    passing,
                )
            )

    def delay_next(
        self, method: str | None, path_regex: str, seconds: float, times: int = 1
    ) -> None:
        """The next ``times`` matching requests are answered only after ``seconds``."""
        with self._lock:
            self._delays.append(
                _Delay(
                    self._norm_method(method), re.compile(path_regex), seconds, times
                )
            )

    def drop_next(
        self,
        method: str | None,
        path_regex: str,
        times: int = 1,
        after: bool = False,
    ) -> None:
        """The next ``times`` matching requests get no answer: the connection is cut.

        ``after=False`` cuts it before acting (a connection reset: nothing happened);
        ``after=True`` acts on the request first, then cuts it (a lost response).
        """
        with self._lock:
            self._drops.append(
                _Drop(self._norm_method(method), re.compile(path_regex), after, times)
            )

    def in_flight(self) -> int:
        """How many requests the fake is handling right now (e.g. delayed ones still waiting)."""
        with self._lock:
            return self._in_flight

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait until no request is being handled (e.g. a delayed one that lands late)."""
        with self._idle:
            return self._idle.wait_for(lambda: self._in_flight == 0, timeout=timeout)

    # -- inspection ----------------------------------------------------------------

    def calls(
        self, method: str | None = None, path_regex: str | None = None
    ) -> list[RecordedRequest]:
        with self._lock:
            pattern = re.compile(path_regex) if path_regex else None
            return [
                r
                for r in self.requests
                if (method is None or r.method == method.upper())
                and (pattern is None or pattern.search(r.path))
            ]

    def playlists_of(self, user_id: str, *, removed: bool = False) -> list[Playlist]:
        """Copies of the playlists ``user_id`` owns and keeps in their library, in creation order,
        items in order (``removed=True``: those they took out of it instead)."""
        with self._lock:
            return [
                copy.deepcopy(p) for p in self._playlists.values()
                if p.owner == user_id and p.in_owners_library != removed
            ]

    def playlist(self, playlist_id: str) -> Playlist:
        with self._lock:
            return copy.deepcopy(self._playlists[playlist_id])

    def allow_deprecated(self, *operations: str) -> None:
        """Let named deprecated operations through the spec check (e.g. ``"GET /audio-features"``)."""
        self.checker.allow_deprecated(*operations)

    # -- WSGI ----------------------------------------------------------------------

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        with self._lock:
            self._in_flight += 1
        try:
            return self._handle(environ, start_response)
        finally:
            with self._idle:
                self._in_flight -= 1
                self._idle.notify_all()

    def _handle(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        request = Request(environ)
        body = request.get_data(cache=True)
        user_id: str | None = None
        drop = self._take_drop(request)
        if drop is not None and not drop.after:
            return self._cut(environ, start_response, request, body)
        try:
            self._apply_delay(request)
            status, payload, headers, user_id = self._dispatch(request, body)
        except Exception:  # noqa: BLE001 - a bug in the fake: answer 500, fail the test
            detail = traceback.format_exc()
            with self._lock:
                self.errors.append(f"{request.method} {request.full_path}: {detail}")
            status, payload, headers = (
                500,
                _api_error(500, "FakeSpotify internal error"),
                {},
            )
        if isinstance(payload, Response):
            response = payload
            response.status_code = status
        elif isinstance(payload, bytes):
            response = Response(payload, status=status, headers=headers)
        elif payload is None:
            response = Response(status=status, headers=headers)
        else:
            response = Response(
                json.dumps(payload),
                status=status,
                mimetype="application/json",
                headers=headers,
            )
        parsed: Any = None
        if body:
            try:
                parsed = json.loads(body)
            except ValueError:
                parsed = None
        self._record(request, body, parsed, user_id, status)
        if drop is not None:
            return self._cut(environ, start_response)
        return response(environ, start_response)

    def _record(self, request: Request, body: bytes, parsed: Any, user_id: str | None, status: int) -> None:
        with self._lock:
            self.requests.append(
                RecordedRequest(
                    method=request.method,
                    path=request.path,
                    query={k: request.args.getlist(k) for k in request.args},
                    json=parsed,
                    user_id=user_id,
                    status=status,
                    body=body,
                    content_type=request.content_type,
                    headers=dict(request.headers),
                )
            )

    def _take_drop(self, request: Request) -> _Drop | None:
        with self._lock:
            for drop in self._drops:
                if drop.remaining > 0 and self._matches(drop.method, drop.pattern, request):
                    drop.remaining -= 1
                    self._drops = [d for d in self._drops if d.remaining > 0]
                    return drop
        return None

    def _cut(
        self,
        environ: dict,
        start_response: Callable,
        request: Request | None = None,
        body: bytes = b"",
    ) -> Iterable[bytes]:
        """Close the connection without an answer (the client sees it broken off)."""
        if request is not None:  # recorded with status 0: it never reached a handler
            self._record(request, body, None, None, 0)
        sock = environ.get("werkzeug.socket")
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        # Writing these headers then fails quietly (werkzeug treats it as a dropped connection).
        start_response("500 Connection cut", [("Content-Length", "0")])
        return []

    def _apply_delay(self, request: Request) -> None:
        seconds = 0.0
        with self._lock:
            for delay in self._delays:
                if delay.remaining > 0 and self._matches(
                    delay.method, delay.pattern, request
                ):
                    delay.remaining -= 1
                    seconds = delay.seconds
                    break
            self._delays = [d for d in self._delays if d.remaining > 0]
        if seconds:
            time.sleep(seconds)

    def _take_fault(self, request: Request) -> _Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.remaining > 0 and self._matches(
                    fault.method, fault.pattern, request
                ):
                    if fault.passing > 0:
                        fault.passing -= 1
                        continue
                    fault.remaining -= 1
                    self._faults = [f for f in self._faults if f.remaining > 0]
                    return fault
        return None

    @staticmethod
    def _matches(
        method: str | None, pattern: re.Pattern[str], request: Request
    ) -> bool:
        return (method is None or method == request.method) and bool(
            pattern.search(request.path)
        )

    @staticmethod
    def _norm_method(method: str | None) -> str | None:
        return None if method in (None, "*") else method.upper()

    def _fault_reply(self, fault: _Fault, kind: str) -> tuple[int, Any, dict[str, str]]:
        headers = (
            {"Retry-After": str(fault.retry_after)}
            if fault.retry_after is not None
            else {}
        )
        if fault.body is not None:
            return fault.status, fault.body, headers
        reason = Response(status=fault.status).status.split(" ", 1)[-1]
        if kind == "accounts":
            return (
                fault.status,
                {"error": "server_error", "error_description": reason},
                headers,
            )
        if kind == "reccobeats":
            return (
                fault.status,
                {"status": fault.status, "errors": [{"message": reason}]},
                headers,
            )
        message = "API rate limit exceeded" if fault.status == 429 else reason
        return fault.status, _api_error(fault.status, message), headers

    def _dispatch(
        self, request: Request, body: bytes
    ) -> tuple[int, Any, dict[str, str], str | None]:
        path = request.path
        if path.startswith("/v1/") or path == "/v1":
            return self._handle_api(request, body)
        if path.startswith("/accounts/"):
            fault = self._take_fault(request)
            if fault:
                return (*self._fault_reply(fault, "accounts"), None)
            if path == "/accounts/authorize" and request.method == "GET":
                return self._authorize(request)
            if path == "/accounts/api/token" and request.method == "POST":
                return self._token(request)
            return (
                404,
                {
                    "error": "not_found",
                    "error_description": f"no {request.method} {path}",
                },
                {},
                None,
            )
        if path.startswith("/reccobeats/"):
            fault = self._take_fault(request)
            if fault:
                return (*self._fault_reply(fault, "reccobeats"), None)
            return (*self._reccobeats(request), None)
        if path.startswith("/images/") and request.method == "GET":
            return (*self._image(path), None)
        return (
            404,
            _api_error(404, f"FakeSpotify has no {request.method} {path}"),
            {},
            None,
        )

    # -- accounts service ----------------------------------------------------------

    def _authorize(
        self, request: Request
    ) -> tuple[int, Any, dict[str, str], str | None]:
        args = request.args
        for name in ("client_id", "response_type", "redirect_uri"):
            if not args.get(name):
                return 400, f"Missing required parameter: {name}".encode(), {}, None
        with self._lock:
            client = self._clients.get(args["client_id"])
            if client is None:
                return 400, b"INVALID_CLIENT: Invalid client", {}, None
            redirect_uri = args["redirect_uri"]
            if (
                client.redirect_uris is not None
                and redirect_uri not in client.redirect_uris
            ):
                return 400, b"INVALID_CLIENT: Invalid redirect URI", {}, None
            state = args.get("state")

            def back(**params: str) -> tuple[int, Any, dict[str, str], str | None]:
                if state is not None:
                    params["state"] = state
                sep = "&" if "?" in redirect_uri else "?"
                return (
                    302,
                    b"",
                    {"Location": f"{redirect_uri}{sep}{urlencode(params)}"},
                    user_id,
                )

            # A browser signed in to Spotify says who it is with its own cookie, so many browsers can
            # log in at once; otherwise the user chosen with authorize_as() approves.
            signed_in = request.cookies.get(SIGNED_IN_COOKIE)
            if signed_in and signed_in not in self._users:
                self.add_user(signed_in)
            user_id = signed_in or self._authorize_user
            if user_id is None and len(self._users) == 1:
                user_id = next(iter(self._users))
            if args["response_type"] != "code":
                return back(error="unsupported_response_type")
            challenge = args.get("code_challenge")
            if not challenge and self.require_pkce:
                return back(
                    error="invalid_request",
                    error_description="code_challenge required (PKCE)",
                )
            if challenge and args.get("code_challenge_method") != "S256":
                return back(
                    error="invalid_request",
                    error_description="code_challenge_method must be S256",
                )
            if self._deny_next:
                self._deny_next -= 1
                return back(error="access_denied")
            if user_id is None:
                return 400, b"FakeSpotify: call authorize_as(user_id) first", {}, None
            scope = " ".join(args.get("scope", "").split())
            self._granted_scopes.setdefault(user_id, set()).update(scope.split())
            code = secrets.token_urlsafe(24)
            self._codes[code] = _Code(
                user_id,
                client.client_id,
                scope,
                pkce=bool(challenge),
                redirect_uri=redirect_uri,
                code_challenge=challenge,
            )
            return back(code=code)

    def _token(self, request: Request) -> tuple[int, Any, dict[str, str], str | None]:
        if request.mimetype != "application/x-www-form-urlencoded":
            body = {
                "error": "invalid_request",
                "error_description": "Body must be application/x-www-form-urlencoded",
            }
            return 400, body, {}, None
        form = request.form
        client_id, secret = form.get("client_id"), form.get("client_secret")
        auth = request.authorization
        if auth is not None and auth.type == "basic":
            client_id, secret = auth.username, auth.password

        def fail(
            error: str, description: str, status: int = 400
        ) -> tuple[int, Any, dict[str, str], str | None]:
            return status, {"error": error, "error_description": description}, {}, None

        with self._lock:
            client = self._clients.get(client_id or "")
            if client is None:
                return fail("invalid_client", "Invalid client")
            if secret is not None and secret != client.client_secret:
                return fail("invalid_client", "Invalid client secret")
            grant_type = form.get("grant_type")
            if grant_type == "authorization_code":
                code = self._codes.get(form.get("code", ""))
                if code is None or code.used or code.client_id != client.client_id:
                    return fail("invalid_grant", "Invalid authorization code")
                if form.get("redirect_uri") != code.redirect_uri:
                    return fail("invalid_grant", "Invalid redirect URI")
                if code.code_challenge:
                    verifier = form.get("code_verifier")
                    if not verifier:
                        return fail("invalid_request", "code_verifier required")
                    digest = hashlib.sha256(verifier.encode("ascii")).digest()
                    expected = (
                        base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
                    )
                    if expected != code.code_challenge:
                        return fail("invalid_grant", "code_verifier was incorrect")
                elif secret is None:
                    return fail("invalid_client", "Invalid client")
                code.used = True
                grant = _Grant(
                    code.user_id,
                    code.client_id,
                    code.scope,
                    pkce=code.code_challenge is not None,
                )
                return (
                    200,
                    self._token_response(grant, new_refresh=True),
                    {},
                    code.user_id,
                )
            if grant_type == "refresh_token":
                token = self._refresh.get(form.get("refresh_token", ""))
                if token is None or token.client_id != client.client_id:
                    return fail("invalid_grant", "Invalid refresh token")
                if token.revoked:
                    return fail("invalid_grant", "Refresh token revoked")
                if secret is None and not token.pkce:
                    return fail("invalid_client", "Invalid client")
                rotate = self.rotate_refresh_tokens
                if rotate:
                    token.revoked = True
                return (
                    200,
                    self._token_response(token, new_refresh=rotate),
                    {},
                    token.user_id,
                )
            return fail(
                "unsupported_grant_type",
                f"grant_type must be authorization_code or refresh_token, got {grant_type!r}",
            )

    def _token_response(self, grant: _Grant, new_refresh: bool) -> dict[str, Any]:
        access = secrets.token_urlsafe(32)
        self._access[access] = _AccessToken(
            grant.user_id,
            grant.client_id,
            grant.scope,
            grant.pkce,
            expires_at=time.time() + self.token_lifetime,
        )
        out: dict[str, Any] = {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": self.token_lifetime,
            "scope": grant.scope,
        }
        if new_refresh:
            refresh = secrets.token_urlsafe(32)
            self._refresh[refresh] = _RefreshToken(
                grant.user_id, grant.client_id, grant.scope, grant.pkce
            )
            out["refresh_token"] = refresh
        return out

    # -- Web API -------------------------------------------------------------------

    def _api_routes(self) -> list[tuple[str, re.Pattern[str], Callable[..., Any]]]:
        table = [
            ("GET", r"/me", self._get_me),
            ("GET", r"/me/playlists", self._get_my_playlists),
            ("POST", r"/me/playlists", self._create_playlist),
            ("GET", r"/playlists/(?P<pid>[^/]+)", self._get_playlist),
            ("GET", r"/playlists/(?P<pid>[^/]+)/items", self._get_playlist_items),
            ("POST", r"/playlists/(?P<pid>[^/]+)/items", self._add_playlist_items),
            ("PUT", r"/playlists/(?P<pid>[^/]+)/items", self._replace_playlist_items),
            ("PUT", r"/playlists/(?P<pid>[^/]+)/images", self._put_playlist_image),
            ("GET", r"/tracks/(?P<tid>[^/]+)", self._get_track),
            ("GET", r"/artists/(?P<aid>[^/]+)", self._get_artist),
            ("GET", r"/artists/(?P<aid>[^/]+)/albums", self._get_artist_albums),
            ("GET", r"/albums/(?P<aid>[^/]+)/tracks", self._get_album_tracks),
            ("GET", r"/search", self._search_items),
            ("GET", r"/me/tracks", self._get_saved_tracks),
            ("DELETE", r"/me/library", self._remove_library_items),
            ("GET", r"/me/library/contains", self._library_contains),
            ("GET", r"/me/top/tracks", self._get_top_tracks),
            ("GET", r"/me/top/artists", self._get_top_artists),
            ("GET", r"/me/following", self._get_followed),
            ("GET", r"/me/player/recently-played", self._get_recently_played),
        ]
        return [(m, re.compile(f"^{p}$"), h) for m, p, h in table]

    def _handle_api(
        self, request: Request, body: bytes
    ) -> tuple[int, Any, dict[str, str], str | None]:
        rel = request.path[len("/v1") :] or "/"
        query = {k: request.args.getlist(k) for k in request.args}
        problems = self.checker.check(
            request.method, rel, query, body or None, request.content_type
        )
        if problems:
            with self._lock:
                self.violations.extend(problems)
                bearer = request.headers.get("Authorization", "").partition(" ")[2]
                known = self._access.get(bearer.strip())
            user_id = known.user_id if known else None
            return (
                400,
                _api_error(
                    400,
                    "FakeSpotify: request violates the Spotify OpenAPI spec: "
                    + "; ".join(problems),
                ),
                {},
                user_id,
            )
        fault = self._take_fault(request)
        if fault:
            return (*self._fault_reply(fault, "api"), None)
        header = request.headers.get("Authorization", "")
        if not header:
            return 401, _api_error(401, "No token provided"), {}, None
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            return (
                400,
                _api_error(400, "Only valid bearer authentication supported"),
                {},
                None,
            )
        with self._lock:
            access = self._access.get(token.strip())
            if access is None:
                return 401, _api_error(401, "Invalid access token"), {}, None
            if access.expired or access.expires_at <= time.time():
                return (
                    401,
                    _api_error(401, "The access token expired"),
                    {},
                    access.user_id,
                )
            for method, pattern, handler in self._routes:
                match = pattern.match(rel)
                if match and method == request.method:
                    try:
                        status, payload = handler(
                            _Ctx(request, access, body, rel), **match.groupdict()
                        )
                    except _Reply as reply:
                        return reply.status, reply.body, reply.headers, access.user_id
                    return status, payload, {}, access.user_id
            message = f"FakeSpotify does not implement {request.method} {rel}"
            return 501, _api_error(501, message), {}, access.user_id

    # helpers for handlers (called with the lock held)

    def _uri(self, track_id_or_uri: str) -> str:
        return (
            track_id_or_uri
            if track_id_or_uri.startswith("spotify:")
            else f"spotify:track:{track_id_or_uri}"
        )

    def _bump(self, playlist: Playlist) -> str:
        playlist.version += 1
        raw = f"{playlist.version:08d}:{uuid.uuid4().hex}".encode()
        playlist.snapshot_id = base64.b64encode(raw).decode("ascii")
        return playlist.snapshot_id

    def _require_scope(self, ctx: _Ctx, *any_of: str) -> None:
        if self.enforce_scopes and not set(any_of) & set(ctx.token.scope.split()):
            raise _Reply(403, _api_error(403, "Insufficient client scope"))

    def _can_edit(self, playlist: Playlist, user_id: str) -> bool:
        return playlist.owner == user_id or (
            playlist.collaborative and user_id in playlist.collaborators
        )

    def _playlist_or_404(self, pid: str) -> Playlist:
        playlist = self._playlists.get(pid)
        if playlist is None:
            raise _Reply(404, _api_error(404, "Resource not found"))
        return playlist

    def _int_arg(self, ctx: _Ctx, name: str, default: int) -> int:
        value = ctx.request.args.get(name)
        return int(value) if value not in (None, "") else default

    def _href(self, path: str) -> str:
        return f"{self.base_url}/v1{path}"

    def _page(
        self, ctx: _Ctx, items: list[Any], total: int, limit: int, offset: int
    ) -> dict[str, Any]:
        def url(new_offset: int) -> str:
            args = MultiDict(ctx.request.args)
            args["offset"] = str(new_offset)
            args["limit"] = str(limit)
            return f"{self._href(ctx.rel)}?{urlencode(list(args.items(multi=True)))}"

        return {
            "href": url(offset),
            "items": items,
            "limit": limit,
            "next": url(offset + limit) if offset + limit < total else None,
            "offset": offset,
            "previous": url(max(0, offset - limit)) if offset > 0 else None,
            "total": total,
        }

    def _legacy(self, obj: dict[str, Any], **fields: Any) -> dict[str, Any]:
        if self.legacy_fields:
            obj.update(fields)
        return obj

    def _user_obj(self, user_id: str, private: bool = False) -> dict[str, Any]:
        user = self._users.get(user_id) or User(user_id, user_id)
        obj: dict[str, Any] = {
            "display_name": user.display_name,
            "external_urls": {"spotify": f"https://open.spotify.com/user/{user.id}"},
            "href": self._href(f"/users/{user.id}"),
            "id": user.id,
            "images": [],
            "type": "user",
            "uri": f"spotify:user:{user.id}",
        }
        if private:
            self._legacy(
                obj,
                country=user.country,
                product=user.product,
                email=user.email or f"{user.id}@example.com",
                followers={"href": None, "total": 0},
                explicit_content={"filter_enabled": False, "filter_locked": False},
            )
        return obj

    def _image_list(
        self, url: str | None, size: int | None = 640
    ) -> list[dict[str, Any]]:
        return [{"url": url, "height": size, "width": size}] if url else []

    def _artist_simple(self, artist_id: str) -> dict[str, Any]:
        artist = self._artists[artist_id]
        return {
            "external_urls": {
                "spotify": f"https://open.spotify.com/artist/{artist.id}"
            },
            "href": self._href(f"/artists/{artist.id}"),
            "id": artist.id,
            "name": artist.name,
            "type": "artist",
            "uri": f"spotify:artist:{artist.id}",
        }

    def _album_simple(self, album_id: str, group: bool = False) -> dict[str, Any]:
        album = self._albums[album_id]
        image = album.image_url or f"{self.base_url}/images/album/{album.id}.jpg"
        obj: dict[str, Any] = {
            "album_type": album.album_type,
            "total_tracks": len(album.track_ids),
            "available_markets": [],  # deprecated, yet required by AlbumBase
            "external_urls": {"spotify": f"https://open.spotify.com/album/{album.id}"},
            "href": self._href(f"/albums/{album.id}"),
            "id": album.id,
            "images": self._image_list(image),
            "name": album.name,
            "release_date": album.release_date,
            "release_date_precision": "day"
            if len(album.release_date) == 10
            else "year",
            "type": "album",
            "uri": f"spotify:album:{album.id}",
            "artists": [self._artist_simple(a) for a in album.artist_ids],
        }
        if group:
            obj["album_group"] = album.album_type
        return obj

    def _track_simple(self, track_id: str) -> dict[str, Any]:
        track = self._tracks[track_id]
        obj: dict[str, Any] = {
            "artists": [self._artist_simple(a) for a in track.artist_ids],
            "disc_number": 1,
            "duration_ms": track.duration_ms,
            "explicit": track.explicit,
            "external_urls": {"spotify": f"https://open.spotify.com/track/{track.id}"},
            "href": self._href(f"/tracks/{track.id}"),
            "id": track.id,
            "is_playable": True,
            "name": track.name,
            "track_number": track.track_number,
            "type": "track",
            "uri": f"spotify:track:{track.id}",
            "is_local": False,
        }
        return self._legacy(obj, available_markets=["GB", "US"], preview_url=None)

    def _track_obj(self, track_id: str) -> dict[str, Any]:
        track = self._tracks[track_id]
        obj = self._track_simple(track_id)
        obj["album"] = self._album_simple(track.album_id)
        obj["external_ids"] = {"isrc": track.isrc} if track.isrc else {}
        return self._legacy(obj, popularity=track.popularity)

    def _playlist_entry(self, entry: PlaylistEntry) -> dict[str, Any]:
        known = entry.track_id in self._tracks and entry.uri.startswith(
            "spotify:track:"
        )
        item = self._track_obj(entry.track_id) if known else None
        added_by = self._user_obj(entry.added_by)
        added_by.pop("display_name", None)
        added_by.pop("images", None)
        obj: dict[str, Any] = {
            "added_at": entry.added_at,
            "added_by": added_by,
            "is_local": False,
            "item": item,
        }
        return self._legacy(obj, track=item)

    def _playlist_simple(self, playlist: Playlist) -> dict[str, Any]:
        ref = {
            "href": self._href(f"/playlists/{playlist.id}/items"),
            "total": len(playlist.entries),
        }
        obj: dict[str, Any] = {
            "collaborative": playlist.collaborative,
            "description": playlist.description or "",
            "external_urls": {
                "spotify": f"https://open.spotify.com/playlist/{playlist.id}"
            },
            "href": self._href(f"/playlists/{playlist.id}"),
            "id": playlist.id,
            "images": self._playlist_images(playlist),
            "name": playlist.name,
            "owner": self._owner(playlist.owner),
            "public": playlist.public,
            "snapshot_id": playlist.snapshot_id,
            "items": ref,
            "type": "playlist",
            "uri": f"spotify:playlist:{playlist.id}",
        }
        return self._legacy(obj, tracks=ref)

    def _owner(self, user_id: str) -> dict[str, Any]:
        owner = self._user_obj(user_id)
        owner.pop("images", None)
        return owner

    def _playlist_images(self, playlist: Playlist) -> list[dict[str, Any]]:
        if playlist.image is not None:
            return self._image_list(
                f"{self.base_url}/images/playlist/{playlist.id}.jpg", None
            )
        return []

    # handlers: each answers (status, json) and runs with the lock held

    def _get_me(self, ctx: _Ctx) -> tuple[int, Any]:
        return 200, self._user_obj(ctx.user_id, private=True)

    def _get_my_playlists(self, ctx: _Ctx) -> tuple[int, Any]:
        limit, offset = self._int_arg(ctx, "limit", 20), self._int_arg(ctx, "offset", 0)
        mine = [
            p
            for p in self._playlists.values()
            if (p.owner == ctx.user_id and p.in_owners_library)
            or (p.collaborative and ctx.user_id in p.collaborators)
        ]
        items = [self._playlist_simple(p) for p in mine[offset : offset + limit]]
        return 200, self._page(ctx, items, len(mine), limit, offset)

    def _create_playlist(self, ctx: _Ctx) -> tuple[int, Any]:
        data = ctx.json()
        public = data.get("public", True)
        collaborative = bool(data.get("collaborative", False))
        self._require_scope(
            ctx, "playlist-modify-public" if public else "playlist-modify-private"
        )
        if collaborative and public:
            raise _Reply(
                400, _api_error(400, "Collaborative playlists can only be private.")
            )
        pid = "".join(secrets.choice(_BASE62) for _ in range(22))
        playlist = Playlist(
            id=pid,
            owner=ctx.user_id,
            name=data["name"],
            public=bool(public),
            collaborative=collaborative,
            description=data.get("description"),
        )
        self._bump(playlist)
        self._playlists[pid] = playlist
        return 201, self._playlist_full(ctx, playlist)

    def _playlist_full(self, ctx: _Ctx, playlist: Playlist) -> dict[str, Any]:
        obj = self._playlist_simple(playlist)
        obj["followers"] = {"href": None, "total": 0}
        obj.pop("items")
        obj.pop("tracks", None)
        if self._can_edit(playlist, ctx.user_id):
            # Items are only shown to the owner or a collaborator (2026 rule).
            entries = playlist.entries[:100]
            paging = self._page(
                ctx,
                [self._playlist_entry(e) for e in entries],
                len(playlist.entries),
                100,
                0,
            )
            paging["href"] = self._href(
                f"/playlists/{playlist.id}/items?offset=0&limit=100"
            )
            if paging["next"]:
                paging["next"] = self._href(
                    f"/playlists/{playlist.id}/items?offset=100&limit=100"
                )
            obj["items"] = paging
            self._legacy(obj, tracks=paging)
        return obj

    def _get_playlist(self, ctx: _Ctx, pid: str) -> tuple[int, Any]:
        playlist = self._playlist_or_404(pid)
        obj = self._playlist_full(ctx, playlist)
        fields = ctx.request.args.get("fields")
        return 200, _apply_fields(obj, _parse_fields(fields)) if fields else obj

    def _get_playlist_items(self, ctx: _Ctx, pid: str) -> tuple[int, Any]:
        playlist = self._playlist_or_404(pid)
        if not self._can_edit(playlist, ctx.user_id):
            return 403, _api_error(403, "Forbidden")
        limit, offset = self._int_arg(ctx, "limit", 20), self._int_arg(ctx, "offset", 0)
        items = [
            self._playlist_entry(e) for e in playlist.entries[offset : offset + limit]
        ]
        page = self._page(ctx, items, len(playlist.entries), limit, offset)
        fields = ctx.request.args.get("fields")
        return 200, _apply_fields(page, _parse_fields(fields)) if fields else page

    def _checked_uris(self, uris: Any) -> list[str]:
        if not isinstance(uris, list) or not uris:
            raise _Reply(400, _api_error(400, "No uris provided"))
        if len(uris) > 100:
            raise _Reply(
                400, _api_error(400, "You can add a maximum of 100 tracks per request.")
            )
        for uri in uris:
            match = _URI.match(uri) if isinstance(uri, str) else None
            if match is None:
                raise _Reply(400, _api_error(400, f"Invalid track uri: {uri}"))
            if match.group(1) == "track" and match.group(2) not in self._tracks:
                raise _Reply(400, _api_error(400, "Payload contains a non-existing ID"))
        return uris

    def _editable(self, ctx: _Ctx, pid: str) -> Playlist:
        playlist = self._playlist_or_404(pid)
        self._require_scope(ctx, "playlist-modify-public", "playlist-modify-private")
        if not self._can_edit(playlist, ctx.user_id):
            raise _Reply(403, _api_error(403, "Forbidden"))
        return playlist

    def _add_playlist_items(self, ctx: _Ctx, pid: str) -> tuple[int, Any]:
        playlist = self._editable(ctx, pid)
        data = ctx.json() if ctx.body else {}
        if ctx.request.args.get("uris"):
            uris = ctx.request.args["uris"].split(",")
        else:
            uris = data.get("uris")
        uris = self._checked_uris(uris)
        position = data.get("position", ctx.request.args.get("position"))
        position = len(playlist.entries) if position is None else int(position)
        if not 0 <= position <= len(playlist.entries):
            raise _Reply(400, _api_error(400, "Index out of bounds"))
        now = _now_iso()
        playlist.entries[position:position] = [
            PlaylistEntry(u, now, ctx.user_id) for u in uris
        ]
        return 201, {"snapshot_id": self._bump(playlist)}

    def _replace_playlist_items(self, ctx: _Ctx, pid: str) -> tuple[int, Any]:
        playlist = self._editable(ctx, pid)
        data = ctx.json() if ctx.body else {}
        if "range_start" in data:
            start, length = int(data["range_start"]), int(data.get("range_length", 1))
            before = int(data["insert_before"])
            moved = playlist.entries[start : start + length]
            rest = playlist.entries[:start] + playlist.entries[start + length :]
            before -= length if before > start else 0
            playlist.entries = rest[:before] + moved + rest[before:]
        else:
            raw = (
                ctx.request.args["uris"].split(",")
                if ctx.request.args.get("uris")
                else data.get("uris", [])
            )
            uris = self._checked_uris(raw) if raw else []
            now = _now_iso()
            playlist.entries = [PlaylistEntry(u, now, ctx.user_id) for u in uris]
        return 200, {"snapshot_id": self._bump(playlist)}

    def _put_playlist_image(self, ctx: _Ctx, pid: str) -> tuple[int, Any]:
        playlist = self._playlist_or_404(pid)
        if self.enforce_scopes and "ugc-image-upload" not in ctx.token.scope.split():
            return 401, _api_error(401, "Missing required scope: ugc-image-upload")
        playlist = self._editable(ctx, pid)
        if len(ctx.body) > 256 * 1024:
            return 413, _api_error(
                413, "Payload too large: maximum payload size is 256 KB"
            )
        try:
            playlist.image = base64.b64decode(ctx.body, validate=True)
        except (binascii.Error, ValueError):
            return 400, _api_error(400, "Image must be base64 encoded JPEG")
        return 202, None

    def _get_track(self, ctx: _Ctx, tid: str) -> tuple[int, Any]:
        if tid not in self._tracks:
            return 404, _api_error(404, "Resource not found")
        return 200, self._track_obj(tid)

    def _get_artist(self, ctx: _Ctx, aid: str) -> tuple[int, Any]:
        artist = self._artists.get(aid)
        if artist is None:
            return 404, _api_error(404, "Resource not found")
        obj = self._artist_simple(aid)
        images = [
            a.image_url
            for a in self._albums.values()
            if aid in a.artist_ids and a.image_url
        ][:1]
        obj["images"] = self._image_list(images[0] if images else None)
        return 200, self._legacy(
            obj,
            genres=artist.genres,
            popularity=50,
            followers={"href": None, "total": 0},
        )

    def _get_artist_albums(self, ctx: _Ctx, aid: str) -> tuple[int, Any]:
        if aid not in self._artists:
            return 404, _api_error(404, "Resource not found")
        groups = ctx.request.args.get("include_groups")
        wanted = (
            set(groups.split(","))
            if groups
            else {"album", "single", "compilation", "appears_on"}
        )
        albums = [
            a
            for a in self._albums.values()
            if aid in a.artist_ids
            and a.album_type in wanted
            or (
                "appears_on" in wanted
                and aid not in a.artist_ids
                and self._appears_on(aid, a)
            )
        ]
        limit, offset = self._int_arg(ctx, "limit", 5), self._int_arg(ctx, "offset", 0)
        items = [
            self._album_simple(a.id, group=True)
            for a in albums[offset : offset + limit]
        ]
        for item, album in zip(items, albums[offset : offset + limit], strict=True):
            if aid not in album.artist_ids:
                item["album_group"] = "appears_on"
        return 200, self._page(ctx, items, len(albums), limit, offset)

    def _appears_on(self, artist_id: str, album: Album) -> bool:
        return any(artist_id in self._tracks[t].artist_ids for t in album.track_ids)

    def _get_album_tracks(self, ctx: _Ctx, aid: str) -> tuple[int, Any]:
        album = self._albums.get(aid)
        if album is None:
            return 404, _api_error(404, "Resource not found")
        limit, offset = self._int_arg(ctx, "limit", 20), self._int_arg(ctx, "offset", 0)
        items = [
            self._track_simple(t) for t in album.track_ids[offset : offset + limit]
        ]
        return 200, self._page(ctx, items, len(album.track_ids), limit, offset)

    def _search_items(self, ctx: _Ctx) -> tuple[int, Any]:
        q = ctx.request.args["q"]
        types = ctx.request.args["type"].split(",")
        limit, offset = self._int_arg(ctx, "limit", 5), self._int_arg(ctx, "offset", 0)
        out: dict[str, Any] = {}
        for kind in types:
            if kind == "track":
                found = self._search[q] if q in self._search else self._match_tracks(q)
                items = [
                    self._track_obj(t)
                    for t in found[offset : offset + limit]
                    if t in self._tracks
                ]
                out["tracks"] = self._page(ctx, items, len(found), limit, offset)
            else:
                out[f"{kind}s"] = self._page(ctx, [], 0, limit, offset)
        return 200, out

    def _match_tracks(self, q: str) -> list[str]:
        terms = re.findall(r'(?:(\w+):)?(?:"([^"]*)"|(\S+))', q)
        found = []
        for track in self._tracks.values():
            album = self._albums[track.album_id]
            artists = " ".join(self._artists[a].name for a in track.artist_ids).lower()
            texts = {
                "track": track.name.lower(),
                "artist": artists,
                "album": album.name.lower(),
                "isrc": (track.isrc or "").lower(),
                "year": album.release_date[:4],
            }
            everything = " ".join(texts.values())
            ok = True
            for key, quoted, bare in terms:
                needle = (quoted or bare).lower()
                if key.lower() == "isrc":
                    ok = ok and texts["isrc"] == needle
                elif key.lower() in texts:
                    ok = ok and needle in texts[key.lower()]
                elif key:
                    continue  # other filters (genre, tag:...) are ignored
                else:
                    ok = ok and needle in everything
            if ok:
                found.append(track.id)
        return found

    def _get_saved_tracks(self, ctx: _Ctx) -> tuple[int, Any]:
        self._require_scope(ctx, "user-library-read")
        saved = self._saved.get(ctx.user_id, [])
        limit, offset = self._int_arg(ctx, "limit", 20), self._int_arg(ctx, "offset", 0)
        items = [
            {"added_at": at, "track": self._track_obj(t)}
            for t, at in saved[offset : offset + limit]
        ]
        return 200, self._page(ctx, items, len(saved), limit, offset)

    def _remove_library_items(self, ctx: _Ctx) -> tuple[int, Any]:
        """DELETE /me/library?uris=...: playlists leave the user's library (their own included, which
        is how an owner deletes one), tracks leave their saved tracks. Other kinds are not modelled."""
        uris = [u for u in (ctx.request.args.get("uris") or "").split(",") if u]
        if not uris or len(uris) > 40:
            raise _Reply(400, _api_error(400, "uris must name 1 to 40 items"))
        # The spec lists one scope per kind of item: playlists need playlist-modify-*, tracks
        # user-library-modify.
        for uri in uris:
            kind, _, item_id = uri.removeprefix("spotify:").partition(":")
            if kind == "playlist":
                self._require_scope(ctx, "playlist-modify-public", "playlist-modify-private", "user-follow-modify")
                playlist = self._playlists.get(item_id)
                if playlist is not None and playlist.owner == ctx.user_id:
                    playlist.in_owners_library = False
                elif playlist is not None:
                    playlist.collaborators.discard(ctx.user_id)
            elif kind == "track":
                self._require_scope(ctx, "user-library-modify")
                saved = self._saved.get(ctx.user_id, [])
                self._saved[ctx.user_id] = [(t, at) for t, at in saved if t != item_id]
            else:
                raise _Reply(400, _api_error(400, f"Unsupported URI type: {kind}"))
        return 200, None

    def _get_top_artists(self, ctx: _Ctx) -> tuple[int, Any]:
        self._require_scope(ctx, "user-top-read")
        time_range = ctx.request.args.get("time_range", "medium_term")
        if time_range not in ("short_term", "medium_term", "long_term"):
            return 400, _api_error(400, "Invalid time range")
        top = self._top_artists.get(ctx.user_id, {}).get(time_range, [])
        limit, offset = self._int_arg(ctx, "limit", 20), self._int_arg(ctx, "offset", 0)
        items = []
        for aid in top[offset : offset + limit]:
            obj = self._artist_simple(aid)
            obj["images"] = []
            items.append(self._legacy(obj, genres=self._artists[aid].genres, popularity=50,
                                      followers={"href": None, "total": 0}))
        return 200, self._page(ctx, items, len(top), limit, offset)

    def _get_followed(self, ctx: _Ctx) -> tuple[int, Any]:
        """GET /me/following?type=artist: cursor-paged by artist id, as Spotify pages them (``after``
        is the last id of the page before; the order says nothing about when they were followed)."""
        self._require_scope(ctx, "user-follow-read")
        if ctx.request.args.get("type") != "artist":
            return 400, _api_error(400, "type must be artist")
        limit = self._int_arg(ctx, "limit", 20)
        after = ctx.request.args.get("after")
        ids = sorted(self._followed.get(ctx.user_id, ()))
        rest = [a for a in ids if after is None or a > after]
        page = rest[:limit]
        items = []
        for aid in page:
            obj = self._artist_simple(aid)
            obj["images"] = []
            items.append(self._legacy(obj, genres=self._artists[aid].genres, popularity=50,
                                      followers={"href": None, "total": 0}))
        args = {"type": "artist", "limit": str(limit)}
        more = len(rest) > limit
        return 200, {"artists": {
            "href": f"{self._href(ctx.rel)}?{urlencode({**args, **({'after': after} if after else {})})}",
            "items": items, "limit": limit, "total": len(ids),
            "next": f"{self._href(ctx.rel)}?{urlencode({**args, 'after': page[-1]})}" if more else None,
            "cursors": {"after": page[-1] if more else None},
        }}

    def _get_recently_played(self, ctx: _Ctx) -> tuple[int, Any]:
        """GET /me/player/recently-played: newest first. ``before`` (ms): the plays before it;
        ``after`` (ms): the plays after it, the ``limit`` nearest it (its ``next`` goes on forward
        with ``after``); never both."""
        self._require_scope(ctx, "user-read-recently-played")
        args = ctx.request.args
        if args.get("after") and args.get("before"):
            return 400, _api_error(400, "Only one of after and before may be given")
        limit = self._int_arg(ctx, "limit", 20)
        played = self._played.get(ctx.user_id, [])
        if args.get("after"):
            after = int(args["after"])
            newer = [p for p in played if p[1] > after]
            page = newer[-limit:]
            more = len(newer) > limit
            nxt = {"after": str(page[0][1])} if more else None
        else:
            before = int(args["before"]) if args.get("before") else None
            older = [p for p in played if before is None or p[1] < before]
            page = older[:limit]
            more = len(older) > limit
            nxt = {"before": str(page[-1][1])} if more else None
        items = [{"track": self._track_obj(t),
                  "played_at": datetime.fromtimestamp(at / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{at % 1000:03d}Z",
                  "context": {"type": "collection", "href": self._href("/me/tracks"),
                              "external_urls": {"spotify": "https://open.spotify.com/collection/tracks"},
                              "uri": f"spotify:user:{ctx.user_id}:collection"}}
                 for t, at in page]
        href = self._href(ctx.rel)
        return 200, {
            "href": f"{href}?{urlencode(dict(args))}", "items": items, "limit": limit,
            "next": f"{href}?{urlencode({'limit': str(limit), **nxt})}" if nxt else None,
            "cursors": {"after": str(page[0][1]), "before": str(page[-1][1])} if page else None,
        }

    def _library_contains(self, ctx: _Ctx) -> tuple[int, Any]:
        """GET /me/library/contains?uris=...: whether each item is in the user's library (a playlist:
        one they own and keep, or collaborate on; a track: saved). Other kinds are not modelled."""
        self._require_scope(ctx, "user-library-read", "user-follow-read", "playlist-read-private")
        uris = [u for u in (ctx.request.args.get("uris") or "").split(",") if u]
        if not uris or len(uris) > 40:
            raise _Reply(400, _api_error(400, "uris must name 1 to 40 items"))
        answer = []
        for uri in uris:
            kind, _, item_id = uri.removeprefix("spotify:").partition(":")
            if kind == "playlist":
                playlist = self._playlists.get(item_id)
                answer.append(playlist is not None and (
                    (playlist.owner == ctx.user_id and playlist.in_owners_library)
                    or ctx.user_id in playlist.collaborators))
            elif kind == "track":
                answer.append(any(t == item_id for t, _ in self._saved.get(ctx.user_id, [])))
            else:
                answer.append(False)
        return 200, answer

    def _get_top_tracks(self, ctx: _Ctx) -> tuple[int, Any]:
        self._require_scope(ctx, "user-top-read")
        time_range = ctx.request.args.get("time_range", "medium_term")
        if time_range not in ("short_term", "medium_term", "long_term"):
            return 400, _api_error(400, "Invalid time range")
        top = self._top.get(ctx.user_id, {}).get(time_range, [])
        limit, offset = self._int_arg(ctx, "limit", 20), self._int_arg(ctx, "offset", 0)
        items = [self._track_obj(t) for t in top[offset : offset + limit]]
        return 200, self._page(ctx, items, len(top), limit, offset)

    # -- images and ReccoBeats -----------------------------------------------------

    def _image(self, path: str) -> tuple[int, Any, dict[str, str]]:
        match = re.match(r"^/images/(album|playlist)/([^/]+)\.jpg$", path)
        if match is None:
            return 404, b"", {}
        with self._lock:
            if match.group(1) == "playlist":
                playlist = self._playlists.get(match.group(2))
                if playlist is None or playlist.image is None:
                    return 404, b"", {}
                return 200, playlist.image, {"Content-Type": "image/jpeg"}
        return 200, _TINY_JPEG, {"Content-Type": "image/jpeg"}

    def _features_row(self, spotify_id: str) -> dict[str, Any]:
        row: dict[str, Any] = {
            "id": reccobeats_id(spotify_id),
            "href": f"https://open.spotify.com/track/{spotify_id}",
        }
        track = self._tracks.get(spotify_id)
        if track is not None and track.isrc:
            row["isrc"] = track.isrc
        features = self._features[spotify_id]
        row.update({k: features[k] for k in FEATURE_KEYS if k in features})
        return row

    def _reccobeats(self, request: Request) -> tuple[int, Any, dict[str, str]]:
        if request.method != "GET":
            return (
                405,
                {"status": 405, "errors": [{"message": "Method not allowed"}]},
                {},
            )
        with self._lock:
            by_uuid = {reccobeats_id(s): s for s in self._features}
            if request.path == "/reccobeats/v1/audio-features":
                ids = [
                    i
                    for raw in request.args.getlist("ids")
                    for i in raw.split(",")
                    if i
                ]
                if not 1 <= len(ids) <= RECCOBEATS_MAX_IDS:
                    body = {
                        "status": 4004,
                        "errors": [
                            {
                                "message": f"size must be between 1 and {RECCOBEATS_MAX_IDS}"
                            }
                        ],
                    }
                    return 400, body, {}
                rows, seen = [], set()
                for raw_id in ids:
                    spotify_id = by_uuid.get(raw_id, raw_id)
                    if spotify_id in self._features and spotify_id not in seen:
                        seen.add(spotify_id)
                        rows.append(self._features_row(spotify_id))
                return 200, {"content": rows}, {}
            match = re.match(
                r"^/reccobeats/v1/track/([^/]+)/audio-features$", request.path
            )
            if match and match.group(1) in by_uuid:
                return 200, self._features_row(by_uuid[match.group(1)]), {}
            return 404, {"status": 404, "errors": [{"message": "Not found"}]}, {}


@dataclass
class _Ctx:
    request: Request
    token: _AccessToken
    body: bytes
    rel: str

    @property
    def user_id(self) -> str:
        return self.token.user_id

    def json(self) -> dict[str, Any]:
        try:
            data = json.loads(self.body or b"{}")
        except ValueError as exc:
            raise _Reply(400, _api_error(400, "Error parsing json")) from exc
        if not isinstance(data, dict):
            raise _Reply(400, _api_error(400, "Error parsing json"))
        return data
