"""Malformed input never gives a 500: each fix has its test here, and a sweep tries the rest.

Run on PostgreSQL too (DATABASE_URL): NUL characters and oversized integers failed only there
or differently there.
"""
from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from curator.extensions import db
from curator.models.mood import Mood
from tests.helpers import api_headers, csrf_token, login_with_role

HUGE = "9" * 30  # past every database integer
LONG = "x" * 20_000
NUL = "a\x00b"


@pytest.fixture
def admin(app, client, fake_spotify, moods):
    """`client` as an admin (admins are curators too); returns a CSRF token."""
    login_with_role(client, fake_spotify, app, "admin-user", None)
    return csrf_token(client)


def calm_version_id(app) -> int:
    with app.app_context():
        return db.session.scalar(db.select(Mood.current_version_id).where(Mood.slug == "calm"))


# --- integers too big for the database (OverflowError on SQLite, out of range on PostgreSQL) ---

@pytest.mark.parametrize("path, status", [
    (f"/admin/users?page={HUGE}", 200),
    (f"/admin/audit?page={HUGE}", 200),
    (f"/curate/moods/calm/diff?from={HUGE}&to={HUGE}", 200),
    (f"/admin/catalogue/refresh/status?run={HUGE}", 404),
    ("/admin/catalogue/refresh/status?run=abc", 404),
])
def test_huge_numbers_in_query_strings_are_ignored_or_not_found(client, admin, path, status):
    assert client.get(path).status_code == status


def test_huge_user_id_and_version_number_in_forms(app, client, admin):
    response = client.post(f"/admin/users/{HUGE}/roles", data={"csrf_token": admin, "op": "grant", "role": "curator"})
    assert response.status_code == 404
    response = client.post("/curate/moods/calm/rollback",
                           data={"csrf_token": admin, "version": HUGE, "base_version_id": calm_version_id(app)})
    assert response.status_code == 400
    assert "Choose a version to roll back to." in response.get_data(as_text=True)


def test_audit_log_until_the_last_day_there_is(client, admin):
    response = client.get("/admin/audit?until=9999-12-31")
    assert response.status_code == 200
    assert "No events match." not in response.get_data(as_text=True)  # the moods' creation is there


# --- NUL characters (PostgreSQL text cannot hold them) ---

@pytest.mark.parametrize("method, path, data", [
    ("GET", "/curate/moods/calm%00/history", None),
    ("GET", "/admin/users?q=%00", None),
    ("GET", "/admin/audit?actor=a%00", None),
    ("POST", "/admin/catalogue/seeds/calm", {"search": NUL}),
    ("POST", "/curate/moods/calm", {"name": NUL, "action": "save"}),
])
def test_nul_characters_on_curator_and_admin_pages_are_a_400_page(client, admin, method, path, data):
    response = client.open(path, method=method, data=None if data is None else {"csrf_token": admin, **data})
    assert response.status_code == 400
    assert "NUL character" in response.get_data(as_text=True)


def test_nul_characters_for_listeners_and_the_api(client, listener, catalogue):
    response = client.post("/previews", data={"csrf_token": listener, "from": NUL, "to": "calm", "length": "5"})
    assert response.status_code == 400
    assert client.get("/previews/%00").status_code == 400
    response = client.post("/api/v1/previews", json={"from": "anxious\x00", "to": "calm", "tracks": 5},
                           headers=api_headers(listener))
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "nul_character"
    response = client.post("/api/v1/checkins", json={"preview_id": "x", "notes": [{"k\x00": 1}]},
                           headers=api_headers(listener))
    assert response.get_json()["error"]["code"] == "nul_character"
    response = client.post("/api/v1/previews", json={"from": "anxious", "to": "calm", "tracks": 5},
                           headers=api_headers(listener))
    preview_id = response.get_json()["id"]
    response = client.post(f"/api/v1/previews/{preview_id}/playlist",
                           headers=api_headers(listener, **{"Idempotency-Key": NUL}))
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "nul_character"


# --- JSON bodies that are not what they claim ---

