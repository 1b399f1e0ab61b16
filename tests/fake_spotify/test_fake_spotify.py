"""The spec checker, the fake Spotify server and the fixtures, over real HTTP."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import warnings
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses
import spotipy

from tests.fake_spotify.fixtures import SpecCheckedRequestsMock, assert_clean
from tests.fake_spotify.server import RECCOBEATS_MAX_IDS, SIGNED_IN_COOKIE, FakeSpotify, reccobeats_id
from tests.fake_spotify.spec import (
    SPEC_ENV,
    SpecChecker,
    SpecNotFoundWarning,
    SpecViolation,
)

REDIRECT = "http://127.0.0.1:5000/callback"


@pytest.fixture
def checker(spec_checker: SpecChecker) -> SpecChecker:
    if not spec_checker.enabled:
        pytest.skip("Spotify OpenAPI spec not found; nothing to check against")
    return SpecChecker()


def _json(obj: object) -> bytes:
    return json.dumps(obj).encode()


# -- SpecChecker ------------------------------------------------------------------------


def test_unknown_operation(checker: SpecChecker) -> None:
    assert checker.check("GET", "/foo") == ["unknown operation GET /foo"]
    (problem,) = checker.check("DELETE", "https://api.spotify.com/v1/me")
    assert problem.startswith("unknown operation DELETE /me")


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        ("POST", "/users/someone/playlists", _json({"name": "x"})),
        ("GET", "https://api.spotify.com/v1/audio-features?ids=a,b", None),
        ("GET", "/audio-features/abc", None),
        ("GET", "/recommendations?seed_tracks=abc", None),
        ("GET", "/artists/abc/top-tracks", None),
        ("GET", "/tracks?ids=a,b", None),
        ("GET", "/playlists/abc/tracks", None),
    ],
)
def test_deprecated_operations_are_violations(
    checker: SpecChecker, method: str, url: str, body: bytes | None
) -> None:
    problems = checker.check(
        method, url, body=body, content_type="application/json" if body else None
    )
    assert any(p.startswith("deprecated operation") for p in problems), problems


def test_allow_deprecated_for_one_test(checker: SpecChecker) -> None:
    checker.allow_deprecated("GET /audio-features")
    assert checker.check("GET", "/audio-features", {"ids": "a,b"}) == []
    # Only the named operation is allowed, and its parameters are still checked.
    assert checker.check("GET", "/audio-features/abc")
    assert (
        "missing required query parameter 'ids'"
        in checker.check("GET", "/audio-features")[0]
    )
    with pytest.raises(ValueError, match="no operation"):
        checker.allow_deprecated("GET /no-such-thing")


def test_search_limits_are_the_current_ones(checker: SpecChecker) -> None:
    ok = {"q": "calm", "type": "track"}
    assert (
        checker.check("GET", "/search", {**ok, "limit": "10", "offset": "1000"}) == []
    )
    (problem,) = checker.check("GET", "/search", {**ok, "limit": "50"})
    assert "'limit'" in problem and "maximum of 10" in problem
    (problem,) = checker.check("GET", "/search", {**ok, "offset": "1001"})
    assert "maximum of 1000" in problem
    assert checker.check("GET", "/search", {**ok, "type": "track,podcast"})


def test_missing_unknown_and_mistyped_query_parameters(checker: SpecChecker) -> None:
    (problem,) = checker.check("GET", "/search", {"type": "track"})
    assert problem == "missing required query parameter 'q' for GET /search"
    (problem,) = checker.check("GET", "/me/top/tracks", {"limit": "20", "page": "2"})
    assert problem.startswith("unknown query parameter 'page'")
    (problem,) = checker.check("GET", "/playlists/abc/items?limit=ten")
    assert "'ten' is not of type 'integer'" in problem
    (problem,) = checker.check("GET", "/artists/abc/albums", {"limit": ["11"]})
    assert "maximum of 10" in problem


def test_bare_array_body_for_playlist_items_is_a_violation(
    checker: SpecChecker,
) -> None:
    # spotipy 2.26's playlist_add_items posts exactly this.
    bare = _json(["spotify:track:4iV5W9uYEdYUVa79Axb7Rh"])
    (problem,) = checker.check(
        "POST", "/playlists/abc/items", None, bare, "application/json"
    )
    assert "is not of type 'object'" in problem
    with pytest.raises(SpecViolation):
        checker.assert_valid(
            "POST", "/playlists/abc/items", None, bare, "application/json"
        )
    too_many = _json({"uris": [f"spotify:track:{i:022d}" for i in range(101)]})
    assert (
        "documented maximum 100"
        in checker.check("POST", "/playlists/abc/items", None, too_many)[0]
    )


def test_bodies_and_content_types(checker: SpecChecker) -> None:
    (problem,) = checker.check(
        "POST", "/me/playlists", None, _json({"public": False}), "application/json"
    )
    assert "'name' is a required property" in problem
    (problem,) = checker.check("GET", "/me", None, b"{}", "application/json")
    assert "declares no request body" in problem
    (problem,) = checker.check("PUT", "/playlists/abc/images", None, None, "image/jpeg")
    assert problem.startswith("missing required request body")
    (problem,) = checker.check(
        "PUT", "/playlists/abc/images", None, b"aGVsbG8=", "image/png"
    )
    assert "'image/png' not declared" in problem
    (problem,) = checker.check(
        "POST", "/me/playlists", None, b"{not json", "application/json"
    )
    assert "not valid JSON" in problem


@pytest.mark.parametrize(
    ("method", "url", "query", "body", "content_type"),
    [
        ("GET", "/me", None, None, None),
        (
            "GET",
            "https://api.spotify.com/v1/me/playlists?limit=50&offset=0",
            None,
            None,
            None,
        ),
        (
            "POST",
            "/me/playlists",
            None,
            _json({"name": "Calm", "public": False, "description": "d"}),
            "application/json",
        ),
        ("GET", "/playlists/abc", {"fields": "snapshot_id"}, None, None),
        (
            "GET",
            "/playlists/abc/items",
            {"limit": "50", "offset": "100", "market": "GB"},
            None,
            None,
        ),
        (
            "POST",
            "/playlists/abc/items",
            None,
            _json({"uris": ["spotify:track:x"], "position": 0}),
            "application/json",
        ),
        (
            "PUT",
            "/playlists/abc/items",
            None,
            _json({"uris": []}),
            "application/json; charset=utf-8",
        ),
        (
            "PUT",
            "/playlists/abc/images",
            None,
            base64.b64encode(b"\xff\xd8\xff\xd9"),
            "image/jpeg",
        ),
        ("GET", "/tracks/abc", {"market": "GB"}, None, None),
        ("GET", "/artists/abc", None, None, None),
        (
            "GET",
            "/artists/abc/albums",
            {"include_groups": "album,single", "limit": "10"},
            None,
            None,
        ),
        ("GET", "/albums/abc/tracks", {"limit": "50", "offset": "0"}, None, None),
        (
            "GET",
            "/search",
            {"q": 'artist:"Miles Davis"', "type": ["track"], "limit": ["10"]},
            None,
            None,
        ),
        ("GET", "/me/tracks", {"limit": "50"}, None, None),
        (
            "GET",
            "/me/top/tracks",
            {"time_range": "short_term", "limit": "50"},
            None,
            None,
        ),
    ],
)
def test_good_requests_pass(
    checker: SpecChecker,
    method: str,
    url: str,
    query: dict | None,
    body: bytes | None,
    content_type: str | None,
) -> None:
    assert checker.check(method, url, query, body, content_type) == []


def test_absent_spec_disables_checks_with_one_notice(
    monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    missing = tmp_path / "nowhere" / "web-api-openapi.yml"
    monkeypatch.setenv(SPEC_ENV, str(missing))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        first, second = SpecChecker(), SpecChecker()
        with FakeSpotify() as fake:
            token = fake.token_for("alice")
            reply = requests.get(
                f"{fake.api_url}me",
                headers={"Authorization": f"Bearer {token}"},
                timeout=5,
            )
    notices = [w for w in caught if issubclass(w.category, SpecNotFoundWarning)]
    assert len(notices) == 1
    assert (
        str(notices[0].message)
        == f"Spotify OpenAPI spec not found at {missing}; request checks skipped"
    )
    assert not first.enabled and not second.enabled
    assert first.check("GET", "/no/such/thing") == []
    first.assert_valid("POST", "/users/x/playlists", None, b"[]", "application/json")
    assert reply.status_code == 200 and reply.json()["id"] == "alice"
    assert fake.violations == []


# -- accounts service ------------------------------------------------------------------


def _authorize(
    fake: FakeSpotify, state: str = "s t&ate=1", **extra: str
) -> dict[str, list[str]]:
    params = {
        "client_id": fake.client_id,
        "response_type": "code",
        "redirect_uri": REDIRECT,
        "state": state,
        "scope": "playlist-modify-private playlist-read-private",
        **extra,
    }
    reply = requests.get(
        fake.authorize_url, params=params, allow_redirects=False, timeout=5
    )
    assert reply.status_code == 302, reply.text
    location = reply.headers["Location"]
    assert location.startswith(REDIRECT + "?")
    return parse_qs(urlsplit(location).query)


def _token(fake: FakeSpotify, auth: bool = True, **form: str) -> requests.Response:
    basic = (fake.client_id, fake.client_secret) if auth else None
    return requests.post(fake.token_url, data=form, auth=basic, timeout=5)


def test_authorize_token_refresh_flow(fake_spotify: FakeSpotify) -> None:
    fake_spotify.add_user("alice", display_name="Alice")
    fake_spotify.authorize_as("alice")
    query = _authorize(fake_spotify)
    assert query["state"] == ["s t&ate=1"]
    assert fake_spotify.granted_scopes("alice") == {
        "playlist-modify-private",
        "playlist-read-private",
    }

    reply = _token(
        fake_spotify,
        grant_type="authorization_code",
        code=query["code"][0],
        redirect_uri=REDIRECT,
    )
    assert reply.status_code == 200, reply.text
    tokens = reply.json()
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] == 3600
    assert tokens["scope"] == "playlist-modify-private playlist-read-private"
    assert fake_spotify.user_for_token(tokens["access_token"]) == "alice"

    me = requests.get(
        f"{fake_spotify.api_url}me",
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
        timeout=5,
    )
    assert me.status_code == 200 and me.json()["display_name"] == "Alice"

    fake_spotify.expire_tokens("alice")
    expired = requests.get(
        f"{fake_spotify.api_url}me",
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
        timeout=5,
    )
    assert expired.status_code == 401
    assert expired.json() == {
        "error": {"status": 401, "message": "The access token expired"}
    }

    # Client credentials in the body work as well as HTTP Basic.
    refreshed = _token(
        fake_spotify,
        auth=False,
        grant_type="refresh_token",
        refresh_token=tokens["refresh_token"],
        client_id=fake_spotify.client_id,
        client_secret=fake_spotify.client_secret,
    )
    assert refreshed.status_code == 200, refreshed.text
    new_access = refreshed.json()["access_token"]
    assert "refresh_token" not in refreshed.json()  # not rotated unless asked
    me = requests.get(
        f"{fake_spotify.api_url}me",
        headers={"Authorization": f"Bearer {new_access}"},
        timeout=5,
    )
    assert me.status_code == 200
    accounts = fake_spotify.calls(path_regex=r"^/accounts/")
    assert [c.status for c in accounts] == [302, 200, 200]
    assert accounts[2].form["grant_type"] == ["refresh_token"]
    as_json = requests.post(
        fake_spotify.token_url, json={"grant_type": "refresh_token"}, timeout=5
    )
    assert as_json.status_code == 400 and as_json.json()["error"] == "invalid_request"


def test_rotating_refresh_tokens(fake_spotify: FakeSpotify) -> None:
    fake_spotify.rotate_refresh_tokens = True
    first = fake_spotify.issue_token("alice")
    second = _token(
        fake_spotify, grant_type="refresh_token", refresh_token=first["refresh_token"]
    ).json()
    assert second["refresh_token"] != first["refresh_token"]
    stale = _token(
        fake_spotify, grant_type="refresh_token", refresh_token=first["refresh_token"]
    )
    assert stale.status_code == 400


def test_pkce_verifier_is_checked(fake_spotify: FakeSpotify) -> None:
    fake_spotify.add_client("pkce-app", client_secret=None, redirect_uris=[REDIRECT])
    fake_spotify.authorize_as("bob")
    verifier = secrets.token_urlsafe(64)
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
        .rstrip(b"=")
        .decode()
    )
    code = _authorize(
        fake_spotify,
        client_id="pkce-app",
        code_challenge=challenge,
        code_challenge_method="S256",
    )["code"][0]
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "client_id": "pkce-app",
    }

    wrong = _token(
        fake_spotify, auth=False, **form, code_verifier=secrets.token_urlsafe(64)
    )
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    right = _token(fake_spotify, auth=False, **form, code_verifier=verifier)
    assert right.status_code == 200, right.text
    refreshed = _token(
        fake_spotify,
        auth=False,
        grant_type="refresh_token",
        refresh_token=right.json()["refresh_token"],
        client_id="pkce-app",
    )
    assert refreshed.status_code == 200
    assert fake_spotify.user_for_token(refreshed.json()["access_token"]) == "bob"


def test_each_signed_in_browser_approves_as_its_own_user(fake_spotify: FakeSpotify) -> None:
    """A browser's sign-in cookie names who approves, whoever authorize_as() chose."""
    fake_spotify.authorize_as("alice")
    codes = {}
    for user in ("bob", "carol"):
        reply = requests.get(
            fake_spotify.authorize_url,
            params={"client_id": fake_spotify.client_id, "response_type": "code", "redirect_uri": REDIRECT},
            cookies={SIGNED_IN_COOKIE: user},
            allow_redirects=False,
            timeout=5,
        )
        codes[user] = parse_qs(urlsplit(reply.headers["Location"]).query)["code"][0]
    codes["alice"] = _authorize(fake_spotify)["code"][0]
    for user, code in codes.items():
        reply = _token(fake_spotify, grant_type="authorization_code", code=code, redirect_uri=REDIRECT)
        assert fake_spotify.user_for_token(reply.json()["access_token"]) == user


