"""Logging in with Spotify, end to end through the fake Spotify over real HTTP."""
from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import requests

from curator.extensions import db
from curator.models.user import SpotifyToken, User, WebSession
from tests.helpers import csrf_token, login


def test_login_redirects_to_accounts_with_state_client_and_scopes(client, fake_spotify):
    response = client.get("/login")
    assert response.status_code == 302
    url = urlsplit(response.headers["Location"])
    assert f"{url.scheme}://{url.netloc}{url.path}" == fake_spotify.accounts_url + "authorize"
    query = parse_qs(url.query)
    assert query["client_id"] == ["test-client-id"]
    assert query["response_type"] == ["code"]
    assert len(query["state"][0]) >= 20
    assert set(query["scope"][0].split()) == {"playlist-modify-private", "playlist-modify-public", "user-read-private"}


def test_login_lands_on_home_page_as_that_user(client, fake_spotify, app):
    response = login(client, fake_spotify, "alice", display_name="Alice Liddell")
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/"
    home = client.get("/")
    assert b"Alice Liddell" in home.data
    with app.app_context():
        user = db.session.scalar(db.select(User).where(User.spotify_id == "alice"))
        assert user.display_name == "Alice Liddell"
        assert user.roles == {"listener"}


def test_login_over_real_http_with_a_live_server(request, app_config, fake_spotify):
    # The default cookie settings of a local http://127.0.0.1 install, as the Run command serves it:
    # a plain HTTP client (python-requests) must keep the session cookie through the login.
    app_config.pop("SESSION_COOKIE_SECURE")
    live_server = request.getfixturevalue("live_server")
    fake_spotify.add_user("bob", display_name="Bob")
    fake_spotify.authorize_as("bob")
    browser = requests.Session()
    # Follows /login → fake /authorize → /callback → / as a browser would.
    page = browser.get(live_server + "/login", timeout=10)
    assert page.status_code == 200
    assert page.url == live_server + "/"
    assert "Bob" in page.text
    cookie = next(c for c in browser.cookies if c.name == "curator_session")
    assert not cookie.secure and cookie.has_nonstandard_attr("HttpOnly")


def test_admin_ids_become_admins_at_login(client, fake_spotify, app):
    login(client, fake_spotify, "admin-user")
    with app.app_context():
        user = db.session.scalar(db.select(User).where(User.spotify_id == "admin-user"))
        assert user.has_role("admin") and user.has_role("curator")


def _admin_events(app, spotify_id):
    from curator.models.audit import AuditEvent

    with app.app_context():
        rows = db.session.scalars(db.select(AuditEvent).where(AuditEvent.target == spotify_id)
                                  .order_by(AuditEvent.id)).all()
        return [(e.action, e.actor_label, "admin" in e.after["roles"]) for e in rows]


def _roles(app, spotify_id):
    with app.app_context():
        return db.session.scalar(db.select(User).where(User.spotify_id == spotify_id)).roles


def test_admin_from_the_environment_is_audited_and_revoked_when_the_id_leaves_the_list(client, fake_spotify, app):
    login(client, fake_spotify, "admin-user")
    assert _admin_events(app, "admin-user") == [("role.grant", "ADMIN_SPOTIFY_IDS", True)]
    login(client, fake_spotify, "admin-user")  # still listed: nothing new to record
    assert _admin_events(app, "admin-user") == [("role.grant", "ADMIN_SPOTIFY_IDS", True)]
    app.config["ADMIN_SPOTIFY_IDS"] = []
    login(client, fake_spotify, "admin-user")
    assert _roles(app, "admin-user") == {"listener"}
    assert _admin_events(app, "admin-user") == [("role.grant", "ADMIN_SPOTIFY_IDS", True),
                                                ("role.revoke", "ADMIN_SPOTIFY_IDS", False)]
    app.config["ADMIN_SPOTIFY_IDS"] = ["admin-user"]
    login(client, fake_spotify, "admin-user")
    assert "admin" in _roles(app, "admin-user")


