"""`flask --app curator seeds refresh` against the fake Spotify: what it stores, what it costs."""
from __future__ import annotations

import math

from sqlalchemy import func, select

from curator.extensions import db
from curator.models.catalogue import CatalogueTrack, RefreshRun, Seed, TrackSource
from tests.helpers import (  # noqa: F401  (FEATURES, OTHERS_PLAYLIST: imported from here by other modules)
    ARTIST,
    FEATURES,
    OTHERS_PLAYLIST,
    PLAYLIST,
    QUERY,
    TRACK,
    add_seeds,
    base62,
    build_world,
    in_app,
    login,
)


def minimum_calls(*, playlist_tracks=120, albums=12, per_album=3, search_hits=25):
    """Fewest Spotify requests the API's page sizes allow for the seeds of `build_world`."""
    playlist = 1 + math.ceil(playlist_tracks / 50)  # snapshot check, then items pages of 50
    artist = math.ceil(albums / 10) + albums * math.ceil(per_album / 50)  # album pages of 10, track pages of 50
    track = 1
    search = math.ceil(min(search_hits, 50) / 10)  # search pages of 10, 50 results a seed
    return playlist + artist + track + search


def all_seeds(app):
    add_seeds(app, playlist=f"https://open.spotify.com/playlist/{PLAYLIST}?si=1", artist=f"spotify:artist:{ARTIST}",
              track=TRACK, search=QUERY)


def spotify_calls(fake):
    return [r for r in fake.requests if r.path.startswith("/v1/")]


def catalogue_size(app):
    return in_app(app, lambda: db.session.scalar(select(func.count(CatalogueTrack.id))))


def test_refresh_fills_the_catalogue_with_the_minimum_number_of_calls(app, client, runner, fake_spotify, moods):
    found = build_world(fake_spotify)
    login(client, fake_spotify, "admin-user")
    all_seeds(app)
    before = len(spotify_calls(fake_spotify))

    result = runner.invoke(args=["seeds", "refresh"])

    assert result.exit_code == 0, result.output
    expected = minimum_calls()
    assert expected == 22
    assert f"Spotify calls: {expected}" in result.output
    assert len(spotify_calls(fake_spotify)) - before == expected
    assert f"{len(found)} tracks added" in result.output
    assert "3 tracks still without features" in result.output
    reccobeats = fake_spotify.calls("GET", r"^/reccobeats/v1/audio-features$")
    assert len(reccobeats) == math.ceil(len(found) / 40)
    assert all(len(r.query["ids"]) <= 40 for r in reccobeats)

    def check():
        assert db.session.scalar(select(func.count(CatalogueTrack.id))) == len(found)
        assert db.session.scalar(select(func.count(CatalogueTrack.features_source))) == len(found) - 3
        track = db.session.get(CatalogueTrack, found[5])
        assert track.features_source == "reccobeats" and track.isrc and track.album == "Playlist album"
        album_track = db.session.get(CatalogueTrack, base62(0, "r"))
        assert album_track.album == "Album 0" and album_track.image_url
        moods_of = set(db.session.scalars(select(TrackSource.mood).where(TrackSource.track_id == TRACK)))
        assert moods_of == {"calm"}
        run = db.session.scalar(select(RefreshRun))
        assert run.status == "finished" and run.spotify_calls == expected and run.provider_calls == {"reccobeats": len(reccobeats)}

    in_app(app, check)


def test_second_run_with_nothing_changed_makes_only_the_snapshot_checks(app, client, runner, fake_spotify, moods):
    build_world(fake_spotify)
    login(client, fake_spotify, "admin-user")
    all_seeds(app)
    assert runner.invoke(args=["seeds", "refresh"]).exit_code == 0
    before = len(spotify_calls(fake_spotify))
    reccobeats_before = len(fake_spotify.calls(None, "^/reccobeats/"))

    result = runner.invoke(args=["seeds", "refresh"])

    assert result.exit_code == 0, result.output
    new = spotify_calls(fake_spotify)[before:]
    assert [(r.method, r.path) for r in new] == [("GET", f"/v1/playlists/{PLAYLIST}")]
    assert "snapshot_id" in new[0].query["fields"][0]
    assert "Spotify calls: 1" in result.output
    # Tracks no provider knew are not asked about again on every run.
    assert len(fake_spotify.calls(None, "^/reccobeats/")) == reccobeats_before

    # The owner changes the playlist: the next run reads it again and reports what left it.
    fake_spotify.set_playlist_items(PLAYLIST, [base62(i, "p") for i in range(100)])
    result = runner.invoke(args=["seeds", "refresh"])
    assert result.exit_code == 0, result.output
    assert "Spotify calls: 3" in result.output  # snapshot + 2 pages of items
    assert "20 no longer in their seed" in result.output
    assert catalogue_size(app) == 120 + 36 + 1 + 25  # tracks stay in the catalogue