def test_replayed_code_and_wrong_redirect_are_rejected(
    fake_spotify: FakeSpotify,
) -> None:
    fake_spotify.authorize_as("alice")
    code = _authorize(fake_spotify)["code"][0]
    wrong_redirect = _token(
        fake_spotify,
        grant_type="authorization_code",
        code=code,
        redirect_uri="http://evil/cb",
    )
    assert (
        wrong_redirect.status_code == 400
        and wrong_redirect.json()["error"] == "invalid_grant"
    )
    assert (
        _token(
            fake_spotify,
            grant_type="authorization_code",
            code=code,
            redirect_uri=REDIRECT,
        ).status_code
        == 200
    )
    replay = _token(
        fake_spotify, grant_type="authorization_code", code=code, redirect_uri=REDIRECT
    )
    assert replay.status_code == 400
    assert replay.json() == {
        "error": "invalid_grant",
        "error_description": "Invalid authorization code",
    }
    bad_secret = requests.post(
        fake_spotify.token_url,
        data={
            "grant_type": "authorization_code",
            "code": "x",
            "redirect_uri": REDIRECT,
        },
        auth=(fake_spotify.client_id, "wrong"),
        timeout=5,
    )
    assert (
        bad_secret.status_code == 400 and bad_secret.json()["error"] == "invalid_client"
    )


