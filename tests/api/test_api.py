"""The JSON API v1 end to end against the fake Spotify: previews, saving exactly once, check-ins."""
from __future__ import annotations

import threading
import time

import pytest
import requests

from curator.extensions import db
from curator.models.listening import PlaylistSave
from curator.playlists import saving
from tests.helpers import api_headers, api_login, api_preview, api_save, assert_only_current_operations, login


def test_acceptance_anxious_to_calm_saved_once_despite_replays_and_a_failure(client, catalogue, fake_spotify):
    login(client, fake_spotify, "listener-1")
    session = client.get("/api/v1/session").json
    assert session["user"]["id"] == "listener-1"
    token = session["csrf_token"]

    preview = api_preview(client, token)
    ids = [t["id"] for t in preview["tracks"]]
    assert len(ids) == 20 and len(set(ids)) == 20

    # The items call fails once (Spotify 500): the save settles by reading back and carries on.
    fake_spotify.fail_next("POST", r"/v1/playlists/.*/items", 500, times=1)
    first = api_save(client, token, preview["id"])
    assert first.status_code == 201, first.json
    replay = api_save(client, token, preview["id"])
    assert replay.status_code == 200
    assert replay.json == first.json
    [playlist] = fake_spotify.playlists_of("listener-1")
    assert first.json["id"] == playlist.id
    assert first.json["url"] == f"https://open.spotify.com/playlist/{playlist.id}"
    assert fake_spotify.calls("GET", r"/v1/playlists/.+/items")  # read back before adding again

    [playlist] = fake_spotify.playlists_of("listener-1")
    assert playlist.track_ids == ids
    assert playlist.public is False
    assert playlist.name.startswith("Anxious → Calm · ")
    assert len(playlist.description) <= 300 and "\n" not in playlist.description
    assert len(fake_spotify.calls("POST", r"^/v1/me/playlists$")) == 1
    assert_only_current_operations(fake_spotify)

    # The preview now shows its playlist, and the playlist is listed.
    assert client.get(f"/api/v1/previews/{preview['id']}").json["playlist"]["id"] == playlist.id
    assert [p["id"] for p in client.get("/api/v1/playlists").json["playlists"]] == [playlist.id]


def test_create_that_timed_out_is_found_by_its_marker_not_created_again(app_config, app, client, catalogue,
                                                                          fake_spotify):
    app.config["SPOTIFY_TIMEOUT"] = 0.4
    token = api_login(client, fake_spotify)
    preview = api_preview(client, token)
    # Spotify creates the playlist, but only after we stopped waiting for the answer.
    fake_spotify.delay_next("POST", r"^/v1/me/playlists$", 1.0)
    assert api_save(client, token, preview["id"]).status_code == 201
    [playlist] = fake_spotify.playlists_of("listener-1")
    assert playlist.track_ids == [t["id"] for t in preview["tracks"]]
    assert len(fake_spotify.calls("POST", r"^/v1/me/playlists$")) == 1
    assert fake_spotify.calls("GET", r"^/v1/me/playlists$")


def test_items_batch_that_landed_unheard_is_not_added_twice(app, client, catalogue, fake_spotify, monkeypatch):
    monkeypatch.setattr(saving, "ADD_BATCH", 8)
    app.config["SPOTIFY_TIMEOUT"] = 0.4
    token = api_login(client, fake_spotify)
    preview = api_preview(client, token)
    fake_spotify.delay_next("POST", r"/v1/playlists/.+/items", 1.0)
    # The first batch lands only after we stopped waiting: the save waits for it, reads back, resumes.
    assert api_save(client, token, preview["id"]).status_code == 201
    [playlist] = fake_spotify.playlists_of("listener-1")
    assert playlist.track_ids == [t["id"] for t in preview["tracks"]]
    batches = [len(c.json["uris"]) for c in fake_spotify.calls("POST", r"/v1/playlists/.+/items")]
    assert batches == [8, 8, 4] and max(batches) <= 8
    assert fake_spotify.calls("GET", r"/v1/playlists/.+/items")  # verified before resuming


def test_a_150_track_playlist_is_saved_whole_in_order_in_two_batches(client, large_catalogue, fake_spotify):
    token = api_login(client, fake_spotify)
    preview = api_preview(client, token, **{"from": "calm", "to": "energised", "tracks": 150})
    ids = [t["id"] for t in preview["tracks"]]
    assert len(ids) == 150 and len(set(ids)) == 150
    assert api_save(client, token, preview["id"]).status_code == 201
    [playlist] = fake_spotify.playlists_of("listener-1")
    assert playlist.track_ids == ids
    batches = [c.json["uris"] for c in fake_spotify.calls("POST", r"/v1/playlists/.+/items")]
    assert [len(b) for b in batches] == [100, 50]
    assert [uri.rsplit(":", 1)[1] for b in batches for uri in b] == ids
    assert_only_current_operations(fake_spotify)