def test_full_refresh_rereads_every_seed(app, client, runner, fake_spotify, moods):
    build_world(fake_spotify)
    login(client, fake_spotify, "admin-user")
    all_seeds(app)
    assert runner.invoke(args=["seeds", "refresh"]).exit_code == 0
    before = len(spotify_calls(fake_spotify))

    result = runner.invoke(args=["seeds", "refresh", "--full"])

    assert result.exit_code == 0, result.output
    # Everything is read again, at the same minimum number of calls as the first run.
    assert len(spotify_calls(fake_spotify)) - before == minimum_calls()
    assert f"Spotify calls: {minimum_calls()}" in result.output


def test_inaccessible_playlist_and_missing_artist_are_report_lines_not_failures(app, client, runner, fake_spotify, moods):
    build_world(fake_spotify, playlist_tracks=5, albums=1, search_hits=3)
    fake_spotify.add_playlist(OTHERS_PLAYLIST, owner="someone-else", track_ids=[base62(0, "p")])
    login(client, fake_spotify, "admin-user")
    add_seeds(app, playlist=f"{PLAYLIST}\n{OTHERS_PLAYLIST}", artist=base62(77, "Z"), search=QUERY)

    result = runner.invoke(args=["seeds", "refresh"])

    assert result.exit_code == 0, result.output
    # The headline counts the failures and says why; each failed seed is then listed by name.
    assert ("2 of 4 seeds failed (1 inaccessible, 1 not found); 2 read: 8 tracks added to the catalogue, "
            "0 no longer in their seed, 0 unavailable in Spotify.") in result.output
    assert f"Failed: calm playlist “{OTHERS_PLAYLIST}”: Spotify refused" in result.output
    assert "owns or collaborates on" in result.output
    assert f"Failed: calm artist “{base62(77, 'Z')}”: Spotify has no such artist" in result.output
    assert catalogue_size(app) == 5 + 3
    status = in_app(app, lambda: db.session.scalar(select(Seed.last_status).where(Seed.value == OTHERS_PLAYLIST)))
    assert "owns or collaborates on" in status


def test_a_429_storm_becomes_a_report_line_and_the_other_seeds_are_read(app, client, runner, fake_spotify, moods):
    build_world(fake_spotify, playlist_tracks=5, albums=1, search_hits=3, featureless=0)
    login(client, fake_spotify, "admin-user")
    add_seeds(app, playlist=PLAYLIST, search=QUERY)
    # One more 429 than the gateway's retries (SPOTIFY_MAX_RETRIES = 3): the search seed gives up.
    fake_spotify.fail_next("GET", r"^/v1/search$", 429, times=4, retry_after=0.05)
    fake_spotify.fail_next("GET", r"^/reccobeats/v1/audio-features$", 429, times=1, retry_after=0.05)

    result = runner.invoke(args=["seeds", "refresh"])

    assert result.exit_code == 0, result.output
    assert f"calm search “{QUERY}”: Spotify kept answering 429" in result.output
    assert len(fake_spotify.calls("GET", r"^/v1/search$")) == 4
    assert catalogue_size(app) == 5
    # ReccoBeats' 429 was waited out and the features still arrived.
    assert "5 from reccobeats" in result.output

    result = runner.invoke(args=["seeds", "refresh"])  # the storm is over: the search is read now
    assert "kept answering 429" not in result.output
    assert catalogue_size(app) == 8