def test_revoked_refresh_token(fake_spotify: FakeSpotify) -> None:
    tokens = fake_spotify.issue_token("alice")
    fake_spotify.revoke_refresh_tokens("alice")
    reply = _token(
        fake_spotify, grant_type="refresh_token", refresh_token=tokens["refresh_token"]
    )
    assert reply.status_code == 400
    assert reply.json() == {
        "error": "invalid_grant",
        "error_description": "Refresh token revoked",
    }


def test_denied_authorization(fake_spotify: FakeSpotify) -> None:
    fake_spotify.authorize_as("alice")
    fake_spotify.deny_next_authorize()
    assert _authorize(fake_spotify, state="abc") == {
        "error": ["access_denied"],
        "state": ["abc"],
    }
    assert "code" in _authorize(fake_spotify, state="abc")


# -- Web API ---------------------------------------------------------------------------


def _api(
    fake: FakeSpotify, method: str, path: str, token: str, **kwargs: object
) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}", **kwargs.pop("headers", {})}  # type: ignore[dict-item]
    return requests.request(
        method, fake.api_url + path, headers=headers, timeout=5, **kwargs
    )  # type: ignore[arg-type]


def _seed_catalogue(fake: FakeSpotify) -> None:
    fake.add_track(
        "t1",
        "Quiet Morning",
        [("a1", "Nils")],
        ("al1", "Piano Days", "http://img/al1.jpg"),
        isrc="GBAAA2600001",
    )
    fake.add_track(
        "t2",
        "Loud Evening",
        [("a1", "Nils"), ("a2", "Guest")],
        ("al1", "Piano Days", "http://img/al1.jpg"),
    )
    fake.add_track(
        "t3",
        "Upbeat",
        [("a2", "Guest")],
        ("al2", "Single", None),
        explicit=True,
        album_type="single",
    )


