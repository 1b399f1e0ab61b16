"""Curator and admin journeys in a real browser (Debian's Chromium, headless) against the live app.

Skipped with a message when Chromium, its driver or selenium is missing
(`apt-get install -y chromium chromium-driver`, `pip install -r requirements-dev.txt`).
Screenshots are left at /tmp/curator-*.png for a human look. Every page is also checked for
console errors, which is where a Content-Security-Policy violation (an inline script or handler)
shows up.
"""
from __future__ import annotations

import pytest

from curator.extensions import db
from curator.models.user import User
from tests.chromium import By, Select, WebDriverWait  # skips the module without Chromium
from tests.helpers import PLAYLIST, QUERY, add_seeds, build_world, login  # noqa: E402


def console_problems(driver) -> list[str]:
    """Console errors and warnings since the last call (CSP violations are reported here)."""
    return [entry["message"] for entry in driver.get_log("browser") if entry["level"] in ("SEVERE", "WARNING")]


def visit(driver, url: str, expect: str, shot: str | None = None):
    """Open `url`, wait for `expect` in the page, check the console is clean, maybe screenshot."""
    driver.get(url)
    WebDriverWait(driver, 10).until(lambda d: expect in d.page_source)
    assert console_problems(driver) == [], url
    if shot:
        full_page_screenshot(driver, shot)


def full_page_screenshot(driver, path: str) -> None:
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1280, min(max(height, 800), 6000))
    driver.save_screenshot(path)
    driver.set_window_size(1280, 1400)


def no_horizontal_overflow(driver) -> bool:
    return driver.execute_script(
        "return document.documentElement.scrollWidth <= document.documentElement.clientWidth")


def log_in(driver, fake, base: str, spotify_id: str, display_name: str) -> None:
    fake.add_user(spotify_id, display_name=display_name)
    fake.authorize_as(spotify_id)
    driver.get(base + "/login")
    WebDriverWait(driver, 10).until(lambda d: f"Log out {display_name}" in d.page_source)


def grant(app, spotify_id: str, role: str) -> None:
    with app.app_context():
        user = db.session.scalar(db.select(User).where(User.spotify_id == spotify_id))
        user.grant(role)
        db.session.commit()
        db.session.remove()


