"""The Spotify gateway: per-user tokens, refreshes, retries, typed errors."""
from __future__ import annotations

import pytest
import requests
import responses

from curator.extensions import db
from curator.models.listening import PlaylistSave
from curator.models.user import SpotifyToken, User
from curator.spotify import gateway_for
from curator.spotify.errors import (
    SpotifyForbidden,
    SpotifyLoginRequired,
    SpotifyRateLimited,
    SpotifyTokenRevoked,
    SpotifyUnavailable,
)
from curator.spotify.gateway import MemoryTokenCache, SpotifyGateway, SpotifySettings
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
    settings = SpotifySettings("id", "secret", "http://127.0.0.1:5000/callback", timeout=3.0)
    token = {"access_token": "tok", "token_type": "Bearer", "expires_in": 3600,
             "expires_at": 9999999999, "refresh_token": "r", "scope": ""}
    session = requests.Session()
    timeouts = []
    send = session.send
    session.send = lambda request, **kw: timeouts.append(kw.get("timeout")) or send(request, **kw)
    gateway = SpotifyGateway(settings, MemoryTokenCache(token), sleep=lambda s: None, session=session)
    spotify_responses.add(responses.GET, "https://api.spotify.com/v1/playlists/37i9dQZF1DXcBWIGoYBM5M/items",
                          json={"error": {"status": 403, "message": "Forbidden"}}, status=403)
    with pytest.raises(SpotifyForbidden) as caught:
        list(gateway.playlist_items("37i9dQZF1DXcBWIGoYBM5M"))
    assert "Forbidden" in caught.value.message
    assert timeouts == [3.0]


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


# --- no token, no prompt (issue 12: spotipy's auth manager called input() in a web worker) ---

@pytest.fixture
def no_prompts(monkeypatch):
    """Fail the test if anything asks on standard input or opens a browser."""
    import webbrowser

    monkeypatch.setattr("builtins.input", lambda *a: pytest.fail("the server prompted on standard input"))
    monkeypatch.setattr(webbrowser, "open", lambda *a, **k: pytest.fail("the server opened a browser"))


def test_no_stored_token_is_a_typed_error_without_any_request(no_prompts, spotify_responses):
    settings = SpotifySettings("id", "secret", "http://127.0.0.1:5000/callback")
    gateway = SpotifyGateway(settings, MemoryTokenCache(None), sleep=lambda s: pytest.fail("no waiting"))
    with pytest.raises(SpotifyLoginRequired):
        gateway.me()
    assert len(spotify_responses.calls) == 0


def test_two_sessions_revoked_in_one_the_other_is_asked_to_log_in_and_its_save_resumes(
        app, catalogue, fake_spotify, no_prompts):
    """The scenario of issue 12: the same listener in two browsers; the refresh token is revoked
    and forgotten through the first; the second (still logged in by its cookie) saves."""
    first, second = app.test_client(), app.test_client()
    login(first, fake_spotify, "listener-1")
    login(second, fake_spotify, "listener-1")
    token_2 = second.get("/api/v1/session").json["csrf_token"]
    preview = second.post("/api/v1/previews", json={"from": "anxious", "to": "calm", "tracks": 12},
                          headers={"X-CSRFToken": token_2}).json

    fake_spotify.expire_tokens("listener-1")
    fake_spotify.revoke_refresh_tokens("listener-1")
    token_1 = first.get("/api/v1/session").json["csrf_token"]
    other = first.post("/api/v1/previews", json={"from": "anxious", "to": "calm", "tracks": 5},
                       headers={"X-CSRFToken": token_1}).json
    revoked = first.post(f"/api/v1/previews/{other['id']}/playlist",
                         headers={"X-CSRFToken": token_1, "Idempotency-Key": "k-first"})
    assert revoked.status_code == 401 and revoked.json["error"]["code"] == "spotify_login_expired"
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(SpotifyToken)) == 0  # forgotten

    # The second browser still holds a logged-in session, but no token is stored for it.
    asked = second.post(f"/api/v1/previews/{preview['id']}/playlist",
                        headers={"X-CSRFToken": token_2, "Idempotency-Key": "k-second"})
    assert asked.status_code == 401
    assert asked.json["error"]["code"] == "spotify_login_expired"
    assert "log in" in asked.json["error"]["message"].lower()
    with app.app_context():
        save = db.session.scalar(db.select(PlaylistSave).where(PlaylistSave.preview_id == preview["id"]))
        assert save.state == "pending" and save.playlist_id is None  # nothing half-done: resumable
    assert fake_spotify.playlists_of("listener-1") == []

    # Log in again in the second browser: the same save (same key) finishes, once.
    login(second, fake_spotify, "listener-1")
    token_2 = second.get("/api/v1/session").json["csrf_token"]
    done = second.post(f"/api/v1/previews/{preview['id']}/playlist",
                       headers={"X-CSRFToken": token_2, "Idempotency-Key": "k-second"})
    assert done.status_code == 201, done.json
    playlists = fake_spotify.playlists_of("listener-1")
    assert len(playlists) == 1
    assert playlists[0].track_ids == [t["id"] for t in preview["tracks"]]


