"""The listener journey in a real browser (Debian's Chromium, headless) against the live app.

Skipped with a message when Chromium, its driver or selenium is missing
(`apt-get install -y chromium chromium-driver`, `pip install -r requirements-dev.txt`).
A screenshot of the preview page is left at /tmp/curator-preview.png for a human look.
"""
from __future__ import annotations

from curator.listen import charts
from tests.chromium import By, Keys, WebDriverWait  # skips the module without Chromium
from tests.helpers import listened_since_saving

SCREENSHOT = "/tmp/curator-preview.png"
START_SCREENSHOT = "/tmp/curator-start.png"
HISTORY_SCREENSHOT = "/tmp/curator-history.png"


def test_listener_journey_in_chromium(browser, app, live_server, catalogue, fake_spotify):
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

    band = browser.find_element(By.CSS_SELECTOR, "svg.arc-band")  # the arc first: the page's hero
    assert band.is_displayed() and band.size["width"] > 300
    browser.find_element(By.CSS_SELECTOR, "#arc-section > summary").click()  # the arc in detail
    chart = browser.find_element(By.CSS_SELECTOR, "svg.arc-chart")
    assert chart.is_displayed() and chart.size["width"] > 500 and chart.size["height"] > 150
    listed = [li.get_attribute("data-id") for li in browser.find_elements(By.CSS_SELECTOR, "li.track")]
    points = browser.execute_script("""
        return Array.from(document.querySelectorAll('svg.arc-chart g.point')).map(g => ({
          id: g.dataset.id, energy: parseFloat(g.dataset.energy), valence: parseFloat(g.dataset.valence),
          cy: parseFloat(g.querySelector('circle').getAttribute('cy')),
          vy: parseFloat(g.querySelector('rect').getAttribute('y')) + 4}));""")
    assert [p["id"] for p in points] == listed and len(listed) == 12
    dots = browser.execute_script("return Array.from(document.querySelectorAll('svg.arc-band .dot')).map(c => c.dataset.id)")
    assert dots == listed
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

    # After listening, not at once: the saved page asks to listen first...
    assert browser.find_element(By.ID, "checkin-later").is_displayed()
    assert not browser.find_elements(By.CSS_SELECTOR, 'input[name="rating"]')
    listened_since_saving(app)
    browser.refresh()
    # ...and once there has been time to listen, a check-in from the saved page; history shows the move.
    browser.find_element(By.XPATH, '//input[@name="rating"][@value="2"]/..').click()
    browser.find_element(By.CSS_SELECTOR, "section.checkin button[type=submit]").click()
    WebDriverWait(browser, 10).until(lambda d: d.current_url.endswith("/history"))
    session = browser.find_element(By.CSS_SELECTOR, "svg.checkin-chart g.session")
    assert session.get_attribute("data-after") == "2"
    assert browser.find_element(By.CSS_SELECTOR, "svg.checkin-chart").is_displayed()
    browser.save_screenshot(HISTORY_SCREENSHOT)


# --- Phone first and no dead ends (issue 11) ---------------------------------------------------

def _inner_size(driver, width: int, height: int) -> None:
    """Make the page's viewport (not the window) `width`×`height`, as a screen of that size shows it."""
    driver.set_window_size(width, height)
    inner = driver.execute_script("return [window.innerWidth, window.innerHeight]")
    driver.set_window_size(2 * width - inner[0], 2 * height - inner[1])


def _log_in(driver, live_server, fake_spotify, spotify_id="listener-1", name="Robin"):
    fake_spotify.add_user(spotify_id, display_name=name)
    fake_spotify.authorize_as(spotify_id)
    driver.get(live_server + "/login")
    WebDriverWait(driver, 10).until(lambda d: "How do you feel now?" in d.page_source)


def _no_horizontal_scroll(driver) -> bool:
    return driver.execute_script(
        "return document.documentElement.scrollWidth <= document.documentElement.clientWidth")


def _click(driver, element) -> None:
    """Click `element` after scrolling it to the middle of the screen (clear of the phone's Save bar)."""
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
    element.click()


def _console_errors(driver) -> list[str]:
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"
            and "open.spotify.com" not in e["message"]]  # no internet here: the embed itself can't load


def test_start_button_within_the_first_screen_on_desktop(browser, live_server, catalogue, fake_spotify):
    _inner_size(browser, 1280, 800)
    _log_in(browser, live_server, fake_spotify)
    button = browser.find_element(By.ID, "make-playlist")
    rect = browser.execute_script("return arguments[0].getBoundingClientRect().bottom", button)
    assert rect <= 800, f"Make my playlist ends at y={rect}"
    # A chosen mood is filled and ticked, not just outlined.
    browser.find_element(By.XPATH, '//input[@name="from"][@value="anxious"]/..').click()
    chip = browser.find_element(By.XPATH, '//input[@name="from"][@value="anxious"]/..')
    other = browser.find_element(By.XPATH, '//input[@name="from"][@value="angry"]/..')
    assert chip.value_of_css_property("background-color") != other.value_of_css_property("background-color")
    tick = browser.execute_script("return getComputedStyle(arguments[0], '::before').content", chip)
    assert "✓" in tick


