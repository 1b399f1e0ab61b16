"""Headless Chromium for browser tests (Debian's packages): one per process, shared by the tests
through the `browser` fixture (tests/conftest.py), and selenium's names for the test modules.

Importing this module (as the fixture and the test modules do) skips with a message when Chromium,
its driver or selenium is missing (`apt-get install -y chromium chromium-driver`, `pip install -r requirements-dev.txt`).
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

# After the skip checks above; the test modules import selenium's names from here.
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import Select  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait as _SeleniumWait  # noqa: E402

# This machine has no internet: without the background-networking flags Chromium keeps trying.
ARGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--window-size=1280,1400")


class SharedChromium:
    """One headless Chromium for all the browser tests of a process (the `chromium` fixture in
    tests/conftest.py): starting one takes about a second and quitting it another half. Each test
    gets it as a new one would be; one that no longer answers is replaced."""

    def __init__(self):
        self.driver = None
        self._window = None

    def fresh(self):
        """The browser on a blank page, without cookies or cache, at its first size, its console log
        read (so a test sees only its own messages)."""
        if self.driver is not None:
            try:
                self.driver.get("about:blank")
                self.driver.execute_cdp_cmd("Network.clearBrowserCookies", {})
                self.driver.execute_cdp_cmd("Network.clearBrowserCache", {})
                self.driver.set_window_size(self._window["width"], self._window["height"])
                self.driver.get_log("browser")
                return self.driver
            except WebDriverException:
                self.quit()
        self.driver = _start()
        self._window = self.driver.get_window_size()
        return self.driver

    def quit(self) -> None:
        if self.driver is not None:
            try:
                self.driver.quit()
            except WebDriverException:
                pass
            self.driver = None


def _start():
    """A headless Chromium, its console log kept (CSP violations are reported there)."""
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ARGS:
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=webdriver.ChromeService(executable_path=DRIVER), options=options)
    driver.set_page_load_timeout(20)
    return driver


class WebDriverWait(_SeleniumWait):
    """Selenium's wait that also tries again when the page swapped the element it was looking at.

    Our pages replace parts of themselves in place (edits, refresh progress); a condition that found
    an element just before the swap would otherwise fail with StaleElementReferenceException.
    """

    def __init__(self, driver, timeout, poll_frequency=0.5, ignored_exceptions=()):
        super().__init__(driver, timeout, poll_frequency,
                         ignored_exceptions=(StaleElementReferenceException, *ignored_exceptions))


__all__ = ["By", "Keys", "Select", "SharedChromium", "WebDriverWait"]
