"""Saves that ride out Spotify's bad minutes, end to end through the fake Spotify: 5xx, lost
answers, resets, late creates, 429 with Retry-After and an expired access token."""
from __future__ import annotations

import html
import re
import time

from curator.extensions import db
from curator.models.listening import PlaylistSave
from curator.playlists import saving
from tests.helpers import api_login, api_preview, api_save, assert_only_current_operations

ITEMS = r"/v1/playlists/.+/items"
CREATE = r"^/v1/me/playlists$"


def track_ids(preview) -> list[str]:
    return [t["id"] for t in preview["tracks"]]


def record(app) -> PlaylistSave:
    with app.app_context():
        row = db.session.scalar(db.select(PlaylistSave))
        db.session.expunge(row)
        return row


def test_five_503s_in_a_row_on_adding_items_the_first_save_ends_with_the_full_playlist(client, catalogue,
                                                                                       fake_spotify):
    token = api_login(client, fake_spotify)
    preview = api_preview(client, token, tracks=20)
    fake_spotify.fail_next("POST", ITEMS, 503, times=5)
    response = api_save(client, token, preview["id"])
    assert response.status_code == 201, response.json
    [playlist] = fake_spotify.playlists_of("listener-1")
    assert playlist.track_ids == track_ids(preview) and len(playlist.track_ids) == 20
    assert len(fake_spotify.calls("POST", CREATE)) == 1
    assert [c.status for c in fake_spotify.calls("POST", ITEMS)] == [503] * 5 + [201]
    assert_only_current_operations(fake_spotify)


def test_a_lost_answer_to_the_create_finds_the_playlist_instead_of_making_a_second(client, catalogue,
                                                                                  fake_spotify):
    token = api_login(client, fake_spotify)
    preview = api_preview(client, token)
    fake_spotify.drop_next("POST", CREATE, after=True)  # Spotify made it; the answer never came
    assert api_save(client, token, preview["id"]).status_code == 201
    [playlist] = fake_spotify.playlists_of("listener-1")
    assert playlist.track_ids == track_ids(preview)
    assert len(fake_spotify.calls("POST", CREATE)) == 1
    assert fake_spotify.calls("GET", CREATE)  # found by its marker


def test_a_reset_connection_on_create_creates_once_it_is_clear_nothing_was_made(client, catalogue, fake_spotify):
    token = api_login(client, fake_spotify)
    preview = api_preview(client, token)
    fake_spotify.drop_next("POST", CREATE)  # cut before Spotify acted on it
    assert api_save(client, token, preview["id"]).status_code == 201
    [playlist] = fake_spotify.playlists_of("listener-1")
    assert playlist.track_ids == track_ids(preview)
    assert [c.status for c in fake_spotify.calls("POST", CREATE)] == [0, 201]


def test_a_late_create_while_the_listener_retries_at_once_leaves_one_playlist(app, client, catalogue,
                                                                             fake_spotify, monkeypatch):
    monkeypatch.setattr(saving, "WAIT_FOR_OTHER_SECONDS", 3.0)
    app.config.update(SPOTIFY_TIMEOUT=0.4, SAVE_RETRY_BUDGET=0)  # the first save gives up at once
    token = api_login(client, fake_spotify)
    preview = api_preview(client, token)
    fake_spotify.delay_next("POST", CREATE, 1.0)  # reaches Spotify after we stopped waiting
    first = api_save(client, token, preview["id"])
    assert first.status_code == 503
    assert "didn't answer in time" in first.json["error"]["message"]
    assert "second one" in first.json["error"]["message"]
    # The listener presses save again at once: the save waits until the late create must have landed.
    # Its own calls get the usual timeout: 0.4 s is for the first save, and a loaded machine can take
    # longer than that to answer adding the items (a 503 "0 of 20 tracks so far" once, at load 12).
    app.config.update(SPOTIFY_TIMEOUT=5.0)
    assert api_save(client, token, preview["id"]).status_code in (200, 201)
    fake_spotify.wait_idle()
    [playlist] = fake_spotify.playlists_of("listener-1")
    assert playlist.track_ids == track_ids(preview)
    assert len(fake_spotify.calls("POST", CREATE)) == 1


def test_429_with_retry_after_is_waited_out_within_the_budget(app, client, catalogue, fake_spotify):
    token = api_login(client, fake_spotify)
    preview = api_preview(client, token)
    # Longer than the gateway waits inside one call (SPOTIFY_MAX_RETRY_WAIT = 2 in tests), within the budget.
    fake_spotify.fail_next("POST", ITEMS, 429, retry_after=2.5)
    started = time.monotonic()
    assert api_save(client, token, preview["id"]).status_code == 201
    assert time.monotonic() - started >= 2.5
    [playlist] = fake_spotify.playlists_of("listener-1")
    assert playlist.track_ids == track_ids(preview)


