"""Issue 21 through the JSON API: steering (familiar, avoid_artists, years, exclude_explicit),
remembered and echoed; never-again across every later preview; GET/DELETE /api/v1/taste."""
from __future__ import annotations

import csv
import random

import pytest

from curator.catalogue.importer import import_csv
from curator.extensions import db
from curator.models.taste import ListenerTaste, TasteItem, TasteMark
from tests.helpers import ROW_COLUMNS, api_headers, api_login, api_preview, api_save, csrf_from, synthetic_rows


@pytest.fixture
def varied(app, moods, fake_spotify, tmp_path):
    """600 tracks by 120 artists, a third explicit, released 1960-2024."""
    rng = random.Random(11)
    rows = synthetic_rows(count=600, artists=120, seed=5)
    for row in rows:
        row["release_date"] = f"{rng.randint(1960, 2024)}-05-01"
        row["explicit"] = "true" if rng.random() < 0.33 else "false"
    path = tmp_path / "varied.csv"
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=[*ROW_COLUMNS, "explicit"])
        writer.writeheader()
        writer.writerows(rows)
    with app.app_context():
        assert import_csv(str(path)).status == "imported"
        db.session.remove()
    for row in rows:
        fake_spotify.add_track(row["id"], name=row["name"], duration_ms=row["length"])
    return {row["id"]: row for row in rows}


def _edit(client, token, preview_id, **body):
    response = client.post(f"/api/v1/previews/{preview_id}/edits", json=body, headers=api_headers(token))
    assert response.status_code in (200, 201), response.json
    return response.json


def test_steering_is_echoed_remembered_and_applied(client, varied, fake_spotify):
    token = api_login(client, fake_spotify)
    fresh = api_preview(client, token, tracks=15)
    assert fresh["steering"] == {"familiar": 0, "avoid_artists": [], "years": {"from": None, "to": None},
                                 "exclude_explicit": False}
    assert any(varied[t["id"]]["explicit"] == "true" for t in fresh["tracks"])
    avoided = fresh["tracks"][0]["artists"][0]
    steered = api_preview(client, token, tracks=15, exclude_explicit=True, avoid_artists=[avoided.upper()],
                          years={"from": 1980, "to": 2009}, familiar=40)
    assert steered["steering"] == {"familiar": 40, "avoid_artists": [avoided.upper()],
                                   "years": {"from": 1980, "to": 2009}, "exclude_explicit": True}
    for preview in (steered, api_preview(client, token, tracks=15)):  # the second remembers the first's
        assert preview["steering"] == steered["steering"]
        assert len(preview["tracks"]) == 15
        for t in preview["tracks"]:
            row = varied[t["id"]]
            assert row["explicit"] == "false"
            assert row["artist"] != avoided
            assert 1980 <= int(row["release_date"][:4]) <= 2009
    # One setting given, the others remembered; an open end of the range.
    opened = api_preview(client, token, tracks=10, years={"from": 2000})
    assert opened["steering"]["years"] == {"from": 2000, "to": None}
    assert opened["steering"]["exclude_explicit"] is True
    assert all(int(varied[t["id"]]["release_date"][:4]) >= 2000 for t in opened["tracks"])
    # The same steering carries through "try other tracks".
    again = _edit(client, token, opened["id"], op="regenerate")
    assert again["steering"] == opened["steering"]


@pytest.mark.parametrize("body, field", [
    ({"familiar": 101}, "familiar"), ({"familiar": "lots"}, "familiar"), ({"familiar": True}, "familiar"),
    ({"avoid_artists": "Artist 1"}, "avoid_artists"), ({"avoid_artists": [3]}, "avoid_artists"),
    ({"avoid_artists": [f"A{i}" for i in range(60)]}, "avoid_artists"),
    ({"years": {"from": 2010, "to": 1990}}, "years"), ({"years": 1990}, "years"),
    ({"years": {"from": "soon"}}, "years"), ({"years": {"since": 1990}}, "years"),
])
def test_bad_steering_is_a_clear_422(client, varied, fake_spotify, body, field):
    token = api_login(client, fake_spotify)
    response = client.post("/api/v1/previews", json={"from": "anxious", "to": "calm", "tracks": 5, **body},
                           headers=api_headers(token))
    assert response.status_code == 422
    assert response.json["error"]["field"] == field