def test_phone_pages_have_no_sideways_scroll_and_big_enough_targets(browser, live_server, catalogue, fake_spotify):
    _inner_size(browser, 390, 844)
    _log_in(browser, live_server, fake_spotify)
    assert _no_horizontal_scroll(browser), "start page"
    button = browser.find_element(By.ID, "make-playlist")
    bottom = browser.execute_script("return arguments[0].getBoundingClientRect().bottom + window.scrollY", button)
    assert bottom <= 2 * 844, f"Make my playlist ends at y={bottom} on a phone"
    # "Make my playlist" stays in sight at the foot of the screen (issue 21): chips scroll clear of it.
    _click(browser, browser.find_element(By.XPATH, '//input[@name="from"][@value="anxious"]/..'))
    _click(browser, browser.find_element(By.XPATH, '//input[@name="to"][@value="calm"]/..'))
    button.click()
    WebDriverWait(browser, 15).until(lambda d: "/previews/" in d.current_url)
    assert _no_horizontal_scroll(browser), "preview page"
    # Track rows read at 390 px: the text column is wide enough for a title on one or two lines.
    text = browser.find_element(By.CSS_SELECTOR, "li.track .track-text")
    assert text.size["width"] >= 200, text.size
    # Every button and link-button in the track list is at least 44 px tall.
    for target in browser.find_elements(By.CSS_SELECTOR, "li.track .track-actions .button, li.track button"):
        if target.is_displayed():
            assert target.size["height"] >= 44, (target.text, target.size)
    # Chart labels are at least 11 px on screen.
    _click(browser, browser.find_element(By.CSS_SELECTOR, "#arc-section > summary"))
    sizes = browser.execute_script("""
        return Array.from(document.querySelectorAll('svg.arc-chart text'))
          .filter(t => getComputedStyle(t).display !== 'none')
          .map(t => t.getBoundingClientRect().height);""")
    assert sizes and min(sizes) >= 11, min(sizes)
    # Play opens Spotify's embed player for that one track, in place.
    _click(browser, browser.find_element(By.CSS_SELECTOR, "li.track a.play"))
    frame = browser.find_element(By.CSS_SELECTOR, "li.track .player iframe")
    first = browser.find_element(By.CSS_SELECTOR, "li.track").get_attribute("data-id")
    assert frame.get_attribute("src") == f"https://open.spotify.com/embed/track/{first}"
    assert browser.find_element(By.CSS_SELECTOR, "li.track .player-fallback").is_displayed()
    browser.find_element(By.CSS_SELECTOR, "form.save-form button").click()
    WebDriverWait(browser, 15).until(lambda d: d.current_url.endswith("/playlist"))
    browser.get(live_server + "/history")
    assert _no_horizontal_scroll(browser), "history page"
    assert browser.find_element(By.CSS_SELECTOR, ".history-card").is_displayed()
    assert _console_errors(browser) == []


def test_every_error_page_links_back_to_the_filled_form(browser, live_server, catalogue, fake_spotify):
    _inner_size(browser, 390, 844)
    _log_in(browser, live_server, fake_spotify)
    chosen = {"from": "tired", "to": "focused", "length": "15", "unit": "tracks", "arc": "ease-in-out"}

    def back_link_query():
        from urllib.parse import parse_qs, urlsplit

        link = browser.find_element(By.CSS_SELECTOR, "a.back-to-form")
        assert link.is_displayed()
        return {k: v[0] for k, v in parse_qs(urlsplit(link.get_attribute("href")).query).items()}

    # An expired form (the CSRF token no longer matches): the choices come back.
    browser.get(live_server + "/?" + "&".join(f"{k}={v}" for k, v in chosen.items()))
    browser.execute_script("document.querySelector('#start-form input[name=csrf_token]').value = 'stale'")
    browser.find_element(By.ID, "make-playlist").click()
    WebDriverWait(browser, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, "a.back-to-form"))
    assert back_link_query() == chosen
    browser.find_element(By.CSS_SELECTOR, "a.back-to-form").click()
    WebDriverWait(browser, 10).until(lambda d: d.find_elements(By.ID, "make-playlist"))
    assert browser.find_element(By.CSS_SELECTOR, 'input[name="from"][value="tired"]').is_selected()
    assert browser.find_element(By.CSS_SELECTOR, 'input[name="to"][value="focused"]').is_selected()
    assert browser.find_element(By.ID, "length").get_attribute("value") == "15"

    # Spotify failing during a save: back to the preview, and to the form filled as it was.
    browser.find_element(By.ID, "make-playlist").click()
    WebDriverWait(browser, 15).until(lambda d: "/previews/" in d.current_url)
    preview = browser.current_url
    fake_spotify.fail_next("POST", r"/v1/me/playlists$", 404)
    browser.find_element(By.CSS_SELECTOR, "form.save-form button").click()
    WebDriverWait(browser, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, "a.back-to-form"))
    assert back_link_query() == chosen
    assert browser.find_element(By.LINK_TEXT, "Back to your playlist preview").get_attribute("href") == preview
    assert _no_horizontal_scroll(browser)

    # A page that doesn't exist: a way back to the start.
    browser.get(live_server + "/previews/no-such-preview")
    assert back_link_query() == {}
    browser.get(live_server + "/no/such/page")
    assert back_link_query() == {}