def test_dry_run_reads_but_writes_nothing(app, client, runner, fake_spotify, moods):
    build_world(fake_spotify, playlist_tracks=5, albums=1, search_hits=3)
    login(client, fake_spotify, "admin-user")
    add_seeds(app, playlist=PLAYLIST)
    result = runner.invoke(args=["seeds", "refresh", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "5 tracks would be added to the catalogue" in result.output
    assert "Linked to moods" not in result.output  # nothing was linked
    assert catalogue_size(app) == 0
    assert not fake_spotify.calls(None, "^/reccobeats/")


def test_mood_filter_reads_only_that_moods_seeds(app, client, runner, fake_spotify, moods):
    build_world(fake_spotify, playlist_tracks=5, albums=1, search_hits=3)
    login(client, fake_spotify, "admin-user")
    add_seeds(app, "calm", playlist=PLAYLIST)
    add_seeds(app, "tired", search=QUERY)
    result = runner.invoke(args=["seeds", "refresh", "--mood", "tired"])
    assert result.exit_code == 0, result.output
    assert not fake_spotify.calls("GET", r"^/v1/playlists/")
    assert catalogue_size(app) == 3
    result = runner.invoke(args=["seeds", "refresh", "--mood", "nosuch"])
    assert result.exit_code == 2 and "no seeds for the mood" in result.output


def test_refresh_explains_when_no_admin_has_logged_in(app, runner, fake_spotify, moods):
    add_seeds(app, search=QUERY)
    result = runner.invoke(args=["seeds", "refresh"])
    assert result.exit_code == 1
    assert "None of the admins (admin-user) has logged in" in result.output
    result = runner.invoke(args=["seeds", "refresh", "--as", "ghost"])
    assert result.exit_code == 1 and "ghost has not logged in" in result.output
    assert "Traceback" not in result.output


def test_refresh_as_another_logged_in_user(app, client, runner, fake_spotify, moods):
    build_world(fake_spotify, playlist_tracks=2, albums=1, search_hits=2)
    login(client, fake_spotify, "curator-1")
    add_seeds(app, search=QUERY)
    result = runner.invoke(args=["seeds", "refresh", "--as", "curator-1"])
    assert result.exit_code == 0, result.output
    assert "as curator-1" in result.output
    assert {r.user_id for r in spotify_calls(fake_spotify) if r.path == "/v1/search"} == {"curator-1"}


def test_refresh_report_counts_moods_as_the_coverage_table_does(app, client, runner, fake_spotify, moods, tmp_path):
    from curator.catalogue.health import catalogue_health

    found = build_world(fake_spotify, playlist_tracks=5, albums=1, search_hits=3, featureless=0)
    login(client, fake_spotify, "admin-user")
    # Two of the playlist's tracks are already in the catalogue, one labelled calm by a dataset.
    path = tmp_path / "known.csv"
    path.write_text(f"id,name,artists,mood\n{found[0]},Known,Someone,Calm\n{found[1]},Other,Someone,Sad\n")
    assert runner.invoke(args=["catalog", "import", str(path)]).exit_code == 0
    add_seeds(app, playlist=PLAYLIST)

    result = runner.invoke(args=["seeds", "refresh"])
    assert result.exit_code == 0, result.output
    # 3 tracks are new to the catalogue, but calm gains 4: one was there already, now linked by a seed.
    assert "1 seed read: 3 tracks added to the catalogue" in result.output
    calm = next(m for m in in_app(app, catalogue_health)["moods"] if m["slug"] == "calm")
    assert (calm["tracks"], calm["with_features"]) == (5, 5)
    assert "Linked to moods (as the coverage table counts): calm 5 tracks (+4), 5 with features (+5)." in result.output
    page = client.get("/admin/catalogue").get_data(as_text=True)
    assert "calm 5 tracks (+4)" in page
    dashboard = client.get("/admin/").get_data(as_text=True)
    assert "1 seed read: 3 tracks added to the catalogue" in dashboard and "<td>5 (5 with features)</td>" in dashboard


def test_the_admin_sees_artist_and_track_seeds_by_name(app, client, runner, fake_spotify, moods):
    build_world(fake_spotify, playlist_tracks=3, albums=2, search_hits=3)
    login(client, fake_spotify, "admin-user")
    all_seeds(app)
    seeds_page = client.get("/admin/catalogue/seeds/calm").get_data(as_text=True)
    assert f"Artist: {ARTIST}" in seeds_page  # never read yet: its id is all Curator knows
    assert runner.invoke(args=["seeds", "refresh"]).exit_code == 0

    seeds_page = client.get("/admin/catalogue/seeds/calm").get_data(as_text=True)
    assert f'Artist: Arty\n        <br><small class="muted seed-value">{ARTIST}</small>' in seeds_page
    assert "Track: " in seeds_page and " by " in seeds_page
    index = client.get("/admin/catalogue/seeds").get_data(as_text=True)
    assert "<td>Arty</td>" in index and "Edit Calm" in index