def test_an_expired_access_token_is_renewed_and_the_save_completes(client, catalogue, fake_spotify):
    token = api_login(client, fake_spotify)
    preview = api_preview(client, token)
    fake_spotify.expire_tokens("listener-1")
    fake_spotify.fail_next("POST", ITEMS, 502)
    assert api_save(client, token, preview["id"]).status_code == 201
    [playlist] = fake_spotify.playlists_of("listener-1")
    assert playlist.track_ids == track_ids(preview)
    assert fake_spotify.calls("POST", r"/accounts/api/token")  # refreshed


def test_a_save_that_runs_out_of_budget_says_why_and_offers_to_finish(app, client, catalogue, fake_spotify):
    app.config["SAVE_RETRY_BUDGET"] = 0  # Spotify is down for longer than the save may wait
    token = api_login(client, fake_spotify)
    preview = api_preview(client, token)
    fake_spotify.fail_next("POST", ITEMS, 503)
    failed = api_save(client, token, preview["id"])
    assert failed.status_code == 503
    message = failed.json["error"]["message"]
    assert "Spotify is having trouble right now" in message and "in time" not in message
    assert f"0 of {len(preview['tracks'])} tracks" in message
    row = record(app)
    assert row.state == "adding" and row.playlist_id and row.lease_until is None and row.last_error

    # The preview page says where the save stands and offers to finish it.
    page = " ".join(client.get(f"/previews/{preview['id']}").get_data(as_text=True).split())
    assert "Finish saving" in page and f"0 of {len(preview['tracks'])} tracks so far" in page
    unfinished = client.get(f"/api/v1/previews/{preview['id']}").json["unfinished_save"]
    assert unfinished["playlist_id"] == row.playlist_id and unfinished["items_added"] == 0
    assert unfinished["error"].startswith("Spotify is having trouble right now")

    assert api_save(client, token, preview["id"], key="key-1").status_code == 201
    [playlist] = fake_spotify.playlists_of("listener-1")
    assert playlist.track_ids == track_ids(preview)
    assert "Finish saving" not in client.get(f"/previews/{preview['id']}").get_data(as_text=True)
    assert client.get(f"/api/v1/previews/{preview['id']}").json["unfinished_save"] is None


def test_a_page_save_that_timed_out_says_it_timed_out(app, client, catalogue, fake_spotify, listener):
    app.config.update(SPOTIFY_TIMEOUT=0.3, SAVE_RETRY_BUDGET=0)
    response = client.post("/previews", data={"from": "anxious", "to": "calm", "length": 10, "unit": "tracks",
                                              "csrf_token": listener})
    preview_id = response.headers["Location"].rsplit("/", 1)[-1]
    fake_spotify.delay_next("POST", ITEMS, 0.8)
    saved = client.post(f"/previews/{preview_id}/save", data={"csrf_token": listener}, follow_redirects=True)
    text = " ".join(saved.get_data(as_text=True).split())
    assert "Spotify didn&#39;t answer in time" in text or "Spotify didn't answer in time" in text
    assert "having trouble" not in text
    assert "Finish saving" in text


def test_a_429_part_way_through_a_save_is_told_in_the_same_words_on_the_page_and_in_the_api(
        app, client, catalogue, fake_spotify, monkeypatch):
    monkeypatch.setattr(saving, "ADD_BATCH", 8)  # 20 tracks: three batches, the second refused
    token = api_login(client, fake_spotify)
    by_page, by_api = api_preview(client, token), api_preview(client, token)

    fake_spotify.fail_next("POST", ITEMS, 429, retry_after=600, passing=1)
    assert client.post(f"/previews/{by_page['id']}/save", data={"csrf_token": token}).status_code == 302
    page = html.unescape(client.get(f"/previews/{by_page['id']}").get_data(as_text=True))
    flashed = re.findall(r'<p class="flash flash-warning">(.*?)</p>', page, re.S)

    fake_spotify.fail_next("POST", ITEMS, 429, retry_after=600, passing=1)
    answer = api_save(client, token, by_api["id"])
    assert answer.status_code == 429 and answer.headers["Retry-After"] == "600"
    said = answer.json["error"]["message"]
    assert "Your playlist is in your Spotify account with 8 of 20 tracks so far." in said
    assert "try again in 600 seconds" in said and "Finish saving" in said

    def same(text: str) -> str:  # the two saves ran a moment apart: the clock time may differ
        return re.sub(r"after \d\d:\d\d:\d\d UTC", "after (time) UTC", text)

    assert [same(text) for text in flashed] == [same(said)]
    for preview in (by_page, by_api):
        [playlist] = [p for p in fake_spotify.playlists_of("listener-1") if p.track_ids == track_ids(preview)[:8]]
