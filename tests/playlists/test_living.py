"""Living playlists end to end through the fake Spotify: "keep it fresh" through the API, refreshes
in place exactly once per due time (PUT the first 100, POST the rest), faults, playlists gone from
Spotify, revoked logins, stopping and forgetting."""
from __future__ import annotations

import os
from datetime import datetime, timedelta

import pytest

from curator.clock import utcnow
from curator.extensions import db
from curator.models.listening import PlaylistSave
from curator.models.living import LivingPlaylist, PlaylistRefresh
from curator.models.user import User
from curator.playlists import pace, refreshing, service
from curator.playlists.living import next_due
from tests.helpers import api_headers, api_login, api_preview, api_save, login

ITEMS = r"^/v1/playlists/[^/]+/items$"


@pytest.fixture(autouse=True)
def _no_pause_between_tests():
    pace.reset()
    yield
    pace.reset()


def saved_playlist(client, fake, token, tracks=20, **body) -> dict:
    preview = api_preview(client, token, tracks=tracks, **body)
    response = api_save(client, token, preview["id"], key=f"key-{preview['id']}")
    assert response.status_code == 201, response.json
    return response.json


def keep_fresh(client, token, playlist_id, **body):
    return client.put(f"/api/v1/playlists/{playlist_id}/freshness", json=body, headers=api_headers(token))


def run_due(app, at: datetime) -> refreshing.RunReport:
    with app.app_context():
        report = service.refresh_due(at)
        db.session.remove()
        return report


def due_at(app, playlist_id) -> datetime:
    with app.app_context():
        return db.session.execute(db.select(LivingPlaylist.next_due_at)
                                  .where(LivingPlaylist.playlist_id == playlist_id)).scalar_one()


def as_datetime(value) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


# -- the schedule ------------------------------------------------------------------------------

def test_daily_due_times_are_at_the_hour_in_the_listeners_time_zone_across_a_clock_change():
    # 07:00 in Berlin is 06:00 UTC in winter and 05:00 UTC in summer.
    assert next_due("daily", 7, "Europe/Berlin", None, datetime(2026, 12, 5, 6, 0)) == datetime(2026, 12, 6, 6, 0)
    assert next_due("daily", 7, "Europe/Berlin", None, datetime(2026, 12, 5, 5, 59)) == datetime(2026, 12, 5, 6, 0)
    assert next_due("daily", 7, "Europe/Berlin", None, datetime(2027, 3, 27, 7, 0)) == datetime(2027, 3, 28, 5, 0)
    # Weekly: on the weekday it was turned on (5 = Saturday).
    assert next_due("weekly", 7, "UTC", 5, datetime(2026, 12, 5, 8, 0)) == datetime(2026, 12, 12, 7, 0)
    assert next_due("off", 7, "UTC", None, datetime(2026, 12, 5)) is None
    assert next_due("check-in", 7, "UTC", None, datetime(2026, 12, 5)) is None


def test_freshness_is_set_through_the_api_and_shown_in_the_playlist_json(client, catalogue, fake_spotify):
    token = api_login(client, fake_spotify)
    playlist = saved_playlist(client, fake_spotify, token)
    assert playlist["freshness"]["every"] == "off" and playlist["refreshed_at"] is None
    response = keep_fresh(client, token, playlist["id"], every="daily", hour=7, timezone="Europe/Berlin")
    assert response.status_code == 200, response.json
    fresh = response.json["freshness"]
    assert (fresh["every"], fresh["hour"], fresh["timezone"], fresh["status"]) == ("daily", 7, "Europe/Berlin", "active")
    assert fresh["next_at"].endswith(":00:00Z")
    [listed] = client.get("/api/v1/playlists").json["playlists"]
    assert listed["freshness"]["every"] == "daily"
    # Bad input is a clear 4xx naming the field, never a 500.
    for body, field in [({"every": "hourly"}, "every"), ({"every": "daily", "hour": 24}, "hour"),
                        ({"every": "daily", "hour": "7.5"}, "hour"), ({"every": "daily", "timezone": "Mars/Base"}, "timezone"),
                        ({"every": "daily", "timezone": "../../etc/passwd"}, "timezone")]:
        bad = keep_fresh(client, token, playlist["id"], **body)
        assert bad.status_code == 422 and bad.json["error"]["field"] == field, (body, bad.json)
    assert client.put(f"/api/v1/playlists/{playlist['id']}/freshness", data="x",
                      headers=api_headers(token)).status_code == 400
    # Only a playlist Curator saved for this listener.
    assert keep_fresh(client, token, "not-a-playlist-of-yours", every="daily").status_code == 404
    # Without the CSRF token, refused.
    assert client.put(f"/api/v1/playlists/{playlist['id']}/freshness", json={"every": "off"}).status_code in (400, 403)


