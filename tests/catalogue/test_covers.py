"""Album covers for tracks that came without one (issue 20 item 3), end to end: a dataset imported
without covers, the fake Spotify (which checks every request against the spec) giving Spotify's
CDN images, the job runner's schedule (`flask jobs run-due`) looking each track up once, ever, a
listener's preview naming the CDN image, and Spotify's rate limits honoured."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from curator.catalogue import covers
from curator.extensions import db
from curator.jobs import lease
from curator.models.catalogue import CatalogueTrack
from tests.helpers import import_rows, logged_in, login, preview_path, start, synthetic_rows

IMAGE = "https://i.scdn.co/image/ab67616d00004851{:024x}"
TRACK_CALL = r"^/v1/tracks/[^/]+$"


@pytest.fixture
def world(app, moods, fake_spotify, tmp_path):
    """240 dataset tracks without covers; Spotify knows each with its album's CDN image, but for
    the last 5 (gone from Spotify: 404) and 5 more whose album has no image; an admin has logged in."""
    # Set on the app itself: the app exists before this fixture runs. The pace has a test of its own.
    app.config["COVER_LOOKUPS_PER_MINUTE"] = 60_000
    rows = synthetic_rows()
    import_rows(app, fake_spotify, tmp_path, rows)
    for i, row in enumerate(rows[:230]):
        fake_spotify.add_track(row["id"], name=row["name"], duration_ms=row["length"],
                               album=(f"alb{i:019d}", f"Album {i}", IMAGE.format(i) if i < 225 else None))
    with fake_spotify._lock:  # gone from Spotify
        for row in rows[235:]:
            fake_spotify._tracks.pop(row["id"], None)
    login(app.test_client(), fake_spotify, "admin-user")
    return rows


def stored_covers(app) -> dict[str, tuple[str | None, bool]]:
    with app.app_context():
        return {t: (image, looked is not None) for t, image, looked in db.session.execute(
            select(CatalogueTrack.id, CatalogueTrack.image_url, CatalogueTrack.cover_looked_up_at))}


def run_due(runner, at: datetime):
    result = runner.invoke(args=["jobs", "run-due", "--at", at.isoformat()])
    assert result.exit_code == 0, result.output
    return result


def test_the_schedule_looks_each_track_up_once_ever_and_previews_name_the_cdn_image(
        app, runner, client, world, fake_spotify):
    due = datetime(2026, 12, 5, 8, 0, tzinfo=timezone.utc)
    run_due(runner, due)  # one batch of covers.BATCH
    assert len(fake_spotify.calls("GET", TRACK_CALL)) == covers.BATCH
    run_due(runner, due)  # the same due time again: nothing more (the runner runs it once)
    assert len(fake_spotify.calls("GET", TRACK_CALL)) == covers.BATCH
    run_due(runner, due + timedelta(minutes=10))  # the next: the rest
    calls = fake_spotify.calls("GET", TRACK_CALL)
    asked = [c.path.rsplit("/", 1)[1] for c in calls]
    assert sorted(asked) == sorted(r["id"] for r in world)  # every track once
    assert {c.status for c in calls[:-5]} <= {200, 404} and not fake_spotify.violations
    found = stored_covers(app)
    for i, row in enumerate(world):
        image, looked = found[row["id"]]
        assert looked and image == (IMAGE.format(i) if i < 225 else None), (i, image)
    # Ever: later runs ask nothing, not even for the tracks that have no cover.
    run_due(runner, due + timedelta(minutes=20))
    assert len(fake_spotify.calls("GET", TRACK_CALL)) == 240
    # A listener's preview names Spotify's CDN image; the server never fetches one.
    token = logged_in(client, fake_spotify)
    page = client.get(preview_path(start(client, token))).get_data(as_text=True)
    shown = re.findall(r'<img class="cover" src="([^"]+)"', page)
    assert len(shown) >= 15 and all(src.startswith("https://i.scdn.co/image/") for src in shown)
    assert not fake_spotify.calls("GET", r"^/images/")


def test_a_long_retry_after_pauses_every_run_until_it_has_passed(app, world, fake_spotify):
    fake_spotify.fail_next("GET", TRACK_CALL, 429, retry_after=600, passing=3)
    with app.app_context():
        report = covers.look_up_as_admin(limit=50)
        assert report.looked_up == 3 and report.paused_until is not None and "wait 600 seconds" in report.stopped
        asked = len(fake_spotify.calls("GET", TRACK_CALL))
        assert asked == 4  # three answers and the 429: nothing after it
        again = covers.look_up_as_admin(limit=50)  # another run (any process) waits too
        assert again.looked_up == 0 and len(fake_spotify.calls("GET", TRACK_CALL)) == asked
        assert again.remaining == 237
        lease.release(covers.PAUSE, lease.held(covers.PAUSE)[0])  # as if the 600 seconds had passed
        later = covers.look_up_as_admin(limit=50)
        assert later.looked_up == 50 and later.stopped is None
    # The track refused with 429 was not remembered: it was asked again, once.
    paths = [c.path for c in fake_spotify.calls("GET", TRACK_CALL)]
    assert paths[3] == paths[4] and len(set(paths)) == 53 and not fake_spotify.violations


def test_a_short_retry_after_is_waited_out_by_the_gateway(app, world, fake_spotify):
    fake_spotify.fail_next("GET", TRACK_CALL, 429, retry_after=1, passing=1)
    with app.app_context():
        report = covers.look_up_as_admin(limit=4)
    assert report.looked_up == 4 and report.stopped is None and report.paused_until is None
    assert [c.status for c in fake_spotify.calls("GET", TRACK_CALL)] == [200, 429, 200, 200, 200]


def test_spotify_failing_stops_the_run_and_forgets_nothing(app, world, fake_spotify):
    fake_spotify.fail_next("GET", TRACK_CALL, 503, times=1 + app.config["SPOTIFY_MAX_RETRIES"], passing=2)
    with app.app_context():
        report = covers.look_up_as_admin(limit=20)
        assert report.looked_up == 2 and report.stopped == "Stopped: Spotify answered 503. The next run carries on."
        assert report.remaining == 238  # the failed one is asked again next time
        assert covers.look_up_as_admin(limit=1).looked_up == 1
    paths = [c.path for c in fake_spotify.calls("GET", TRACK_CALL)]
    assert paths[-1] == paths[2]


def test_lookups_keep_to_the_pace(app, world, fake_spotify):
    slept = []
    with app.app_context():
        from curator.catalogue.jobs import refresh_identity
        from curator.spotify import gateway_for

        gateway = gateway_for(refresh_identity().id)
        report = covers.look_up_covers(gateway, limit=5, per_minute=30, sleep=slept.append)
    assert report.looked_up == 5 and len(slept) == 4
    assert all(1.5 < s <= 2.0 for s in slept), slept  # 2 s apart, less what each call took


def test_one_run_at_a_time_and_none_without_an_admin_login(app, moods, fake_spotify, tmp_path, runner):
    app.config["COVER_LOOKUPS_PER_MINUTE"] = 60_000
    import_rows(app, fake_spotify, tmp_path, synthetic_rows(10))
    result = runner.invoke(args=["catalog", "covers"])
    assert result.exit_code == 1 and "None of the admins (admin-user) has logged in" in result.output
    login(app.test_client(), fake_spotify, "admin-user")
    with app.app_context():
        assert lease.acquire(covers.LOCK, "another-run")
        assert "Another run" in covers.look_up_as_admin().stopped
        lease.release(covers.LOCK, "another-run")
    assert not fake_spotify.calls("GET", TRACK_CALL)
    result = runner.invoke(args=["catalog", "covers", "--limit", "4"])
    assert result.exit_code == 0 and "4 tracks looked up, 0 covers found, 6 still to look up." in result.output