# --- Edit without surprises (issue 11.2) ---------------------------------------------------------

def _make_preview(driver, live_server, length=14):
    driver.get(live_server + f"/?from=anxious&to=calm&length={length}")
    driver.find_element(By.ID, "make-playlist").click()
    WebDriverWait(driver, 15).until(lambda d: "/previews/" in d.current_url)


def _listed(driver) -> list[str]:
    # In one script: rows replaced between a find and a read would be stale.
    return driver.execute_script(
        "return Array.from(document.querySelectorAll('ol.track-list > li.track')).map(li => li.dataset.id)")


def test_swap_changes_exactly_one_position_in_place(browser, live_server, catalogue, fake_spotify):
    _inner_size(browser, 390, 844)
    _log_in(browser, live_server, fake_spotify)
    _make_preview(browser, live_server)
    before, url = _listed(browser), browser.current_url
    row = browser.find_elements(By.CSS_SELECTOR, "ol.track-list > li.track")[9]
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", row)
    top = browser.execute_script("return arguments[0].getBoundingClientRect().top", row)
    browser.execute_script("document.body.dataset.marker = 'same page'")  # gone if the page reloads
    row.find_element(By.CSS_SELECTOR, ".row-menu > summary").click()  # one control per row: keep or swap
    row.find_element(By.CSS_SELECTOR, 'form[data-edit="remove"] button').click()
    WebDriverWait(browser, 15).until(lambda d: d.current_url != url)
    WebDriverWait(browser, 5).until(lambda d: _listed(d) != before)
    after = _listed(browser)
    assert [i for i, (a, b) in enumerate(zip(before, after)) if a != b] == [9] and len(after) == len(before)
    assert browser.execute_script("return document.body.dataset.marker") == "same page"  # replaced in place
    # No jump: the changed row is where it was on the screen (the notice above it is compensated).
    new_row = browser.find_elements(By.CSS_SELECTOR, "ol.track-list > li.track")[9]
    assert abs(browser.execute_script("return arguments[0].getBoundingClientRect().top", new_row) - top) < 3
    assert browser.execute_script("return window.scrollY") > 800
    notice = browser.find_element(By.ID, "edit-notice")
    assert notice.is_displayed() and "fits this point of the arc best" in notice.text
    # The focused control is the new row's keep-or-swap menu, and the page's forms all name the new preview.
    assert browser.switch_to.active_element.get_attribute("aria-label").startswith("Keep or swap ")
    new_id = browser.current_url.rsplit("/", 1)[-1]
    actions = [f.get_attribute("action") for f in browser.find_elements(By.CSS_SELECTOR, "main form")]
    assert all(f"/previews/{new_id}/" in a for a in actions if "/previews/" in a)
    # Reload shows the same playlist (the URL is the new preview).
    browser.refresh()
    assert _listed(browser) == after
    assert _console_errors(browser) == []


def test_a_locked_track_survives_try_other_tracks(browser, live_server, catalogue, fake_spotify):
    _inner_size(browser, 1280, 800)
    _log_in(browser, live_server, fake_spotify)
    _make_preview(browser, live_server)
    before = _listed(browser)
    row = browser.find_elements(By.CSS_SELECTOR, "ol.track-list > li.track")[4]
    row.find_element(By.CSS_SELECTOR, ".row-menu > summary").click()
    row.find_element(By.CSS_SELECTOR, 'form[data-edit="lock"] button').click()
    WebDriverWait(browser, 10).until(lambda d: d.find_elements(
        By.CSS_SELECTOR, 'ol.track-list > li.track:nth-child(5) button.lock[aria-pressed="true"]'))
    for _ in range(3):  # another seed each time; the kept track stays in its place
        current = _listed(browser)
        browser.find_element(By.ID, "try-other").click()
        WebDriverWait(browser, 15).until(lambda d: _listed(d) != current)
        assert _listed(browser)[4] == before[4] and _listed(browser).count(before[4]) == 1
    assert "(keeps 1)" in browser.find_element(By.ID, "try-other").text