def test_playlist_lifecycle_and_response_shapes(
    fake_spotify: FakeSpotify, spec_checker: SpecChecker
) -> None:
    _seed_catalogue(fake_spotify)
    token = fake_spotify.token_for("alice")
    created = _api(
        fake_spotify,
        "POST",
        "me/playlists",
        token,
        json={"name": "Calm", "public": False},
    )
    assert created.status_code == 201
    playlist = created.json()
    assert playlist["owner"]["id"] == "alice" and playlist["public"] is False
    first_snapshot = playlist["snapshot_id"]

    added = _api(
        fake_spotify,
        "POST",
        f"playlists/{playlist['id']}/items",
        token,
        json={"uris": ["spotify:track:t1", "spotify:track:t3"]},
    )
    assert added.status_code == 201 and added.json()["snapshot_id"] != first_snapshot
    inserted = _api(
        fake_spotify,
        "POST",
        f"playlists/{playlist['id']}/items",
        token,
        json={"uris": ["spotify:track:t2"], "position": 1},
    )
    assert inserted.status_code == 201
    (stored,) = fake_spotify.playlists_of("alice")
    assert (
        stored.track_ids == ["t1", "t2", "t3"]
        and stored.snapshot_id == inserted.json()["snapshot_id"]
    )

    page = _api(
        fake_spotify,
        "GET",
        f"playlists/{playlist['id']}/items",
        token,
        params={"limit": 2},
    )
    assert page.status_code == 200
    body = page.json()
    assert [i["item"]["id"] for i in body["items"]] == ["t1", "t2"] and body[
        "total"
    ] == 3
    track = body["items"][0]["item"]
    assert track["album"]["images"][0]["url"] == "http://img/al1.jpg"
    assert (
        track["external_ids"] == {"isrc": "GBAAA2600001"}
        and track["uri"] == "spotify:track:t1"
    )
    following = requests.get(
        body["next"], headers={"Authorization": f"Bearer {token}"}, timeout=5
    ).json()
    assert [i["item"]["id"] for i in following["items"]] == ["t3"] and following[
        "next"
    ] is None

    full = _api(fake_spotify, "GET", f"playlists/{playlist['id']}", token).json()
    assert full["snapshot_id"] == stored.snapshot_id and full["items"]["total"] == 3
    filtered = _api(
        fake_spotify,
        "GET",
        f"playlists/{playlist['id']}",
        token,
        params={"fields": "snapshot_id,items(total)"},
    ).json()
    assert filtered == {"snapshot_id": stored.snapshot_id, "items": {"total": 3}}
    assert _api(fake_spotify, "GET", "playlists/nope", token).status_code == 404

    if (
        spec_checker.enabled
    ):  # the fake's answers conform to the spec's response schemas
        _assert_response_conforms(
            spec_checker, "POST", "/me/playlists", "201", playlist
        )
        _assert_response_conforms(
            spec_checker, "GET", "/playlists/x/items", "200", body
        )
        _assert_response_conforms(spec_checker, "GET", "/playlists/x", "200", full)


