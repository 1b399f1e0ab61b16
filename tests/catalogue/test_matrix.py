"""The engine matrix cache and catalogue health."""
from __future__ import annotations

from curator.catalogue.health import catalogue_health
from curator.catalogue.matrix import catalogue_version, current_catalogue
from tests.helpers import base62, dev_style, in_app


def test_matrix_holds_only_tracks_with_features_and_reloads_only_after_a_change(app, runner, write_csv):
    empty = in_app(app, current_catalogue)
    assert len(empty) == 0 and in_app(app, catalogue_version) == 0
    runner.invoke(args=["catalog", "import", write_csv(dev_style(10))])
    text = f"id,name,artists\n{base62(99)},No features,Someone\n"
    runner.invoke(args=["catalog", "import", write_csv(text, name="plain.csv")])
    first = in_app(app, current_catalogue)
    assert len(first) == 10 and base62(99) not in set(first.ids)
    assert in_app(app, current_catalogue) is first  # same version: no reload
    assert "mood:calm" in first.tags[first.index_of(base62(0))]
    runner.invoke(args=["catalog", "import", write_csv(dev_style(12))])
    second = in_app(app, current_catalogue)
    assert second is not first and len(second) == 12


def test_catalogue_health_counts_tracks_features_and_moods(app, runner, moods, write_csv):
    runner.invoke(args=["catalog", "import", write_csv(dev_style(8))])
    runner.invoke(args=["catalog", "import", write_csv(f"id,name,artists,mood\n{base62(99)},X,Y,Calm\n", name="p.csv")])
    health = in_app(app, catalogue_health)
    assert (health["tracks"], health["with_features"]) == (9, 8)
    calm = next(m for m in health["moods"] if m["slug"] == "calm")
    assert calm == {"slug": "calm", "tracks": 3, "with_features": 2, "percent": 66.7}
    assert health["last_import"]["filename"] == "p.csv" and health["refresh_running"] is False
    assert health["last_refresh"] is None


def test_fast_matrix_load_matches_the_engines_from_records(app, runner, write_csv):
    import numpy as np
    from sqlalchemy import select

    from curator.engine import Catalogue
    from curator.extensions import db
    from curator.models.catalogue import CatalogueTrack, TrackTag

    text = dev_style(30).replace("Artist 3,", "Artist 3;Guest,")
    runner.invoke(args=["catalog", "import", write_csv(text)])
    runner.invoke(args=["catalog", "import", write_csv(f"id,name,artists\n{base62(99)},Plain,X\n", name="p.csv")])

    def both():
        fast = current_catalogue()
        records = []
        for track in db.session.scalars(select(CatalogueTrack).where(CatalogueTrack.features_source.is_not(None))
                                        .order_by(CatalogueTrack.id)):
            record = {c: getattr(track, c) for c in ("id", "name", "duration_ms", "explicit", "isrc", "key", "mode",
                                                     "valence", "energy", "danceability", "acousticness",
                                                     "instrumentalness", "speechiness", "liveness", "loudness", "tempo")}
            record["artists"] = track.artist_names
            record["artist_ids"] = track.artist_id_list
            record["tags"] = db.session.scalars(select(TrackTag.tag).where(TrackTag.track_id == track.id)).all()
            records.append(record)
        return fast, Catalogue.from_records(records)

    fast, slow = in_app(app, both)
    assert list(fast.ids) == list(slow.ids) and list(fast.names) == list(slow.names)
    assert fast.artists == slow.artists and fast.tags == slow.tags
    for column in ("primary_artist", "durations_ms", "explicit", "key", "mode", "recording_key"):
        assert np.array_equal(getattr(fast, column), getattr(slow, column)), column
    assert list(fast.isrc) == list(slow.isrc)
    assert np.allclose(fast.features, slow.features)
