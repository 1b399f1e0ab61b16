"""A request holds at most one database connection at a time: the session store, the token store
and the Spotify call log work on the request's own connection instead of taking a second one
(two per request is how a pool runs dry and requests lock each other out under load)."""
from __future__ import annotations

import threading
from collections import Counter

import pytest
from sqlalchemy import event

from curator.extensions import db
from tests.helpers import csrf_token, login


class ConnectionWatch:
    """The most connections one thread held at once, per request."""

    def __init__(self) -> None:
        self.held: Counter = Counter()
        self.peak = 0

    def checkout(self, *_args) -> None:
        me = threading.get_ident()
        self.held[me] += 1
        self.peak = max(self.peak, self.held[me])

    def checkin(self, *_args) -> None:
        self.held[threading.get_ident()] -= 1

    def request(self, send, *args, **kwargs):
        self.peak = 0
        response = send(*args, **kwargs)
        assert self.peak <= 1, f"{args[0]} held {self.peak} database connections at once"
        return response


@pytest.fixture
def watch(app):
    watcher = ConnectionWatch()
    with app.app_context():
        engine = db.engine
    event.listen(engine, "checkout", watcher.checkout)
    event.listen(engine, "checkin", watcher.checkin)
    yield watcher
    event.remove(engine, "checkout", watcher.checkout)
    event.remove(engine, "checkin", watcher.checkin)


def test_a_listeners_journey_never_holds_two_connections(app, client, fake_spotify, watch, tmp_path):
    from bench.load import synthetic_tracks, write_csv
    from curator.catalogue.importer import import_csv
    from curator.moods.service import import_shipped_if_empty

    tracks = synthetic_tracks(120)
    with app.app_context():
        import_shipped_if_empty()
        import_csv(str(write_csv(tmp_path / "tracks.csv", tracks)))
        db.session.remove()
    for row in tracks:
        fake_spotify.add_track(row["id"], name=row["name"], duration_ms=int(row["length"]))

    watch.peak = 0
    response = login(client, fake_spotify, "ana")  # login and callback: session and token writes
    assert response.status_code == 302 and watch.peak == 1
    token = csrf_token(client)
    fake_spotify.expire_tokens("ana")  # the save below refreshes the token on the way
    preview = watch.request(client.post, "/api/v1/previews", json={"from": "anxious", "to": "calm", "tracks": 20},
                            headers={"X-CSRFToken": token})
    assert preview.status_code == 201
    saved = watch.request(client.post, f"/api/v1/previews/{preview.json['id']}/playlist",
                          headers={"X-CSRFToken": token, "Idempotency-Key": "one"})
    assert saved.status_code == 201, saved.json
    assert [c for c in fake_spotify.calls() if c.path.endswith("/api/token")]  # a refresh happened
    for path in ("/", "/history", "/settings", f"/previews/{preview.json['id']}"):
        assert watch.request(client.get, path).status_code == 200
    logout = watch.request(client.post, "/logout", data={"csrf_token": token})
    assert logout.status_code in (302, 303)