def test_json_nested_too_deeply_is_bad_json(client, listener):
    response = client.post("/api/v1/checkins", data="[" * 100_000 + "]" * 100_000,
                           headers=api_headers(listener, **{"Content-Type": "application/json"}))
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "bad_json"


def test_a_body_far_beyond_any_form_is_refused(client, listener):
    response = client.post("/api/v1/previews", data='{"from": "' + "x" * 3_000_000 + '"}',
                           headers=api_headers(listener, **{"Content-Type": "application/json"}))
    assert response.status_code == 413


@pytest.mark.parametrize("rating", ["1e400", "-1e400", '"abc"', "[3]", "true", "3.5", "null"])
def test_checkin_rating_that_is_not_1_to_5(client, listener, catalogue, rating):
    preview_id = client.post("/api/v1/previews", json={"from": "anxious", "to": "calm", "tracks": 5},
                             headers=api_headers(listener)).get_json()["id"]
    response = client.post("/api/v1/checkins", data=f'{{"preview_id": "{preview_id}", "rating": {rating}}}',
                           headers=api_headers(listener, **{"Content-Type": "application/json"}))
    assert response.status_code == 422
    assert response.get_json()["error"]["field"] == "rating"


# --- a sweep over every form a curator or admin meets: nothing answers 5xx ---

def test_sweep_of_malformed_curator_and_admin_input(app, client, admin, catalogue):
    t = admin
    base = str(calm_version_id(app))
    probes = []
    for slug in ("nosuch", "x" * 300, ".."):
        for suffix in ("", "/history", "/diff", "/calibrate"):
            probes.append(("GET", f"/curate/moods/{slug}{suffix}", None))
        for suffix in ("/archive", "/unarchive", "/rollback", "/calibrate", ""):
            probes.append(("POST", f"/curate/moods/{slug}{suffix}", {"version": "1", "base_version_id": base}))
    for query in ("from=abc&to=xyz", "from=0&to=0", "from=-1", "from=1&to=99", "from=1.5"):
        probes.append(("GET", f"/curate/moods/calm/diff?{query}", None))
    for data in ({"version": "abc", "base_version_id": base}, {"version": "99", "base_version_id": base},
                 {"version": "1", "base_version_id": "abc"}, {"version": "1", "base_version_id": HUGE}, {}):
        probes.append(("POST", "/curate/moods/calm/rollback", data))
    form = {"base_version_id": base, "name": "Calm", "valence": "0.6", "arousal": "0.2", "colour": "#3a9e8f",
            "features.energy.target": "0.2"}
    for change in ({"valence": "abc"}, {"valence": "1e400"}, {"valence": HUGE}, {"valence": "nan"}, {"name": ""},
                   {"name": LONG}, {"description": LONG}, {"guidance": LONG}, {"colour": "red"}, {"note": LONG},
                   {"features.tempo.target": "1e308"}, {"features.tempo.weight": "-1"},
                   {"features.energy.min": "0.9", "features.energy.max": "0.1"}, {"features.energy.target": "abc"},
                   {"features.energy.target": "", "features.energy.weight": "2"}, {"base_version_id": "abc"},
                   {"base_version_id": HUGE}, {"base_version_id": "99999"}):
        for action in ("save", "preview"):
            probes.append(("POST", "/curate/moods/calm", {**form, "action": action, **change}))
            probes.append(("POST", "/curate/moods/new", {**form, "slug": "fresh", "action": action, **change}))
        probes.append(("POST", "/curate/moods/preview", {**form, **change}))
    for slug in ("", "UPPER", "a" * 200, "new", "preview", "calm", "x y", "é"):
        probes.append(("POST", "/curate/moods/new", {**form, "slug": slug, "action": "save"}))
    for data in ({"fixed_slug": "nosuch"}, {"start": "nosuch"}, {"start": LONG}, {}):
        probes.append(("POST", "/curate/moods/preview", data))
    for data in ({"tag": "nosuch"}, {"tag": LONG}, {"tracks": LONG}, {"tracks": "4uLU6hMCjMI75M1A2tKUQC\n" * 3000}, {}):
        probes.append(("POST", "/curate/moods/calm/calibrate", data))
    for query in ("page=abc", "page=-5", "q=%25", "q=_", "q=" + LONG[:3000]):
        probes.append(("GET", f"/admin/users?{query}", None))
    for query in ("page=abc", "since=garbage", "until=2020-13-45", "since=99999-01-01", "since=0001-01-01",
                  "action=" + LONG[:3000], "since=2020-01-02&until=2020-01-01"):
        probes.append(("GET", f"/admin/audit?{query}", None))
    for data in ({"op": "x"}, {"op": "grant", "role": "bogus"}, {"op": "grant", "role": ""},
                 {"op": "revoke", "role": "admin"}, {"op": "grant", "role": "admin", "next": "//evil.example"}):
        probes.append(("POST", "/admin/users/1/roles", data))
        probes.append(("POST", "/admin/users/999/roles", data))
    for data in ({"mood": "nosuch"}, {"mood": LONG}):
        probes.append(("POST", "/admin/catalogue/refresh", data))
    for data in ({"playlist": LONG}, {"search": LONG}, {"search": "\n".join(f"q{i}" for i in range(3000))},
                 {"playlist": "https://open.spotify.com/playlist/" + "é" * 22}):
        probes.append(("POST", "/admin/catalogue/seeds/calm", data))
    probes += [("GET", "/admin/catalogue/seeds/nosuch", None), ("POST", "/admin/catalogue/seeds/nosuch", {})]

    failures = []
    for method, path, data in probes:
        response = client.open(path, method=method, data=None if data is None else {"csrf_token": t, **data})
        if response.status_code >= 500 or "Traceback" in response.get_data(as_text=True):
            failures.append((response.status_code, method, path[:80], str(data)[:120]))
    assert failures == []


