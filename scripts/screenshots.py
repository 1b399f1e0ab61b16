"""Regenerate docs/screenshots/: Curator's main pages at a desktop (1280×800) and a phone (390×844)
size, in the light and the dark theme, in headless Chromium, against the fake Spotify.

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots] [--only preview,start]

Needs Debian's chromium and chromium-driver and selenium (requirements-dev.txt). Nothing leaves
the machine: the app runs on loopback with a throwaway SQLite database and a synthetic catalogue
(made-up titles, covers drawn here as small SVG pictures). Each PNG is named PAGE-SIZE-THEME.png and
reduced to a 256-colour palette to keep the repository small.

To add pages: write a function like `listener_pages` or `staff_pages` that drives the browser to
them and returns {name: url}, and add it to PAGE_SETS; README's table lists PAGES.
"""
from __future__ import annotations

import argparse
import hashlib
import shutil
import sys
import tempfile
import threading
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

from PIL import Image
from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SIZES = {"desktop": (1280, 800), "phone": (390, 844)}
THEMES = ("light", "dark")

TITLES = ["Quiet Harbour", "Paper Lanterns", "Slow Tide", "Northern Window", "Low Sun", "Glass Orchard",
          "Small Hours", "Open Field", "Soft Static", "Kite Season", "Blue Hour", "Morning Road",
          "Salt and Cedar", "Long Weekend", "Stillwater", "Copper Sky", "Warm Rain", "First Light"]
ARTISTS = ["The Lowlands", "Mira Sol", "Ada & the Pines", "Kaito Mori", "Lucía Vela", "Northbound",
           "Juniper Avenue", "Oskar Lind", "Nadia Amari", "The Quiet Club"]
PALETTE = ["#ff7a45", "#6a4cff", "#3a9e8f", "#f2b632", "#4a6fa5", "#c23030", "#7d6b91", "#e8590c", "#1f8a70",
           "#ff5d8f", "#2d3142", "#9bc53d"]


def cover(seed: str) -> str:
    """A made-up album cover: an SVG picture as a data: URL (the page's CSP allows data: images)."""
    h = hashlib.sha256(seed.encode()).digest()
    a, b, c = (PALETTE[h[i] % len(PALETTE)] for i in range(3))
    cx, cy, r = 20 + h[3] % 60, 20 + h[4] % 60, 18 + h[5] % 30
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100"><defs><linearGradient id="g" x1="0" '
           f'y1="0" x2="1" y2="1"><stop offset="0" stop-color="{a}"/><stop offset="1" stop-color="{b}"/>'
           f'</linearGradient></defs><rect width="100" height="100" fill="url(#g)"/>'
           f'<circle cx="{cx}" cy="{cy}" r="{r}" fill="{c}" fill-opacity=".85"/>'
           f'<rect x="0" y="{60 + h[6] % 30}" width="100" height="4" fill="#fff" fill-opacity=".5"/></svg>')
    return "data:image/svg+xml," + quote(svg)


def serve(tmp: Path):
    """The app on loopback, aimed at a started fake Spotify; returns (app, base URL, fake, stop)."""
    from curator import create_app
    from curator.catalogue.importer import import_csv
    from curator.extensions import db
    from curator.models.catalogue import CatalogueTrack
    from curator.moods.service import import_shipped_if_empty
    from tests.fake_spotify.server import FakeSpotify
    from tests.fake_spotify.spec import SpecChecker
    from tests.helpers import synthetic_rows, write_rows_csv

    fake = FakeSpotify(checker=SpecChecker()).start()
    app = create_app({
        "SECRET_KEY": "screenshots-" + "x" * 40, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp / 'shots.sqlite'}",
        "INSTANCE_PATH": str(tmp / "instance"), "SPOTIFY_CLIENT_ID": "test-client-id",
        "SPOTIFY_CLIENT_SECRET": "test-client-secret",
        "SPOTIFY_API_URL": fake.api_url, "SPOTIFY_ACCOUNTS_URL": fake.accounts_url,
        "RECCOBEATS_API_URL": fake.reccobeats_url, "SESSION_COOKIE_SECURE": False, "REDIS_URL": "",
        "ADMIN_SPOTIFY_IDS": ["robin"],
    })
    rows = synthetic_rows(count=600, artists=150)  # enough that every 20-track arc fills
    for i, row in enumerate(rows):  # names a person might see, not "Song 12"
        row["name"] = TITLES[i % len(TITLES)] + ("" if i < len(TITLES) else f" ({i // len(TITLES) + 1})")
        row["artist"] = ARTISTS[i % len(ARTISTS)]
    with app.app_context():
        db.create_all()
        import_shipped_if_empty()
        import_csv(write_rows_csv(tmp / "catalogue.csv", rows))
        for track in db.session.scalars(db.select(CatalogueTrack)):
            track.image_url = cover(track.id)
        db.session.commit()
        from curator.catalogue.store import bump_version

        bump_version()
        db.session.commit()
        db.session.remove()
    for row in rows:
        fake.add_track(row["id"], name=row["name"], duration_ms=row["length"])
    server = make_server("127.0.0.1", 0, app, threaded=True)
    base = f"http://127.0.0.1:{server.server_port}"
    app.config["SPOTIFY_REDIRECT_URI"] = base + "/callback"
    threading.Thread(target=server.serve_forever, daemon=True).start()

    def stop():
        server.shutdown()
        fake.stop()

    return app, base, fake, stop


