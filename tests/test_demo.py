"""Try it before any setup (issue 20 item 1): without a Spotify app a visitor makes previews from
the catalogue, or from the made-up demo set while there is none; roles and the setup gate hold,
and demo visitors never see each other's previews."""
from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import pytest

from curator import create_app
from curator.catalogue.demo import DEMO_PREFIX, demo_catalogue, demo_records
from curator.clock import utcnow
from curator.extensions import db
from curator.models.listening import Preview
from curator.models.user import User
from curator.moods.service import import_shipped_if_empty
from tests.helpers import csrf_from, import_rows, synthetic_rows

ORIGIN = {"Origin": "http://localhost"}
FORM = {"from": "anxious", "to": "calm", "length": "20", "unit": "tracks"}


@pytest.fixture
def demo_app(app_config, fresh_database):
    """The app as a fresh clone runs it: no Spotify app configured, the shipped moods, no tracks."""
    app_config.update(SPOTIFY_CLIENT_ID="", SPOTIFY_CLIENT_SECRET="")
    app = create_app(app_config)
    with app.app_context():
        fresh_database.prepare(db.engine)
        import_shipped_if_empty()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def make(client, **fields):
    return client.post("/previews", data={**FORM, **fields}, headers=ORIGIN)


def test_the_first_page_offers_the_form_without_a_session(demo_app):
    client = demo_app.test_client()
    page = client.get("/")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'id="start-form"' in html and 'id="wheel"' in html
    assert "made-up demo catalogue" in html and 'href="/setup"' in html
    assert "Set-Cookie" not in page.headers and "csrf_token" not in html  # looking costs no session
    assert 'name="from_my_music"' not in html  # that needs Spotify


def test_a_demo_visitor_gets_a_preview_with_arc_reasons_and_chart(demo_app):
    client = demo_app.test_client()
    response = make(client)
    assert response.status_code == 302 and "Set-Cookie" in response.headers  # a session from the post on
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    ids = re.findall(r'<li class="track[^"]*" data-id="([^"]+)"', page)
    assert len(ids) == 20 and all(i.startswith(DEMO_PREFIX) for i in ids)
    assert 'class="arc-band"' in page and 'class="arc-chart"' in page
    assert unescape(page).count("Meets you in your anxious mood") == 1
    # Made-up tracks: nothing to play, no link into Spotify; saving says the one step it needs.
    assert "open.spotify.com/track" not in page and "open.spotify.com/embed" not in page
    assert "Made-up demo tracks, so there is nothing to play" in page
    assert 'href="/setup"' in page and "Save to Spotify" in page and 'class="inline save-form"' not in page
    setup = client.get("/setup").get_data(as_text=True)
    assert "SPOTIFY_CLIENT_ID" in setup and "developer.spotify.com/dashboard" in setup
    # The edits work for a demo visitor, with the session's CSRF token like everyone's.
    token = csrf_from(page)
    path = response.headers["Location"]
    swapped = client.post(path + "/remove", data={"csrf_token": token, "track_id": ids[3]})
    assert swapped.status_code == 302 and "/previews/" in swapped.headers["Location"]
    assert client.post(path + "/remove", data={"track_id": ids[3]}).status_code == 400  # no token: refused


def test_the_first_post_must_come_from_our_own_page(demo_app):
    client = demo_app.test_client()
    assert client.post("/previews", data=FORM).status_code == 403
    assert client.post("/previews", data=FORM, headers={"Origin": "https://evil.example"}).status_code == 403
    assert client.post("/previews", data=FORM, headers={"Sec-Fetch-Site": "cross-site"}).status_code == 403
    assert client.post("/previews", data=FORM, headers={"Referer": "http://localhost/"}).status_code == 302
    with demo_app.app_context():
        assert db.session.scalar(db.select(db.func.count(User.id))) == 1  # refused posts made nobody


def test_demo_visitors_never_see_each_others_previews(demo_app):
    alice, bob = demo_app.test_client(), demo_app.test_client()
    path = make(alice).headers["Location"]
    bob_path = make(bob).headers["Location"]
    assert bob.get(path).status_code == 404
    assert alice.get(bob_path).status_code == 404
    token = csrf_from(bob.get(bob_path).data)
    assert bob.post(path + "/regenerate", data={"csrf_token": token}).status_code == 404


def test_the_setup_gate_and_roles_hold_in_demo_mode(demo_app):
    client = demo_app.test_client()
    path = make(client).headers["Location"]
    for page in ("/history", "/settings", "/curate/moods", "/admin/", "/login", "/api/v1/moods"):
        assert client.get(page).status_code == 503, page
    token = csrf_from(client.get(path).data)
    assert client.post(path + "/save", data={"csrf_token": token}).status_code == 503  # saving needs Spotify
    with demo_app.app_context():
        [visitor] = db.session.scalars(db.select(User)).all()
        assert visitor.spotify_id.startswith("demo:") and visitor.roles == {"listener"} and visitor.token is None


def test_demo_mode_ends_when_spotify_is_configured(demo_app, app_config):
    client = demo_app.test_client()
    path = make(client).headers["Location"]
    configured = create_app({**app_config, "SPOTIFY_CLIENT_ID": "id", "SPOTIFY_CLIENT_SECRET": "secret"})
    other = configured.test_client()
    cookie = configured.config["SESSION_COOKIE_NAME"]
    other.set_cookie(cookie, client.get_cookie(cookie).value)  # the same browser, after the restart
    answer = other.get(path)
    assert answer.status_code == 302 and "/login" in answer.headers["Location"]  # signed in no more
    with configured.app_context():
        db.session.remove()
        db.engine.dispose()


def test_a_real_catalogue_is_used_when_there_is_one(demo_app, fake_spotify, tmp_path):
    rows = import_rows(demo_app, fake_spotify, tmp_path, synthetic_rows())
    client = demo_app.test_client()
    page = client.get(make(client).headers["Location"]).get_data(as_text=True)
    ids = set(re.findall(r'<li class="track[^"]*" data-id="([^"]+)"', page))
    assert ids and ids <= {r["id"] for r in rows}
    assert "open.spotify.com/track" in page  # real tracks can be played
    assert "made-up demo catalogue" not in client.get("/").get_data(as_text=True)


def test_old_demo_visitors_are_forgotten(demo_app):
    client = demo_app.test_client()
    make(client)
    with demo_app.app_context():
        old = db.session.scalar(db.select(User))
        old.created_at = utcnow() - timedelta(days=2)
        db.session.commit()
    make(demo_app.test_client())
    with demo_app.app_context():
        assert db.session.scalar(db.select(db.func.count(User.id))) == 1
        assert db.session.scalar(db.select(db.func.count(Preview.id))) == 1


def test_the_demo_set_fills_every_pair_of_shipped_moods(app):
    from curator.engine import CurateOptions, Length, curate

    moods = load_shipped()
    with app.app_context():
        catalogue = demo_catalogue()
        assert demo_catalogue() is catalogue  # built once per app
    assert len(catalogue) == len(demo_records()) and len({r["name"] for r in demo_records()}) > 400
    for start in moods:
        for target in moods:
            playlist = curate(catalogue, start, target, Length(tracks=20), CurateOptions(seed=1))
            assert len(playlist.tracks) == 20, (start.slug, target.slug, playlist.shortfall)


def load_shipped():
    from pathlib import Path

    from curator.engine.moods import load_moods_yaml

    return load_moods_yaml((Path(__file__).resolve().parents[1] / "config" / "moods.yaml").read_text())