def test_two_concurrent_saves_make_one_playlist(live_server, catalogue, fake_spotify):
    fake_spotify.add_user("listener-1")
    fake_spotify.authorize_as("listener-1")
    browser = requests.Session()
    assert browser.get(live_server + "/login", timeout=10).status_code == 200
    token = browser.get(live_server + "/api/v1/session", timeout=10).json()["csrf_token"]
    preview = browser.post(live_server + "/api/v1/previews", json={"from": "anxious", "to": "calm", "tracks": 20},
                           headers={"X-CSRFToken": token}, timeout=10).json()
    # Slow Spotify down so the second request arrives while the first is still creating.
    fake_spotify.delay_next("POST", r"^/v1/me/playlists$", 0.8)
    results = []

    def click():
        r = browser.post(f"{live_server}/api/v1/previews/{preview['id']}/playlist",
                         headers={"X-CSRFToken": token, "Idempotency-Key": "double-click"}, timeout=20)
        results.append((r.status_code, r.json()))

    threads = [threading.Thread(target=click) for _ in range(2)]
    for t in threads:
        t.start()
        time.sleep(0.15)
    for t in threads:
        t.join()
    assert sorted(status for status, _ in results) == [200, 201], results
    assert results[0][1]["id"] == results[1][1]["id"]
    [playlist] = fake_spotify.playlists_of("listener-1")
    assert playlist.track_ids == [t["id"] for t in preview["tracks"]]
    assert len(fake_spotify.calls("POST", r"^/v1/me/playlists$")) == 1


def test_idempotency_key_is_required_and_bound_to_one_preview(client, catalogue, fake_spotify):
    token = api_login(client, fake_spotify)
    first, second = api_preview(client, token), api_preview(client, token)
    missing = client.post(f"/api/v1/previews/{first['id']}/playlist", headers=api_headers(token))
    assert missing.status_code == 400
    assert missing.json["error"]["field"] == "Idempotency-Key"
    assert api_save(client, token, first["id"], key="same").status_code == 201
    reused = api_save(client, token, second["id"], key="same")
    assert reused.status_code == 422
    assert reused.json["error"]["code"] == "idempotency_key_reused"
    assert len(fake_spotify.playlists_of("listener-1")) == 1


def test_rate_limited_save_keeps_the_preview_and_says_when_to_retry(client, catalogue, fake_spotify, app):
    token = api_login(client, fake_spotify)
    preview = api_preview(client, token)
    fake_spotify.fail_next("POST", r"^/v1/me/playlists$", 429, retry_after=30)
    response = api_save(client, token, preview["id"])
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "30"
    assert "30 seconds" in response.json["error"]["message"]
    assert fake_spotify.playlists_of("listener-1") == []
    assert client.get(f"/api/v1/previews/{preview['id']}").status_code == 200
    with app.app_context():
        record = db.session.scalar(db.select(PlaylistSave))
        assert record.state == "pending" and record.lease_until is None  # nothing sent: a retry just creates
    assert api_save(client, token, preview["id"]).status_code == 201
    assert len(fake_spotify.playlists_of("listener-1")) == 1


def test_previews_belong_to_their_owner(client, app, catalogue, fake_spotify):
    token = api_login(client, fake_spotify)
    preview = api_preview(client, token)
    other = app.test_client()
    login(other, fake_spotify, "listener-2")
    other_token = other.get("/api/v1/session").json["csrf_token"]
    assert other.get(f"/api/v1/previews/{preview['id']}").status_code == 404
    assert other.get(f"/previews/{preview['id']}").status_code == 404
    stolen = api_save(other, other_token, preview["id"])
    assert stolen.status_code == 404 and stolen.json["error"]["code"] == "not_found"
    assert other.post("/api/v1/checkins", json={"preview_id": preview["id"], "rating": 3},
                      headers=api_headers(other_token)).status_code == 404
    assert fake_spotify.playlists_of("listener-2") == [] and fake_spotify.playlists_of("listener-1") == []


