"""The Spotify gateway: per-user tokens, refreshes, retries, typed errors."""
from __future__ import annotations

import pytest
import responses

from curator.extensions import db
from curator.models.user import User
from curator.spotify import gateway_for
from curator.spotify.errors import (
    SpotifyForbidden,
    SpotifyRateLimited,
    SpotifyTokenRevoked,
    SpotifyUnavailable,
)
from curator.spotify.gateway import SpotifyGateway, SpotifySettings
from curator.spotify.token_store import DatabaseTokenCache
from tests.helpers import login


def user_id(app, spotify_id):
    with app.app_context():
        return db.session.scalar(db.select(User.id).where(User.spotify_id == spotify_id))


def test_two_users_interleaved_each_call_carries_its_own_token(app, fake_spotify):
    alice, bob = app.test_client(), app.test_client()
    login(alice, fake_spotify, "alice")
    login(bob, fake_spotify, "bob")
    ids = {"alice": user_id(app, "alice"), "bob": user_id(app, "bob")}
    before = len(fake_spotify.requests)
    with app.app_context():
        for round_ in range(6):
            for step, name in enumerate(("alice", "bob", "bob", "alice")):
                if round_ == 3 and step == 1:
                    # Bob's token expires mid-way: the gateway refreshes it and carries on.
                    fake_spotify.expire_tokens("bob")
                assert gateway_for(ids[name]).me()["id"] == name
    api_calls = [r for r in fake_spotify.requests[before:] if r.path == "/v1/me"]
    assert len(api_calls) >= 24
    for call in api_calls:
        if call.status == 200:
            assert call.user_id in ("alice", "bob")
    # Each successful /me answered the user whose gateway asked: no token ever crossed over.
    answered = [c.user_id for c in api_calls if c.status == 200]
    assert answered.count("alice") == 12 and answered.count("bob") == 12
    refreshes = [r for r in fake_spotify.requests[before:] if r.path.endswith("/api/token")]
    assert len(refreshes) == 1


def test_two_browsers_interleaved_see_their_own_accounts(app, fake_spotify):
    alice, bob = app.test_client(), app.test_client()
    login(alice, fake_spotify, "alice", display_name="Alice")
    login(bob, fake_spotify, "bob", display_name="Bob")
    for _ in range(3):
        assert b"Alice" in alice.get("/").data and b"Bob" not in alice.get("/").data
        assert b"Bob" in bob.get("/").data


def test_retry_after_is_honoured_then_succeeds(app, fake_spotify):
    client = app.test_client()
    login(client, fake_spotify, "alice")
    waits = []
    with app.app_context():
        gateway = gateway_for(user_id(app, "alice"))
        gateway._sleep = waits.append
        fake_spotify.fail_next("GET", r"/v1/me$", 429, times=2, retry_after=1)
        assert gateway.me()["id"] == "alice"
    assert waits == [1.0, 1.0]


def test_long_retry_after_becomes_rate_limited_error(app, fake_spotify):
    client = app.test_client()
    login(client, fake_spotify, "alice")
    with app.app_context():
        gateway = gateway_for(user_id(app, "alice"))
        gateway._sleep = lambda s: pytest.fail("must not wait out a long Retry-After")
        fake_spotify.fail_next("GET", r"/v1/me$", 429, retry_after=120)
        with pytest.raises(SpotifyRateLimited) as caught:
            gateway.me()
    assert caught.value.retry_after == 120


def test_server_errors_back_off_and_give_up_as_unavailable(app, fake_spotify):
    client = app.test_client()
    login(client, fake_spotify, "alice")
    with app.app_context():
        gateway = gateway_for(user_id(app, "alice"))
        waits = []
        gateway._sleep = waits.append
        fake_spotify.fail_next("GET", r"/v1/me$", 503, times=10)
        with pytest.raises(SpotifyUnavailable):
            gateway.me()
    assert waits == [0.5, 1.0, 2.0]


def test_a_create_is_not_retried_after_a_server_error(app, fake_spotify):
    client = app.test_client()
    login(client, fake_spotify, "alice")
    with app.app_context():
        gateway = gateway_for(user_id(app, "alice"))
        gateway._sleep = lambda s: None
        fake_spotify.fail_next("POST", r"/v1/me/playlists", 502)
        with pytest.raises(SpotifyUnavailable):
            gateway.create_playlist("x")
    assert len(fake_spotify.calls("POST", r"/v1/me/playlists")) == 1
    assert fake_spotify.playlists_of("alice") == []