def _assert_response_conforms(
    checker: SpecChecker, method: str, path: str, status: str, document: object
) -> None:
    found = checker.find_operation(method, path)
    assert found is not None and checker.spec is not None
    op = found[0]
    _, ptr = checker.spec.deref(
        op.node["responses"][status], f"{op.pointer}/responses/{status}"
    )
    errors = list(
        checker.spec.validator(f"{ptr}/content/application~1json/schema").iter_errors(
            document
        )
    )
    assert errors == [], [e.message for e in errors]


def test_catalogue_endpoints(
    fake_spotify: FakeSpotify, spec_checker: SpecChecker
) -> None:
    _seed_catalogue(fake_spotify)
    fake_spotify.save_tracks("alice", ["t1", "t2"])
    fake_spotify.set_top_tracks("alice", ["t3", "t1"])
    fake_spotify.add_search_results("mood:calm", ["t2"])
    token = fake_spotify.token_for("alice")
    answers = {
        ("/me", "200"): _api(fake_spotify, "GET", "me", token).json(),
        ("/tracks/t1", "200"): _api(fake_spotify, "GET", "tracks/t1", token).json(),
        ("/artists/a1", "200"): _api(fake_spotify, "GET", "artists/a1", token).json(),
        ("/artists/a2/albums", "200"): _api(
            fake_spotify,
            "GET",
            "artists/a2/albums",
            token,
            params={"include_groups": "single,appears_on"},
        ).json(),
        ("/albums/al1/tracks", "200"): _api(
            fake_spotify, "GET", "albums/al1/tracks", token
        ).json(),
        ("/search", "200"): _api(
            fake_spotify,
            "GET",
            "search",
            token,
            params={"q": "artist:nils evening", "type": "track"},
        ).json(),
        ("/me/tracks", "200"): _api(fake_spotify, "GET", "me/tracks", token).json(),
        ("/me/top/tracks", "200"): _api(
            fake_spotify,
            "GET",
            "me/top/tracks",
            token,
            params={"time_range": "long_term"},
        ).json(),
    }
    assert "product" not in answers[("/me", "200")]  # deprecated in the spec
    assert answers[("/tracks/t1", "200")]["artists"][0]["name"] == "Nils"
    assert [
        a["album_group"] for a in answers[("/artists/a2/albums", "200")]["items"]
    ] == ["appears_on", "single"]
    assert [
        t["track_number"] for t in answers[("/albums/al1/tracks", "200")]["items"]
    ] == [1, 2]
    assert [t["id"] for t in answers[("/search", "200")]["tracks"]["items"]] == ["t2"]
    assert [s["track"]["id"] for s in answers[("/me/tracks", "200")]["items"]] == [
        "t2",
        "t1",
    ]
    assert [t["id"] for t in answers[("/me/top/tracks", "200")]["items"]] == [
        "t3",
        "t1",
    ]
    registered = _api(
        fake_spotify,
        "GET",
        "search",
        token,
        params={"q": "mood:calm", "type": "track", "limit": 10},
    ).json()
    assert [t["id"] for t in registered["tracks"]["items"]] == ["t2"]
    if spec_checker.enabled:
        for (path, status), document in answers.items():
            _assert_response_conforms(spec_checker, "GET", path, status, document)