def test_admin_granted_by_hand_stays_when_the_id_is_not_listed(client, fake_spotify, app, runner):
    login(client, fake_spotify, "helen")
    assert runner.invoke(args=["roles", "grant", "helen", "admin"]).exit_code == 0
    login(client, fake_spotify, "helen")
    assert "admin" in _roles(app, "helen")
    # Listed, then granted by hand, then unlisted: the hand grant came last, so it stays.
    app.config["ADMIN_SPOTIFY_IDS"] = ["ivan"]
    login(client, fake_spotify, "ivan")
    assert runner.invoke(args=["roles", "revoke", "ivan", "admin"]).exit_code == 0
    assert runner.invoke(args=["roles", "grant", "ivan", "admin"]).exit_code == 0
    app.config["ADMIN_SPOTIFY_IDS"] = []
    login(client, fake_spotify, "ivan")
    assert "admin" in _roles(app, "ivan")
    assert [a for a, _, _ in _admin_events(app, "ivan")] == ["role.grant", "role.revoke", "role.grant"]


def test_next_returns_to_the_page_that_asked_and_refuses_other_hosts(client, fake_spotify):
    response = login(client, fake_spotify, "carol", next_path="/healthz")
    assert response.headers["Location"].endswith("/healthz")
    logout(client)
    response = login(client, fake_spotify, "carol", next_path="//evil.example/")
    assert urlsplit(response.headers["Location"]).netloc in ("", "localhost")
    assert urlsplit(response.headers["Location"]).path == "/"


def test_forged_state_is_refused_with_a_friendly_400(client, fake_spotify):
    client.get("/login")
    response = client.get("/callback", query_string={"code": "whatever", "state": "forged"})
    assert response.status_code == 400
    assert b"login link isn" in response.data
    assert b"Log in with Spotify" in response.data


def test_missing_state_and_no_login_in_progress_is_400(client):
    response = client.get("/callback", query_string={"code": "abc"})
    assert response.status_code == 400


def test_access_denied_is_a_friendly_page(client, fake_spotify):
    fake_spotify.deny_next_authorize()
    response = client.get("/login")
    denied = requests.get(response.headers["Location"], allow_redirects=False, timeout=5)
    callback = urlsplit(denied.headers["Location"])
    assert parse_qs(callback.query)["error"] == ["access_denied"]
    page = client.get(callback.path, query_string=parse_qs(callback.query))
    assert page.status_code == 400
    assert b"nothing was shared" in page.data


def test_replayed_code_is_400_not_500(client, fake_spotify, app):
    fake_spotify.add_user("dave")
    fake_spotify.authorize_as("dave")
    start = client.get("/login")
    approved = requests.get(start.headers["Location"], allow_redirects=False, timeout=5)
    callback = urlsplit(approved.headers["Location"])
    params = parse_qs(callback.query)
    assert client.get(callback.path, query_string=params).status_code == 302
    # Same code and state again: the state was used up, so it is refused before any exchange.
    assert client.get(callback.path, query_string=params).status_code == 400
    # Same code under a fresh state: Spotify refuses the code (invalid_grant), still a 400 page.
    fresh = parse_qs(urlsplit(client.get("/login").headers["Location"]).query)["state"][0]
    replay = client.get(callback.path, query_string={"code": params["code"][0], "state": fresh})
    assert replay.status_code == 400
    assert b"did not accept" in replay.data


def test_failed_token_exchange_is_a_friendly_page(client, fake_spotify):
    fake_spotify.add_user("erin")
    fake_spotify.authorize_as("erin")
    start = client.get("/login")
    approved = requests.get(start.headers["Location"], allow_redirects=False, timeout=5)
    callback = urlsplit(approved.headers["Location"])
    fake_spotify.fail_next("POST", r"/accounts/api/token", 400,
                           body={"error": "invalid_client", "error_description": "Invalid client"})
    page = client.get(callback.path, query_string=parse_qs(callback.query))
    assert page.status_code == 400
    assert b"Spotify login didn" in page.data


def logout(client):
    return client.post("/logout", data={"csrf_token": csrf_token(client)})


