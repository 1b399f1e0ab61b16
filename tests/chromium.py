"""Headless Chromium for browser tests (Debian's packages), shared by tests/test_browser*.py.

Importing this module skips the importing test module with a message when Chromium, its driver or
selenium is missing (`apt-get install -y chromium chromium-driver`, `pip install -r requirements-dev.txt`).
"""
from __future__ import annotations

import os
import shutil

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"

webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (requirements-dev.txt)")
if not (os.path.exists(CHROMIUM) and os.path.exists(DRIVER)):
    pytest.skip("Chromium is not installed here (apt-get install -y chromium chromium-driver)",
                allow_module_level=True)

# This machine has no internet: without the background-networking flags Chromium keeps trying.
ARGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--window-size=1280,1400")


@pytest.fixture
def browser():
    """A fresh headless Chromium, its console log kept (CSP violations are reported there)."""
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ARGS:
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=webdriver.ChromeService(executable_path=DRIVER), options=options)
    driver.set_page_load_timeout(20)
    try:
        yield driver
    finally:
        driver.quit()


# Re-exported so test modules import selenium only through here, after the skip checks above.
from selenium.common.exceptions import StaleElementReferenceException  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import Select  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait as _SeleniumWait  # noqa: E402


class WebDriverWait(_SeleniumWait):
    """Selenium's wait that also tries again when the page swapped the element it was looking at.

    Our pages replace parts of themselves in place (edits, refresh progress); a condition that found
    an element just before the swap would otherwise fail with StaleElementReferenceException.
    """

    def __init__(self, driver, timeout, poll_frequency=0.5, ignored_exceptions=()):
        super().__init__(driver, timeout, poll_frequency,
                         ignored_exceptions=(StaleElementReferenceException, *ignored_exceptions))


__all__ = ["By", "Keys", "Select", "WebDriverWait", "browser"]
