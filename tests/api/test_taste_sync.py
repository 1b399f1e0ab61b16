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


def _asked(fake, before: int, path: str) -> list:
    return [c for c in fake.calls()[before:] if c.path == f"/v1/{path}"]


def test_followed_artists_and_recently_played_are_shared_apart_and_synced_incrementally(
        client, app, varied, fake_spotify):  # noqa: F811
    from datetime import datetime, timedelta

    from sqlalchemy import select

    from curator.models.catalogue import CatalogueTrack
    from curator.models.taste import ListenerTaste
    from curator.playlists import service
    from tests.helpers import FEATURES

    app.config["JOBS_INLINE"] = True
    rows = list(varied.values())
    for r in rows:  # the catalogue's tracks in Spotify, each artist with an id of its own
        n = r["artist"].split()[-1]
        fake_spotify.add_track(r["id"], name=r["name"], duration_ms=r["length"], artists=[(f"ar{int(n):03d}", r["artist"])])
    fake_spotify.add_user("listener-1", display_name="Robin")
    artists = sorted({r["artist"] for r in rows}, key=lambda a: int(a.split()[-1]))
    followed = artists[:60]
    fake_spotify.follow_artists("listener-1", [f"ar{int(a.split()[-1]):03d}" for a in followed])
    played = [r["id"] for r in rows[300:420]]
    fake_spotify.play_tracks("listener-1", played, at_ms=1_764_900_000_000)

    login(client, fake_spotify, "listener-1")
    page = client.get("/taste")
    text = page.get_data(as_text=True)
    assert "The artists you follow" in text and "What you played lately" in text
    # Each source asks for its own scope only, when turned on.
    asked = client.post("/taste/shares", data={"csrf_token": csrf_from(page.data), "share": ["followed"]})
    assert asked.status_code == 302 and "/login?scopes=followed" in asked.headers["Location"]
    assert not _calls(fake_spotify, "me/following")
    login(client, fake_spotify, "listener-1", scopes="followed")
    assert "user-follow-read" in fake_spotify.granted_scopes("listener-1")
    assert "user-read-recently-played" not in fake_spotify.granted_scopes("listener-1")
    before = len(fake_spotify.calls())
    page = client.get("/taste")  # due: run on the job runner (inline here), never inside a preview
    assert len(_asked(fake_spotify, before, "me/following")) == 2  # 60 followed: two pages of 50, one pass
    assert not _asked(fake_spotify, before, "me/player/recently-played")  # not shared, not asked
    asked = client.post("/taste/shares", data={"csrf_token": csrf_from(page.data), "share": ["followed", "recent"]})
    assert "/login?scopes=recent" in asked.headers["Location"]
    login(client, fake_spotify, "listener-1", scopes="recent")
    assert "user-read-recently-played" in fake_spotify.granted_scopes("listener-1")

    before = len(fake_spotify.calls())
    client.get("/taste")
    assert not _asked(fake_spotify, before, "me/following")  # read today already
    history = _asked(fake_spotify, before, "me/player/recently-played")
    assert len(history) == 3  # 120 plays: three pages back through the history, once
    assert "before" not in history[0].query and all("before" in c.query for c in history[1:])
    held = client.get("/api/v1/taste").json
    assert held["synced"] == {"followed": 60, "recent": 120} and held["shares"] == ["followed", "recent"]
    page = client.get("/taste").get_data(as_text=True)
    assert "From Spotify, artists you follow: 60." in page and "From Spotify, what you played lately: 120." in page

    # Familiar at 100 draws on both.
    token = client.get("/api/v1/session").json["csrf_token"]
    preview = client.post("/api/v1/previews", json={"from": "anxious", "to": "calm", "tracks": 10, "familiar": 100},
                          headers=api_headers(token)).json
    known = set(followed) | {varied[i]["artist"] for i in played}
    assert sum(t["artists"][0] in known for t in preview["tracks"]) >= 9

    # Nothing new: one call for the plays after the newest held, none for the artists (read today).
    before = len(fake_spotify.calls())
    with app.app_context():
        assert service.sync_taste(1) == 0
    again = fake_spotify.calls()[before:]
    assert [c.path for c in again] == ["/v1/me/player/recently-played"]
    assert again[0].query.get("after") == [str(1_764_900_000_000)]

    # 70 new plays, two of tracks the catalogue lacks: only the new pages, their features asked once.
    fresh = [("new-1", "New One"), ("new-2", "New Two")]
    for tid, name in fresh:
        fake_spotify.add_track(tid, name=name, artists=[("ar-new", "Someone New")])
        fake_spotify.set_features(tid, FEATURES)
    fake_spotify.play_tracks("listener-1", [r["id"] for r in rows[430:498]] + [t for t, _ in fresh])
    before = len(fake_spotify.calls())
    with app.app_context():
        assert service.sync_taste(1) == 70
        assert {t for t, _ in fresh} <= set(db.session.scalars(select(CatalogueTrack.id)))
    calls = fake_spotify.calls()[before:]
    assert len([c for c in calls if c.path == "/v1/me/player/recently-played"]) == 2  # 70 new: two pages
    features_asked = [c for c in calls if "reccobeats" in c.path or "audio-features" in c.path]
    before = len(fake_spotify.calls())
    with app.app_context():
        assert service.sync_taste(1) == 0
    assert [c.path for c in fake_spotify.calls()[before:]] == ["/v1/me/player/recently-played"]
    assert features_asked  # the new tracks' features were asked for, once: not again above
    assert client.get("/api/v1/taste").json["synced"] == {"followed": 60, "recent": 190}

    # A day on: the followed artists are read again in one pass; only the difference is written.
    fake_spotify.follow_artists("listener-1", ["ar100"])
    fake_spotify.unfollow_artists("listener-1", ["ar000"])
    with app.app_context():
        row = db.session.get(ListenerTaste, 1)
        state = {k: dict(v) for k, v in row.sync_state.items()}
        state["followed"]["at"] = (datetime.fromisoformat(state["followed"]["at"]) - timedelta(days=1)).isoformat()
        row.sync_state = state
        db.session.commit()
    before = len(fake_spotify.calls())
    with app.app_context():
        service.sync_taste(1)
        names = set(db.session.scalars(select(TasteItem.name).where(TasteItem.source == "followed")))
    assert len(_asked(fake_spotify, before, "me/following")) == 2
    assert "Artist 100" in names and "Artist 0" not in names and len(names) == 60
    assert not fake_spotify.violations

    # Stop sharing the plays: forgotten at once; the rest goes with a reset.
    page = client.get("/taste")
    client.post("/taste/shares", data={"csrf_token": csrf_from(page.data), "share": ["followed"]})
    assert client.get("/api/v1/taste").json["synced"] == {"followed": 60}
    assert client.delete("/api/v1/taste", headers=api_headers(token)).status_code == 204
    assert client.get("/api/v1/taste").json["synced"] == {}


def test_deleting_the_account_deletes_the_followed_and_recent_items(client, app, varied, fake_spotify):  # noqa: F811
    from curator.models.taste import ListenerTaste

    app.config["JOBS_INLINE"] = True
    row = next(iter(varied.values()))
    fake_spotify.add_track(row["id"], name=row["name"], artists=[("ar-x", row["artist"])])
    fake_spotify.add_user("listener-1", display_name="Robin")
    fake_spotify.follow_artists("listener-1", ["ar-x"])
    fake_spotify.play_tracks("listener-1", [row["id"]])
    login(client, fake_spotify, "listener-1", scopes="followed,recent")
    page = client.get("/taste")
    client.post("/taste/shares", data={"csrf_token": csrf_from(page.data), "share": ["followed", "recent"]})
    assert client.get("/api/v1/taste").json["synced"] == {"followed": 1, "recent": 1}
    page = client.get("/settings")
    gone = client.post("/settings/delete-account", data={"csrf_token": csrf_from(page.data), "confirm": "yes"})
    assert gone.status_code in (302, 303)
    with app.app_context():
        assert db.session.query(TasteItem).count() == 0
        assert db.session.query(ListenerTaste).count() == 0