def test_another_listeners_playlist_cannot_be_kept_fresh(app, client, catalogue, fake_spotify):
    token = api_login(client, fake_spotify)
    playlist = saved_playlist(client, fake_spotify, token)
    other = app.test_client()
    other_token = api_login(other, fake_spotify, "listener-2")
    assert keep_fresh(other, other_token, playlist["id"], every="daily").status_code == 404


# -- refreshing ---------------------------------------------------------------------------------

def test_a_due_playlist_is_refreshed_in_place_once_with_one_put(app, client, catalogue, fake_spotify):
    token = api_login(client, fake_spotify)
    playlist = saved_playlist(client, fake_spotify, token)
    old = fake_spotify.playlist(playlist["id"])
    keep_fresh(client, token, playlist["id"], every="daily", hour=7, timezone="UTC")
    due = due_at(app, playlist["id"])
    before = len(fake_spotify.calls(path_regex=r"^/v1/"))
    report = run_due(app, due)
    assert (report.claimed, report.refreshed) == (1, 1)
    new = fake_spotify.playlist(playlist["id"])
    assert len(new.entries) == 20 and new.name == old.name and new.description == old.description
    assert [e.uri for e in new.entries] != [e.uri for e in old.entries]
    calls = fake_spotify.calls(path_regex=r"^/v1/")[before:]
    assert [(c.method, c.status) for c in calls] == [("PUT", 200)]  # ⌈20/100⌉ = 1 call
    assert len(fake_spotify.playlists_of("listener-1")) == 1  # in place: no second playlist
    # The same due time again (another worker, a second run): nothing more.
    assert run_due(app, due).claimed == 0
    assert len(fake_spotify.calls(path_regex=r"^/v1/")) == before + 1
    listed = client.get("/api/v1/playlists").json["playlists"][0]
    assert listed["refreshed_at"] is not None and listed["freshness"]["new_tracks"] > 0
    assert listed["freshness"]["can_restore"] is True
    assert as_datetime(listed["freshness"]["next_at"].rstrip("Z")) == due + timedelta(days=1)
    page = client.get("/history").get_data(as_text=True)
    assert "Refreshed today at" in page or "Refreshed on" in page or "Refreshed yesterday" in page


def test_missed_due_times_are_refreshed_once(app, client, catalogue, fake_spotify):
    token = api_login(client, fake_spotify)
    playlist = saved_playlist(client, fake_spotify, token)
    keep_fresh(client, token, playlist["id"], every="daily", hour=7, timezone="UTC")
    due = due_at(app, playlist["id"])
    report = run_due(app, due + timedelta(days=3, hours=2))  # nobody ran the schedule for three days
    assert (report.claimed, report.refreshed) == (1, 1)
    assert due_at(app, playlist["id"]) == due + timedelta(days=4)