def test_items_of_someone_elses_playlist_are_forbidden(
    fake_spotify: FakeSpotify,
) -> None:
    _seed_catalogue(fake_spotify)
    fake_spotify.add_playlist("theirs", owner="bob", track_ids=["t1"])
    fake_spotify.add_playlist(
        "shared",
        owner="bob",
        track_ids=["t2"],
        collaborative=True,
        collaborators=["alice"],
    )
    alice, bob = fake_spotify.token_for("alice"), fake_spotify.token_for("bob")
    forbidden = _api(fake_spotify, "GET", "playlists/theirs/items", alice)
    assert forbidden.status_code == 403
    assert forbidden.json() == {"error": {"status": 403, "message": "Forbidden"}}
    assert "items" not in _api(fake_spotify, "GET", "playlists/theirs", alice).json()
    assert (
        _api(
            fake_spotify,
            "POST",
            "playlists/theirs/items",
            alice,
            json={"uris": ["spotify:track:t3"]},
        ).status_code
        == 403
    )
    assert _api(fake_spotify, "GET", "playlists/theirs/items", bob).status_code == 200
    assert _api(fake_spotify, "GET", "playlists/shared/items", alice).status_code == 200

    before = fake_spotify.playlist("theirs").snapshot_id
    assert (
        _api(fake_spotify, "GET", "playlists/theirs", bob).json()["snapshot_id"]
        == before
    )
    assert fake_spotify.set_playlist_items("theirs", ["t1", "t2"]) != before


