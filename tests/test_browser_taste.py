"""Issue 21 in Chromium at a phone's and a laptop's size: login -> make -> save in three clicks for a
returning listener, the steering controls on a phone's first screen beside "Make my playlist", and
the steering sent and remembered by the form."""
from __future__ import annotations

import pytest

from tests.chromium import By, Select, WebDriverWait  # skips the module without Chromium
from tests.helpers import api_headers

SIZES = [(390, 844), (1280, 800)]


def _inner_size(driver, width: int, height: int) -> None:
    driver.set_window_size(width, height)
    inner = driver.execute_script("return [window.innerWidth, window.innerHeight]")
    driver.set_window_size(2 * width - inner[0], 2 * height - inner[1])


def _visible_and_uncovered(driver, element) -> bool:
    """Inside the viewport and the topmost thing at its centre (nothing sticky over it)."""
    return driver.execute_script("""
        const el = arguments[0], r = el.getBoundingClientRect();
        if (r.top < 0 || r.left < 0 || r.bottom > innerHeight || r.right > innerWidth || !r.width) return false;
        const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
        return hit === el || el.contains(hit) || (el.labels && [...el.labels].some(l => l.contains(hit)));""", element)


def _first_playlist(client, fake_spotify, listener):
    """The listener made one playlist before (steering included), through the API."""
    from tests.helpers import login
    login(client, fake_spotify, listener)
    token = client.get("/api/v1/session").json["csrf_token"]
    made = client.post("/api/v1/previews", json={"from": "anxious", "to": "uplifted", "tracks": 9,
                                                  "exclude_explicit": True, "familiar": 30},
                       headers=api_headers(token))
    assert made.status_code == 201, made.json


@pytest.mark.parametrize("width, height", SIZES)
def test_a_returning_listener_logs_in_makes_and_saves_in_three_clicks(browser, client, live_server, catalogue,
                                                                      fake_spotify, width, height):
    fake_spotify.add_user("listener-1", display_name="Robin")
    fake_spotify.authorize_as("listener-1")
    _first_playlist(client, fake_spotify, "listener-1")
    _inner_size(browser, width, height)
    browser.get(live_server + "/")
    clicks = 0

    login = browser.find_element(By.LINK_TEXT, "Log in with Spotify")
    assert _visible_and_uncovered(browser, login)
    login.click()
    clicks += 1
    WebDriverWait(browser, 10).until(lambda d: "How do you feel now?" in d.page_source)
    # The form is their last choice, steering included; "Make my playlist" is in sight at once.
    assert browser.find_element(By.CSS_SELECTOR, 'input[name="from"][value="anxious"]').is_selected()
    assert browser.find_element(By.CSS_SELECTOR, 'input[name="to"][value="uplifted"]').is_selected()
    assert browser.find_element(By.ID, "length").get_attribute("value") == "9"
    assert browser.find_element(By.ID, "familiar").get_attribute("value") == "30"
    assert browser.find_element(By.ID, "exclude_explicit").is_selected()
    make = browser.find_element(By.ID, "make-playlist")
    assert _visible_and_uncovered(browser, make)
    make.click()
    clicks += 1
    WebDriverWait(browser, 15).until(lambda d: "/previews/" in d.current_url)
    save = browser.find_element(By.CSS_SELECTOR, "form.save-form button")
    assert _visible_and_uncovered(browser, save)
    save.click()
    clicks += 1
    WebDriverWait(browser, 15).until(lambda d: d.current_url.endswith("/playlist"))
    assert clicks == 3
    saved = [p for p in fake_spotify.playlists_of("listener-1")]
    assert len(saved) == 1 and len(saved[0].track_ids) == 9
    assert not fake_spotify.violations