def test_a_250_track_refresh_is_one_put_then_two_posts_in_order_and_locked_tracks_stay(
        app, client, large_catalogue, fake_spotify):
    token = api_login(client, fake_spotify)
    preview = api_preview(client, token, tracks=150, **{"from": "calm", "to": "energised"})
    locked = preview["tracks"][40]["id"]
    kept = client.post(f"/api/v1/previews/{preview['id']}/edits", json={"op": "lock", "track_id": locked},
                       headers=api_headers(token))
    assert kept.status_code == 201  # a lock is a new version of the preview: that one is saved
    assert api_save(client, token, kept.json["id"]).status_code == 201
    pid = fake_spotify.playlists_of("listener-1")[0].id
    keep_fresh(client, token, pid, every="weekly", hour=9, timezone="Europe/Berlin")
    before = len(fake_spotify.calls(path_regex=ITEMS))
    assert run_due(app, due_at(app, pid)).refreshed == 1
    calls = fake_spotify.calls(path_regex=ITEMS)[before:]
    assert [c.method for c in calls] == ["PUT", "POST"]  # ⌈150/100⌉
    assert [len(c.json["uris"]) for c in calls] == [100, 50]
    with app.app_context():
        refresh = db.session.scalar(db.select(PlaylistRefresh))
        wanted = [t["id"] for t in refresh.tracks]
        assert refresh.calls == 2
    assert fake_spotify.playlist(pid).track_ids == wanted
    assert wanted[40] == locked  # the locked track in its place


def test_a_lost_answer_and_503s_between_put_and_post_end_complete_once(app, client, large_catalogue, fake_spotify):
    token = api_login(client, fake_spotify)
    preview = api_preview(client, token, tracks=150, **{"from": "calm", "to": "energised"})
    assert api_save(client, token, preview["id"]).status_code == 201
    pid = fake_spotify.playlists_of("listener-1")[0].id
    keep_fresh(client, token, pid, every="daily", hour=7, timezone="UTC")
    app.config["SPOTIFY_TIMEOUT"] = 2.0
    fake_spotify.drop_next("POST", ITEMS, after=True)  # the POST lands, its answer never comes
    fake_spotify.fail_next("PUT", ITEMS, 503, times=2)
    assert run_due(app, due_at(app, pid)).refreshed == 1
    with app.app_context():
        refresh = db.session.scalar(db.select(PlaylistRefresh))
        wanted = [t["id"] for t in refresh.tracks]
    assert fake_spotify.playlist(pid).track_ids == wanted  # all 150, in order, none doubled
    posts = fake_spotify.calls("POST", ITEMS)
    assert len([c for c in posts if c.json and c.json["uris"] and c.json["uris"][0] == f"spotify:track:{wanted[100]}"]) == 1


def test_a_429_pauses_every_refresh_and_honours_retry_after(app, client, catalogue, fake_spotify):
    token = api_login(client, fake_spotify)
    ids = [saved_playlist(client, fake_spotify, token)["id"] for _ in range(2)]
    for pid in ids:
        keep_fresh(client, token, pid, every="daily", hour=7, timezone="UTC")
    fake_spotify.fail_next("PUT", ITEMS, 429, retry_after=1)
    with app.app_context():
        start = datetime.now()
        report = service.refresh_due(max(due_at(app, pid) for pid in ids))
        took = (datetime.now() - start).total_seconds()
    assert report.refreshed == 2
    assert took >= 1.0  # Retry-After waited out
    puts = fake_spotify.calls("PUT", ITEMS)
    assert [c.status for c in puts] == [429, 200, 200]


# -- the world changes ----------------------------------------------------------------------------

def test_a_playlist_deleted_in_spotify_stops_refreshing_and_history_says_so(app, client, catalogue, fake_spotify):
    token = api_login(client, fake_spotify)
    playlist = saved_playlist(client, fake_spotify, token)
    keep_fresh(client, token, playlist["id"], every="daily", hour=7, timezone="UTC")
    with fake_spotify._lock:
        del fake_spotify._playlists[playlist["id"]]  # gone for good (Spotify answers 404)
    report = run_due(app, due_at(app, playlist["id"]))
    assert report.gone == 1 and report.refreshed == 0
    listed = client.get("/api/v1/playlists").json["playlists"][0]
    assert listed["freshness"]["status"] == "gone" and "no longer in your Spotify account" in listed["freshness"]["note"]
    assert "Stopped refreshing" in client.get("/history").get_data(as_text=True)
    with app.app_context():
        assert due_at(app, playlist["id"]) is None
    assert run_due(app, datetime(2030, 1, 1)).claimed == 0  # never again
    # Turning it on again does not bring it back to life.
    assert keep_fresh(client, token, playlist["id"], every="daily").json["freshness"]["status"] == "gone"
    assert run_due(app, datetime(2031, 1, 1)).claimed == 0


