"""Granting and revoking roles from the command line and from the admin pages, audited."""
from __future__ import annotations

import re

from curator.extensions import db
from curator.models.audit import AuditEvent
from curator.models.user import User
from tests.helpers import csrf_from, login


def user(app, spotify_id: str) -> User:
    with app.app_context():
        found = db.session.scalar(db.select(User).where(User.spotify_id == spotify_id))
        db.session.expunge(found)
        return found


def events(app, action: str) -> list[AuditEvent]:
    with app.app_context():
        found = list(db.session.scalars(db.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))
        for e in found:
            db.session.expunge(e)
        return found


def test_roles_cli_grant_list_revoke(app, client, runner, fake_spotify):
    login(client, fake_spotify, "cur-1", display_name="Cora")
    result = runner.invoke(args=["roles", "grant", "cur-1", "curator"])
    assert result.exit_code == 0, result.output
    assert "Granted curator to Cora" in result.output
    assert user(app, "cur-1").has_role("curator")
    # The web session sees the new role on its next request.
    assert client.get("/curate/moods").status_code == 200

    listing = runner.invoke(args=["roles", "list"])
    assert "cur-1\tCora\tcurator, listener" in listing.output
    only_admins = runner.invoke(args=["roles", "list", "--role", "admin"])
    assert "Nobody has the admin role." in only_admins.output

    again = runner.invoke(args=["roles", "grant", "cur-1", "curator"])
    assert again.exit_code == 0 and "already has" in again.output

    result = runner.invoke(args=["roles", "revoke", "cur-1", "curator"])
    assert result.exit_code == 0 and "Revoked curator from Cora" in result.output
    assert client.get("/curate/moods").status_code == 403

    grants, revokes = events(app, "role.grant"), events(app, "role.revoke")
    assert len(grants) == 1 and len(revokes) == 1
    assert grants[0].actor_label == "command line" and grants[0].target == "cur-1"
    assert grants[0].before == {"roles": ["listener"]}
    assert grants[0].after == {"roles": ["curator", "listener"]}


def test_roles_cli_rejects_unknown_users_and_roles(app, client, runner, fake_spotify):
    login(client, fake_spotify, "cur-1")
    unknown_user = runner.invoke(args=["roles", "grant", "nobody", "curator"])
    assert unknown_user.exit_code == 1 and "No user with Spotify id “nobody”" in unknown_user.output
    unknown_role = runner.invoke(args=["roles", "grant", "cur-1", "wizard"])
    assert unknown_role.exit_code == 1 and "Unknown role “wizard”" in unknown_role.output
    listener = runner.invoke(args=["roles", "revoke", "cur-1", "listener"])
    assert listener.exit_code == 1 and "Everyone is a listener" in listener.output
    bad_list = runner.invoke(args=["roles", "list", "--role", "wizard"])
    assert bad_list.exit_code == 1
    assert events(app, "role.grant") == [] and events(app, "role.revoke") == []


def test_revoking_a_configured_admin_says_it_comes_back_at_login(app, client, runner, fake_spotify):
    login(client, fake_spotify, "admin-user")
    result = runner.invoke(args=["roles", "revoke", "admin-user", "admin"])
    assert result.exit_code == 0
    assert "ADMIN_SPOTIFY_IDS" in result.output and "next login" in result.output
    assert not user(app, "admin-user").has_role("admin")
    login(client, fake_spotify, "admin-user")
    assert user(app, "admin-user").has_role("admin")


def test_admin_grants_and_revokes_on_the_web(app, client, fake_spotify):
    other = app.test_client()
    login(other, fake_spotify, "cur-1")
    assert other.get("/curate/moods").status_code == 403
    login(client, fake_spotify, "admin-user")
    page = client.get("/admin/users").get_data(as_text=True)
    cur = user(app, "cur-1")
    assert f'action="/admin/users/{cur.id}/roles"' in page
    token = csrf_from(page)

    response = client.post(f"/admin/users/{cur.id}/roles",
                           data={"csrf_token": token, "role": "curator", "op": "grant", "next": "/admin/users"})
    assert response.status_code == 303 and response.headers["Location"].endswith("/admin/users")
    assert "Granted curator" in client.get("/admin/users").get_data(as_text=True)
    assert other.get("/curate/moods").status_code == 200
    grants = [e for e in events(app, "role.grant") if e.target == "cur-1"]  # not admin-user's own env grant
    assert [e.actor_label for e in grants] == ["admin-user"]

    client.post(f"/admin/users/{cur.id}/roles", data={"csrf_token": token, "role": "curator", "op": "revoke"})
    assert other.get("/curate/moods").status_code == 403

    bad = client.post(f"/admin/users/{cur.id}/roles", data={"csrf_token": token, "role": "wizard", "op": "grant"})
    assert bad.status_code == 303
    assert "Unknown role" in client.get("/admin/users").get_data(as_text=True)
    missing = client.post("/admin/users/9999/roles", data={"csrf_token": token, "role": "curator", "op": "grant"})
    assert missing.status_code == 404
    # An open redirect through `next` is not possible.
    away = client.post(f"/admin/users/{cur.id}/roles",
                       data={"csrf_token": token, "role": "curator", "op": "grant", "next": "https://evil.example/"})
    assert away.headers["Location"].endswith("/admin/users")


def test_admin_cannot_revoke_their_own_admin_role_on_the_web(app, client, fake_spotify):
    login(client, fake_spotify, "admin-user")
    page = client.get("/admin/").get_data(as_text=True)
    assert "you can't revoke your own admin role here" in page
    me = user(app, "admin-user")
    response = client.post(f"/admin/users/{me.id}/roles",
                           data={"csrf_token": csrf_from(page), "role": "admin", "op": "revoke", "next": "/admin/"})
    assert response.status_code == 303
    assert "lock yourself out" in client.get("/admin/").get_data(as_text=True)
    assert user(app, "admin-user").has_role("admin")
    assert events(app, "role.revoke") == []


def test_dashboard_panels(app, client, fake_spotify):
    login(client, fake_spotify, "admin-user")
    with app.app_context():
        from curator.spotify.call_log import record_call

        for status in (200, 200, 429, 503):
            record_call("GET /search", status)
    html = client.get("/admin/").get_data(as_text=True)
    assert re.search(r"(\d+) calls?, 1 rate-limited \(429\),\s+1 other error", html)
    assert "<td>GET /search</td><td>4</td>" in html
    assert "Curators and admins" in html and "admin-user" in html
    assert "Catalogue" in html and "Recent refresh runs" in html


def test_dashboard_shows_catalogue_health(app, client, fake_spotify, moods, labelled_catalogue):
    login(client, fake_spotify, "admin-user")
    html = client.get("/admin/").get_data(as_text=True)
    assert f"{len(labelled_catalogue)} tracks, {len(labelled_catalogue)} with audio features (100.0%)" in html
    assert "Last import: synthetic.csv (imported" in html
    # A quarter of 240 tracks carry mood:calm (linked); the mood is named as listeners see it.
    assert re.search(r'<th scope="row">Calm</th>.*?<td>60 \(60 with features\)</td>', html, re.DOTALL)
    assert 'href="/admin/catalogue"' in html