def test_a_renamed_playlist_saves_under_that_name(browser, live_server, catalogue, fake_spotify):
    _inner_size(browser, 390, 844)
    _log_in(browser, live_server, fake_spotify)
    _make_preview(browser, live_server, length=8)
    browser.find_element(By.CSS_SELECTOR, "#edit summary").click()
    field = browser.find_element(By.ID, "playlist-name")
    field.send_keys("Rainy walk home")
    browser.execute_script("document.getElementById('edit').dataset.old = '1'")
    browser.find_element(By.CSS_SELECTOR, ".rename-form button").click()
    # The panel comes back from the server (the old one, marked, is replaced) with the stored name.
    WebDriverWait(browser, 10).until(lambda d: d.execute_script(
        "var e = document.getElementById('edit'); return !e.dataset.old && e.querySelector('#playlist-name').value"
    ) == "Rainy walk home")
    browser.find_element(By.CSS_SELECTOR, "form.save-form button").click()
    WebDriverWait(browser, 15).until(lambda d: d.current_url.endswith("/playlist"))
    [playlist] = fake_spotify.playlists_of("listener-1")
    assert playlist.name == "Rainy walk home"
    assert "Rainy walk home" in browser.find_element(By.TAG_NAME, "main").text


def _shown(driver) -> list[list[str]]:
    """Each row as the listener sees it: id, reason (without its "New" tag), and whether it is marked as changed."""
    return driver.execute_script(
        "return Array.from(document.querySelectorAll('ol.track-list > li.track')).map(li => [li.dataset.id,"
        " Array.from(li.querySelector('.track-reason').childNodes).filter(n => n.nodeType === 3)"
        ".map(n => n.textContent).join('').trim(), li.classList.contains('just-changed')])")


def test_brighter_keeps_most_tracks_marks_the_new_ones_and_undo_brings_the_playlist_back(
        browser, live_server, catalogue, fake_spotify):
    _inner_size(browser, 390, 844)
    _log_in(browser, live_server, fake_spotify)
    _make_preview(browser, live_server, length=20)
    before, url = _listed(browser), browser.current_url
    reasons = [reason for _, reason, _ in _shown(browser)]
    assert "/undo" not in browser.page_source  # a first preview has nothing to undo
    browser.execute_script("document.body.dataset.marker = 'same page'")
    _click(browser, browser.find_element(By.CSS_SELECTOR, 'button[value="brighter"]'))
    WebDriverWait(browser, 15).until(lambda d: d.current_url != url and _listed(d) != before)
    after = _listed(browser)
    kept = sum(a == b for a, b in zip(before, after))
    assert len(after) == 20 and kept >= 10, kept  # a nudge is a step, not a new playlist
    marked = [i for i, (_, _, changed) in enumerate(_shown(browser)) if changed]
    assert marked == [i for i in range(20) if before[i] != after[i]]  # the changed rows, where they are
    assert f"{20 - kept} of 20 tracks changed" in browser.find_element(By.ID, "edit-notice").text
    nudged_url = browser.current_url
    _click(browser, browser.find_element(By.CSS_SELECTOR, "#undo button"))
    WebDriverWait(browser, 15).until(lambda d: d.current_url != nudged_url and _listed(d) == before)
    assert [reason for _, reason, _ in _shown(browser)] == reasons  # exactly as it was, reasons too
    assert browser.find_element(By.ID, "edit-notice").text.startswith("Undone: the playlist as it was before")
    assert not browser.find_elements(By.CSS_SELECTOR, "#undo button")  # once
    assert browser.execute_script("return document.body.dataset.marker") == "same page"
    # Each version keeps its own address: the nudged one still shows the nudge.
    browser.get(nudged_url)
    assert _listed(browser) == after
    assert _console_errors(browser) == []


def test_a_nudge_shows_what_changed_without_leaving_the_page(browser, live_server, catalogue, fake_spotify):
    _inner_size(browser, 1280, 800)
    _log_in(browser, live_server, fake_spotify)
    _make_preview(browser, live_server)
    browser.execute_script("document.body.dataset.marker = 'same page'")
    browser.find_element(By.CSS_SELECTOR, 'button[value="gentler"]').click()
    WebDriverWait(browser, 15).until(lambda d: d.find_element(By.ID, "edit-notice").is_displayed())
    assert browser.find_element(By.ID, "edit-notice").text.startswith("Gentler: average energy")
    assert browser.execute_script("return document.body.dataset.marker") == "same page"
    assert browser.find_elements(By.CSS_SELECTOR, ".track-main.just-changed")
