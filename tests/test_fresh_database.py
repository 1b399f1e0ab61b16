"""The database each test starts from (tests/database.py): every table, no rows, ids from 1; and on
PostgreSQL, where a worker's tables are kept between tests, emptied and rebuilt when changed."""
from __future__ import annotations

import pytest
from sqlalchemy import inspect, select

from curator.extensions import db
from curator.models.user import User


def _tables() -> set[str]:
    with db.engine.connect() as conn:
        return set(inspect(conn).get_table_names())


def _add_user(spotify_id: str) -> int:
    user = User(spotify_id=spotify_id, display_name=spotify_id)
    db.session.add(user)
    db.session.commit()
    return user.id


def test_a_test_starts_with_every_table_and_no_rows(app):
    with app.app_context():
        assert _tables() == set(db.metadata.tables)
        assert db.session.scalars(select(User)).all() == []
        assert _add_user("first") == 1


def test_kept_tables_are_emptied_and_rebuilt_when_a_test_changed_them(app, fresh_database, pg_schema):
    if not pg_schema:
        pytest.skip("PostgreSQL only: on SQLite each test has a database file of its own")
    with app.app_context():
        _add_user("a")
        _add_user("b")
        db.session.remove()
        fresh_database.prepare(db.engine)
        assert db.session.scalars(select(User)).all() == [] and _add_user("c") == 1

        db.session.remove()
        with db.engine.begin() as conn:  # as a migration test or drop_all does
            conn.exec_driver_sql("DROP TABLE users CASCADE")
            conn.exec_driver_sql("CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)")
        fresh_database.prepare(db.engine)
        assert _tables() == set(db.metadata.tables)
        assert _add_user("d") == 1