def test_auth_errors_and_scopes(fake_spotify: FakeSpotify) -> None:
    fake_spotify.add_playlist("mine", owner="alice")
    assert requests.get(f"{fake_spotify.api_url}me", timeout=5).json() == {
        "error": {"status": 401, "message": "No token provided"}
    }
    assert _api(fake_spotify, "GET", "me", "not-a-token").status_code == 401
    jpeg = base64.b64encode(b"\xff\xd8\xff\xd9")
    narrow = fake_spotify.token_for(
        "alice", scopes=["playlist-modify-public", "playlist-modify-private"]
    )
    denied = _api(
        fake_spotify,
        "PUT",
        "playlists/mine/images",
        narrow,
        data=jpeg,
        headers={"Content-Type": "image/jpeg"},
    )
    assert denied.status_code == 401
    full = fake_spotify.token_for("alice")
    accepted = _api(
        fake_spotify,
        "PUT",
        "playlists/mine/images",
        full,
        data=jpeg,
        headers={"Content-Type": "image/jpeg"},
    )
    assert accepted.status_code == 202
    image_url = _api(fake_spotify, "GET", "playlists/mine", full).json()["images"][0][
        "url"
    ]
    assert requests.get(image_url, timeout=5).content == b"\xff\xd8\xff\xd9"


def test_violations_are_answered_400_and_recorded(fake_spotify: FakeSpotify) -> None:
    if not fake_spotify.checker.enabled:
        pytest.skip("Spotify OpenAPI spec not found")
    fake_spotify.add_playlist("mine", owner="alice")
    token = fake_spotify.token_for("alice")
    reply = _api(
        fake_spotify, "POST", "playlists/mine/items", token, json=["spotify:track:x"]
    )
    assert (
        reply.status_code == 400
        and "violates the Spotify OpenAPI spec" in reply.json()["error"]["message"]
    )
    deprecated = _api(
        fake_spotify, "POST", "users/alice/playlists", token, json={"name": "x"}
    )
    assert deprecated.status_code == 400
    search = _api(
        fake_spotify,
        "GET",
        "search",
        token,
        params={"q": "x", "type": "track", "limit": 50},
    )
    assert search.status_code == 400
    if fake_spotify.checker.enabled:
        assert len(fake_spotify.violations) == 3
        assert fake_spotify.calls("POST", r"/items$")[0].user_id == "alice"
        with pytest.raises(
            pytest.fail.Exception, match="spec violation: request body invalid"
        ):
            assert_clean(fake_spotify)  # what the fixture runs at teardown
    fake_spotify.violations.clear()  # expected here; the fixture would fail the test otherwise

    fake_spotify.allow_deprecated("GET /audio-features")
    assert (
        _api(
            fake_spotify, "GET", "audio-features", token, params={"ids": "a"}
        ).status_code
        == 501
    )
    assert fake_spotify.violations == []


def test_fault_injection(fake_spotify: FakeSpotify) -> None:
    token = fake_spotify.token_for("alice")
    fake_spotify.fail_next("GET", r"^/v1/me$", 429, retry_after=1)
    limited = _api(fake_spotify, "GET", "me", token)
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "1"
    assert limited.json() == {
        "error": {"status": 429, "message": "API rate limit exceeded"}
    }
    assert _api(fake_spotify, "GET", "me", token).status_code == 200

    fake_spotify.fail_next("*", r"/accounts/api/token", 503, times=2)
    refresh = {
        "grant_type": "refresh_token",
        "refresh_token": fake_spotify.issue_token("alice")["refresh_token"],
    }
    assert [_token(fake_spotify, **refresh).status_code for _ in range(3)] == [
        503,
        503,
        200,
    ]

    fake_spotify.fail_next("GET", r"/reccobeats/", 500, body={"oops": True})
    reply = requests.get(
        f"{fake_spotify.reccobeats_url}audio-features", params={"ids": "x"}, timeout=5
    )
    assert reply.status_code == 500 and reply.json() == {"oops": True}

    fake_spotify.delay_next("GET", r"^/v1/me$", 0.5)
    with pytest.raises(requests.Timeout):
        requests.get(
            f"{fake_spotify.api_url}me",
            headers={"Authorization": f"Bearer {token}"},
            timeout=0.1,
        )


