"""Regenerate docs/screenshots/: the listener journey (start, preview, saved, history) at a
desktop (1280×800) and a phone (390×844) size, in headless Chromium, against the fake Spotify.

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots]

Needs Debian's chromium and chromium-driver and selenium (requirements-dev.txt). Nothing leaves
the machine: the app runs on loopback with a throwaway SQLite database and a synthetic catalogue.
Each PNG is reduced to a 256-colour palette to keep the repository small.
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import threading
from pathlib import Path

from PIL import Image
from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SIZES = {"desktop": (1280, 800), "phone": (390, 844)}


def serve(tmp: Path):
    """The app on loopback, aimed at a started fake Spotify; returns (base URL, fake, stop)."""
    from curator import create_app
    from curator.catalogue.importer import import_csv
    from curator.extensions import db
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
    })
    rows = synthetic_rows()
    for i, row in enumerate(rows):  # names a person might see, not "Song 12"
        row["name"] = TITLES[i % len(TITLES)] + ("" if i < len(TITLES) else f" ({i // len(TITLES) + 1})")
        row["artist"] = ARTISTS[i % len(ARTISTS)]
    with app.app_context():
        db.create_all()
        import_shipped_if_empty()
        import_csv(write_rows_csv(tmp / "catalogue.csv", rows))
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

    return base, fake, stop


TITLES = ["Quiet Harbour", "Paper Lanterns", "Slow Tide", "Northern Window", "Low Sun", "Glass Orchard",
          "Small Hours", "Open Field", "Soft Static", "Kite Season", "Blue Hour", "Morning Road",
          "Salt and Cedar", "Long Weekend", "Stillwater", "Copper Sky", "Warm Rain", "First Light"]
ARTISTS = ["The Lowlands", "Mira Sol", "Ada & the Pines", "Kaito Mori", "Lucía Vela", "Northbound",
           "Juniper Avenue", "Oskar Lind", "Nadia Amari", "The Quiet Club"]


def shrink(path: Path) -> None:
    image = Image.open(path).convert("RGB")
    image.quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    out = Path(parser.parse_args().out)
    out.mkdir(parents=True, exist_ok=True)

    from selenium import webdriver
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    tmp = Path(tempfile.mkdtemp(prefix="curator-shots-"))
    base, fake, stop = serve(tmp)
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                "--disable-background-networking", "--hide-scrollbars", "--window-size=1280,800"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=webdriver.ChromeService(shutil.which("chromedriver") or "/usr/bin/chromedriver"),
                              options=options)
    written = []
    try:
        fake.add_user("robin", display_name="Robin")
        fake.authorize_as("robin")
        driver.get(base + "/login")
        try:
            WebDriverWait(driver, 15).until(lambda d: "How do you feel now?" in d.page_source)
        except Exception:
            print(driver.current_url, driver.page_source[:3000])
            raise
        driver.get(base + "/?from=anxious&to=calm&length=12")
        driver.find_element(By.ID, "make-playlist").click()
        WebDriverWait(driver, 15).until(lambda d: "/previews/" in d.current_url)
        preview = driver.current_url
        driver.find_element(By.CSS_SELECTOR, "form.save-form button").click()
        WebDriverWait(driver, 15).until(lambda d: d.current_url.endswith("/playlist"))
        saved = driver.current_url
        driver.find_element(By.XPATH, '//input[@name="rating"][@value="2"]/..').click()
        driver.find_element(By.CSS_SELECTOR, "section.checkin button[type=submit]").click()
        WebDriverWait(driver, 15).until(lambda d: d.current_url.endswith("/history"))
        # The preview as a listener sees it before saving: a second playlist, not saved.
        driver.get(base + "/?from=tired&to=energised&length=12")
        driver.find_element(By.ID, "make-playlist").click()
        WebDriverWait(driver, 15).until(lambda d: "/previews/" in d.current_url)
        preview = driver.current_url
        pages = {"start": base + "/?from=anxious&to=calm", "preview": preview, "saved": saved,
                 "history": base + "/history"}
        for size_name, (width, height) in SIZES.items():
            driver.set_window_size(width, height)
            # The window's inner size is what a screen shows: correct for the browser's frame.
            inner = driver.execute_script("return [window.innerWidth, window.innerHeight]")
            driver.set_window_size(2 * width - inner[0], 2 * height - inner[1])
            for page_name, url in pages.items():
                driver.get(url)
                WebDriverWait(driver, 10).until(lambda d: d.execute_script("return document.readyState") == "complete")
                path = out / f"{page_name}-{size_name}.png"
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
