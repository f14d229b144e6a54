"""Headless Chromium for the browser tests (the HTML report, the /ui console), driven by
Selenium.

Needs the Debian packages ``chromium`` and ``chromium-driver`` (``make test`` tries to
install them when it runs as root) and ``selenium`` (the ``dev`` extra). The browser
and driver are taken from fixed paths (``/usr/bin/chromium``, ``/usr/bin/chromedriver``,
or ``$MOTIONVIGIL_CHROMIUM`` / ``$MOTIONVIGIL_CHROMEDRIVER``): Selenium is never asked to
find or download a driver. :func:`chrome` skips the calling test, saying what is
missing, when one is absent.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path

import pytest

INSTALL_HINT = "apt-get install chromium chromium-driver (make test tries this as root)"


def _find(env: str, *candidates: str) -> str | None:
    given = os.environ.get(env)
    if given:
        return given if Path(given).is_file() else None
    for c in candidates:
        if Path(c).is_file():
            return c
        found = shutil.which(Path(c).name)
        if found:
            return found
    return None


CHROMIUM = _find("MOTIONVIGIL_CHROMIUM", "/usr/bin/chromium", "/usr/bin/chromium-browser")
CHROMEDRIVER = _find("MOTIONVIGIL_CHROMEDRIVER", "/usr/bin/chromedriver")


@contextlib.contextmanager
def chrome(width: int = 1280, height: int = 1000, mobile: bool = False):
    """A headless Chromium session of that window size, or skip when the browser stack is
    absent. The flags keep Chromium off the network (this machine has none): no
    background fetches, component updates or sync."""
    if CHROMIUM is None:
        pytest.skip(f"chromium not found (/usr/bin/chromium or $MOTIONVIGIL_CHROMIUM); {INSTALL_HINT}")
    if CHROMEDRIVER is None:
        pytest.skip(f"chromedriver not found (/usr/bin/chromedriver or $MOTIONVIGIL_CHROMEDRIVER); {INSTALL_HINT}")
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium not installed (pip install -e '.[dev]')")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    with tempfile.TemporaryDirectory(prefix="motionvigil-chromium-") as profile:
        for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-extensions", "--no-first-run", "--hide-scrollbars",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--disable-quic", f"--user-data-dir={profile}",
                    f"--window-size={width},{height}", "--force-device-scale-factor=1"):
            options.add_argument(arg)
        if mobile:
            options.add_experimental_option("mobileEmulation", {"deviceMetrics": {"width": width, "height": height,
                                                                                 "pixelRatio": 1.0}})
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        # an explicit driver path: Selenium Manager is not consulted and downloads nothing
        driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
        try:
            yield driver
        finally:
            driver.quit()
