"""'Keep it fresh' in a real browser (Debian's Chromium, headless): turned on from the saved page and
off from history, on a phone (390×844) and a laptop (1280×800). Skipped without Chromium."""
from __future__ import annotations

import pytest

from curator.extensions import db
from curator.models.living import LivingPlaylist
from tests.chromium import By, Select, WebDriverWait  # skips the module without Chromium

SAVE = """
const done = arguments[arguments.length - 1];
(async () => {
  const token = (await (await fetch('/api/v1/session')).json()).csrf_token;
  const headers = {'Content-Type': 'application/json', 'X-CSRFToken': token};
  const preview = await (await fetch('/api/v1/previews', {method: 'POST', headers,
    body: JSON.stringify({from: 'anxious', to: 'calm', tracks: 12})})).json();
  const saved = await fetch(`/api/v1/previews/${preview.id}/playlist`, {method: 'POST',
    headers: {...headers, 'Idempotency-Key': 'browser-' + preview.id}});
  done({preview: preview.id, status: saved.status, playlist: (await saved.json()).id});
})().catch(e => done({error: String(e)}));
"""


def living(app, playlist_id):
    with app.app_context():
        row = db.session.scalar(db.select(LivingPlaylist).where(LivingPlaylist.playlist_id == playlist_id))
        found = None if row is None else (row.every, row.hour, row.timezone, row.next_due_at)
        db.session.remove()
        return found


def fits(browser) -> bool:
    return browser.execute_script(
        "return document.documentElement.scrollWidth <= document.documentElement.clientWidth")


@pytest.mark.parametrize("size", [(390, 844), (1280, 800)], ids=["phone", "laptop"])
def test_keep_it_fresh_on_from_the_saved_page_and_off_from_history(browser, app, live_server, catalogue,
                                                                    fake_spotify, size):
    browser.set_window_size(*size)
    fake_spotify.add_user("listener-1", display_name="Robin")
    fake_spotify.authorize_as("listener-1")
    browser.get(live_server + "/login")
    WebDriverWait(browser, 10).until(lambda d: "How do you feel now?" in d.page_source)
    browser.set_script_timeout(30)
    made = browser.execute_async_script(SAVE)
    assert made.get("status") == 201, made
    playlist_id = made["playlist"]
    zone = browser.execute_script("return Intl.DateTimeFormat().resolvedOptions().timeZone")

    # On, from the saved page: every day at 08:00 in the browser's time zone.
    browser.get(f"{live_server}/previews/{made['preview']}/playlist")
    section = browser.find_element(By.ID, f"fresh-{playlist_id}")
    browser.execute_script("arguments[0].scrollIntoView()", section)
    assert section.is_displayed() and fits(browser)
    Select(section.find_element(By.NAME, "every")).select_by_value("daily")
    Select(section.find_element(By.NAME, "hour")).select_by_value("8")
    section.find_element(By.CSS_SELECTOR, "form.fresh-form button[type=submit]").click()
    WebDriverWait(browser, 10).until(lambda d: "is kept fresh" in d.page_source)
    every, hour, timezone, next_due = living(app, playlist_id)
    assert (every, hour, timezone) == ("daily", 8, zone) and next_due is not None
    section = browser.find_element(By.ID, f"fresh-{playlist_id}")
    assert "Daily at 08:00" in section.text and "First refresh" in section.text
    assert fits(browser)

    # Off, from history: the card's "Keep it fresh" opens, "Off" and save.
    browser.get(f"{live_server}/history")
    details = browser.find_element(By.CSS_SELECTOR, "details.fresh-details")
    summary = details.find_element(By.TAG_NAME, "summary")
    assert "Daily at 08:00" in summary.text
    browser.execute_script("arguments[0].scrollIntoView()", summary)
    summary.click()
    form = details.find_element(By.CSS_SELECTOR, "form.fresh-form")
    assert form.is_displayed() and fits(browser)
    assert form.size["width"] <= size[0]
    Select(form.find_element(By.NAME, "every")).select_by_value("off")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    WebDriverWait(browser, 10).until(lambda d: "no longer refreshed" in d.page_source)
    assert browser.current_url.endswith("/history")
    assert living(app, playlist_id)[0] == "off" and living(app, playlist_id)[3] is None
    assert "Keep it fresh: Off" in browser.find_element(By.CSS_SELECTOR, "details.fresh-details summary").text
    assert fits(browser)