def test_reccobeats_audio_features(fake_spotify: FakeSpotify) -> None:
    fake_spotify.add_track("t1", "One", isrc="GBAAA2600001")
    fake_spotify.set_features(
        "t1",
        {
            "energy": 0.2,
            "valence": 0.3,
            "tempo": 71.5,
            "key": 9,
            "mode": 0,
            "time_signature": 4,
        },
    )
    fake_spotify.set_features("t2", {"energy": 0.9})
    url = f"{fake_spotify.reccobeats_url}audio-features"

    reply = requests.get(url, params={"ids": "t1,unknown,t2"}, timeout=5)
    assert reply.status_code == 200
    rows = reply.json()["content"]
    assert [r["href"] for r in rows] == [
        "https://open.spotify.com/track/t1",
        "https://open.spotify.com/track/t2",
    ]
    assert rows[0] == {
        "id": reccobeats_id("t1"),
        "href": "https://open.spotify.com/track/t1",
        "isrc": "GBAAA2600001",
        "energy": 0.2,
        "key": 9,
        "mode": 0,
        "tempo": 71.5,
        "valence": 0.3,
    }
    repeated = requests.get(
        url, params=[("ids", "t2"), ("ids", reccobeats_id("t1"))], timeout=5
    ).json()
    assert {r["href"].rsplit("/", 1)[1] for r in repeated["content"]} == {"t1", "t2"}

    assert (
        requests.get(
            url, params={"ids": ",".join(["t1"] * RECCOBEATS_MAX_IDS)}, timeout=5
        ).status_code
        == 200
    )
    too_many = requests.get(
        url,
        params={"ids": ",".join(f"id{i}" for i in range(RECCOBEATS_MAX_IDS + 1))},
        timeout=5,
    )
    assert too_many.status_code == 400
    assert too_many.json() == {
        "status": 4004,
        "errors": [{"message": "size must be between 1 and 40"}],
    }
    assert requests.get(url, timeout=5).status_code == 400
    single = requests.get(
        f"{fake_spotify.reccobeats_url}track/{reccobeats_id('t2')}/audio-features",
        timeout=5,
    )
    assert single.json()["energy"] == 0.9


# -- spotify_responses -----------------------------------------------------------------


def test_spotify_responses_checks_requests(
    spotify_responses: SpecCheckedRequestsMock,
) -> None:
    spotify_responses.add(
        responses.GET, "https://api.spotify.com/v1/me/", json={"id": "alice"}
    )
    spotify_responses.add(
        responses.POST,
        "https://api.spotify.com/v1/me/playlists",
        json={"id": "p1"},
        status=201,
    )
    sp = spotipy.Spotify(auth="token", retries=0)
    assert sp.me()["id"] == "alice"
    assert sp.current_user_playlist_create("Calm", public=False)["id"] == "p1"
    assert spotify_responses.check_calls() == []


@pytest.mark.filterwarnings(
    "ignore:You're using `user_playlist_create:DeprecationWarning"
)
def test_spotipy_gaps_are_caught(spec_checker: SpecChecker) -> None:
    if not spec_checker.enabled:
        pytest.skip("Spotify OpenAPI spec not found")
    with SpecCheckedRequestsMock() as rsps:
        rsps.add(
            responses.POST,
            "https://api.spotify.com/v1/playlists/p1/items",
            json={"snapshot_id": "s"},
            status=201,
        )
        rsps.add(
            responses.POST,
            "https://api.spotify.com/v1/users/alice/playlists",
            json={"id": "p2"},
            status=201,
        )
        sp = spotipy.Spotify(auth="token", retries=0)
        sp.playlist_add_items("p1", ["spotify:track:4iV5W9uYEdYUVa79Axb7Rh"])
        sp.user_playlist_create("alice", "Calm")
        problems = rsps.check_calls()
    assert any("is not of type 'object'" in p for p in problems), problems
    assert any(
        p.startswith("deprecated operation POST /users/{user_id}/playlists")
        for p in problems
    ), problems