def test_logout_clears_the_session(client, fake_spotify, app):
    login(client, fake_spotify, "frank")
    assert b"Frank" in client.get("/").data
    with app.app_context():
        franks = db.session.scalars(db.select(WebSession.id)).all()
    assert len(franks) == 1
    assert logout(client).status_code == 302
    assert b"Log in with Spotify" in client.get("/").data
    with app.app_context():
        rows = db.session.scalars(db.select(WebSession)).all()
        # Frank's session row is gone, not just emptied; the anonymous one that carried the
        # "logged out" message went once the message was shown.
        assert rows == []


def test_a_get_or_a_cross_site_post_does_not_log_out(client, fake_spotify):
    login(client, fake_spotify, "frank")
    # What a link or an <img src> on another site makes the browser send.
    page = client.get("/logout", headers={"Referer": "https://evil.example/", "Sec-Fetch-Site": "cross-site"})
    assert page.status_code == 200
    assert b'method="post"' in page.data and b"Log out Frank" in page.data
    # A form on another site can POST, but can't know the CSRF token.
    assert client.post("/logout", headers={"Referer": "https://evil.example/"}).status_code == 400
    assert b"Log out Frank" in client.get("/").data  # still logged in
    assert logout(client).status_code == 302
    assert b"Log in with Spotify" in client.get("/").data
    assert client.get("/logout").status_code == 302  # nothing to log out of: back home


def test_every_page_logs_out_through_a_post_form(client, fake_spotify):
    login(client, fake_spotify, "frank")
    for path in ("/", "/logout"):
        html = client.get(path).data.decode()
        assert 'href="/logout"' not in html
        assert '<form method="post" action="/logout"' in html


def test_no_token_in_cookie_and_refresh_token_encrypted_at_rest(client, fake_spotify, app):
    login(client, fake_spotify, "grace")
    issued = [r for r in fake_spotify.requests if r.path.endswith("/api/token")]
    assert issued
    with app.app_context():
        row = db.session.scalar(db.select(SpotifyToken))
        stored = row.ciphertext
        sessions = db.session.scalars(db.select(WebSession.data)).all()
    tokens = [t for t in _tokens_known_to(fake_spotify, "grace")]
    assert tokens, "the fake issued tokens"
    cookie = client.get_cookie("curator_session")
    assert cookie is not None and cookie.http_only and cookie.same_site == "Lax"
    for token in tokens:
        assert token not in cookie.value
        assert token not in stored
        assert all(token not in json.dumps(data) for data in sessions)
    # The cookie is only a signed id: no session data travels to the browser.
    assert "." in cookie.value and "user_id" not in cookie.value
    assert sessions[0]["user_id"]  # the data lives server-side


def _tokens_known_to(fake, user_id):
    with fake._lock:
        tokens = [t for t, g in fake._access.items() if g.user_id == user_id]
        tokens += [t for t, g in fake._refresh.items() if g.user_id == user_id]
    return tokens


def test_cookie_is_secure_when_the_app_is_served_over_https(monkeypatch, app_config, fake_spotify):
    """No SESSION_COOKIE_SECURE given: an https redirect URI (any real deployment) makes it Secure."""
    from curator import create_app

    monkeypatch.delenv("SESSION_COOKIE_SECURE", raising=False)
    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    monkeypatch.setenv("SPOTIFY_REDIRECT_URI", "https://curator.example/callback")
    config = {k: v for k, v in app_config.items() if k not in ("SESSION_COOKIE_SECURE", "SPOTIFY_REDIRECT_URI")}
    app = create_app(config)
    with app.app_context():
        db.create_all()
    try:
        header = app.test_client().get("/login").headers.get("Set-Cookie", "")
        assert "Secure" in header and "HttpOnly" in header and "SameSite=Lax" in header
    finally:
        with app.app_context():
            db.drop_all()
            db.engine.dispose()


# --- PKCE (S256) ---