def test_revoked_refresh_token_logs_the_user_out_with_a_message(app, fake_spotify):
    from curator.auth.decorators import login_required
    from curator.spotify import user_gateway

    @login_required
    def whoami():
        return user_gateway().me()["id"]

    app.add_url_rule("/test-whoami", "test_whoami", whoami)
    client = app.test_client()
    login(client, fake_spotify, "alice")
    assert client.get("/test-whoami").data == b"alice"
    fake_spotify.expire_tokens("alice")
    fake_spotify.revoke_refresh_tokens("alice")
    response = client.get("/test-whoami")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"] and "test-whoami" in response.headers["Location"]
    page = client.get("/")
    assert b"revoked or has expired" in page.data
    assert b"Log in with Spotify" in page.data  # logged out


def test_gateway_with_revoked_token_raises_typed_error(app, fake_spotify):
    client = app.test_client()
    login(client, fake_spotify, "alice")
    fake_spotify.expire_tokens("alice")
    fake_spotify.revoke_refresh_tokens("alice")
    with app.app_context(), pytest.raises(SpotifyTokenRevoked):
        gateway_for(user_id(app, "alice")).me()


def test_add_items_sends_the_documented_body_and_current_path(app, fake_spotify):
    client = app.test_client()
    login(client, fake_spotify, "alice")
    fake_spotify.add_track("4uLU6hMCjMI75M1A2tKUQC", "Track")
    with app.app_context():
        gateway = gateway_for(user_id(app, "alice"))
        playlist = gateway.create_playlist("Test", "desc")
        gateway.add_items(playlist["id"], ["spotify:track:4uLU6hMCjMI75M1A2tKUQC"])
        with pytest.raises(ValueError):
            gateway.add_items(playlist["id"], ["spotify:track:x"] * 101)
    post = fake_spotify.calls("POST", r"/items$")[0]
    assert post.json == {"uris": ["spotify:track:4uLU6hMCjMI75M1A2tKUQC"]}
    assert [t for t in fake_spotify.playlists_of("alice")[0].track_ids] == ["4uLU6hMCjMI75M1A2tKUQC"]


def test_forbidden_maps_to_typed_error_with_responses(spotify_responses):
    """Unit level: `responses` with the same spec check; timeouts on every request."""
    from spotipy.cache_handler import MemoryCacheHandler

    settings = SpotifySettings("id", "secret", "http://127.0.0.1:5000/callback", timeout=3.0)
    token = {"access_token": "tok", "token_type": "Bearer", "expires_in": 3600,
             "expires_at": 9999999999, "refresh_token": "r", "scope": ""}
    gateway = SpotifyGateway(settings, MemoryCacheHandler(token), sleep=lambda s: None)
    spotify_responses.add(responses.GET, "https://api.spotify.com/v1/playlists/37i9dQZF1DXcBWIGoYBM5M/items",
                          json={"error": {"status": 403, "message": "Forbidden"}}, status=403)
    with pytest.raises(SpotifyForbidden):
        list(gateway.playlist_items("37i9dQZF1DXcBWIGoYBM5M"))
    assert gateway._sp.requests_timeout == 3.0


def test_token_cache_round_trips_encrypted(app):
    with app.app_context():
        user = User(spotify_id="zed")
        db.session.add(user)
        db.session.commit()
        cache = DatabaseTokenCache(user.id)
        assert cache.get_cached_token() is None
        cache.save_token_to_cache({"access_token": "a1", "refresh_token": "r1", "expires_at": 1, "scope": "x"})
        assert cache.get_cached_token()["refresh_token"] == "r1"
        cache.save_token_to_cache({"access_token": "a2", "refresh_token": "r2", "expires_at": 2, "scope": "x"})
        assert cache.get_cached_token()["access_token"] == "a2"


def test_search_follows_next_pages_of_ten(app, fake_spotify):
    client = app.test_client()
    login(client, fake_spotify, "alice")
    ids = [f"{i:022d}" for i in range(25)]
    for track_id in ids:
        fake_spotify.add_track(track_id, f"Calm piece {track_id[-2:]}")
    fake_spotify.add_search_results("genre:ambient", ids)
    with app.app_context():
        found = [t["id"] for t in gateway_for(user_id(app, "alice")).search_tracks("genre:ambient", limit=25)]
    assert found == ids
    pages = fake_spotify.calls("GET", r"/v1/search$")
    assert len(pages) == 3 and all(int(p.query["limit"][0]) <= 10 for p in pages)


def test_seed_scopes_are_asked_for_only_on_request(client, fake_spotify):
    from urllib.parse import parse_qs, urlsplit

    plain = parse_qs(urlsplit(client.get("/login").headers["Location"]).query)["scope"][0].split()
    seeds = parse_qs(urlsplit(client.get("/login?scopes=seeds").headers["Location"]).query)["scope"][0].split()
    assert "playlist-read-private" not in plain
    assert {"playlist-read-private", "playlist-read-collaborative"} <= set(seeds)