def test_a_playlist_the_listener_deleted_in_spotify_stops_once_a_weekly_look_finds_it_out_of_their_library(
        app, client, catalogue, fake_spotify):
    login(client, fake_spotify, "listener-1", scopes="library")  # a login that lets Curator look
    token = client.get("/api/v1/session").json["csrf_token"]
    playlist = saved_playlist(client, fake_spotify, token)
    keep_fresh(client, token, playlist["id"], every="daily", hour=7, timezone="UTC")
    due = due_at(app, playlist["id"])
    assert run_due(app, due).refreshed == 1  # looked: still theirs
    assert [c.json for c in fake_spotify.calls("GET", r"^/v1/me/library/contains$")] == [None]
    assert run_due(app, due + timedelta(days=1)).refreshed == 1  # within the week: not asked again
    assert len(fake_spotify.calls("GET", r"^/v1/me/library/contains$")) == 1
    with fake_spotify._lock:  # "delete" in Spotify: it leaves their library, writes still work
        fake_spotify._playlists[playlist["id"]].in_owners_library = False
    with app.app_context():  # a week later
        db.session.execute(db.update(LivingPlaylist).values(library_checked_at=utcnow() - timedelta(days=8)))
        db.session.commit()
    puts = len(fake_spotify.calls("PUT", ITEMS))
    report = run_due(app, due + timedelta(days=8))
    assert report.gone == 1 and len(fake_spotify.calls("PUT", ITEMS)) == puts  # nothing written
    listed = client.get("/api/v1/playlists").json["playlists"][0]
    assert listed["freshness"]["status"] == "gone"
    assert "you removed it from your Spotify library" in listed["freshness"]["note"]


def test_a_playlist_that_is_no_longer_theirs_stops_with_403(app, client, catalogue, fake_spotify):
    token = api_login(client, fake_spotify)
    playlist = saved_playlist(client, fake_spotify, token)
    keep_fresh(client, token, playlist["id"], every="daily", hour=7, timezone="UTC")
    with fake_spotify._lock:
        fake_spotify._playlists[playlist["id"]].owner = "someone-else"
    assert run_due(app, due_at(app, playlist["id"])).gone == 1
    listed = client.get("/api/v1/playlists").json["playlists"][0]
    assert listed["freshness"]["status"] == "gone" and "isn't yours" in listed["freshness"]["note"]
    assert not fake_spotify.calls("POST", ITEMS)[1:]  # nothing but the save's own add


def test_a_revoked_login_pauses_every_refresh_until_they_log_in_again_then_the_due_ones_run_once(
        app, client, catalogue, fake_spotify):
    token = api_login(client, fake_spotify)
    ids = [saved_playlist(client, fake_spotify, token)["id"] for _ in range(2)]
    for pid in ids:
        keep_fresh(client, token, pid, every="daily", hour=7, timezone="UTC")
    due = due_at(app, ids[0])
    with app.app_context():  # the access token has run out, and the refresh token is revoked
        db.session.execute(db.text("UPDATE spotify_tokens SET updated_at = updated_at"))
        db.session.commit()
    fake_spotify.expire_tokens("listener-1")
    fake_spotify.revoke_refresh_tokens("listener-1")
    from curator.spotify.token_store import DatabaseTokenCache
    with app.app_context():
        user = db.session.scalar(db.select(User))
        cache = DatabaseTokenCache(user.id)
        stale = dict(cache.get_cached_token())
        stale["expires_at"] = 0
        cache.save_token_to_cache(stale)
        db.session.remove()
    report = run_due(app, due)
    assert report.paused == 1 and report.refreshed == 0
    statuses = {p["freshness"]["status"] for p in client.get("/api/v1/playlists").json["playlists"]}
    assert statuses == {"paused"}
    assert "log in again" in client.get("/history").get_data(as_text=True).lower()
    puts_before = len(fake_spotify.calls("PUT", ITEMS))
    assert run_due(app, due + timedelta(days=2)).refreshed == 0  # still paused: nothing sent
    assert len(fake_spotify.calls("PUT", ITEMS)) == puts_before
    login(client, fake_spotify, "listener-1")  # back: the due ones run, once each
    report = run_due(app, due + timedelta(days=2, hours=1))
    assert report.refreshed == 2
    assert run_due(app, due + timedelta(days=2, hours=2)).refreshed == 0
    statuses = {p["freshness"]["status"] for p in client.get("/api/v1/playlists").json["playlists"]}
    assert statuses == {"active"}


