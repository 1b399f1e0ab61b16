"""The listener's edits go through the engine: swap, keep (lock), nudge and try-other are each one
`curate()` with an `Edit`, stored once as a new preview. Through the real app (Flask test client)
on the synthetic catalogue of tests/conftest.py; the engine's own rules are tests/engine/test_edits.py."""
from __future__ import annotations

import pytest

from curator.catalogue.matrix import current_catalogue
from curator.engine import CurateOptions, Edit, Length, curate
from curator.engine.moods import shifted
from curator.moods.store import get_mood
from curator.playlists.edits import NUDGE_LIMIT, add_nudge, changed_positions
from tests.helpers import logged_in, preview_path, start, stored


def ids(preview) -> list[str]:
    return [t["id"] for t in preview.tracks]


def post(client, path, token, action, **data):
    return client.post(f"{path}/{action}", data={"csrf_token": token, **data})


def engine_playlist(app, preview, edit: Edit, nudges=None, seed=None):
    """What the engine itself makes of `edit` for this preview's request (the one scoring path)."""
    with app.app_context():
        start_def = shifted(get_mood(preview.from_slug).definition, nudges or {})
        target_def = shifted(get_mood(preview.to_slug).definition, nudges or {})
        options = CurateOptions(seed=preview.seed if seed is None else seed, arc=preview.arc,
                                exclude_ids=frozenset(preview.options.get("excluded_ids") or ()))
        return curate(current_catalogue(), start_def, target_def, Length(tracks=preview.length_tracks), options,
                      edit=edit)


def test_nudges_accumulate_within_limits():
    shift = {}
    for _ in range(10):
        shift = add_nudge(shift, "gentler")
    assert shift["energy"] == -NUDGE_LIMIT["energy"] and shift["tempo"] == -NUDGE_LIMIT["tempo"]
    assert add_nudge({"valence": 0.1}, "darker") == {}
    with pytest.raises(KeyError):
        add_nudge({}, "louder")


def test_changed_positions():
    a = [{"id": c} for c in "abcd"]
    assert changed_positions(a, [{"id": c} for c in "abXd"]) == [2]
    assert changed_positions(a, [{"id": c} for c in "abc"]) == [3]


def test_a_swap_is_the_engines_replacement_with_the_engines_reasons(client, app, catalogue, fake_spotify):
    token = logged_in(client, fake_spotify)
    path = preview_path(start(client, token))
    before = stored(app, path)
    after = stored(app, preview_path(post(client, path, token, "remove", track_id=before.tracks[5]["id"])))
    expected = engine_playlist(app, after, Edit(previous=ids(before), replace=5))
    assert ids(after) == [t.id for t in expected.tracks]
    assert [t["reason"] for t in after.tracks] == [t.reason for t in expected.tracks]  # the whole result's
    assert [t["distance"] for t in after.tracks] == [t.distance for t in expected.tracks]
    assert after.stats == expected.to_dict()["stats"]
    assert changed_positions(before.tracks, after.tracks) == [5] == after.options["changed_positions"]


@pytest.mark.parametrize("pair", [("anxious", "calm"), ("tired", "uplifted"), ("melancholic", "calm")])
@pytest.mark.parametrize("direction", ["brighter", "gentler"])
def test_a_nudge_keeps_at_least_half_and_moves_the_way_asked(client, app, catalogue, fake_spotify, pair, direction):
    token = logged_in(client, fake_spotify)
    path = preview_path(start(client, token, **{"from": pair[0], "to": pair[1]}))
    before = stored(app, path)
    after = stored(app, preview_path(post(client, path, token, "nudge", direction=direction)))
    kept = sum(a == b for a, b in zip(ids(before), ids(after)))
    assert len(after.tracks) == len(before.tracks) == 20 and kept >= 10, kept
    assert after.options["changed_positions"] == changed_positions(before.tracks, after.tracks)
    assert f"{20 - kept} of 20 tracks changed." in after.options["edit_notice"]
    # Exactly the engine's keep-what-still-fits playlist for the moved arc.
    expected = engine_playlist(app, after, Edit(previous=ids(before), keep=True), nudges=after.options["nudges"])
    assert ids(after) == [t.id for t in expected.tracks]
    assert [t["reason"] for t in after.tracks] == [t.reason for t in expected.tracks]


def test_locked_tracks_stay_in_place_through_nudge_swap_and_try_other(client, app, catalogue, fake_spotify):
    token = logged_in(client, fake_spotify)
    path = preview_path(start(client, token, **{"from": "tired", "to": "uplifted"}))
    before = stored(app, path)
    keep = {2: ids(before)[2], 11: ids(before)[11], 19: ids(before)[19]}
    current = path
    for track_id in keep.values():
        current = preview_path(post(client, current, token, "lock", track_id=track_id, locked="1"))
    for action, data in [("nudge", {"direction": "darker"}), ("nudge", {"direction": "more-energy"}),
                         ("remove", {"track_id": ids(before)[6]}), ("regenerate", {})]:
        current = preview_path(post(client, current, token, action, **data))
        item = stored(app, current)
        assert {p: ids(item)[p] for p in keep} == keep, action
        assert len(set(ids(item))) == len(item.tracks) == 20, action
        assert sorted(item.options["locked_ids"]) == sorted(keep.values())


