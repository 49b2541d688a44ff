"""Headless Chromium for the browser tests: Debian's chromium and chromedriver (infra/install.sh installs them),
driven by Selenium; nothing is downloaded."""

import os
import shutil

from selenium import webdriver
from selenium.webdriver.chrome.service import Service


def chromium() -> webdriver.Chrome:
    """A fresh headless Chromium (its own profile: no cookies shared with another)."""
    binary = os.environ.get("ONCORELAY_CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")
    driver_path = os.environ.get("ONCORELAY_CHROMEDRIVER", shutil.which("chromedriver") or "/usr/bin/chromedriver")
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--window-size=1366,1000", "--force-device-scale-factor=1"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    driver.set_page_load_timeout(30)
    return driver
