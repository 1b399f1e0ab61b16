"""Server-side sessions name their user in an indexed column: an account's sessions are found (and
ended) by that column, in every browser the listener used."""
from __future__ import annotations

from curator.extensions import db
from curator.models.user import User, WebSession
from tests.helpers import csrf_token, login


def _owners(app) -> list[int | None]:
    with app.app_context():
        return sorted(db.session.scalars(db.select(WebSession.user_id)).all(), key=lambda v: (v is None, v))


def test_login_writes_the_user_on_the_session_row(app, client, fake_spotify):
    client.get("/")  # an anonymous visit stores nothing
    assert _owners(app) == []
    login(client, fake_spotify, "ana")
    with app.app_context():
        ana = db.session.scalar(db.select(User).where(User.spotify_id == "ana"))
        rows = db.session.scalars(db.select(WebSession)).all()
    assert [row.user_id for row in rows] == [ana.id]
    assert rows[0].data["user_id"] == ana.id


def test_deleting_an_account_ends_its_sessions_in_every_browser(app, fake_spotify):
    phone, laptop, friend = app.test_client(), app.test_client(), app.test_client()
    login(phone, fake_spotify, "ana")
    login(laptop, fake_spotify, "ana")
    login(friend, fake_spotify, "bo")
    laptop_token = csrf_token(laptop)
    assert laptop.get("/settings").status_code == 200
    with app.app_context():
        ana_id, bo_id = (db.session.scalar(db.select(User.id).where(User.spotify_id == s)) for s in ("ana", "bo"))
    assert _owners(app).count(ana_id) == 2

    response = phone.post("/settings/delete-account", data={"csrf_token": csrf_token(phone), "confirm": "yes"})
    assert response.status_code == 302

    assert ana_id not in _owners(app)
    assert bo_id in _owners(app)
    # The laptop's session is gone too: it is anonymous now, its old form token is worthless.
    assert laptop.get("/settings").status_code == 302
    refused = laptop.post("/settings/delete-history", data={"csrf_token": laptop_token, "confirm": "yes"})
    assert refused.status_code in (302, 400)
    assert friend.get("/settings").status_code == 200


def test_logging_out_makes_the_row_anonymous_or_removes_it(app, client, fake_spotify):
    login(client, fake_spotify, "ana")
    client.post("/logout", data={"csrf_token": csrf_token(client)})
    assert [owner for owner in _owners(app) if owner is not None] == []


def test_a_view_that_fails_keeps_the_session_and_a_token_refreshed_on_the_way(app, client, fake_spotify):
    """The view's own writes roll back; the refreshed token, the call count and the session stay."""
    from flask import g, session

    from curator.audit import record
    from curator.spotify.call_log import record_call
    from curator.spotify.token_store import DatabaseTokenCache, save_token

    @app.get("/test-only/refresh-then-fail")
    def refresh_then_fail():
        save_token(g.user.id, {"access_token": "fresh", "refresh_token": "r2", "scope": "playlist-modify-private",
                               "expires_at": 4_000_000_000, "token_type": "Bearer", "expires_in": 3600})
        record_call("test.operation", 200, g.user.id)
        record(g.user, "test.change")  # the view's own write: lost with the view
        session["seen"] = "kept"
        assert DatabaseTokenCache(g.user.id).get_cached_token()["access_token"] == "fresh"
        raise RuntimeError("the view failed after Spotify refreshed its token")

    login(client, fake_spotify, "ana")
    app.config["PROPAGATE_EXCEPTIONS"] = False  # serve the 500 page as production does
    assert client.get("/test-only/refresh-then-fail").status_code == 500

    from curator.models.audit import AuditEvent
    from curator.models.user import SpotifyCall

    with app.app_context():
        ana = db.session.scalar(db.select(User).where(User.spotify_id == "ana"))
        assert DatabaseTokenCache(ana.id).get_cached_token()["access_token"] == "fresh"
        assert db.session.scalar(db.select(SpotifyCall).where(SpotifyCall.operation == "test.operation"))
        assert db.session.scalar(db.select(AuditEvent).where(AuditEvent.action == "test.change")) is None
        row = db.session.scalar(db.select(WebSession).where(WebSession.user_id == ana.id))
        assert row.data["seen"] == "kept"
    assert client.get("/settings").status_code == 200  # still logged in


# --- what an anonymous visitor costs: nothing stored, nothing cached (issue 18, item 6) ---

ANONYMOUS_PAGES = ("/", "/api/v1/session", "/healthz", "/no-such-page", "/history", "/settings", "/logout",
                   "/api/v1/moods", "/callback?state=nothing&code=x")


def test_three_hundred_anonymous_requests_store_no_session(app):
    for number in range(300):
        client = app.test_client()  # a fresh browser (no cookie) every time
        response = client.get(ANONYMOUS_PAGES[number % len(ANONYMOUS_PAGES)])
        assert response.status_code < 500
        assert "Set-Cookie" not in response.headers, ANONYMOUS_PAGES[number % len(ANONYMOUS_PAGES)]
    # Posting without a session is refused (CSRF) and stores nothing either.
    assert app.test_client().post("/logout").status_code == 400
    assert app.test_client().post("/previews", data={"from": "calm", "to": "calm"}).status_code == 400
    assert _owners(app) == []


def test_the_anonymous_api_session_hands_out_no_token_and_sets_no_cookie(client, fake_spotify):
    response = client.get("/api/v1/session")
    assert response.json == {"user": None, "csrf_token": None}
    assert "Set-Cookie" not in response.headers
    login(client, fake_spotify, "ana")
    response = client.get("/api/v1/session")
    assert isinstance(response.json["csrf_token"], str) and response.json["user"]["id"] == "ana"
    assert response.headers["Cache-Control"] == "no-store"


def test_starting_a_login_stores_one_session_and_every_cookie_is_no_store(app, client, fake_spotify):
    start = client.get("/login")
    assert "curator_session=" in start.headers["Set-Cookie"] and start.headers["Cache-Control"] == "no-store"
    assert _owners(app) == [None]  # the OAuth state and PKCE verifier must be kept: one row
    fake_spotify.add_user("ana")
    fake_spotify.authorize_as("ana")
    responses = [login(client, fake_spotify, "ana"), client.get("/"), client.get("/api/v1/session")]
    responses.append(client.post("/logout", data={"csrf_token": csrf_token(client)}))
    responses.append(client.get("/"))  # shows "you are logged out", which ends the anonymous row
    cookies = [r for r in responses if "Set-Cookie" in r.headers]
    assert len(cookies) >= 3  # the login, the logout and the cleared message
    assert all(r.headers["Cache-Control"] == "no-store" for r in cookies)
    assert _owners(app) == []


def test_pages_with_a_csrf_token_are_no_store(client, fake_spotify):
    login(client, fake_spotify, "ana")
    page = client.get("/")
    assert 'name="csrf-token"' in page.get_data(as_text=True) and page.headers["Cache-Control"] == "no-store"
    welcome = client.application.test_client().get("/")
    assert 'csrf-token' not in welcome.get_data(as_text=True)
