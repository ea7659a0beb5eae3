"""Real-browser tests: Debian's chromium driven by Playwright against pytest-django's live server.

Playwright's sync API keeps an asyncio loop running in the test thread, so Django would
refuse every ORM call in a test body as "called from an async context". Nothing here is
async code; the loop only belongs to Playwright's driver.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 3,
    "is_mobile": True,
    "has_touch": True,
    "locale": "ru-RU",
    "timezone_id": "Europe/Moscow",
}
DESKTOP = {"viewport": {"width": 1280, "height": 900}, "locale": "ru-RU"}


@pytest.fixture(scope="session")
def browser():
    if not shutil.which(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is missing: `make browser-deps` installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
    )
    yield browser
    browser.close()
    playwright.stop()


def _page(browser, options: dict) -> Iterator:
    context = browser.new_context(**options)
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def phone_page(browser):
    """A driver's phone: 390×844, touch, Russian."""
    yield from _page(browser, PHONE)


@pytest.fixture
def desktop_page(browser):
    """An advisor's desktop browser, with its own cookies."""
    yield from _page(browser, DESKTOP)
