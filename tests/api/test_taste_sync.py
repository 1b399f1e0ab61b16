"""Issue 21, the Spotify data a listener shares: opt-in per source with its own scope, synced on the
job runner (one pass of paged calls the first time, only the new pages after), against the fake
Spotify (every request checked against the spec)."""
from __future__ import annotations

from curator.extensions import db
from curator.models.taste import TasteItem
from tests.api.test_taste_api import varied  # noqa: F401 - the fixture
from tests.helpers import api_headers, csrf_from, login, track_id


def _calls(fake, path: str) -> int:
    return sum(1 for c in fake.calls() if c.path == f"/v1/{path}")


def test_shared_top_artists_and_saved_tracks_sync_incrementally_and_steer_familiar(client, app, varied,  # noqa: F811
                                                                                  fake_spotify):
    app.config["JOBS_INLINE"] = True
    rows = list(varied.values())
    theirs = [r for r in rows if r["artist"] in ("Artist 5", "Artist 6", "Artist 7")]
    for r in theirs:  # the same tracks, by the same artists, in Spotify
        n = r["artist"].split()[-1]
        fake_spotify.add_track(r["id"], name=r["name"], duration_ms=r["length"], artists=[(f"ar{n}", r["artist"])])
    fake_spotify.add_user("listener-1", display_name="Robin")
    fake_spotify.set_top_artists("listener-1", ["ar5", "ar6", "ar7"])
    fake_spotify.set_top_tracks("listener-1", [r["id"] for r in theirs[:10]])
    saved = [r["id"] for r in rows[:120]]
    fake_spotify.save_tracks("listener-1", reversed(saved))  # the first of `saved` is the newest

    login(client, fake_spotify, "listener-1")
    page = client.get("/taste")
    assert "Your top artists and tracks" in page.get_data(as_text=True)
    # Sharing asks for each source's scope first, then comes back to the taste page.
    asked = client.post("/taste/shares", data={"csrf_token": csrf_from(page.data), "share": ["top", "saved"]})
    assert asked.status_code == 302 and "/login?scopes=saved,top" in asked.headers["Location"]
    assert _calls(fake_spotify, "me/top/artists") == 0  # nothing read before the listener allowed it
    login(client, fake_spotify, "listener-1", scopes="top,saved")
    before = len(fake_spotify.calls())
    client.get("/taste")  # the sync is due: queued (run inline here), never inside a preview
    first = fake_spotify.calls()[before:]
    assert sum(c.path == "/v1/me/tracks" for c in first) == 3  # 120 saved: three pages of 50, once
    assert sum(c.path == "/v1/me/top/artists" for c in first) == 1
    assert sum(c.path == "/v1/me/top/tracks" for c in first) == 1
    held = client.get("/api/v1/taste").json
    assert held["synced"] == {"saved": 120, "top_artists": 3, "top_tracks": 10} and held["shares"] == ["saved", "top"]

    # Familiar at 100: their artists.
    token = client.get("/api/v1/session").json["csrf_token"]
    preview = client.post("/api/v1/previews", json={"from": "anxious", "to": "calm", "tracks": 10, "familiar": 100},
                          headers=api_headers(token)).json
    known = {"Artist 5", "Artist 6", "Artist 7"} | {varied[i]["artist"] for i in saved}
    assert sum(t["artists"][0] in known for t in preview["tracks"]) >= 9
    before = len(fake_spotify.calls())
    with app.app_context():
        from curator.playlists import service
        assert service.sync_taste(1) == 0  # nothing new: one page, and the top lists are fresh
    again = fake_spotify.calls()[before:]
    assert [c.path for c in again] == ["/v1/me/tracks"]
    # One more saved: only the new page, and it is held.
    fake_spotify.save_tracks("listener-1", [rows[200]["id"]])
    with app.app_context():
        assert service.sync_taste(1) == 1
        assert db.session.query(TasteItem).filter_by(source="saved").count() == 121
    assert not fake_spotify.violations

    # Stop sharing the top lists: their items are forgotten at once.
    page = client.get("/taste")
    client.post("/taste/shares", data={"csrf_token": csrf_from(page.data), "share": ["saved"]})
    assert client.get("/api/v1/taste").json["synced"] == {"saved": 121}
    assert track_id(0) in {i for i in saved}
