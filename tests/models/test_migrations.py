"""Migrations create exactly the tables the models describe, on SQLite and PostgreSQL, and carry
existing rows through every revision in both directions."""
from __future__ import annotations

import json
from datetime import datetime, timedelta

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from curator.extensions import db
from curator.models.audit import AuditEvent
from curator.models.listening import Preview
from curator.models.mood import MoodVersion
from curator.models.user import WebSession


def _start_empty():
    db.drop_all()  # start from an empty database, as a fresh install does
    with db.engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")


def _tables() -> set[str]:
    with db.engine.connect() as conn:
        return set(db.inspect(conn).get_table_names()) - {"alembic_version"}


def test_upgrade_matches_models_and_downgrade_cleans_up(app):
    with app.app_context():
        _start_empty()
        upgrade()
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), db.metadata)
        assert diff == [], f"models and migrations disagree: {diff}"
        downgrade(revision="base")
        assert _tables() == set()
        with db.engine.begin() as conn:
            conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")


LATER = datetime(2030, 1, 1)


def _rows_at_0001(conn):
    """What a 0001 database holds: JSON as text, sessions that name their user only in the data."""
    conn.execute(text("INSERT INTO users (id, spotify_id, display_name, roles, created_at, last_login_at) "
                      "VALUES (1, 'ana', 'Ana', '', :t, :t), (2, 'bo', 'Bo', '', :t, :t)"), {"t": LATER})
    sessions = [
        ("s-ana", json.dumps({"user_id": 1, "csrf_token": "x"})),
        ("s-ana-2", json.dumps({"csrf_token": "y", "user_id": 1})),  # user_id last: the old LIKE's other case
        ("s-bo", json.dumps({"user_id": 2})),
        ("s-anon", json.dumps({"oauth_state": "abc"})),
        ("s-gone", json.dumps({"user_id": 99})),  # a deleted account: must not become a dangling reference
        ("s-odd", json.dumps({"user_id": "1"})),  # not an id: stays anonymous
    ]
    for sid, data in sessions:
        conn.execute(text("INSERT INTO web_sessions (id, data, expires_at) VALUES (:id, :data, :e)"),
                     {"id": sid, "data": data, "e": LATER})
    conn.execute(text("INSERT INTO moods (id, slug, position, archived, current_version_id, created_at) "
                      "VALUES (1, 'calm', 1, false, 1, :t)"), {"t": LATER})
    conn.execute(text("INSERT INTO mood_versions (id, mood_id, number, data, note, created_at) "
                      "VALUES (1, 1, 1, :d, '', :t)"), {"d": json.dumps({"slug": "calm", "valence": 0.6}),
                                                       "t": LATER})
    conn.execute(text(
        "INSERT INTO previews (id, user_id, from_slug, to_slug, options, seed, arc, tracks, stats, notices, "
        "created_at) VALUES ('p1', 1, 'anxious', 'calm', :o, 7, 'linear', :tr, :st, :n, :t)"),
        {"o": json.dumps({"explicit": False}), "tr": json.dumps([{"id": "t1", "duration_ms": 1000}]),
         "st": json.dumps({"mean_fit": 0.5}), "n": json.dumps(["few tracks"]), "t": LATER})
    conn.execute(text("INSERT INTO audit_events (id, at, actor_label, action, target, before, after) "
                      "VALUES (1, :t, 'ana', 'role.grant', 'bo', :b, NULL)"),
                 {"t": LATER, "b": json.dumps({"roles": ["listener"]})})
    conn.execute(text("INSERT INTO catalogue_imports (id, at, filename, actor_label, status, rows_read, imported, "
                      "updated, skipped, problems, seconds) VALUES (1, :t, 'a.csv', 'cli', 'rejected', 2, 0, 0, 1, "
                      ":p, 0.1)"), {"t": LATER, "p": json.dumps(["line 2: bad valence"])})


def test_upgrade_and_downgrade_carry_the_data(app):
    with app.app_context():
        _start_empty()
        upgrade(revision="0001_initial")
        with db.engine.begin() as conn:
            _rows_at_0001(conn)

        upgrade(revision="0002_session_user_json")
        owners = dict(db.session.execute(db.select(WebSession.id, WebSession.user_id)).all())
        assert owners == {"s-ana": 1, "s-ana-2": 1, "s-bo": 2, "s-anon": None, "s-gone": None, "s-odd": None}
        assert db.session.get(WebSession, "s-ana").data == {"user_id": 1, "csrf_token": "x"}
        preview = db.session.get(Preview, "p1")
        assert preview.options == {"explicit": False}
        assert preview.tracks == [{"id": "t1", "duration_ms": 1000}]
        assert preview.stats == {"mean_fit": 0.5} and preview.notices == ["few tracks"]
        assert preview.duration_ms == 1000
        assert db.session.get(MoodVersion, 1).data == {"slug": "calm", "valence": 0.6}
        event = db.session.get(AuditEvent, 1)
        assert event.before == {"roles": ["listener"]} and event.after is None
        # Rows written through the models after the upgrade go back down too.
        db.session.add(WebSession(id="s-new", data={"user_id": 2}, user_id=2, expires_at=LATER + timedelta(1)))
        db.session.commit()
        db.session.remove()

        downgrade(revision="0001_initial")
        with db.engine.connect() as conn:
            columns = {c["name"] for c in db.inspect(conn).get_columns("web_sessions")}
            assert "user_id" not in columns
            data = dict(conn.execute(text("SELECT id, data FROM web_sessions")).all())
            assert json.loads(data["s-new"]) == {"user_id": 2}
            assert json.loads(data["s-bo"]) == {"user_id": 2}
            tracks, = conn.execute(text("SELECT tracks FROM previews WHERE id = 'p1'")).one()
            assert json.loads(tracks) == [{"id": "t1", "duration_ms": 1000}]
            before, after = conn.execute(text("SELECT before, after FROM audit_events")).one()
            assert json.loads(before) == {"roles": ["listener"]} and after is None

        downgrade(revision="base")
        assert _tables() == set()
        with db.engine.begin() as conn:
            conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