@pytest.mark.parametrize("width, height", SIZES)
def test_the_steering_controls_fit_the_first_screen_beside_make_my_playlist(browser, live_server, catalogue,
                                                                           fake_spotify, width, height):
    fake_spotify.add_user("listener-1", display_name="Robin")
    fake_spotify.authorize_as("listener-1")
    _inner_size(browser, width, height)
    browser.get(live_server + "/login")
    WebDriverWait(browser, 10).until(lambda d: "How do you feel now?" in d.page_source)
    summary = browser.find_element(By.CSS_SELECTOR, "#steering > summary")
    browser.execute_script("arguments[0].scrollIntoView({block: 'start'})", summary)
    summary.click()
    browser.execute_script("document.getElementById('steering').scrollIntoView({block: 'start'})")
    controls = [browser.find_element(By.ID, i) for i in ("familiar", "avoid_artists", "years_from", "years_to",
                                                         "exclude_explicit")]
    for control in controls:
        assert _visible_and_uncovered(browser, control), control.get_attribute("id")
    assert _visible_and_uncovered(browser, browser.find_element(By.ID, "make-playlist"))
    assert browser.execute_script(
        "return document.documentElement.scrollWidth <= document.documentElement.clientWidth")

    # Steer, make, and find it applied, then remembered on the next visit.
    browser.execute_script("const r = document.getElementById('familiar'); r.value = 60;"
                           "r.dispatchEvent(new Event('input'))")
    assert browser.find_element(By.ID, "familiar-value").text == "60%"
    avoid = browser.find_element(By.ID, "avoid_artists")
    avoid.send_keys("Artist 1")
    WebDriverWait(browser, 5).until(
        lambda d: d.execute_script("return document.querySelectorAll('#artist-names option').length") > 0)
    avoid.send_keys(", artist 2")
    Select(browser.find_element(By.ID, "years_from")).select_by_value("2010")
    browser.find_element(By.ID, "exclude_explicit").click()
    assert "60% familiar" in browser.find_element(By.ID, "steering-summary").text
    for xpath in ('//input[@name="from"][@value="anxious"]/..', '//input[@name="to"][@value="calm"]/..'):
        chip = browser.find_element(By.XPATH, xpath)
        browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", chip)
        chip.click()
    browser.find_element(By.ID, "make-playlist").click()
    WebDriverWait(browser, 15).until(lambda d: "/previews/" in d.current_url)
    artists = {a.text for a in browser.find_elements(By.CSS_SELECTOR, "li.track .track-artists")}
    assert artists and not {"Artist 1", "Artist 2"} & artists
    browser.get(live_server + "/")
    assert browser.find_element(By.ID, "familiar").get_attribute("value") == "60"
    assert browser.find_element(By.ID, "avoid_artists").get_attribute("value") == "Artist 1, artist 2"
    assert browser.find_element(By.ID, "years_from").get_attribute("value") == "2010"
    assert browser.find_element(By.ID, "exclude_explicit").is_selected()


@pytest.mark.parametrize("width, height", SIZES)
def test_what_helps_me_appears_after_three_check_ins_of_an_arc_and_fills_the_form(browser, client, app, live_server,
                                                                                 catalogue, fake_spotify, width,
                                                                                 height):
    from tests.helpers import listened_since_saving, login

    app.config["RATELIMIT_ENABLED"] = False
    fake_spotify.add_user("listener-1", display_name="Robin")
    login(client, fake_spotify, "listener-1")
    token = client.get("/api/v1/session").json["csrf_token"]
    _inner_size(browser, width, height)
    fake_spotify.authorize_as("listener-1")
    browser.get(live_server + "/login")
    WebDriverWait(browser, 10).until(lambda d: "How do you feel now?" in d.page_source)
    for n, (before, after) in enumerate([(5, 2), (4, 2), (4, 3)]):
        made = client.post("/api/v1/previews", json={"from": "melancholic", "to": "uplifted", "tracks": 6,
                                                      "before_rating": before}, headers=api_headers(token)).json
        saved = client.post(f"/api/v1/previews/{made['id']}/playlist",
                            headers=api_headers(token, **{"Idempotency-Key": f"k{n}"}))
        assert saved.status_code == 201
        listened_since_saving(app)
        assert client.post("/api/v1/checkins", json={"preview_id": made["id"], "rating": after},
                           headers=api_headers(token)).status_code == 201
        browser.get(live_server + "/")
        shown = browser.find_elements(By.ID, "helps-suggestion")
        assert bool(shown) == (n == 2), n  # not before three check-ins of the arc
    text = browser.find_element(By.ID, "helps-suggestion").text
    assert "The last 3 times, Melancholic → Uplifted" in text and "may be chance" in text
    # One tap fills the form with that arc; "Make my playlist" is then in sight.
    browser.find_element(By.XPATH, '//input[@name="to"][@value="calm"]/..')  # the page is the start form
    use = browser.find_element(By.ID, "helps-use")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", use)
    use.click()
    WebDriverWait(browser, 10).until(lambda d: "from=melancholic" in d.current_url)
    assert browser.find_element(By.CSS_SELECTOR, 'input[name="from"][value="melancholic"]').is_selected()
    assert browser.find_element(By.CSS_SELECTOR, 'input[name="to"][value="uplifted"]').is_selected()
    assert _visible_and_uncovered(browser, browser.find_element(By.ID, "make-playlist"))
