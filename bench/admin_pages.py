"""Benchmark: the admin dashboard and catalogue pages with many users and a large catalogue.

    python bench/admin_pages.py [--users 50000] [--tracks 100000] [--repeat 20]
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test python bench/admin_pages.py

Fills a fresh database (SQLite in a temp dir, or a PostgreSQL schema of the run's own, dropped
afterwards) with `--users` listeners (a few curators and admins among them) and a `--tracks`
catalogue imported with `catalog import`, then times GET /admin/ and GET /admin/catalogue
through Flask's test client as a logged-in admin: the first request after a catalogue change
(health computed) and the median of `--repeat` more (health read from the per-version cache).
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def timed(client, path: str) -> float:
    started = time.perf_counter()
    response = client.get(path)
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        sys.exit(f"GET {path} answered {response.status_code}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50_000)
    parser.add_argument("--tracks", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    os.environ.setdefault("SECRET_KEY", "bench")
    from sqlalchemy import create_engine, insert

    from bench.catalogue_import import generate
    from curator import create_app
    from curator.catalogue.importer import import_csv
    from curator.clock import utcnow
    from curator.config import _database_url
    from curator.extensions import db
    from curator.models.user import User
    from curator.moods.service import import_shipped_if_empty

    with tempfile.TemporaryDirectory() as tmp:
        url = _database_url(os.environ.get("DATABASE_URL") or f"sqlite:///{Path(tmp) / 'bench.sqlite'}")
        schema = f"bench_admin_{uuid.uuid4().hex[:8]}" if url.startswith("postgresql") else None
        options = {"connect_args": {"options": f"-csearch_path={schema}"}} if schema else {}
        if schema:
            with create_engine(url).begin() as conn:
                conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "SQLALCHEMY_ENGINE_OPTIONS": options,
                          "INSTANCE_PATH": tmp, "RATELIMIT_ENABLED": False,
                          "SPOTIFY_CLIENT_ID": "bench", "SPOTIFY_CLIENT_SECRET": "bench"})  # no Spotify call is made
        try:
            with app.app_context():
                db.create_all()
                import_shipped_if_empty()
                now = utcnow()
                rows = [{"spotify_id": f"listener-{i:06d}", "display_name": f"Listener {i}",
                         "roles_text": "admin" if i % 10_000 == 0 else ("curator" if i % 2_500 == 0 else ""),
                         "created_at": now, "last_login_at": now} for i in range(args.users)]
                for start in range(0, len(rows), 5000):
                    db.session.execute(insert(User), rows[start:start + 5000])
                db.session.commit()
                admin_id = db.session.scalar(db.select(User.id).where(User.spotify_id == "listener-000000"))
                if args.tracks:
                    csv_path = Path(tmp) / "catalogue.csv"
                    generate(csv_path, args.tracks)
                    import_csv(str(csv_path))
                dialect = db.engine.dialect.name
                db.session.remove()
            client = app.test_client()
            with client.session_transaction() as session:
                session["user_id"] = admin_id
            print(f"{args.users} users, {args.tracks} tracks on {dialect}")
            for path in ("/admin/", "/admin/catalogue"):
                first = timed(client, path)
                times = [timed(client, path) for _ in range(args.repeat)]
                print(f"GET {path}: first {first:.0f} ms (catalogue health computed), then median "
                      f"{statistics.median(times):.1f} ms, max {max(times):.1f} ms over {args.repeat}")
                with app.app_context():  # a catalogue change: the next page computes health again
                    from curator.catalogue import store

                    store.bump_version()
                    db.session.commit()
        finally:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()
            if schema:
                with create_engine(url).begin() as conn:
                    conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


if __name__ == "__main__":
    main()
