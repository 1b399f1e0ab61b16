"""The audit log page: every curator and admin action, filterable and paginated."""
from __future__ import annotations

from datetime import timedelta

from curator import audit
from curator.clock import utcnow
from curator.extensions import db
from curator.models.audit import AuditEvent
from tests.helpers import csrf_from, login, login_with_role


def rows(html: str) -> int:
    body = html[html.index("<tbody>"):html.index("</tbody>")]
    return body.count("<tr>") - body.count("No events match")


def test_filters_by_action_actor_target_and_dates(app, client, fake_spotify, moods):
    curator = app.test_client()
    login_with_role(curator, fake_spotify, app, "cur-1", "curator")
    token = csrf_from(curator.get("/curate/moods").data)
    curator.post("/curate/moods/tired/archive", data={"csrf_token": token})
    curator.post("/curate/moods/tired/unarchive", data={"csrf_token": token})
    with app.app_context():
        old = AuditEvent(action="role.grant", target="someone", actor_label="command line",
                         at=utcnow() - timedelta(days=40))
        db.session.add(old)
        db.session.commit()

    login(client, fake_spotify, "admin-user")
    everything = client.get("/admin/audit").get_data(as_text=True)
    assert "mood.archive" in everything and "mood.create" in everything

    archive = client.get("/admin/audit", query_string={"action": "mood.archive"}).get_data(as_text=True)
    assert rows(archive) == 1 and "cur-1" in archive and "archived" in archive

    by_actor = client.get("/admin/audit", query_string={"actor": "cur-"}).get_data(as_text=True)
    assert rows(by_actor) == 2
    by_target = client.get("/admin/audit", query_string={"target": "tired"}).get_data(as_text=True)
    assert rows(by_target) == 3  # created (shipped), archived, unarchived

    today = utcnow().date()
    recent = client.get("/admin/audit", query_string={"action": "role.grant", "since": (today - timedelta(days=7)).isoformat()})
    assert rows(recent.get_data(as_text=True)) == 1  # admin-user's admin, granted by ADMIN_SPOTIFY_IDS at login
    older = client.get("/admin/audit", query_string={"action": "role.grant", "until": (today - timedelta(days=30)).isoformat()})
    assert rows(older.get_data(as_text=True)) == 1

    bad = client.get("/admin/audit", query_string={"since": "last tuesday"})
    assert bad.status_code == 400 and "is not a date" in bad.get_data(as_text=True)
    backwards = client.get("/admin/audit", query_string={"since": today.isoformat(), "until": "2000-01-01"})
    assert backwards.status_code == 400


def test_mood_changes_show_field_by_field(app, client, fake_spotify, moods):
    login(client, fake_spotify, "admin-user")
    with app.app_context():
        audit.record(None, "mood.save", "calm",
                     {"name": "Calm", "features": {"tempo": {"target": 72, "weight": 1}}},
                     {"name": "Calm", "features": {"tempo": {"target": 68, "weight": 1}}})
        db.session.commit()
    html = client.get("/admin/audit", query_string={"action": "mood.save"}).get_data(as_text=True)
    assert "tempo target 72 → 68" in html


def test_pagination_keeps_the_filters(app, client, fake_spotify):
    login(client, fake_spotify, "admin-user")
    with app.app_context():
        for i in range(60):
            audit.record(None, "test.event", f"t{i}")
        audit.record(None, "other.event", "x")
        db.session.commit()
    first = client.get("/admin/audit", query_string={"action": "test.event"}).get_data(as_text=True)
    assert "60 events." in first and rows(first) == 50 and "Page 1 of 2" in first
    assert "/admin/audit?page=2&amp;action=test.event" in first
    second = client.get("/admin/audit", query_string={"action": "test.event", "page": 2}).get_data(as_text=True)
    assert rows(second) == 10 and "other.event</td>" not in second
    beyond = client.get("/admin/audit", query_string={"page": 99})
    assert beyond.status_code == 200


def test_dashboard_shows_a_run_whose_worker_died_as_interrupted(app, client, fake_spotify):
    from curator.extensions import db
    from curator.models.catalogue import RefreshRun
    from tests.helpers import login

    with app.app_context():
        db.session.add(RefreshRun(status="running", requested_label="admin-user", total=4, done=1))
        db.session.commit()
    login(client, fake_spotify, "admin-user")
    page = client.get("/admin/").get_data(as_text=True)
    assert "interrupted" in page and ">running<" not in page