# --- text that is not Unicode, numbers past a float (JSON) ---

@pytest.mark.parametrize("body", [
    '{"from": "\\ud800", "to": "calm", "tracks": 5}',
    '{"from": "anxious", "to": "calm", "tracks": 5, "arc": "\\udfff"}',
    '{"from": "anxious", "to": "calm", "tracks": 5, "\\ud83d": 1}',
])
def test_a_lone_surrogate_in_json_is_a_clear_400(client, listener, catalogue, body):
    response = client.post("/api/v1/previews", data=body,
                           headers=api_headers(listener, **{"Content-Type": "application/json"}))
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "invalid_unicode" and "not valid Unicode" in error["message"]


@pytest.mark.parametrize("field", ["tracks", "minutes", "seed", "before_rating"])
@pytest.mark.parametrize("number", ["1" + "0" * 309, "-" + "9" * 400, "1" + "0" * 5000])
def test_integers_beyond_a_float_are_a_clear_400(client, listener, catalogue, field, number):
    body = {"from": "anxious", "to": "calm", "tracks": 5}
    if field == "minutes":
        del body["tracks"]
    text = json.dumps(body)[:-1] + f', "{field}": {number}}}'
    response = client.post("/api/v1/previews", data=text,
                           headers=api_headers(listener, **{"Content-Type": "application/json"}))
    assert response.status_code == 400, response.get_data(as_text=True)[:300]
    error = response.get_json()["error"]
    assert error["code"] == "number_too_large" and "far too large" in error["message"]


def test_a_float_past_1e308_in_json_is_a_422_naming_the_field(client, listener, catalogue):
    for field in ("tracks", "seed", "before_rating"):
        text = '{"from": "anxious", "to": "calm", "tracks": 5, "%s": 1e309}' % field
        response = client.post("/api/v1/previews", data=text.replace('"tracks": 5, "tracks"', '"tracks"'),
                               headers=api_headers(listener, **{"Content-Type": "application/json"}))
        assert response.status_code == 422 and response.get_json()["error"]["field"] == field


def test_ordinary_numbers_still_work(client, listener, catalogue):
    response = client.post("/api/v1/previews", data='{"from": "anxious", "to": "calm", "tracks": 5, "seed": 12345}',
                           headers=api_headers(listener, **{"Content-Type": "application/json"}))
    assert response.status_code == 201 and response.get_json()["seed"] == 12345