def test_turning_it_off_stops_and_deleting_the_account_forgets(app, client, catalogue, fake_spotify):
    token = api_login(client, fake_spotify)
    playlist = saved_playlist(client, fake_spotify, token)
    keep_fresh(client, token, playlist["id"], every="daily", hour=7, timezone="UTC")
    due = due_at(app, playlist["id"])
    keep_fresh(client, token, playlist["id"], every="off")
    assert run_due(app, due + timedelta(days=1)).claimed == 0
    keep_fresh(client, token, playlist["id"], every="daily")
    with app.app_context():
        user = db.session.scalar(db.select(User))
        service.delete_account(user)
        assert db.session.scalar(db.select(db.func.count()).select_from(PlaylistRefresh)) == 0
        assert db.session.scalar(db.select(db.func.count()).select_from(LivingPlaylist)) == 0
    assert run_due(app, due + timedelta(days=5)).claimed == 0


def test_restore_brings_back_the_previous_version_once(app, client, catalogue, fake_spotify):
    token = api_login(client, fake_spotify)
    playlist = saved_playlist(client, fake_spotify, token)
    original = fake_spotify.playlist(playlist["id"]).track_ids
    keep_fresh(client, token, playlist["id"], every="daily", hour=7, timezone="UTC")
    run_due(app, due_at(app, playlist["id"]))
    assert fake_spotify.playlist(playlist["id"]).track_ids != original
    response = client.post(f"/api/v1/playlists/{playlist['id']}/restore", headers=api_headers(token))
    assert response.status_code == 200, response.json
    assert fake_spotify.playlist(playlist["id"]).track_ids == original
    assert response.json["freshness"]["can_restore"] is False
    again = client.post(f"/api/v1/playlists/{playlist['id']}/restore", headers=api_headers(token))
    assert again.status_code == 422


def test_at_each_check_in_from_its_mood_it_is_refreshed_once(app, client, catalogue, fake_spotify):
    token = api_login(client, fake_spotify)
    playlist = saved_playlist(client, fake_spotify, token, before_rating=2)  # anxious -> calm
    keep_fresh(client, token, playlist["id"], every="check-in")
    assert due_at(app, playlist["id"]) is None
    later = utcnow() + timedelta(minutes=5)
    assert run_due(app, later).claimed == 0  # the check-in before turning it on does not count
    api_preview(client, token, **{"from": "tired", "to": "calm", "before_rating": 3})
    assert run_due(app, later).claimed == 0  # another mood
    api_preview(client, token, before_rating=4)  # starts from anxious
    api_preview(client, token, before_rating=5, tracks=10)  # and again before the schedule ran: one refresh
    report = run_due(app, later)
    assert (report.claimed, report.refreshed) == (1, 1)
    assert run_due(app, later + timedelta(minutes=5)).claimed == 0  # until the next check-in
    api_preview(client, token, before_rating=3)
    assert run_due(app, later + timedelta(minutes=10)).refreshed == 1


def test_nothing_touches_a_playlist_curator_did_not_save(app, client, catalogue, fake_spotify):
    token = api_login(client, fake_spotify)
    fake_spotify.add_playlist("their-own", "listener-1", [], name="Mine")
    assert keep_fresh(client, token, "their-own", every="daily").status_code == 404
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(PlaylistSave)) == 0


