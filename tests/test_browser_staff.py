"""Issue 20 item 6 in a real browser (Debian's Chromium, headless), at a phone's 390×844 and a
desktop's 1280×800: the curator's and the admin's pages made as clear as the listener's. The mood
editor's live preview stays in sight of the field being edited, one number is called valence,
moods are named as the listener's pages name them, and the staff's tables reflow on a phone
instead of scrolling sideways."""
from __future__ import annotations

import re

import pytest

from tests.chromium import By, WebDriverWait  # skips the module without Chromium
from tests.test_browser import _console_errors, _inner_size, _no_horizontal_scroll
from tests.test_browser_roles import grant, log_in

SIZES = [pytest.param((390, 844), id="phone"), pytest.param((1280, 800), id="desktop")]


def rect(driver, element) -> dict:
    return driver.execute_script("var r = arguments[0].getBoundingClientRect();"
                                 "return {top: r.top, bottom: r.bottom, left: r.left, right: r.right};", element)


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.usefixtures("moods", "labelled_catalogue")
def test_the_live_preview_is_in_sight_of_the_field_being_edited(browser, app, live_server, fake_spotify, size):
    log_in(browser, fake_spotify, live_server, "curator-1", "Cleo Curator")
    grant(app, "curator-1", "curator")
    _inner_size(browser, *size)
    browser.get(live_server + "/curate/moods")
    WebDriverWait(browser, 10).until(lambda d: "Moods" in d.title)
    # The list names moods as the listener's pages do.
    browser.find_element(By.LINK_TEXT, "Calm").click()
    WebDriverWait(browser, 10).until(lambda d: "Edit mood “Calm”" in d.page_source)
    assert _no_horizontal_scroll(browser)

    # A field far down the form: the tempo target, typed into as a curator would.
    tempo = browser.find_element(By.ID, "f-features-tempo-target")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", tempo)
    tempo.click()
    tempo.clear()
    tempo.send_keys("120")
    status = browser.find_element(By.ID, "preview-status")
    WebDriverWait(browser, 10).until(lambda d: "12 tracks" in status.get_attribute("textContent"))
    field, panel = rect(browser, tempo), rect(browser, browser.find_element(By.ID, "preview-panel"))
    chart = rect(browser, browser.find_element(By.CSS_SELECTOR, "#preview .chart"))
    width, height = size
    assert 0 <= field["top"] and field["bottom"] <= height, "the field is on screen"
    assert chart["top"] < height and chart["bottom"] > 0, "the preview's chart is on the same screen"
    if width < 500:  # a panel along the bottom, under the field, not over it
        assert panel["bottom"] <= height + 1 and panel["top"] >= field["bottom"]
        assert panel["top"] > height * 0.5
    else:  # beside the form
        assert panel["left"] >= field["right"]
    assert _console_errors(browser) == []


@pytest.mark.usefixtures("moods", "labelled_catalogue")
def test_the_editor_has_one_valence_and_explains_the_others(browser, app, live_server, fake_spotify):
    log_in(browser, fake_spotify, live_server, "curator-1", "Cleo Curator")
    grant(app, "curator-1", "curator")
    browser.get(live_server + "/curate/moods/calm")
    WebDriverWait(browser, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#preview table.preview-tracks"))
    # The one field called valence is the music's (the feature row); the wheel's position is named otherwise.
    labels = {label.get_attribute("for"): label.get_attribute("textContent").strip()
              for label in browser.find_elements(By.TAG_NAME, "label")}
    called_valence = sorted(f for f, text in labels.items() if "valence" in text.lower() and f)
    assert called_valence == [f"f-features-valence-{key}" for key in ("max", "min", "target", "weight")], labels
    assert labels["f-valence"].startswith("How pleasant it feels, on the mood wheel")
    assert "not the music's valence" in browser.find_element(By.ID, "f-valence-hint").text
    heading = browser.find_element(By.CSS_SELECTOR, "#preview table.preview-tracks thead").text
    assert "Valence (aim)" in heading
    cells = browser.find_element(By.CSS_SELECTOR, "#preview table.preview-tracks tbody").text
    assert re.search(r"\d\.\d{2}", cells) and not re.search(r"\d\.\d{3,}", cells), "numbers to two decimals"
    assert "“aim” is what that position of the arc asked for" in browser.find_element(By.ID, "preview").text


ADMIN_PAGES = ["/admin/", "/admin/catalogue", "/admin/catalogue/seeds", "/admin/catalogue/seeds/calm",
               "/admin/users", "/admin/audit"]


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.usefixtures("moods")
def test_admin_pages_fit_the_screen_name_things_and_say_what_failed(browser, app, live_server, fake_spotify,
                                                                    runner, size):
    from tests.catalogue.test_refresh import OTHERS_PLAYLIST
    from tests.helpers import ARTIST, PLAYLIST, QUERY, add_seeds, base62, build_world

    build_world(fake_spotify, playlist_tracks=5, albums=2, search_hits=3)
    fake_spotify.add_playlist(OTHERS_PLAYLIST, owner="someone-else", track_ids=[base62(0, "p")])
    log_in(browser, fake_spotify, live_server, "admin-user", "Ada Admin")
    add_seeds(app, playlist=f"{PLAYLIST}\n{OTHERS_PLAYLIST}", artist=f"{ARTIST}\n{base62(77, 'Z')}", search=QUERY)
    with app.app_context():
        assert runner.invoke(args=["seeds", "refresh"]).exit_code == 0
    _inner_size(browser, *size)
    for path in ADMIN_PAGES:
        browser.get(live_server + path)
        WebDriverWait(browser, 10).until(lambda d: d.execute_script("return document.readyState") == "complete")
        assert _no_horizontal_scroll(browser), path
        for table in browser.find_elements(By.CSS_SELECTOR, "main table"):
            assert rect(browser, table)["right"] <= size[0] + 1, path  # nothing scrolls sideways in its box
            if size[0] < 500 and table.find_elements(By.TAG_NAME, "thead"):  # a card per row, each value
                assert "reflowed" in table.get_attribute("class"), path  # under its column's heading
        assert _console_errors(browser) == [], path

    # The catalogue page: an honest headline (failures counted, then listed), coverage by mood name.
    browser.get(live_server + "/admin/catalogue")
    runs = browser.find_element(By.ID, "runs").text
    assert "2 of 5 seeds failed (1 inaccessible, 1 not found); 3 read" in runs
    coverage = browser.find_element(By.ID, "coverage")
    assert "Calm" in coverage.text
    assert coverage.find_elements(By.CSS_SELECTOR, 'td[data-label="Usable tracks"]' if size[0] < 500 else "th")
    # The dashboard's times are words, with the exact time kept for machines and on hover.
    browser.get(live_server + "/admin/")
    times = browser.find_elements(By.CSS_SELECTOR, "main time[datetime]")
    assert times and all(re.fullmatch(r"just now|\d+ minutes? ago", t.text) for t in times)
    assert all(t.get_attribute("title").endswith(" UTC") for t in times)
    # Artist seeds by name.
    browser.get(live_server + "/admin/catalogue/seeds/calm")
    assert "Artist: Arty" in browser.find_element(By.TAG_NAME, "main").text
    # A page that isn't there, in our words.
    browser.get(live_server + "/admin/no-such-page")
    text = browser.find_element(By.TAG_NAME, "main").text
    assert "There's no page at this address" in text and "requested URL" not in text
