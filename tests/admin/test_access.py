"""Every curator and admin route refuses the wrong role, on the server.

The test walks the app's URL map, so routes added later under /curate, /admin or the API are
covered without anyone remembering to list them here.
"""
from __future__ import annotations

import pytest
from werkzeug.routing import FloatConverter, IntegerConverter, UUIDConverter

from tests.helpers import csrf_token, login, login_with_role

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
# A plausible value per URL converter; anything else gets a mood slug.
SAMPLE_VALUES = {IntegerConverter: 1, FloatConverter: 1.0, UUIDConverter: "00000000-0000-0000-0000-000000000000"}


def _required_role(view) -> str | None:
    """The role a `role_required` view demands (None if none), through any outer decorators."""
    while view is not None:
        role = getattr(view, "required_role", None)
        if role:
            return role
        view = getattr(view, "__wrapped__", None)
    return None


def guarded_rules(app) -> list[tuple[str, str, str]]:
    """(method, url, role needed) for every rule under /curate, /admin, and role-guarded API rules."""
    cases = []
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        role = _required_role(view)
        if rule.rule.startswith("/admin"):
            role = "admin"
        elif rule.rule.startswith("/curate"):
            role = role or "curator"
        elif not (rule.rule.startswith("/api/") and role):
            continue
        values = {arg: SAMPLE_VALUES.get(type(rule._converters[arg]), "calm") for arg in rule.arguments}
        url = rule.build(values, append_unknown=False)[1]
        for method in METHODS:
            if method in rule.methods:
                cases.append((method, url, role))
    return cases


def _as(client, fake, app, spotify_id: str, role: str | None) -> str:
    """Log in holding `role`; return the session's CSRF token."""
    login_with_role(client, fake, app, spotify_id, role)
    return csrf_token(client)


def _send(client, method: str, url: str, token: str):
    return client.open(url, method=method, data={"csrf_token": token}, headers={"X-CSRFToken": token})


def test_the_walk_finds_the_routes(app):
    cases = guarded_rules(app)
    urls = {url for _m, url, _r in cases}
    assert {"/curate/moods", "/curate/moods/calm", "/curate/moods/preview", "/admin/", "/admin/audit"} <= urls
    assert ("POST", "/admin/users/1/roles", "admin") in cases


@pytest.mark.parametrize("spotify_id, role, refused", [
    ("listener-1", None, {"curator", "admin"}),
    ("cur-1", "curator", {"admin"}),
])
def test_every_guarded_route_refuses_the_wrong_role(app, client, fake_spotify, spotify_id, role, refused):
    token = _as(client, fake_spotify, app, spotify_id, role)
    failures = []
    for method, url, needed in guarded_rules(app):
        status = _send(client, method, url, token).status_code
        if needed in refused and status != 403:
            failures.append(f"{method} {url}: {status}, expected 403")
        if needed not in refused and status in (401, 403):
            failures.append(f"{method} {url}: {status}, but {spotify_id} holds {needed}")
    assert not failures, "\n".join(failures)


def test_logged_out_visitors_are_sent_to_login(app, client):
    for method, url, _role in guarded_rules(app):
        response = client.open(url, method=method)
        # GETs redirect to login; POSTs without a session's CSRF token are refused before any view runs.
        assert response.status_code in (302, 400, 401), f"{method} {url}: {response.status_code}"
        if response.status_code == 302:
            assert "/login" in response.headers["Location"]


def test_menu_shows_only_what_the_role_may_use(app, client, fake_spotify):
    login(client, fake_spotify, "listener-1")
    html = client.get("/").get_data(as_text=True)
    assert 'href="/curate/moods"' not in html and 'href="/admin/"' not in html
    _as(client, fake_spotify, app, "cur-1", "curator")
    html = client.get("/").get_data(as_text=True)
    assert 'href="/curate/moods"' in html and 'href="/admin/"' not in html
    login(client, fake_spotify, "admin-user")
    html = client.get("/").get_data(as_text=True)
    assert 'href="/curate/moods"' in html and 'href="/admin/"' in html