def test_swapping_a_kept_track_lets_it_go(client, app, catalogue, fake_spotify):
    token = logged_in(client, fake_spotify)
    path = preview_path(start(client, token))
    before = stored(app, path)
    path = preview_path(post(client, path, token, "lock", track_id=ids(before)[4], locked="1"))
    after = stored(app, preview_path(post(client, path, token, "remove", track_id=ids(before)[4])))
    assert changed_positions(before.tracks, after.tracks) == [4] and after.options["locked_ids"] == []


def test_the_same_edit_of_the_same_preview_gives_the_same_playlist(client, app, catalogue, fake_spotify):
    token = logged_in(client, fake_spotify)
    path = preview_path(start(client, token, seed="12345"))
    before = stored(app, path)
    for action, data in [("nudge", {"direction": "brighter"}), ("remove", {"track_id": ids(before)[9]})]:
        first = stored(app, preview_path(post(client, path, token, action, **data)))
        again = stored(app, preview_path(post(client, path, token, action, **data)))
        assert first.id != again.id and first.tracks == again.tracks and first.seed == again.seed == 12345


def test_a_place_nothing_else_fits_stays_and_nothing_is_stored(client, app, catalogue, fake_spotify):
    token = logged_in(client, fake_spotify)
    path = preview_path(start(client, token, length="1"))
    with app.app_context():
        from curator.extensions import db
        from curator.models.listening import Preview
        count = db.session.query(Preview).count()
    before = stored(app, path)
    # Every other track excluded: the engine leaves the place empty, the edit refuses.
    with app.app_context():
        everyone = [str(t) for t in current_catalogue().ids if str(t) != ids(before)[0]]
        item = db.session.get(Preview, before.id)
        item.options = {**item.options, "excluded_ids": everyone}
        db.session.commit()
    response = post(client, path, token, "remove", track_id=ids(before)[0])
    assert response.status_code == 302 and response.headers["Location"].endswith(path)
    assert "No other track fits this place" in client.get(path).get_data(as_text=True)
    with app.app_context():
        assert db.session.query(Preview).count() == count


UNDONE = ("edit_notice", "changed_positions", "undone")


def same_version(a, b) -> bool:
    """Everything the listener gets from a version: tracks (order, reasons, distances), name, locks,
    nudges and exclusions, stats, notices, seed, moods and length."""
    keep = {k: v for k, v in a.options.items() if k not in UNDONE}
    return (a.tracks == b.tracks and keep == {k: v for k, v in b.options.items() if k not in UNDONE}
            and (a.stats, a.notices, a.shortfall, a.seed, a.arc, a.from_slug, a.to_slug, a.from_version_id,
                 a.to_version_id, a.length_tracks, a.length_minutes)
            == (b.stats, b.notices, b.shortfall, b.seed, b.arc, b.from_slug, b.to_slug, b.from_version_id,
                b.to_version_id, b.length_tracks, b.length_minutes))


@pytest.mark.parametrize("action, data", [
    ("nudge", {"direction": "brighter"}), ("remove", {"track_id": 3}), ("regenerate", {}),
    ("lock", {"track_id": 5, "locked": "1"}), ("rename", {"name": "Late bus"}),
])
def test_undo_brings_back_the_previous_version_exactly_once(client, app, catalogue, fake_spotify, action, data):
    token = logged_in(client, fake_spotify)
    path = preview_path(start(client, token, **{"from": "tired", "to": "uplifted"}))
    # A version with a lock, a name and a nudge of its own, so that undo has all of them to restore.
    for step, extra in [("lock", {"track_id": 0, "locked": "1"}), ("rename", {"name": "Morning"}),
                        ("nudge", {"direction": "gentler"})]:
        if "track_id" in extra:
            extra = {**extra, "track_id": ids(stored(app, path))[extra["track_id"]]}
        path = preview_path(post(client, path, token, step, **extra))
    before = stored(app, path)
    if "track_id" in data:
        data = {**data, "track_id": ids(before)[data["track_id"]]}
    edited = stored(app, preview_path(post(client, path, token, action, **data)))
    assert edited.id != before.id and not same_version(edited, before)
    assert same_version(stored(app, path), before)  # the old version is untouched (its URL shows it as it was)
    page = client.get(f"/previews/{edited.id}").get_data(as_text=True)
    assert f'action="/previews/{edited.id}/undo"' in page
    response = post(client, f"/previews/{edited.id}", token, "undo")
    back = stored(app, preview_path(response))
    assert same_version(back, before) and back.parent_id == edited.id and back.id not in (edited.id, before.id)
    assert back.options["changed_positions"] == changed_positions(edited.tracks, before.tracks)
    assert back.options["edit_notice"].startswith("Undone: the playlist as it was before")
    # Once: an undo is not undone, and its page offers no undo.
    page = client.get(f"/previews/{back.id}").get_data(as_text=True)
    assert "/undo" not in page and "Undone: the playlist as it was before" in page
    refused = post(client, f"/previews/{back.id}", token, "undo")
    assert refused.headers["Location"].endswith(f"/previews/{back.id}")
    assert "There is nothing to undo here." in client.get(f"/previews/{back.id}").get_data(as_text=True)


def test_a_first_preview_has_nothing_to_undo(client, app, catalogue, fake_spotify):
    from tests.helpers import api_headers, api_login, api_preview
    token = api_login(client, fake_spotify)
    body = api_preview(client, token)
    assert body["can_undo"] is False and body["parent_id"] is None
    answer = client.post(f"/api/v1/previews/{body['id']}/edits", json={"op": "undo"}, headers=api_headers(token))
    assert answer.status_code == 422 and answer.json["error"]["message"] == "There is nothing to undo here."
