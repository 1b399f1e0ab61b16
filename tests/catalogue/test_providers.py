"""Feature providers: ReccoBeats batching and Retry-After, Spotify's retired endpoint switching off."""
from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from curator.catalogue.matrix import catalogue_version
from curator.catalogue.providers import ReccoBeatsProvider, fetch_missing_features
from curator.catalogue.store import upsert_spotify_tracks
from curator.extensions import db
from curator.models.catalogue import CatalogueTrack, TrackSource
from curator.models.user import User
from tests.helpers import FEATURES, base62, in_app, login


def track_object(tid: str, **extra) -> dict:
    obj = {"id": tid, "name": f"Song {tid[-3:]}", "type": "track", "duration_ms": 1000, "explicit": False,
           "artists": [{"id": base62(1, "a"), "name": "Someone"}],
           "album": {"id": base62(1, "b"), "name": "An album", "images": [{"url": "http://img/large"}, {"url": "http://img/small"}]},
           "external_ids": {"isrc": "GBAAA0000001"}}
    obj.update(extra)
    return obj


def committed(app, func):
    """func() as a use case runs it: the catalogue helpers never commit, their caller does."""

    def run():
        result = func()
        db.session.commit()
        return result

    return in_app(app, run)


def store_tracks(app, ids):
    return committed(app, lambda: upsert_spotify_tracks([track_object(t) for t in ids], "listener", moods=["calm"]))


def test_upsert_spotify_tracks_stores_metadata_and_source_and_skips_unusable(app):
    objects = [track_object(base62(1)), None, {"id": "local", "is_local": True, "type": "track"},
               {"id": base62(2, "e"), "type": "episode"}, track_object(base62(3), external_ids={})]
    ids = committed(app, lambda: upsert_spotify_tracks(objects, "listener", moods=["calm"]))
    assert ids == [base62(1), base62(3)]
    # A later sighting without an ISRC keeps the one already known.
    committed(app, lambda: upsert_spotify_tracks([track_object(base62(1), external_ids={})], "search"))

    def check():
        track = db.session.get(CatalogueTrack, base62(1))
        assert track.isrc == "GBAAA0000001" and track.image_url == "http://img/small" and track.album == "An album"
        assert track.features_source is None
        sources = set(db.session.execute(select(TrackSource.source, TrackSource.mood)
                                         .where(TrackSource.track_id == base62(1))).all())
        assert sources == {("listener", "calm"), ("search", "")}
        assert catalogue_version() == 2

    in_app(app, check)


def test_reccobeats_is_asked_in_batches_of_40_and_unknown_tracks_stay_without(app, fake_spotify):
    ids = [base62(i) for i in range(95)]
    for tid in ids[:90]:
        fake_spotify.set_features(tid, {**FEATURES, "energy": 0.25})
    store_tracks(app, ids)
    version = in_app(app, catalogue_version)

    report = committed(app, lambda: fetch_missing_features(ids))

    sizes = [len(r.query["ids"]) for r in fake_spotify.calls("GET", r"^/reccobeats/v1/audio-features$")]
    assert sizes == [40, 40, 15]
    assert report.found == {"reccobeats": 90} and len(report.missing) == 5 and report.calls["reccobeats"] == 3

    def check():
        track = db.session.get(CatalogueTrack, ids[0])
        assert track.energy == 0.25 and track.features_source == "reccobeats" and track.key == 5 and track.mode == 1
        assert db.session.get(CatalogueTrack, ids[94]).features_missing_at is not None
        assert catalogue_version() == version + 1

    in_app(app, check)
    # Asked again, tracks that already have features are answered locally: no new request.
    again = committed(app, lambda: fetch_missing_features(ids[:90]))
    assert again.found == {"local": 90}
    assert len(fake_spotify.calls("GET", r"^/reccobeats/")) == 3


def test_helpers_leave_the_transaction_to_their_caller(app, fake_spotify):
    ids = [base62(i) for i in range(3)]
    for tid in ids:
        fake_spotify.set_features(tid, FEATURES)
    in_app(app, lambda: upsert_spotify_tracks([track_object(t) for t in ids], "listener"))  # never committed
    assert in_app(app, lambda: db.session.get(CatalogueTrack, ids[0])) is None
    store_tracks(app, ids)
    report = in_app(app, lambda: fetch_missing_features(ids))  # rolled back with the session
    assert report.found == {"reccobeats": 3}
    assert in_app(app, lambda: db.session.get(CatalogueTrack, ids[0]).features_source) is None
    assert committed(app, lambda: fetch_missing_features(ids)).found == {"reccobeats": 3}
    assert in_app(app, lambda: db.session.get(CatalogueTrack, ids[0]).features_source) == "reccobeats"