def listener_pages(driver, app, base: str, fake) -> dict[str, str]:
    """The listener's journey: start, a preview, a saved playlist, history (with a check-in)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from curator.extensions import db
    from curator.models.listening import PlaylistSave

    fake.add_user("robin", display_name="Robin")
    fake.authorize_as("robin")
    driver.get(base + "/login")
    WebDriverWait(driver, 15).until(lambda d: "How do you feel now?" in d.page_source)
    driver.get(base + "/?from=anxious&to=calm&length=12")
    driver.find_element(By.ID, "make-playlist").click()
    WebDriverWait(driver, 15).until(lambda d: "/previews/" in d.current_url)
    driver.find_element(By.CSS_SELECTOR, "form.save-form button").click()
    WebDriverWait(driver, 15).until(lambda d: d.current_url.endswith("/playlist"))
    saved = driver.current_url
    # The check-in is offered once there has been time to listen: as if this was saved an hour ago.
    with app.app_context():
        for save in db.session.scalars(db.select(PlaylistSave)):
            save.completed_at -= timedelta(hours=1)
        db.session.commit()
        db.session.remove()
    driver.get(base + "/history")
    driver.find_element(By.XPATH, '//input[@name="rating"][@value="2"]/..').click()
    driver.find_element(By.CSS_SELECTOR, ".checkin-inline button[type=submit]").click()
    WebDriverWait(driver, 15).until(lambda d: "Your check-in is saved" in d.page_source)
    # The preview as a listener sees it before saving: a second playlist, not saved, one track swapped.
    driver.get(base + "/?from=tired&to=energised&length=20")
    driver.find_element(By.ID, "make-playlist").click()
    WebDriverWait(driver, 15).until(lambda d: "/previews/" in d.current_url)
    driver.find_element(By.CSS_SELECTOR, "li.track:nth-child(3) .row-menu > summary").click()
    driver.find_element(By.CSS_SELECTOR, "li.track:nth-child(3) form[data-edit=lock] button").click()
    WebDriverWait(driver, 15).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".track-main.is-locked"))
    preview = driver.current_url.split("#")[0]
    start = base + "/?from=anxious&to=point:0.75,0.3"
    return {"start": start, "preview": preview, "saved": saved, "history": base + "/history"}


def demo_pages(driver, app, base: str, fake) -> dict[str, str]:
    """A fresh clone's first minute: no Spotify app, no music; the demo's first page and a preview."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from curator import create_app
    from curator.extensions import db
    from curator.moods.service import import_shipped_if_empty

    folder = Path(app.instance_path).parent / "demo"
    demo = create_app({
        "SECRET_KEY": "screenshots-demo-" + "x" * 40, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'demo.sqlite'}",
        "INSTANCE_PATH": str(folder / "instance"), "SPOTIFY_CLIENT_ID": "", "SPOTIFY_CLIENT_SECRET": "",
        # Cookies are per host, not per port: a name of its own keeps the two apps' sessions apart.
        "SESSION_COOKIE_SECURE": False, "REDIS_URL": "", "SESSION_COOKIE_NAME": "demo_session",
    })
    with demo.app_context():
        db.create_all()
        import_shipped_if_empty()
        db.session.remove()
    server = make_server("127.0.0.1", 0, demo, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    demo_base = f"http://127.0.0.1:{server.server_port}"
    driver.get(demo_base + "/?from=anxious&to=calm")
    driver.find_element(By.ID, "make-playlist").click()
    WebDriverWait(driver, 15).until(lambda d: "/previews/" in d.current_url)
    # The first page as a new visitor sees it: cookies belong to a host name, and this one has none.
    return {"try": f"http://localhost:{server.server_port}/", "try-preview": driver.current_url}


def staff_pages(driver, app, base: str, fake) -> dict[str, str]:
    """The curator's and the admin's main pages, as Robin (an admin, so a curator too) sees them after
    a seed refresh in which one seed failed: the moods, the mood editor, the dashboard, the catalogue."""
    from curator.extensions import db
    from curator.models.user import User
    from tests.helpers import ARTIST, PLAYLIST, QUERY, TRACK, add_seeds, base62, build_world

    build_world(fake, playlist_tracks=12, albums=3, per_album=4, search_hits=10, featureless=2)
    fake.add_playlist(PLAYLIST, owner="robin", track_ids=[base62(i, "p") for i in range(12)])
    add_seeds(app, playlist=PLAYLIST, artist=f"{ARTIST}\n{base62(77, 'Z')}", track=TRACK, search=QUERY)
    with app.app_context():
        robin = db.session.scalar(db.select(User).where(User.spotify_id == "robin"))
        robin.grant("curator")
        db.session.commit()
        result = app.test_cli_runner().invoke(args=["seeds", "refresh", "--as", "robin"])
        assert result.exit_code == 0, result.output
        db.session.remove()
    return {"moods": base + "/curate/moods", "editor": base + "/curate/moods/calm", "admin": base + "/admin/",
            "catalogue": base + "/admin/catalogue"}


# Each function drives the browser as one person and returns the pages to photograph, by name.
PAGE_SETS: list[Callable] = [demo_pages, listener_pages, staff_pages]
# What README's table calls each page.
PAGES = {"try": "Before any setup: the first page", "try-preview": "Before any setup: a preview",
         "start": "Start: the mood wheel", "preview": "Preview: the arc first", "saved": "Saved to Spotify",
         "history": "History", "moods": "Curator: the moods", "editor": "Curator: the mood editor and its live preview",
         "admin": "Admin: the dashboard", "catalogue": "Admin: the catalogue, coverage and refreshes"}


def shrink(path: Path) -> None:
    image = Image.open(path).convert("RGB")
    image.quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    parser.add_argument("--only", default="", help="comma-separated page names (default: all)")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    only = {name for name in args.only.split(",") if name}

    from selenium import webdriver
    from selenium.webdriver.support.ui import WebDriverWait

    tmp = Path(tempfile.mkdtemp(prefix="curator-shots-"))
    app, base, fake, stop = serve(tmp)
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                "--disable-background-networking", "--hide-scrollbars", "--window-size=1280,800"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=webdriver.ChromeService(shutil.which("chromedriver") or "/usr/bin/chromedriver"),
                              options=options)
    written = []
    try:
        pages: dict[str, str] = {}
        for page_set in PAGE_SETS:
            pages.update(page_set(driver, app, base, fake))
        for size_name, (width, height) in SIZES.items():
            driver.set_window_size(width, height)
            # The window's inner size is what a screen shows: correct for the browser's frame.
            inner = driver.execute_script("return [window.innerWidth, window.innerHeight]")
            driver.set_window_size(2 * width - inner[0], 2 * height - inner[1])
            for theme in THEMES:
                driver.execute_cdp_cmd("Emulation.setEmulatedMedia",
                                       {"features": [{"name": "prefers-color-scheme", "value": theme}]})
                for page_name, url in pages.items():
                    if only and page_name not in only:
                        continue
                    driver.get(url)
                    WebDriverWait(driver, 10).until(
                        lambda d: d.execute_script("return document.readyState") == "complete")
                    path = out / f"{page_name}-{size_name}-{theme}.png"
                    driver.save_screenshot(str(path))
                    shrink(path)
                    written.append(path)
    finally:
        driver.quit()
        stop()
        shutil.rmtree(tmp, ignore_errors=True)
    for path in written:
        print(f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}  {path.stat().st_size // 1024} KB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