def test_api_needs_login_and_csrf(client, catalogue, fake_spotify):
    assert client.get("/api/v1/session").json["user"] is None
    assert client.get("/api/v1/moods").status_code == 401
    assert client.get("/api/v1/moods").json["error"]["code"] == "login_required"
    api_login(client, fake_spotify)
    response = client.post("/api/v1/previews", json={"from": "anxious", "to": "calm", "tracks": 5})
    assert response.status_code == 400 and response.json["error"]["code"] == "csrf_failed"


@pytest.mark.parametrize("body, field", [
    ({"from": "nope", "to": "calm", "tracks": 5}, "from"),
    ({"from": "anxious", "to": "calm"}, "tracks"),
    ({"from": "anxious", "to": "calm", "tracks": 5, "minutes": 20}, "tracks"),
    ({"from": "anxious", "to": "calm", "tracks": 0}, "tracks"),
    ({"from": "anxious", "to": "calm", "tracks": "many"}, "tracks"),
    ({"from": "anxious", "to": "calm", "minutes": -3}, "minutes"),
    ({"from": "anxious", "to": "calm", "tracks": 5, "arc": "zigzag"}, "arc"),
    ({"from": "anxious", "to": "calm", "tracks": 5, "before_rating": 9}, "before_rating"),
])
def test_bad_preview_requests_name_the_field(client, catalogue, fake_spotify, body, field):
    token = api_login(client, fake_spotify)
    response = client.post("/api/v1/previews", json=body, headers=api_headers(token))
    assert response.status_code == 422, response.json
    assert response.json["error"]["field"] == field


def test_non_json_body_is_a_clear_400(client, catalogue, fake_spotify):
    token = api_login(client, fake_spotify)
    response = client.post("/api/v1/previews", data="from=anxious", headers=api_headers(token))
    assert response.status_code == 400 and response.json["error"]["code"] == "bad_json"


def test_minutes_length_fills_about_that_long(client, catalogue, fake_spotify):
    token = api_login(client, fake_spotify)
    preview = api_preview(client, token, tracks=None, minutes=30)
    assert preview["length"] == {"minutes": 30}
    assert 25 * 60_000 <= preview["duration_ms"] <= 36 * 60_000


def test_checkins_through_the_api(client, catalogue, fake_spotify):
    token = api_login(client, fake_spotify)
    preview = api_preview(client, token, before_rating=4)
    response = client.post("/api/v1/checkins", json={"preview_id": preview["id"], "rating": 2},
                           headers=api_headers(token))
    assert response.status_code == 201
    assert response.json | {"id": 0, "at": ""} == {"id": 0, "at": "", "preview_id": preview["id"], "from": "anxious",
                                                    "to": "calm", "moment": "after", "rating": 2}
    bad = client.post("/api/v1/checkins", json={"preview_id": preview["id"], "rating": 7}, headers=api_headers(token))
    assert bad.status_code == 422 and bad.json["error"]["field"] == "rating"
    page = client.get("/history").get_data(as_text=True)
    assert 'data-before="4" data-after="2"' in page


def test_empty_catalogue_is_503_with_a_clear_code(client, moods, fake_spotify):
    token = api_login(client, fake_spotify)
    response = client.post("/api/v1/previews", json={"from": "anxious", "to": "calm", "tracks": 5},
                           headers=api_headers(token))
    assert response.status_code == 503
    assert response.json["error"]["code"] == "catalogue_empty"


def test_a_crashed_save_is_resumed_once_its_lease_runs_out(client, app, catalogue, fake_spotify, monkeypatch):
    monkeypatch.setattr(saving, "WAIT_FOR_OTHER_SECONDS", 0.3)
    app.config["SAVE_RETRY_BUDGET"] = 0  # stop at the first failure
    token = api_login(client, fake_spotify)
    preview = api_preview(client, token)
    # A worker died right after Spotify created the playlist: the record says "created" and
    # still holds that worker's lease.
    fake_spotify.fail_next("POST", r"/v1/playlists/.*/items", 500)
    assert api_save(client, token, preview["id"]).status_code == 503
    with app.app_context():
        record = db.session.scalar(db.select(PlaylistSave))
        record.state = "created"
        record.lease_until = saving.utcnow() + saving.timedelta(minutes=5)
        db.session.commit()
    busy = api_save(client, token, preview["id"])
    assert busy.status_code == 409 and busy.json["error"]["code"] == "save_in_progress"
    with app.app_context():
        record = db.session.scalar(db.select(PlaylistSave))
        record.lease_until = saving.utcnow() - saving.timedelta(seconds=1)
        db.session.commit()
    assert api_save(client, token, preview["id"]).status_code == 201
    [playlist] = fake_spotify.playlists_of("listener-1")
    assert playlist.track_ids == [t["id"] for t in preview["tracks"]]