def test_reccobeats_retry_after_is_honoured(app, fake_spotify):
    ids = [base62(i) for i in range(3)]
    for tid in ids:
        fake_spotify.set_features(tid, FEATURES)
    store_tracks(app, ids)
    fake_spotify.fail_next("GET", r"^/reccobeats/v1/audio-features$", 429, times=2, retry_after=0.25)
    waits = []

    def fetch():
        provider = ReccoBeatsProvider(app.config["RECCOBEATS_API_URL"], max_wait=2.0, sleep=waits.append)
        return fetch_missing_features(ids, providers=[provider])

    report = committed(app, fetch)
    assert waits == [0.25, 0.25]
    assert report.found == {"reccobeats": 3} and report.calls == {"reccobeats": 3} and not report.errors


def test_reccobeats_busy_for_too_long_is_an_error_line_and_tracks_are_asked_again_later(app, fake_spotify):
    ids = [base62(i) for i in range(3)]
    for tid in ids:
        fake_spotify.set_features(tid, FEATURES)
    store_tracks(app, ids)
    fake_spotify.fail_next("GET", r"^/reccobeats/v1/audio-features$", 429, times=1, retry_after=120)
    waits = []

    def fetch():
        provider = ReccoBeatsProvider(app.config["RECCOBEATS_API_URL"], max_wait=2.0, sleep=waits.append)
        return fetch_missing_features(ids, providers=[provider], skip_recently_missing=True)

    report = committed(app, fetch)
    assert waits == [] and report.errors == ["ReccoBeats is busy (429, retry after 120 s)."]
    assert in_app(app, lambda: db.session.get(CatalogueTrack, ids[0]).features_missing_at) is None
    assert committed(app, fetch).found == {"reccobeats": 3}


@pytest.fixture
def spotify_first(app_config):
    app_config["FEATURE_PROVIDERS"] = "local,spotify,reccobeats"


def gateway_of(spotify_id):
    from curator.spotify import gateway_for

    return gateway_for(db.session.scalar(select(User.id).where(User.spotify_id == spotify_id)))


def test_spotify_provider_switches_off_after_the_first_403_with_one_log_line(spotify_first, app, client, fake_spotify, caplog):
    login(client, fake_spotify, "admin-user")
    fake_spotify.allow_deprecated("GET /audio-features")
    ids = [base62(i) for i in range(150)]
    for tid in ids:
        fake_spotify.set_features(tid, FEATURES)
    store_tracks(app, ids)
    fake_spotify.fail_next("GET", r"^/v1/audio-features$", 403)

    with caplog.at_level(logging.WARNING, logger="curator.catalogue.providers"):
        first = committed(app, lambda: fetch_missing_features(ids[:100], gateway_of("admin-user")))
        second = committed(app, lambda: fetch_missing_features(ids[100:], gateway_of("admin-user")))

    assert len(fake_spotify.calls("GET", r"^/v1/audio-features$")) == 1  # never retried per track
    assert first.found == {"reccobeats": 100} and second.found == {"reccobeats": 50}
    assert first.calls["spotify"] == 1 and second.calls["spotify"] == 0
    lines = [r for r in caplog.records if r.name.startswith("curator.catalogue.providers")]
    assert len(lines) == 1 and "403" in lines[0].getMessage()


def test_spotify_provider_is_used_when_the_app_still_has_access(spotify_first, app, client, fake_spotify):
    login(client, fake_spotify, "admin-user")
    fake_spotify.allow_deprecated("GET /audio-features")
    ids = [base62(i) for i in range(2)]
    store_tracks(app, ids)
    rows = [{**FEATURES, "id": ids[0], "time_signature": 4}, None]
    fake_spotify.fail_next("GET", r"^/v1/audio-features$", 200, body={"audio_features": rows})
    report = committed(app, lambda: fetch_missing_features(ids, gateway_of("admin-user")))
    assert report.found == {"spotify": 1}
    assert report.missing == [ids[1]]
    assert in_app(app, lambda: db.session.get(CatalogueTrack, ids[0]).features_source) == "spotify"