# --- `next` after login: only a same-site path, however a browser reads it ---

NEXT_REFUSED = [
    "//evil.example/", "///evil.example/", "/\\evil.example/", "\\\\evil.example", "/\t/evil.example/",
    "/%09/evil.example/", "/%0d%0a/evil.example/", "/\r\n/evil.example", "/\n/evil.example", "%2F%2Fevil.example",
    "/%2F/evil.example", "/%5C/evil.example", "/%5c%5cevil.example", "/%252F%252Fevil.example", "/%25252F/evil",
    "https://evil.example/", "http:/evil.example", "javascript:alert(1)", "evil.example", " /\t/evil",
    "/\x00/evil", "/%00/evil", "/caf\u00e9//evil", "", None,
]
NEXT_KEPT = ["/", "/healthz", "/history?page=2", "/curate/moods/calm", "/previews/abc?x=%2Fy", "/a/b/../c"]


@pytest.mark.parametrize("target", NEXT_REFUSED)
def test_next_that_leaves_the_site_is_refused(app, target):
    from curator.auth.service import same_site_path

    assert same_site_path(target) is None


@pytest.mark.parametrize("target", NEXT_KEPT)
def test_next_on_this_site_is_kept(app, target):
    from curator.auth.service import same_site_path

    assert same_site_path(target) == target


@pytest.mark.parametrize("query", [
    "next=/%09/evil.example/", "next=%2F%09%2Fevil.example%2F", "next=/%0d%0aSet-Cookie:%20x=1",
    "next=/%0a/evil.example", "next=%5C%5Cevil.example", "next=/%5C/evil.example",
])
def test_login_round_trip_with_a_hostile_next_lands_home_never_500(client, fake_spotify, query):
    fake_spotify.add_user("nina")
    fake_spotify.authorize_as("nina")
    start = client.get(f"/login?{query}")
    assert start.status_code == 302
    approved = requests.get(start.headers["Location"], allow_redirects=False, timeout=5)
    callback = urlsplit(approved.headers["Location"])
    landed = client.get(callback.path, query_string=parse_qs(callback.query))
    assert landed.status_code == 302
    location = urlsplit(landed.headers["Location"])
    assert location.netloc in ("", "localhost") and location.path == "/"


# --- NUL in command-line arguments ---

@pytest.mark.parametrize("args", [
    ["roles", "grant", "admin\x00-user", "admin"],
    ["roles", "grant", "admin-user", "admin\x00"],
    ["roles", "revoke", "a\x00", "curator"],
    ["roles", "list", "--role", "cur\x00ator"],
    ["catalog", "import", "tracks\x00.csv"],
    ["moods", "import", "moods\x00.yaml"],
    ["moods", "validate", "moods\x00.yaml"],
])
def test_nul_in_a_command_line_argument_is_a_usage_error(runner, args):
    result = runner.invoke(args=args)
    assert result.exit_code == 2, result.output
    assert "NUL character" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


# --- values that travel back in a redirect's Location: refused before anything is written ---

def _roles_of(app, spotify_id: str) -> list[str]:
    from curator.models.user import User

    with app.app_context():
        return sorted(db.session.scalar(db.select(User).where(User.spotify_id == spotify_id)).roles)


def _audit_count(app) -> int:
    from curator.models.audit import AuditEvent

    with app.app_context():
        return db.session.scalar(db.select(db.func.count()).select_from(AuditEvent))


