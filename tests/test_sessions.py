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
    client.get("/")  # an anonymous visit with a CSRF token keeps an anonymous row
    csrf_token(client)
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
