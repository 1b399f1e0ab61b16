"""Fixtures: the app on a fresh database (SQLite, or PostgreSQL via DATABASE_URL), aimed at a
fake Spotify served over real HTTP on loopback; tests read like a user's actions.

Every fixture used in more than one folder is defined here, once; a folder's conftest.py holds only
fixtures of its own (with names used nowhere else), and helpers live in tests/helpers.py."""
from __future__ import annotations

import os
import threading
import uuid

import pytest
from werkzeug.serving import make_server

from curator import create_app
from curator.extensions import db
from tests.database import FreshDatabase
from tests.helpers import (
    LABELLED_DEV_CSV,
    csrf_token,
    import_rows,
    import_with_cli,
    login,
    skip_without_shared_data,
    synthetic_records,
    synthetic_rows,
    write_records_csv,
)

pytest_plugins = ["tests.fake_spotify.fixtures"]


def database_url(tmp_path) -> str:
    url = os.environ.get("DATABASE_URL")
    if url:
        from curator.config import _database_url

        return _database_url(url)
    return f"sqlite:///{tmp_path / 'test.sqlite'}"


def pytest_collection_modifyitems(items):
    """Tests marked `long` (tens of seconds: servers of their own, the save soak) go first. Under
    xdist's worksteal the first worker takes them one after another from the start while the other
    works through the rest and then takes over part of the first's queue; last, one of them would
    end the run alone, and side by side on two cores they starve each other."""
    items.sort(key=lambda item: item.get_closest_marker("long") is None)  # stable: the rest keep their order


@pytest.fixture(scope="session")
def pg_schema():
    """On PostgreSQL, a schema of this run's own, dropped at the end: concurrent runs on the
    shared `test` database never see each other's tables, and nothing is left behind."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql")):
        yield None
        return
    from sqlalchemy import create_engine

    from curator.config import _database_url

    schema = f"curator_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    engine = create_engine(_database_url(url), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    try:
        yield schema
    finally:
        with engine.connect() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        engine.dispose()


@pytest.fixture(scope="session")
def fresh_database(tmp_path_factory, pg_schema) -> FreshDatabase:
    """Empty tables for each test's app, built once per process (tests/database.py)."""
    return FreshDatabase(tmp_path_factory.mktemp("schema"), pg_schema)


@pytest.fixture
def app_config(tmp_path, fake_spotify, pg_schema):
    """Settings for a test app; tests may change them before asking for `app`."""
    engine_options = {"pool_pre_ping": True}
    fake_spotify.require_pkce = True  # every login of the app must use PKCE S256
    if pg_schema:
        engine_options["connect_args"] = {"options": f"-csearch_path={pg_schema}"}
    return {
        "SQLALCHEMY_ENGINE_OPTIONS": engine_options,
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-" + "x" * 32,
        "SQLALCHEMY_DATABASE_URI": database_url(tmp_path),
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "SPOTIFY_CLIENT_ID": "test-client-id",
        "SPOTIFY_CLIENT_SECRET": "test-client-secret",
        "SPOTIFY_REDIRECT_URI": "http://127.0.0.1:5000/callback",
        "SPOTIFY_API_URL": fake_spotify.api_url,
        "SPOTIFY_ACCOUNTS_URL": fake_spotify.accounts_url,
        "RECCOBEATS_API_URL": fake_spotify.reccobeats_url,
        "SPOTIFY_TIMEOUT": 5.0,
        "RECCOBEATS_TIMEOUT": 5.0,
        "RECCOBEATS_MAX_RETRY_WAIT": 2.0,
        "SPOTIFY_MAX_RETRY_WAIT": 2.0,
        "ADMIN_SPOTIFY_IDS": ["admin-user"],
        "SESSION_COOKIE_SECURE": False,
        "REDIS_URL": "",
        # Saves run in the request unless a test asks for the production way (beside it, on save
        # threads): a test's fakes and checks then see each save end before the answer.
        "SAVE_ANSWER_SECONDS": 0,
    }


@pytest.fixture
def app(app_config, fresh_database):
    app = create_app(app_config)
    with app.app_context():
        fresh_database.prepare(db.engine)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def live_server(app):
    """The app served over real HTTP on loopback (for end-to-end and browser tests)."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    base = f"http://127.0.0.1:{server.server_port}"
    app.config["SPOTIFY_REDIRECT_URI"] = base + "/callback"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield base
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture(scope="session")
def chromium():
    """One headless Chromium per process, started when a test first wants it (tests/chromium.py)."""
    from tests.chromium import SharedChromium  # skips the test when Chromium or selenium is missing

    shared = SharedChromium()
    yield shared
    shared.quit()


@pytest.fixture
def browser(chromium):
    """The process's Chromium, as a newly started one would be (blank page, no cookies, first size)."""
    return chromium.fresh()


# -- moods, catalogues and a listener -------------------------------------------------------------

@pytest.fixture
def moods(app):
    """The shipped moods in the database."""
    from curator.moods.service import import_shipped_if_empty

    with app.app_context():
        import_shipped_if_empty()


@pytest.fixture
def catalogue(app, moods, fake_spotify, tmp_path):
    """240 synthetic tracks (rows in the dev set's columns), imported into the app and known to the
    fake Spotify; returns the rows."""
    return import_rows(app, fake_spotify, tmp_path, synthetic_rows())


@pytest.fixture
def large_catalogue(app, moods, fake_spotify, tmp_path):
    """Enough tracks and artists that every mood pair fills a 150-track playlist, whatever the seed."""
    return import_rows(app, fake_spotify, tmp_path, synthetic_rows(count=1500, artists=500))


@pytest.fixture
def labelled_catalogue(app, runner, tmp_path):
    """240 synthetic tracks, a quarter tagged mood:calm (quiet, slow, acoustic), imported with
    `flask catalog import` the way an admin would; returns the engine's catalogue."""
    return import_with_cli(app, runner, write_records_csv(synthetic_records(), tmp_path / "synthetic.csv"))


@pytest.fixture
def dev_catalogue(app, runner):
    """The labelled dev set (../shared), imported with `catalog import`; skipped when absent."""
    skip_without_shared_data(LABELLED_DEV_CSV)
    return import_with_cli(app, runner, LABELLED_DEV_CSV)


@pytest.fixture
def listener(client, fake_spotify):
    """`client` logged in as listener-1; returns a CSRF token for its session."""
    response = login(client, fake_spotify, "listener-1")
    assert response.status_code == 302
    return csrf_token(client)