def test_from_my_music_without_library_access_is_403_with_the_way_to_allow_it(client, catalogue, fake_spotify):
    token = api_login(client, fake_spotify)
    response = client.post("/api/v1/previews", json={"from": "anxious", "to": "calm", "tracks": 5,
                                                     "from_my_music": True}, headers=api_headers(token))
    assert response.status_code == 403
    assert response.json["error"]["code"] == "scope_required"
    assert "/login?scopes=library" in response.json["error"]["message"]


def test_avoid_recent_leaves_out_tracks_of_my_last_saved_playlist(client, catalogue, fake_spotify):
    token = api_login(client, fake_spotify)
    first = api_preview(client, token, tracks=10)
    assert api_save(client, token, first["id"]).status_code == 201
    # A saved playlist counts as music the listener knows: at familiar = 100 the same seed picks it again.
    again = api_preview(client, token, tracks=10, seed=first["seed"], familiar=100)
    assert len({t["id"] for t in again["tracks"]} & {t["id"] for t in first["tracks"]}) >= 5
    fresh = api_preview(client, token, tracks=10, seed=first["seed"], avoid_recent=True, familiar=100)
    assert not {t["id"] for t in fresh["tracks"]} & {t["id"] for t in first["tracks"]}
    assert fresh["options"]["avoid_recent"] is True


def test_previews_are_rate_limited_per_listener(client, catalogue, fake_spotify):
    from curator.ratelimit import PREVIEWS_PER_MINUTE

    login(client, fake_spotify, "listener-1")
    token = client.get("/api/v1/session").json["csrf_token"]
    body = {"from": "anxious", "to": "calm", "tracks": 5}
    codes = [client.post("/api/v1/previews", json=body, headers=api_headers(token)).status_code
             for _ in range(PREVIEWS_PER_MINUTE)]
    refused = client.post("/api/v1/previews", json=body, headers=api_headers(token))
    # A minute-window boundary may reset the count once; never more than that.
    assert codes.count(201) == PREVIEWS_PER_MINUTE
    if refused.status_code != 201:
        assert refused.status_code == 429
        assert refused.json["error"]["code"] == "rate_limited"
        assert 0 < int(refused.headers["Retry-After"]) <= 60
    else:
        again = [client.post("/api/v1/previews", json=body, headers=api_headers(token)).status_code
                 for _ in range(PREVIEWS_PER_MINUTE)]
        assert again[-1] == 429


def test_a_point_of_the_mood_wheel_is_a_mood_to_curate_to(client, app, catalogue, fake_spotify):
    """Issue 20 item 2: `from`/`to` take a point {"valence", "arousal"} besides a slug."""
    login(client, fake_spotify, "listener-1")
    token = client.get("/api/v1/session").json["csrf_token"]

    def make(**body):
        return client.post("/api/v1/previews", json={"tracks": 12, **body}, headers=api_headers(token))

    made = make(**{"from": "anxious", "to": {"valence": 0.78, "arousal": 0.22}})
    assert made.status_code == 201, made.json
    body = made.json
    assert body["to"] == "point:0.78,0.22" and body["to_point"] == {"valence": 0.78, "arousal": 0.22}
    assert body["to_name"] == "Nearly calm" and body["from_point"] is None and body["from_name"] == "Anxious"
    # The slug it answers with makes the same preview again, and the arc ends near calm's energy.
    again = make(**{"from": "anxious", "to": body["to"], "seed": body["seed"]}).json
    assert [t["id"] for t in again["tracks"]] == [t["id"] for t in body["tracks"]]
    assert body["tracks"][-1]["position_target"]["energy"] < 0.3
    # An edit keeps the point.
    nudged = client.post(f"/api/v1/previews/{body['id']}/edits", json={"op": "nudge", "direction": "brighter"},
                         headers=api_headers(token))
    assert nudged.status_code == 201 and nudged.json["to"] == body["to"]
    for bad in ({"valence": 1.5, "arousal": 0.2}, {"valence": "x", "arousal": 0.2}, {"valence": 0.5},
                "point:2,0", {"valence": True, "arousal": 0.5}):
        refused = make(**{"from": "anxious", "to": bad})
        assert refused.status_code == 422 and refused.json["error"]["field"] == "to", bad
