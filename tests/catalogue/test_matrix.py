"""The engine matrix: built once per curation-catalogue version, shared through memory-mapped
files; and catalogue health."""
from __future__ import annotations

from pathlib import Path

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
    # Linked: 2 dev tracks labelled calm and the featureless "Calm" row; usable: as the engine counts.
    assert {k: calm[k] for k in ("tracks", "with_features", "percent")} == {"tracks": 3, "with_features": 2,
                                                                           "percent": 66.7}
    from curator.engine.supply import mood_supply
    from curator.moods.store import get_mood

    supply = in_app(app, lambda: mood_supply(current_catalogue(), get_mood("calm").definition))
    assert (calm["usable"], calm["close"]) == (supply.in_range, supply.close)
    assert calm["usable_percent"] == round(100 * supply.in_range / 8, 1) and supply.in_range >= supply.close
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


def _spotify_track(n: int) -> dict:
    return {"id": base62(n, "L"), "name": f"Mine {n}", "artists": [{"id": "a1", "name": "Me"}],
            "duration_ms": 200_000, "type": "track"}


def test_each_version_is_written_once_and_memory_mapped_by_every_process(app, runner, write_csv):
    import numpy as np

    from curator import caching
    from curator.catalogue import matrix

    runner.invoke(args=["catalog", "import", write_csv(dev_style(20))])
    first = in_app(app, current_catalogue)
    root = Path(app.instance_path) / "catalogue"
    (folder,) = [p for p in root.iterdir() if p.is_dir()]
    assert (folder / "features.npy").is_file() and isinstance(first.features.base, np.memmap)
    assert not first.features.flags.writeable and not first.features.flags.owndata

    # Another worker (an empty per-process cache) opens the same files: no track is read again.
    in_app(app, lambda: caching.forget(matrix.KEPT))
    statements = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    def again():
        from sqlalchemy import event

        engine = db.engine
        event.listen(engine, "before_cursor_execute", count)
        try:
            return current_catalogue()
        finally:
            event.remove(engine, "before_cursor_execute", count)

    from curator.extensions import db

    other = in_app(app, again)
    assert other is not first and list(other.ids) == list(first.ids)
    assert not any("catalogue_tracks" in s for s in statements), statements
    assert np.array_equal(np.asarray(other.features), np.asarray(first.features))

    # A new version replaces the folder of the old one.
    runner.invoke(args=["catalog", "import", write_csv(dev_style(21))])
    assert len(in_app(app, current_catalogue)) == 21
    assert [p.name for p in root.iterdir() if p.is_dir()] != [folder.name] and not folder.exists()


def test_a_listeners_own_tracks_do_not_move_the_curation_catalogue(app, runner, write_csv):
    from curator.catalogue import store
    from curator.catalogue.matrix import tracks_catalogue
    from curator.catalogue.providers import _store_features
    from curator.extensions import db

    runner.invoke(args=["catalog", "import", write_csv(dev_style(10))])
    before = in_app(app, catalogue_version)
    shared = in_app(app, current_catalogue)
    mine = [_spotify_track(n) for n in range(3)]
    features = {f: 0.5 for f in ("valence", "energy", "danceability", "acousticness", "instrumentalness",
                                 "speechiness", "liveness")} | {"loudness": -7.0, "tempo": 100.0, "key": 1, "mode": 1}

    def store_mine():
        ids = store.upsert_spotify_tracks(mine, source=store.LISTENER_SOURCE)
        _store_features({i: features for i in ids}, "test")
        store.bump_version(ids)
        db.session.commit()
        return ids

    ids = in_app(app, store_mine)
    assert in_app(app, catalogue_version) == before
    assert in_app(app, current_catalogue) is shared and base62(0, "L") not in set(shared.ids)
    own = in_app(app, lambda: tracks_catalogue(ids + [base62(0)]))
    assert sorted(own.ids) == sorted(ids + [base62(0)]) and own.artists[own.index_of(ids[0])] == ("Me",)

    # Features for a curation track (one a seed list or import brought) do announce a change.
    def store_curated():
        _store_features({base62(1): features}, "test")
        store.bump_version([base62(1)])
        db.session.commit()

    in_app(app, store_curated)
    assert in_app(app, catalogue_version) == before + 1
    # A listener's track that a seed refresh also brings joins the curation catalogue.
    def seed_brings_mine():
        store.upsert_spotify_tracks(mine[:1], source="seed:playlist")
        db.session.commit()  # the store never commits: its caller does

    in_app(app, seed_brings_mine)
    assert base62(0, "L") in set(in_app(app, current_catalogue).ids)


