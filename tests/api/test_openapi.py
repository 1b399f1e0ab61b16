"""The API's OpenAPI document is valid, and real responses match the schemas it promises."""
from __future__ import annotations

import jsonschema
from openapi_spec_validator import validate
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from tests.helpers import api_headers, login

DOC_URI = "urn:curator-api"


def checker(document):
    registry = Registry().with_resource(DOC_URI, Resource.from_contents(document, default_specification=DRAFT202012))

    def check(instance, path: str, method: str, status: int):
        response = document["paths"][path][method]["responses"][str(status)]
        escaped = path.replace("~", "~0").replace("/", "~1")
        pointer = f"/paths/{escaped}/{method}/responses/{status}"
        if "$ref" in response:
            pointer = response["$ref"].removeprefix("#")
        # A $ref into the document keeps every nested #/components/... reference resolvable.
        wrapper = {"$ref": f"{DOC_URI}#{pointer}/content/application~1json/schema"}
        jsonschema.Draft202012Validator(wrapper, registry=registry,
                                        format_checker=jsonschema.FormatChecker()).validate(instance)
    return check


def test_document_is_valid_openapi_3_1(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.json
    assert document["openapi"].startswith("3.1")
    validate(document)
    # Every route of the API blueprint is described (and nothing that doesn't exist).
    rules = {r.rule.removeprefix("/api/v1").replace("<preview_id>", "{preview_id}")
             .replace("<track_id>", "{track_id}").replace("<playlist_id>", "{playlist_id}")
             for r in client.application.url_map.iter_rules() if r.endpoint.startswith("api.")}
    assert rules == set(document["paths"])


def test_real_responses_match_the_document(client, app, catalogue, fake_spotify):
    document = client.get("/api/v1/openapi.json").json
    check = checker(document)
    check(client.get("/api/v1/session").json, "/session", "get", 200)
    check(client.get("/api/v1/moods").json, "/moods", "get", 401)
    login(client, fake_spotify, "listener-1")
    session = client.get("/api/v1/session").json
    check(session, "/session", "get", 200)
    token = session["csrf_token"]
    check(client.get("/api/v1/moods").json, "/moods", "get", 200)

    created = client.post("/api/v1/previews", json={"from": "anxious", "to": "melancholic", "tracks": 12,
                                                     "before_rating": 3}, headers=api_headers(token))
    assert created.status_code == 201
    check(created.json, "/previews", "post", 201)
    bad = client.post("/api/v1/previews", json={"from": "anxious"}, headers=api_headers(token))
    check(bad.json, "/previews", "post", 422)

    preview_id = created.json["id"]
    check(client.get(f"/api/v1/previews/{preview_id}").json, "/previews/{preview_id}", "get", 200)
    # A point of the mood wheel, as the document describes it.
    point = client.post("/api/v1/previews", json={"from": "anxious", "to": {"valence": 0.7, "arousal": 0.3},
                                                   "tracks": 8}, headers=api_headers(token))
    check(point.json, "/previews", "post", 201)
    # Edits (issue 11, issue 20): each makes a new version; one that changes nothing answers this one.
    edits = "/previews/{preview_id}/edits"
    first = created.json["tracks"][0]["id"]
    locked = client.post(f"/api/v1/previews/{preview_id}/edits", json={"op": "lock", "track_id": first},
                         headers=api_headers(token))
    check(locked.json, edits, "post", 201)
    same = client.post(f"/api/v1/previews/{locked.json['id']}/edits", json={"op": "lock", "track_id": first},
                       headers=api_headers(token))
    check(same.json, edits, "post", 200)
    undone = client.post(f"/api/v1/previews/{locked.json['id']}/edits", json={"op": "undo"}, headers=api_headers(token))
    check(undone.json, edits, "post", 201)
    swapped = client.post(f"/api/v1/previews/{preview_id}/edits", json={"op": "swap", "track_id": first},
                          headers=api_headers(token))
    check(swapped.json, edits, "post", 201)
    check(client.post(f"/api/v1/previews/{preview_id}/edits", json={"op": "paint"}, headers=api_headers(token)).json,
          edits, "post", 422)
    check(client.get("/api/v1/previews/nope").json, "/previews/{preview_id}", "get", 404)
    saved = client.post(f"/api/v1/previews/{preview_id}/playlist", headers=api_headers(token, **{"Idempotency-Key": "a"}))
    check(saved.json, "/previews/{preview_id}/playlist", "post", 201)
    replay = client.post(f"/api/v1/previews/{preview_id}/playlist", headers=api_headers(token, **{"Idempotency-Key": "a"}))
    check(replay.json, "/previews/{preview_id}/playlist", "post", 200)
    check(client.get(f"/api/v1/previews/{preview_id}").json, "/previews/{preview_id}", "get", 200)
    check(client.get("/api/v1/playlists").json, "/playlists", "get", 200)
    checkin = client.post("/api/v1/checkins", json={"preview_id": preview_id, "rating": 2}, headers=api_headers(token))
    check(checkin.json, "/checkins", "post", 201)


def test_the_checker_catches_a_response_that_breaks_the_schema(client):
    document = client.get("/api/v1/openapi.json").json
    check = checker(document)
    try:
        check({"user": None}, "/session", "get", 200)
    except jsonschema.ValidationError:
        return
    raise AssertionError("a session without csrf_token passed the schema")