def test_flask_jobs_run_due_refreshes_the_due_playlists_once_per_due_time(app, client, runner, catalogue,
                                                                          fake_spotify):
    token = api_login(client, fake_spotify)
    playlist = saved_playlist(client, fake_spotify, token)
    keep_fresh(client, token, playlist["id"], every="daily", hour=7, timezone="UTC")
    due = due_at(app, playlist["id"])
    at = due.isoformat() + "+00:00"
    result = runner.invoke(args=["jobs", "run-due", "--at", at])
    assert result.exit_code == 0, result.output
    assert [c.status for c in fake_spotify.calls("PUT", ITEMS)] == [200]
    assert runner.invoke(args=["jobs", "run-due", "--at", at]).exit_code == 0  # the same due time: nothing
    assert len(fake_spotify.calls("PUT", ITEMS)) == 1
    listed = client.get("/api/v1/playlists").json["playlists"][0]
    assert listed["refreshed_at"] is not None


def test_the_admin_sees_due_late_failing_refreshes_and_their_spotify_calls(app, client, catalogue, fake_spotify):
    import re as regex

    token = api_login(client, fake_spotify)
    ids = [saved_playlist(client, fake_spotify, token)["id"] for _ in range(3)]
    for pid in ids:
        keep_fresh(client, token, pid, every="daily", hour=7, timezone="UTC")
    due = due_at(app, ids[0])
    with app.app_context():  # two of them were due an hour ago: one is now refreshed, one keeps failing
        db.session.execute(db.update(LivingPlaylist).where(LivingPlaylist.playlist_id.in_(ids[:2]))
                           .values(next_due_at=due - timedelta(days=1)))
        db.session.commit()
    fake_spotify.fail_next("PUT", ITEMS, 503, times=50, passing=1)
    app.config["LIVING_RETRY_BUDGET"] = 0.5
    report = run_due(app, utcnow())
    assert (report.claimed, report.refreshed, report.failed) == (2, 1, 1)
    admin = app.test_client()
    login(admin, fake_spotify, "admin-user")
    page = admin.get("/admin/").get_data(as_text=True)

    def shown(name):
        return regex.search(rf'data-living="{name}">(\d+)', page).group(1)

    assert shown("due") == "1"  # the failed one is still to do
    assert shown("failing") == "1"
    assert shown("late") == "1"  # due a day ago
    assert shown("refreshed") == "1"
    assert int(shown("calls")) >= 2  # the PUT that landed and the failed ones


def test_the_pages_forms_keep_it_fresh_and_refuse_a_post_without_the_csrf_token(app, client, catalogue, fake_spotify):
    token = api_login(client, fake_spotify)
    playlist = saved_playlist(client, fake_spotify, token)
    path = f"/playlists/{playlist['id']}/freshness"
    assert client.post(path, data={"every": "daily"}).status_code == 400  # no CSRF token
    response = client.post(path, data={"csrf_token": token, "every": "weekly", "hour": "21", "timezone": "Asia/Tokyo",
                                       "back": "saved", "preview_id": playlist["preview_id"]})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/previews/{playlist['preview_id']}/playlist")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "is kept fresh" in page and "at 21:00 (Asia/Tokyo)" in page
    bad = client.post(path, data={"csrf_token": token, "every": "daily", "timezone": "Nowhere/Land"})
    assert bad.status_code == 302
    assert "There is no time zone called" in client.get("/history").get_data(as_text=True)
    assert client.post("/playlists/nope/freshness", data={"csrf_token": token, "every": "daily"}).status_code == 404


def test_spotifys_pause_is_shared_through_redis_when_it_is_set(app, monkeypatch):
    import uuid

    redis = pytest.importorskip("redis")
    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    try:
        redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5).ping()
    except redis.RedisError:
        pytest.skip(f"no Redis at {url} (set TEST_REDIS_URL)")
    monkeypatch.setattr(pace, "KEY", f"curator:test-pause:{uuid.uuid4().hex}")
    app.config["REDIS_URL"] = url
    with app.app_context():
        assert pace.pause_left() == 0
        pace.slow_down(2.0)
        pace.reset()  # another process: nothing of its own, only what Redis says
        assert 1.0 < pace.pause_left() <= 2.0
        pace.slow_down(0.5)  # a shorter pause never cuts a longer one short
        pace.reset()
        assert pace.pause_left() > 1.0