def test_a_request_never_builds_the_matrix_it_serves_the_previous_version_meanwhile(
        app, client, catalogue, fake_spotify, monkeypatch):
    """The first preview after an import took 107 s at 1M rows because the request built the matrix.
    The import builds it now; a change that nobody built yet is served from the previous version
    while a background thread builds it."""
    import time

    from sqlalchemy import update

    from curator.catalogue import matrix
    from curator.catalogue.store import bump_version
    from curator.extensions import db
    from curator.models.catalogue import CatalogueTrack
    from tests.helpers import api_login, api_preview

    token = api_login(client, fake_spotify)
    api_preview(client, token)  # the import built this version: opened, not built
    with app.app_context():
        old_version = matrix.catalogue_version()
        db.session.execute(update(CatalogueTrack).values(name="Renamed"))
        bump_version()
        db.session.commit()  # a change outside a request: nothing builds it until a request asks
    built_in_request = []
    real_load = matrix.load_catalogue

    def watched_load():
        from flask import has_request_context

        built_in_request.append(has_request_context())
        return real_load()

    monkeypatch.setattr(matrix, "load_catalogue", watched_load)
    served = api_preview(client, token, seed=1)["tracks"]
    assert "Renamed" not in {t["name"] for t in served}  # every track is renamed in the new version: the old one answered
    deadline = time.monotonic() + 30
    while (matrix.building() or not built_in_request) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert built_in_request == [False]  # built once, in the background thread, not in the request
    with app.app_context():
        assert matrix.catalogue_version() == old_version + 1
    renamed = api_preview(client, token, seed=1)["tracks"]
    assert {t["name"] for t in renamed} == {"Renamed"}  # the new version, once built


def test_with_no_version_built_at_all_the_listener_is_told_the_catalogue_is_being_prepared(
        app, client, catalogue, fake_spotify, monkeypatch):
    import shutil
    import time
    from pathlib import Path

    from curator import caching
    from curator.catalogue import matrix
    from tests.helpers import api_headers, api_login

    token = api_login(client, fake_spotify)
    in_app(app, lambda: caching.forget(matrix.KEPT))  # a worker started after the files were removed
    shutil.rmtree(Path(app.instance_path) / "catalogue")
    monkeypatch.setattr(matrix, "_shared", lambda epoch, version: time.sleep(2) or None)  # a long build
    answer = client.post("/api/v1/previews", json={"from": "anxious", "to": "calm", "tracks": 20},
                         headers=api_headers(token))
    assert answer.status_code == 503 and answer.json["error"]["code"] == "catalogue_empty"
    assert "being prepared" in answer.json["error"]["message"]
    page = client.post("/previews", data={"from": "anxious", "to": "calm", "length": 20, "unit": "tracks",
                                          "csrf_token": token}, follow_redirects=True)
    assert page.status_code in (200, 503) and b"being prepared" in page.data


def test_a_worker_is_warmed_at_its_start_with_the_built_version_and_never_builds_one(app, runner, write_csv,
                                                                                      monkeypatch):
    """gunicorn.conf.py's post_worker_init warms each worker (curator/warmup.py): the current
    version's files opened and kept, so its first preview does not open them; a version not built
    yet is left alone (a request serves the previous one and starts the build, as ever)."""
    import shutil

    import numpy as np

    from curator import caching, warmup
    from curator.catalogue import matrix
    from curator.catalogue.store import bump_version
    from curator.extensions import db

    assert warmup.warm(app) is False  # no track yet: nothing to open
    runner.invoke(args=["catalog", "import", write_csv(dev_style(30))])
    in_app(app, lambda: caching.forget(matrix.KEPT))  # a freshly started worker
    thread = warmup.start(app)
    thread.join(timeout=30)
    kept = in_app(app, lambda: caching.peek(matrix.KEPT))
    assert kept is not None and kept[0][1] == in_app(app, matrix.catalogue_version)
    opened = kept[1]
    assert isinstance(opened.features.base, np.memmap)
    # The engine's row sample is built once with the files, not drawn again by every worker.
    assert isinstance(opened.threshold_sample.base, np.memmap)
    assert in_app(app, current_catalogue) is opened  # what the first request gets: no second opening
    # The stored sample is the one the engine would draw.
    assert np.array_equal(opened.threshold_sample, type(opened).from_stored_arrays(
        {k: v for k, v in opened.to_arrays().items() if k != "threshold_sample"}).threshold_sample)

    def changed():
        bump_version()
        db.session.commit()

    in_app(app, changed)  # a change nobody has built yet
    in_app(app, lambda: caching.forget(matrix.KEPT))
    built = []
    real_load = matrix.load_catalogue
    monkeypatch.setattr(matrix, "load_catalogue", lambda: built.append(1) or real_load())
    assert warmup.warm(app) is False
    assert built == [] and in_app(app, lambda: caching.peek(matrix.KEPT)) is None
    shutil.rmtree(Path(app.instance_path) / "catalogue")
    assert warmup.warm(app) is False  # files gone (pruned): nothing to open, nothing raised
