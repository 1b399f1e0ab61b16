"""The listener journey in a real browser (Debian's Chromium, headless) against the live app.

Skipped with a message when Chromium, its driver or selenium is missing
(`apt-get install -y chromium chromium-driver`, `pip install -r requirements-dev.txt`).
A screenshot of the preview page is left at /tmp/curator-preview.png for a human look.
"""
from __future__ import annotations

from curator.listen import charts
from tests.chromium import By, Keys, WebDriverWait, browser  # noqa: F401  (browser: fixture; skips without Chromium)

SCREENSHOT = "/tmp/curator-preview.png"
START_SCREENSHOT = "/tmp/curator-start.png"
HISTORY_SCREENSHOT = "/tmp/curator-history.png"


from tests.listen.conftest import catalogue, moods  # noqa: E402,F401  (fixtures)


def test_listener_journey_in_chromium(browser, live_server, catalogue, fake_spotify):  # noqa: F811
    browser.set_window_size(1280, 2200)  # tall enough for the whole preview in one screenshot
    fake_spotify.add_user("listener-1", display_name="Robin")
    fake_spotify.authorize_as("listener-1")
    browser.get(live_server + "/login")
    WebDriverWait(browser, 10).until(lambda d: "How do you feel now?" in d.page_source)
    browser.save_screenshot(START_SCREENSHOT)

    # Keyboard: the mood cards are radio inputs; arrow keys move the choice.
    first_from = browser.find_element(By.CSS_SELECTOR, 'input[name="from"][value="anxious"]')
    browser.execute_script("arguments[0].focus()", first_from)
    first_from.send_keys(Keys.SPACE)
    assert first_from.is_selected()
    first_from.send_keys(Keys.ARROW_RIGHT)
    assert browser.find_element(By.CSS_SELECTOR, 'input[name="from"][value="angry"]').is_selected()
    # Mouse: click the cards themselves.
    browser.find_element(By.XPATH, '//input[@name="from"][@value="anxious"]/..').click()
    browser.find_element(By.XPATH, '//input[@name="to"][@value="melancholic"]/..').click()
    hint = browser.find_element(By.ID, "low-target-hint")
    assert hint.is_displayed()  # the gentle note appears for a low target...
    browser.find_element(By.XPATH, '//input[@name="to"][@value="calm"]/..').click()
    assert not hint.is_displayed()  # ...and goes for a lifting one
    length = browser.find_element(By.ID, "length")
    length.clear()
    length.send_keys("12")
    browser.find_element(By.CSS_SELECTOR, "#start-form button[type=submit]").click()
    WebDriverWait(browser, 15).until(lambda d: "/previews/" in d.current_url)

    chart = browser.find_element(By.CSS_SELECTOR, "svg.arc-chart")
    assert chart.is_displayed() and chart.size["width"] > 500 and chart.size["height"] > 150
    listed = [li.get_attribute("data-id") for li in browser.find_elements(By.CSS_SELECTOR, "li.track")]
    points = browser.execute_script("""
        return Array.from(document.querySelectorAll('svg.arc-chart g.point')).map(g => ({
          id: g.dataset.id, energy: parseFloat(g.dataset.energy), valence: parseFloat(g.dataset.valence),
          cy: parseFloat(g.querySelector('circle').getAttribute('cy')),
          vy: parseFloat(g.querySelector('rect').getAttribute('y')) + 4}));""")
    assert [p["id"] for p in points] == listed and len(listed) == 12
    by_id = {row["id"]: row for row in catalogue}
    plot_h = charts.HEIGHT - charts.TOP - charts.BOTTOM
    for p in points:
        track = by_id[p["id"]]
        # Drawn where the listed track's own energy and valence put it.
        assert abs(p["cy"] - (charts.TOP + plot_h * (1 - track["energy"]))) < 0.2
        assert abs(p["vy"] - (charts.TOP + plot_h * (1 - track["valence"]))) < 0.2
    browser.save_screenshot(SCREENSHOT)

    browser.find_element(By.CSS_SELECTOR, "form.save-form button").click()
    WebDriverWait(browser, 15).until(lambda d: d.current_url.endswith("/playlist"))
    [playlist] = fake_spotify.playlists_of("listener-1")
    assert playlist.track_ids == listed
    frame = browser.find_element(By.CSS_SELECTOR, "iframe.spotify-embed")
    assert frame.get_attribute("src") == f"https://open.spotify.com/embed/playlist/{playlist.id}"

    # After listening: a check-in from the saved page, then the history shows the move.
    browser.find_element(By.XPATH, '//input[@name="rating"][@value="2"]/..').click()
    browser.find_element(By.CSS_SELECTOR, "section.checkin button[type=submit]").click()
    WebDriverWait(browser, 10).until(lambda d: d.current_url.endswith("/history"))
    session = browser.find_element(By.CSS_SELECTOR, "svg.checkin-chart g.session")
    assert session.get_attribute("data-after") == "2"
    assert browser.find_element(By.CSS_SELECTOR, "svg.checkin-chart").is_displayed()
    browser.save_screenshot(HISTORY_SCREENSHOT)