@pytest.mark.parametrize("next_value, field_problem", [
    ("/admin/\r\nX-Injected: 1", "control character"),
    ("/admin/\nX-Injected: 1", "control character"),
    ("/admin/" + "x" * 100_000, "too long"),
])
def test_a_role_change_with_a_header_breaking_next_is_a_400_and_changes_nothing(
        app, client, admin, fake_spotify, next_value, field_problem):
    from curator.models.user import User

    login_with_role(app.test_client(), fake_spotify, app, "bob", None)
    with app.app_context():
        bob = db.session.scalar(db.select(User.id).where(User.spotify_id == "bob"))
    before = _audit_count(app)
    response = client.post(f"/admin/users/{bob}/roles",
                           data={"csrf_token": admin, "op": "grant", "role": "curator", "next": next_value})
    assert response.status_code == 400 and "Location" not in response.headers
    assert field_problem in response.get_data(as_text=True)
    assert _roles_of(app, "bob") == ["listener"] and _audit_count(app) == before
    # The same change with an ordinary next goes through and goes back there.
    response = client.post(f"/admin/users/{bob}/roles",
                           data={"csrf_token": admin, "op": "grant", "role": "curator", "next": "/admin/users?q=b"})
    assert response.status_code == 303 and response.headers["Location"] == "/admin/users?q=b"
    assert _roles_of(app, "bob") == ["curator", "listener"]


def _form_preview(client, token) -> str:
    response = client.post("/previews", data={"csrf_token": token, "from": "anxious", "to": "calm",
                                              "length": "5", "unit": "tracks"})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return response.headers["Location"].rsplit("/", 1)[1]


def _locked_ids(app, preview_id) -> list:
    from curator.models.listening import Preview

    with app.app_context():
        return db.session.get(Preview, preview_id).options.get("locked_ids") or []


@pytest.mark.parametrize("suffix", ["\n", "\r\nX-Injected: 1", "\t", "x" * 100_000])
def test_locking_a_track_with_a_header_breaking_id_is_a_400_and_locks_nothing(
        app, client, listener, catalogue, suffix):
    preview_id = _form_preview(client, listener)
    with app.app_context():
        from curator.models.listening import Preview

        track = db.session.get(Preview, preview_id).tracks[0]["id"]
    response = client.post(f"/previews/{preview_id}/lock", data={"csrf_token": listener, "track_id": track + suffix,
                                                                  "locked": "1"})
    assert response.status_code == 400 and "Location" not in response.headers
    assert "track_id" in response.get_data(as_text=True)
    assert _locked_ids(app, preview_id) == []
    response = client.post(f"/previews/{preview_id}/lock", data={"csrf_token": listener, "track_id": track,
                                                                  "locked": "1"})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"#t-{track}")
    locked = response.headers["Location"].split("/previews/", 1)[1].split("#", 1)[0]  # the new version
    assert _locked_ids(app, locked) == [track] and _locked_ids(app, preview_id) == []


def test_start_form_values_sent_back_through_the_login_stay_short(client, listener, catalogue):
    form = {"csrf_token": listener, "from": "anxious", "to": "calm", "length": "5", "unit": "tracks",
            "from_my_music": "1"}
    for field in ("from", "to", "exclude_explicit", "avoid_recent"):
        response = client.post("/previews", data={**form, field: "x" * 100_000})
        assert response.status_code == 400 and "Location" not in response.headers, field
        assert "too long" in response.get_data(as_text=True)
    response = client.post("/previews", data=form)  # asks Spotify for the library scope first
    assert response.status_code == 302 and "scopes=library" in response.headers["Location"]


def test_sweep_of_listener_forms_never_echoes_a_long_or_broken_value_in_a_header(
        client, listener, catalogue):
    preview_id = _form_preview(client, listener)
    fields = ("track_id", "name", "direction", "to", "insist", "preview_id", "rating", "back", "locked", "confirm")
    paths = [f"/previews/{preview_id}/{action}" for action in
             ("regenerate", "remove", "lock", "rename", "nudge", "retarget", "save")]
    paths += ["/checkins", "/settings/delete-history", "/settings/delete-account", f"/previews/{preview_id}x/lock"]
    failures = []
    for path in paths:
        for field in fields:
            for value in ("calm\r\nX-Injected: 1", "\n", "x" * 100_000):
                data = {"csrf_token": listener, field: value}
                if field != "confirm":
                    data["confirm"] = "no"
                response = client.post(path, data=data)
                location = response.headers.get("Location", "")
                if response.status_code >= 500 or len(location) > 2000 or "X-Injected" in response.headers:
                    failures.append((path, field, value[:20], response.status_code, len(location)))
    assert failures == []