def test_the_html_save_without_a_stored_token_sends_the_listener_to_log_in(
        app, client, catalogue, fake_spotify, no_prompts):
    login(client, fake_spotify, "listener-1")
    token = client.get("/api/v1/session").json["csrf_token"]
    preview = client.post("/api/v1/previews", json={"from": "anxious", "to": "calm", "tracks": 5},
                          headers={"X-CSRFToken": token}).json
    with app.app_context():
        db.session.execute(db.delete(SpotifyToken))
        db.session.commit()
    page = f"/previews/{preview['id']}"
    response = client.post(f"{page}/save", data={"csrf_token": token}, headers={"Referer": f"http://localhost{page}"})
    assert response.status_code == 302
    location = response.headers["Location"]
    assert "/login" in location and preview["id"] in location


def _plays(times_ms):
    from datetime import UTC, datetime

    return [{"track": {"id": f"t{t}", "name": f"Track {t}", "artists": [{"id": "a1", "name": "A"}]},
             "played_at": datetime.fromtimestamp(t / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"}
            for t in times_ms]


def test_recently_played_after_a_time_reads_only_new_plays_whichever_way_next_runs(spotify_responses):
    """Spotify documents `after` and `before` cursors but not which way an `after` page's `next` runs:
    walking back through `before` from the newest plays, the walk stops at the first page that reaches
    a play already held, and yields none of those."""
    settings = SpotifySettings("id", "secret", "http://127.0.0.1:5000/callback", timeout=3.0)
    token = {"access_token": "tok", "token_type": "Bearer", "expires_in": 3600,
             "expires_at": 9999999999, "refresh_token": "r", "scope": "user-read-recently-played"}
    gateway = SpotifyGateway(settings, MemoryTokenCache(token), sleep=lambda s: None)
    url = "https://api.spotify.com/v1/me/player/recently-played"
    held = 1_764_900_000_000
    newest = [held + 1000 * (100 - i) for i in range(50)]  # 100..51 s after the newest held play
    older = [held + 1000 * (50 - i) for i in range(50)]  # 50..1 s after it, then the plays held before
    spotify_responses.add(responses.GET, url, json={"items": _plays(newest), "limit": 50,
                                                    "next": f"{url}?limit=50&before={newest[-1]}"})
    spotify_responses.add(responses.GET, url, json={"items": _plays(older[:30] + [held, held - 1000]), "limit": 50,
                                                    "next": f"{url}?limit=50&before={held - 1000}"})
    got = list(gateway.recently_played(after_ms=held))
    assert [int(i["track"]["id"][1:]) for i in got] == newest + older[:30]
    assert len(spotify_responses.calls) == 2  # the page reaching a held play ends the walk
    assert "after=1764900000000" in spotify_responses.calls[0].request.url