@pytest.mark.usefixtures("moods", "labelled_catalogue")
def test_curator_edits_previews_saves_compares_and_rolls_back(browser, app, live_server, fake_spotify):
    log_in(browser, fake_spotify, live_server, "curator-1", "Cleo Curator")
    grant(app, "curator-1", "curator")

    visit(browser, live_server + "/curate/moods", "Every save that changes a mood is a new version",
          "/tmp/curator-moods.png")
    browser.find_element(By.LINK_TEXT, "Calm").click()
    WebDriverWait(browser, 10).until(lambda d: "Edit mood" in d.page_source)
    assert console_problems(browser) == []
    full_page_screenshot(browser, "/tmp/curator-editor.png")
    assert no_horizontal_overflow(browser)

    # The live preview: change a value, the fragment is swapped in without a page load.
    browser.execute_script("window.__sameDocument = true")
    first_rows = [r.text for r in browser.find_elements(By.CSS_SELECTOR, "#preview table.preview-tracks tbody tr")]
    assert len(first_rows) == 12
    energy = browser.find_element(By.ID, "f-features-energy-target")
    energy.clear()
    energy.send_keys("0.9")
    browser.find_element(By.ID, "f-features-energy-max").clear()
    WebDriverWait(browser, 10).until(
        lambda d: [r.text for r in d.find_elements(By.CSS_SELECTOR, "#preview table.preview-tracks tbody tr")]
        not in ([], first_rows))
    assert browser.execute_script("return window.__sameDocument") is True
    # Screen readers hear one line about the new preview, not the whole table again.
    status = browser.find_element(By.ID, "preview-status")
    WebDriverWait(browser, 5).until(lambda d: "12 tracks: mean distance" in status.get_attribute("textContent"))
    assert browser.find_element(By.ID, "preview").get_attribute("aria-live") is None
    assert console_problems(browser) == []
    full_page_screenshot(browser, "/tmp/curator-editor-preview.png")

    # A bad value shows what to fix in the preview, still without a reload.
    energy.clear()
    energy.send_keys("abc")
    WebDriverWait(browser, 10).until(lambda d: "to see a preview" in d.find_element(By.ID, "preview").text)
    assert browser.execute_script("return window.__sameDocument") is True
    energy.clear()
    energy.send_keys("0.9")

    # Saving something out of range: nothing is saved, the summary takes focus and names the field as
    # its label does, and what was typed is still there.
    browser.find_element(By.ID, "f-note").send_keys("Livelier calm for a test")
    valence = browser.find_element(By.ID, "f-valence")
    valence.clear()
    valence.send_keys("7")
    browser.find_element(By.CSS_SELECTOR, "#mood-form button[value=save]").click()
    WebDriverWait(browser, 10).until(lambda d: "nothing was saved" in d.page_source)
    WebDriverWait(browser, 5).until(lambda d: d.switch_to.active_element.get_attribute("id") == "error-summary")
    summary = browser.find_element(By.ID, "error-summary").text
    assert "Pleasant on the wheel: input should be less than or equal to 1" in summary and "valence:" not in summary
    assert browser.find_element(By.ID, "f-valence").get_attribute("aria-invalid") == "true"
    assert browser.find_element(By.ID, "f-features-energy-target").get_attribute("value") == "0.9"
    assert browser.find_element(By.ID, "f-note").get_attribute("value") == "Livelier calm for a test"
    assert [p for p in console_problems(browser) if "422 (UNPROCESSABLE ENTITY)" not in p] == []
    full_page_screenshot(browser, "/tmp/curator-editor-errors.png")
    browser.find_element(By.LINK_TEXT, "Pleasant on the wheel: input should be less than or equal to 1").click()
    assert browser.switch_to.active_element.get_attribute("id") == "f-valence"
    valence = browser.find_element(By.ID, "f-valence")
    valence.clear()
    valence.send_keys("0.65")
    browser.find_element(By.CSS_SELECTOR, "#mood-form button[value=save]").click()
    WebDriverWait(browser, 10).until(lambda d: "as version 2" in d.page_source)
    assert console_problems(browser) == []

    browser.find_element(By.LINK_TEXT, "Version history").click()
    WebDriverWait(browser, 10).until(lambda d: "History of" in d.page_source)
    assert "Livelier calm for a test" in browser.page_source
    full_page_screenshot(browser, "/tmp/curator-history-mood.png")
    Select(browser.find_element(By.ID, "from")).select_by_value("1")
    Select(browser.find_element(By.ID, "to")).select_by_value("2")
    browser.find_element(By.CSS_SELECTOR, "form.compare button").click()
    WebDriverWait(browser, 10).until(lambda d: "version 1 → version 2" in d.page_source)
    changes = browser.find_element(By.CSS_SELECTOR, "ul.diff-changes").text
    assert "energy" in changes and "0.9" in changes
    assert console_problems(browser) == []
    full_page_screenshot(browser, "/tmp/curator-diff.png")

    browser.back()
    WebDriverWait(browser, 10).until(lambda d: "History of" in d.page_source)
    browser.find_element(By.XPATH, "//button[normalize-space()='Roll back to version 1']").click()
    WebDriverWait(browser, 10).until(lambda d: "back to version 1" in d.page_source)
    assert console_problems(browser) == []
    full_page_screenshot(browser, "/tmp/curator-rollback.png")
    visit(browser, live_server + "/curate/moods/calm", "Edit mood")
    assert browser.find_element(By.ID, "f-features-energy-target").get_attribute("value") == "0.15"

    browser.find_element(By.LINK_TEXT, "Calibrate from examples").click()
    WebDriverWait(browser, 10).until(lambda d: "from examples" in d.page_source)
    Select(browser.find_element(By.ID, "c-tag")).select_by_value("mood:calm")
    browser.find_element(By.CSS_SELECTOR, "button.primary").click()
    WebDriverWait(browser, 20).until(lambda d: "Proposal from" in d.page_source)
    assert console_problems(browser) == []
    full_page_screenshot(browser, "/tmp/curator-calibrate.png")


