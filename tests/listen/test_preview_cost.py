"""What one preview costs the database, and what it no longer asks it for (issue 13).

A preview reads the session with its user, the moods once and the catalogue version, and writes
one row: four statements. Album images come from the shared catalogue's own column; the new preview
is answered from what was just written, not read back.
"""
from __future__ import annotations

import re
from collections import Counter

from sqlalchemy import event, update

from curator.catalogue.matrix import prepare
from curator.catalogue.store import bump_version
from curator.extensions import db
from curator.models.catalogue import CatalogueTrack
from tests.helpers import api_login, api_preview

IMAGE = "https://i.scdn.co/image/ab67616d00004851{:024d}"


def _kind(statement: str) -> str:
    text = " ".join(statement.split())
    table = re.search(r"\b(?:FROM|INTO|UPDATE)\s+\"?(\w+)", text, re.IGNORECASE)
    return f"{text.split(' ', 1)[0].upper()} {table.group(1) if table else ''}".strip()


def _statements_of(app, action) -> Counter:
    seen: Counter = Counter()

    def count(_conn, _cursor, statement, *_args):
        seen[_kind(statement)] += 1

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        action()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return seen


def test_a_preview_takes_five_statements_and_reads_the_moods_once(app, client, catalogue, fake_spotify):
    token = api_login(client, fake_spotify)
    api_preview(client, token)  # the first one opens the catalogue (not counted)
    answers = []
    seen = _statements_of(app, lambda: answers.append(api_preview(client, token, before_rating=3)))
    body = answers[0]
    assert len(body["tracks"]) == 20 and body["playlist"] is None and body["unfinished_save"] is None
    assert body["guidance"]  # the target's guidance, from the one read of the moods
    seen.pop("INSERT check_ins")  # the "before" rating asked for here; a plain preview has none
    # The rate limit's hit (one statement; PostgreSQL takes an advisory lock on the key first), counted
    # in the database without Redis so that every worker process shares the limit.
    seen.pop("SELECT", None)  # SELECT pg_advisory_xact_lock(...)
    # The listener's taste (issue 21): one row with their steering and what the engine reads of it.
    assert seen == Counter({"SELECT web_sessions": 1, "SELECT moods": 1,  # the session row brings the user
                            "SELECT listener_tastes": 1,
                            "SELECT catalogue_state": 1, "INSERT previews": 1, "INSERT rate_limit_hits": 1}), seen
    # What was answered is what is stored: reading the preview back gives the same tracks.
    again = client.get(f"/api/v1/previews/{body['id']}").json
    assert again["tracks"] == body["tracks"] and again["created_at"] == body["created_at"]


def test_album_images_come_from_the_catalogue(app, client, catalogue, fake_spotify):
    with app.app_context():
        ids = [row["id"] for row in catalogue]
        for n, track_id in enumerate(ids):
            if n % 2 == 0:  # half the tracks have art, as after a refresh from Spotify
                db.session.execute(update(CatalogueTrack).where(CatalogueTrack.id == track_id)
                                   .values(image_url=IMAGE.format(n)))
        bump_version()
        db.session.commit()
        prepare()  # what an import or refresh does last: the new version's files, built outside a request
    token = api_login(client, fake_spotify)
    tracks = api_preview(client, token)["tracks"]
    index = {track_id: n for n, track_id in enumerate(ids)}
    for track in tracks:
        n = index[track["id"]]
        assert track["album_image"] == (IMAGE.format(n) if n % 2 == 0 else None), track["id"]
    assert any(t["album_image"] for t in tracks) and not all(t["album_image"] for t in tracks)


def test_an_edit_is_built_once_and_written_once(app, client, catalogue, fake_spotify):
    """A swap or a nudge is one engine call and one INSERT: nothing of the new preview is written
    again (its notice and changed rows are known before it is stored), the old one is not touched."""
    from tests.helpers import api_headers
    token = api_login(client, fake_spotify)
    body = api_preview(client, token)

    def edit(**data):
        answer = client.post(f"/api/v1/previews/{body['id']}/edits", json=data, headers=api_headers(token))
        assert answer.status_code == 201, answer.json
        return answer.json

    for data in ({"op": "nudge", "direction": "brighter"}, {"op": "swap", "track_id": body["tracks"][3]["id"]}):
        answers = []
        seen = _statements_of(app, lambda data=data: answers.append(edit(**data)))
        assert answers[0]["edit_notice"]
        # A swap is a mark on the listener's taste (issue 21): one row, and their taste's row says so.
        taste_writes = {"INSERT taste_marks", "UPDATE listener_tastes"} if data["op"] == "swap" else set()
        assert seen["INSERT previews"] == 1, seen
        assert {k for k in seen if k.startswith(("UPDATE", "INSERT taste"))} == taste_writes, seen
        assert seen["UPDATE listener_tastes"] <= 1 and seen["SELECT taste_marks"] <= 1, seen