def test_login_sends_a_pkce_challenge_and_the_exchange_its_verifier(client, fake_spotify, app):
    import base64
    import hashlib

    start = client.get("/login")
    query = parse_qs(urlsplit(start.headers["Location"]).query)
    assert query["code_challenge_method"] == ["S256"]
    challenge = query["code_challenge"][0]
    with app.app_context():
        stored = db.session.scalars(db.select(WebSession.data)).all()
    verifier = next(data["oauth"]["verifier"] for data in stored if "oauth" in data)
    assert verifier not in start.headers["Location"]  # only its hash leaves the server
    assert 43 <= len(verifier) <= 128
    fake_spotify.add_user("pat")
    fake_spotify.authorize_as("pat")
    approved = requests.get(start.headers["Location"], allow_redirects=False, timeout=5)
    callback = urlsplit(approved.headers["Location"])
    assert client.get(callback.path, query_string=parse_qs(callback.query)).status_code == 302
    exchange = [r for r in fake_spotify.requests if r.path.endswith("/api/token")][-1]
    assert exchange.form["code_verifier"] == [verifier]
    expected = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    assert expected == challenge


def test_a_code_from_one_browser_replayed_with_another_browsers_state_is_refused(app, fake_spotify):
    victim, attacker = app.test_client(), app.test_client()
    fake_spotify.add_user("victim")
    fake_spotify.authorize_as("victim")
    # The victim's browser starts a login and Spotify answers with a code (which leaks).
    approved = requests.get(victim.get("/login").headers["Location"], allow_redirects=False, timeout=5)
    stolen = parse_qs(urlsplit(approved.headers["Location"]).query)["code"][0]
    # The attacker starts a login of their own and sends the stolen code with their own state.
    state = parse_qs(urlsplit(attacker.get("/login").headers["Location"]).query)["state"][0]
    replay = attacker.get("/callback", query_string={"code": stolen, "state": state})
    assert replay.status_code == 400 and b"did not accept" in replay.data
    assert b"Log in with Spotify" in attacker.get("/").data  # not logged in as anyone
    with app.app_context():
        assert db.session.scalar(db.select(User).where(User.spotify_id == "victim")) is None
    exchange = [r for r in fake_spotify.requests if r.path.endswith("/api/token")][-1]
    assert exchange.status == 400 and exchange.form["code_verifier"]


def test_the_fake_refuses_a_login_without_pkce(client, fake_spotify):
    """The fake Spotify enforces PKCE for the app's tests, so a login that dropped it would fail."""
    start = urlsplit(client.get("/login").headers["Location"])
    query = {k: v[0] for k, v in parse_qs(start.query).items() if not k.startswith("code_challenge")}
    fake_spotify.add_user("quinn")
    fake_spotify.authorize_as("quinn")
    refused = requests.get(f"{start.scheme}://{start.netloc}{start.path}", params=query, allow_redirects=False, timeout=5)
    assert parse_qs(urlsplit(refused.headers["Location"]).query)["error"] == ["invalid_request"]


def test_logins_nobody_finishes_are_throttled_per_address_and_their_rows_expire_soon(app, fake_spotify):
    from datetime import timedelta

    from curator.clock import utcnow
    from curator.ratelimit import LOGINS_PER_MINUTE

    def rows() -> list[WebSession]:
        with app.app_context():
            found = db.session.scalars(db.select(WebSession)).all()
            db.session.remove()
            return found

    # A script without cookies: every /login is a new visitor, so each stores its OAuth state.
    for _ in range(LOGINS_PER_MINUTE):
        assert app.test_client().get("/login").status_code == 302
    stored = rows()
    assert len(stored) == LOGINS_PER_MINUTE
    assert all(row.expires_at - utcnow() <= timedelta(minutes=15) for row in stored)
    # The next one from the same address is refused, and stores nothing.
    refused = app.test_client().get("/login")
    assert refused.status_code == 429 and "Please wait" in refused.get_data(as_text=True)
    assert len(rows()) == LOGINS_PER_MINUTE
    # Another address may still log in, and a finished login keeps its session for the full lifetime.
    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = "192.0.2.7"
    assert login(other, fake_spotify, "carol").status_code == 302
    with app.app_context():
        carol = db.session.scalar(db.select(User).where(User.spotify_id == "carol"))
        row = db.session.scalar(db.select(WebSession).where(WebSession.user_id == carol.id))
        assert row.expires_at - utcnow() > timedelta(days=29)