def test_a_swapped_track_never_returns_until_undone(client, app, varied, fake_spotify):
    app.config["RATELIMIT_ENABLED"] = False  # 60 edits in a row
    token = api_login(client, fake_spotify)
    first = api_preview(client, token, tracks=12, seed=3)
    gone = first["tracks"][4]["id"]
    swapped = _edit(client, token, first["id"], op="swap", track_id=gone)
    assert gone not in {t["id"] for t in swapped["tracks"]}
    taste = client.get("/api/v1/taste").json
    assert taste["never_again"] == [gone]
    # 50 "try other tracks", new previews with the very seed that chose it, nudges: never again.
    current = swapped
    for _ in range(50):
        current = _edit(client, token, current["id"], op="regenerate")
        assert gone not in {t["id"] for t in current["tracks"]}
    assert gone not in {t["id"] for t in api_preview(client, token, tracks=12, seed=3)["tracks"]}
    nudged = _edit(client, token, current["id"], op="nudge", direction="brighter")
    assert gone not in {t["id"] for t in nudged["tracks"]}
    # A second swap in another preview: the earlier one still holds in the swap's own search.
    other = api_preview(client, token, tracks=12, seed=3)
    for t in other["tracks"][:3]:
        other = _edit(client, token, other["id"], op="swap", track_id=t["id"])
        assert gone not in {x["id"] for x in other["tracks"]}
    # Undo: it may come back (the same seed picks it again).
    assert client.delete(f"/api/v1/taste/never-again/{gone}", headers=api_headers(token)).status_code == 204
    assert client.delete(f"/api/v1/taste/never-again/{gone}", headers=api_headers(token)).status_code == 422
    assert gone not in client.get("/api/v1/taste").json["never_again"]
    assert not fake_spotify.violations


def test_never_again_is_per_listener(client, varied, fake_spotify):
    token = api_login(client, fake_spotify, "listener-1")
    first = api_preview(client, token, tracks=12, seed=3)
    gone = first["tracks"][4]["id"]
    _edit(client, token, first["id"], op="swap", track_id=gone)
    other = api_login(client, fake_spotify, "listener-2")
    assert gone in {t["id"] for t in api_preview(client, other, tracks=12, seed=3)["tracks"]}


def test_kept_tracks_and_saved_playlists_count_for_the_listener(client, varied, fake_spotify):
    token = api_login(client, fake_spotify)
    first = api_preview(client, token, tracks=10, seed=1)
    kept = first["tracks"][2]
    _edit(client, token, first["id"], op="lock", track_id=kept["id"])
    taste = client.get("/api/v1/taste").json
    assert [t["id"] for t in taste["kept"]] == [kept["id"]]
    assert api_save(client, token, first["id"]).status_code == 201
    assert client.get("/api/v1/taste").json["saved_playlist_tracks"] == 10
    known_artists = {t["artists"][0] for t in first["tracks"]}
    familiar = api_preview(client, token, tracks=10, familiar=100, to="melancholic")
    new = api_preview(client, token, tracks=10, familiar=0, to="melancholic")
    share = sum(t["artists"][0] in known_artists for t in familiar["tracks"]) / 10
    assert share >= 0.9
    assert sum(t["artists"][0] in known_artists for t in new["tracks"]) / 10 < share
    reasons = [t["reason"] for t in familiar["tracks"]]
    assert any(r.startswith(("An artist you play often.", "A track you know.")) for r in reasons)


def test_delete_taste_forgets_it_and_deleting_the_account_deletes_it(client, app, varied, fake_spotify):
    token = api_login(client, fake_spotify)
    first = api_preview(client, token, tracks=10, familiar=30, avoid_artists=["Artist 7"])
    _edit(client, token, first["id"], op="swap", track_id=first["tracks"][0]["id"])
    _edit(client, token, first["id"], op="lock", track_id=first["tracks"][1]["id"])
    with app.app_context():
        db.session.add(TasteItem(user_id=1, source="top_artists", kind="artist", item_id="a1", name="Artist 3",
                                 artists=""))
        db.session.commit()
    held = client.get("/api/v1/taste").json
    assert held["never_again"] and held["kept"] and held["synced"] == {"top_artists": 1}
    assert held["steering"]["familiar"] == 30
    assert client.delete("/api/v1/taste", headers=api_headers(token)).status_code == 204
    empty = client.get("/api/v1/taste").json
    assert empty["never_again"] == [] and empty["kept"] == [] and empty["synced"] == {}
    assert empty["steering"]["familiar"] == 0 and empty["steering"]["avoid_artists"] == []
    # Build it again, then delete the account: nothing of it stays.
    again = api_preview(client, token, tracks=10, familiar=60)
    _edit(client, token, again["id"], op="swap", track_id=again["tracks"][0]["id"])
    with app.app_context():
        db.session.add(TasteItem(user_id=1, source="saved", kind="track", item_id="x", name="X", artists="Y"))
        db.session.commit()
    page = client.get("/settings")
    assert page.status_code == 200
    deleted = client.post("/settings/delete-account", data={"csrf_token": csrf_from(page.data), "confirm": "yes"})
    assert deleted.status_code in (302, 303)
    with app.app_context():
        for model in (ListenerTaste, TasteMark, TasteItem):
            assert db.session.query(model).count() == 0, model


