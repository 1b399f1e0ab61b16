"""The admin dashboard: counts by aggregate queries, catalogue health once per catalogue version."""
from __future__ import annotations

from sqlalchemy import insert

from curator.catalogue import store
from curator.clock import utcnow
from curator.extensions import db
from curator.models.catalogue import CatalogueTrack
from curator.models.user import User
from tests.helpers import base62, dev_style, in_app, login


def add_users(app, n: int, roles: dict[int, str] | None = None) -> None:
    now = utcnow()
    rows = [{"spotify_id": f"bulk-{i:04d}", "display_name": f"Bulk {i}", "roles_text": (roles or {}).get(i, ""),
             "created_at": now, "last_login_at": now} for i in range(n)]

    def run():
        db.session.execute(insert(User), rows)
        db.session.commit()

    in_app(app, run)


def test_dashboard_counts_everyone_and_lists_only_curators_and_admins(app, client, fake_spotify, moods):
    login(client, fake_spotify, "admin-user", display_name="Ada Admin")
    add_users(app, 300, roles={7: "curator", 250: "admin curator"})
    page = client.get("/admin/").get_data(as_text=True)
    assert "301 users in all" in page
    assert "bulk-0007" in page and "bulk-0250" in page and "admin-user" in page
    assert "bulk-0008" not in page  # listeners are counted, not listed


def test_catalogue_health_is_computed_once_per_catalogue_version(app, client, fake_spotify, moods, runner, tmp_path):
    login(client, fake_spotify, "admin-user", display_name="Ada Admin")
    path = tmp_path / "data.csv"
    path.write_text(dev_style(8))
    assert runner.invoke(args=["catalog", "import", str(path)]).exit_code == 0
    assert "8 tracks, 8 with audio features" in client.get("/admin/").get_data(as_text=True)

    def sneak_in_a_track(n: int, bump: bool):
        db.session.add(CatalogueTrack(id=base62(n, "x"), name="Unannounced", artists="Someone"))
        if bump:
            store.bump_version()
        db.session.commit()

    in_app(app, lambda: sneak_in_a_track(1, bump=False))  # a change nobody announced: the cached counts stand
    assert "8 tracks, 8 with audio features" in client.get("/admin/").get_data(as_text=True)
    assert "8 tracks, 8 with audio features" in client.get("/admin/catalogue").get_data(as_text=True)
    in_app(app, lambda: sneak_in_a_track(2, bump=True))
    assert "10 tracks, 8 with audio features" in client.get("/admin/").get_data(as_text=True)