@pytest.mark.usefixtures("moods")
def test_admin_dashboard_roles_audit_refresh_and_seeds(browser, app, live_server, fake_spotify):
    login(app.test_client(), fake_spotify, "listener-9", display_name="Lee Listener")
    log_in(browser, fake_spotify, live_server, "admin-user", "Ada Admin")
    visit(browser, live_server + "/admin/", "Curators and admins", "/tmp/curator-admin.png")
    assert no_horizontal_overflow(browser)
    assert browser.find_element(By.TAG_NAME, "h1").text == "Admin"

    # Users and roles: find the listener, make them a curator.
    browser.find_element(By.LINK_TEXT, "All users and roles").click()
    WebDriverWait(browser, 10).until(lambda d: "Users and roles" in d.page_source)
    search = browser.find_element(By.ID, "q")
    search.send_keys("lee")
    search.submit()
    WebDriverWait(browser, 10).until(lambda d: "q=lee" in d.current_url)
    rows = browser.find_elements(By.CSS_SELECTOR, "tbody tr")
    assert len(rows) == 1 and "listener-9" in rows[0].text
    rows[0].find_element(By.XPATH, ".//button[starts-with(normalize-space(), 'Grant curator')]").click()
    WebDriverWait(browser, 10).until(
        lambda d: "Granted curator to Lee Listener" in d.find_element(By.CSS_SELECTOR, ".flashes").text)
    assert "q=lee" in browser.current_url  # back on the same search
    assert "curator" in browser.find_element(By.CSS_SELECTOR, "tbody tr").text
    assert console_problems(browser) == []
    full_page_screenshot(browser, "/tmp/curator-users.png")

    # The audit log, filtered to role grants, shows that change, above the admin's own grant
    # from ADMIN_SPOTIFY_IDS at login, and nothing else.
    visit(browser, live_server + "/admin/audit", "Audit log")
    Select(browser.find_element(By.ID, "a-action")).select_by_value("role.grant")
    browser.find_element(By.CSS_SELECTOR, "form.filters button[type=submit]").click()
    WebDriverWait(browser, 10).until(lambda d: "action=role.grant" in d.current_url)
    events = browser.find_elements(By.CSS_SELECTOR, "table.audit tbody tr")
    assert len(events) == 2 and "listener-9" in events[0].text and "curator" in events[0].text
    assert "ADMIN_SPOTIFY_IDS" in events[1].text and "admin" in events[1].text
    assert "2 events." in browser.page_source
    assert console_problems(browser) == []
    full_page_screenshot(browser, "/tmp/curator-audit.png")
    # A "from" after the "to" is explained, not a crash.
    browser.get(live_server + "/admin/audit?since=2030-01-02&until=2030-01-01")
    assert "after the “to” date" in browser.find_element(By.CSS_SELECTOR, ".flash-error").text
    assert [p for p in console_problems(browser) if "400 (BAD REQUEST)" not in p] == []  # the page's own status

    # The catalogue refresh: the button starts a run, and the progress line follows it without a reload.
    build_world(fake_spotify, playlist_tracks=5, albums=1, search_hits=3, featureless=0)
    add_seeds(app, playlist=PLAYLIST, search=QUERY)
    fake_spotify.delay_next("GET", r"^/v1/search$", 2.5)
    visit(browser, live_server + "/admin/catalogue", "Track catalogue")
    assert "No refresh has run yet." in browser.find_element(By.ID, "refresh-line").text
    browser.find_element(By.ID, "refresh-button").click()
    WebDriverWait(browser, 10).until(lambda d: "started" in d.find_element(By.CSS_SELECTOR, ".flashes").text)
    browser.execute_script("window.__sameDocument = true")
    line = browser.find_element(By.ID, "refresh-line")
    shown = line.text  # read once: the line moves from "queued" to "running" while we look
    assert "running" in shown or "queued" in shown, shown
    assert browser.find_element(By.ID, "refresh-button").get_attribute("disabled")
    assert browser.find_element(By.ID, "refresh-bar").is_displayed()
    full_page_screenshot(browser, "/tmp/curator-catalogue-running.png")
    WebDriverWait(browser, 20).until(lambda d: "finished" in d.find_element(By.ID, "refresh-line").text)
    assert browser.execute_script("return window.__sameDocument") is True
    assert "8 tracks added" in line.text
    # The rest of the page follows: the runs table and the summary no longer say "running" or "0 tracks".
    WebDriverWait(browser, 10).until(
        lambda d: "finished" in d.find_element(By.CSS_SELECTOR, "#runs tbody tr").text)
    assert "Spotify 3, ReccoBeats 1" in browser.find_element(By.CSS_SELECTOR, "#runs tbody tr").text
    assert browser.find_element(By.ID, "catalogue-summary").text.startswith("8 tracks, 8 with audio features")
    assert browser.execute_script("return window.__sameDocument") is True
    assert not browser.find_element(By.ID, "refresh-button").get_attribute("disabled")
    # The "started" notice is gone with the run, and the progress line is still in view.
    assert not [f for f in browser.find_elements(By.CSS_SELECTOR, ".flash") if "started" in f.text]
    assert browser.execute_script(
        "var r = document.getElementById('refresh-progress').getBoundingClientRect();"
        "return r.top >= 0 && r.bottom <= window.innerHeight;")
    assert not browser.find_element(By.ID, "refresh-bar").is_displayed()
    assert console_problems(browser) == []
    full_page_screenshot(browser, "/tmp/curator-catalogue.png")

    # The seed editor: a bad link is reported next to its own field, and what was typed stays.
    browser.find_element(By.LINK_TEXT, "Edit the seed lists").click()
    WebDriverWait(browser, 10).until(lambda d: "Seed lists" in d.page_source)
    browser.find_element(By.LINK_TEXT, "Edit Calm").click()
    WebDriverWait(browser, 10).until(lambda d: "Seeds for" in d.page_source)
    artists = browser.find_element(By.ID, "seeds-artist")
    artists.send_keys("https://open.spotify.com/album/4uLU6hMCjMI75M1A2tKUQC")
    browser.find_element(By.XPATH, "//button[normalize-space()='Save seeds']").click()
    WebDriverWait(browser, 10).until(lambda d: d.find_elements(By.ID, "error-artist"))
    error = browser.find_element(By.ID, "error-artist")
    assert "not an artist" in error.text or "album" in error.text, error.text
    artists = browser.find_element(By.ID, "seeds-artist")
    assert artists.get_attribute("aria-invalid") == "true"
    assert "error-artist" in artists.get_attribute("aria-describedby")
    assert "4uLU6hMCjMI75M1A2tKUQC" in artists.get_attribute("value")
    assert not browser.find_elements(By.ID, "error-playlist")
    # The message sits between the field's label and its box.
    assert error.location["y"] < artists.location["y"]
    assert [p for p in console_problems(browser) if "422 (UNPROCESSABLE ENTITY)" not in p] == []
    full_page_screenshot(browser, "/tmp/curator-seeds.png")


@pytest.mark.usefixtures("moods", "labelled_catalogue")
def test_curator_and_admin_pages_fit_a_phone_screen(browser, live_server, fake_spotify):
    log_in(browser, fake_spotify, live_server, "admin-user", "Ada Admin")
    browser.set_window_size(390, 900)
    for path in ("/curate/moods", "/curate/moods/calm", "/curate/moods/calm/history", "/curate/moods/calm/calibrate",
                 "/admin/", "/admin/users", "/admin/audit", "/admin/catalogue", "/admin/catalogue/seeds/calm"):
        browser.get(live_server + path)
        assert no_horizontal_overflow(browser), path  # wide tables scroll on their own, not the page
    assert console_problems(browser) == []
    browser.get(live_server + "/curate/moods/calm")
    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(390, min(height, 6000))
    browser.save_screenshot("/tmp/curator-editor-phone.png")