def test_taste_needs_login_and_csrf(client, varied, fake_spotify):
    assert client.get("/api/v1/taste").status_code == 401
    api_login(client, fake_spotify)
    assert client.delete("/api/v1/taste").status_code in (400, 403)


def test_artist_type_ahead(client, varied, fake_spotify):
    api_login(client, fake_spotify)
    found = client.get("/api/v1/artists?q=artist 1").json["artists"]
    assert found and all(a.lower().startswith("artist 1") for a in found) and len(found) <= 10
    assert client.get("/api/v1/artists?q=").json["artists"] == []


def test_the_taste_page_shows_what_is_held_and_brings_back_and_forgets(client, varied, fake_spotify):
    token = api_login(client, fake_spotify)
    first = api_preview(client, token, tracks=10, familiar=20, avoid_artists=["Artist 9"])
    gone = first["tracks"][0]
    _edit(client, token, first["id"], op="swap", track_id=gone["id"])
    page = client.get("/taste")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert gone["name"] in text and "20%" in text and "Artist 9" in text
    assert "What Curator knows about your taste" in client.get("/settings").get_data(as_text=True)
    csrf = csrf_from(page.data)
    assert client.post(f"/taste/never-again/{gone['id']}", data={}).status_code == 400  # no CSRF token
    back = client.post(f"/taste/never-again/{gone['id']}", data={"csrf_token": csrf})
    assert back.status_code == 302 and client.get("/api/v1/taste").json["never_again"] == []
    unconfirmed = client.post("/taste/forget", data={"csrf_token": csrf})
    assert unconfirmed.status_code == 302 and client.get("/api/v1/taste").json["steering"]["familiar"] == 20
    client.post("/taste/forget", data={"csrf_token": csrf, "confirm": "yes"})
    assert client.get("/api/v1/taste").json["steering"]["familiar"] == 0
    assert client.get("/taste", follow_redirects=False).status_code == 200


def test_what_helps_me_after_three_check_ins_of_an_arc_and_one_tap_fills_the_form(client, app, varied, fake_spotify):
    from tests.helpers import listened_since_saving

    app.config["RATELIMIT_ENABLED"] = False
    token = api_login(client, fake_spotify)
    for n, (before, after) in enumerate([(4, 2), (5, 3), (3, 3)]):
        made = api_preview(client, token, to="uplifted", tracks=8, before_rating=before)
        assert api_save(client, token, made["id"], key=f"k{n}").status_code == 201
        listened_since_saving(app)
        checkin = client.post("/api/v1/checkins", json={"preview_id": made["id"], "rating": after},
                              headers=api_headers(token))
        assert checkin.status_code == 201, checkin.json
        home = client.get("/").get_data(as_text=True)
        taste = client.get("/taste").get_data(as_text=True)
        if n < 2:  # not before three check-ins of the arc
            assert 'id="helps-suggestion"' not in home and "After three check-ins" in taste
    assert 'id="helps-suggestion"' in home
    assert "The last 3 times, Anxious → Uplifted left you feeling anxious 1.3 less on average" in home
    assert "Only 3 times, so this may be chance; single times ranged from +0 to +2." in home
    assert "-1.3 on average" in taste and "not a diagnosis" in taste
    # One tap: the suggestion's link fills the form with that arc, the listener's steering kept.
    link = home.split('id="helps-use"')[0].rsplit('href="', 1)[1].split('"')[0].replace("&amp;", "&")
    filled = client.get(link).get_data(as_text=True)
    import re
    assert re.search(r'name="from" value="anxious" required\s+checked', filled)
    assert re.search(r'name="to" value="uplifted" required\s+checked', filled)
    assert not re.search(r'name="to" value="calm" required\s+checked', filled)
    # History: make a past playlist again in one tap (its settings fill the form).
    history = client.get("/history").get_data(as_text=True)
    again = history.split('class="button again" href="')[1].split('"')[0].replace("&amp;", "&")
    assert "from=anxious" in again and "to=uplifted" in again and "length=8" in again and "steering=1" in again
    assert client.get(again).status_code == 200
