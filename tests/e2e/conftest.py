"""Real-browser tests: Debian's chromium driven by Playwright against pytest-django's live server.

Playwright's sync API leaves an asyncio loop "running" in the test thread from start() to
stop(). Django reacts to that in two ways, both handled by the `browser` fixture:

* every ORM call in a test body is refused as "called from an async context"; nothing here
  is async code, the loop only belongs to Playwright's driver, so DJANGO_ALLOW_ASYNC_UNSAFE
  is set while the browser runs;
* the connection handler switches from thread-local to per-context storage, so the test body
  would get fresh connection objects instead of the ones pytest-django set up (without the
  serialized database that `serialized_rollback` restores); they are pointed back at the same
  objects.

The fixture is scoped to this package and undoes both on the way out: a session-wide loop
and variable would leak into every later test and into subprocesses (`manage.py check
--deploy` fails with async.E001 when it inherits the variable).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest

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


@pytest.fixture(scope="package")
def browser(django_db_setup):
    if not shutil.which(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: `make browser-deps` installs Debian's chromium")
    from django.db import connections
    from playwright.sync_api import sync_playwright

    same_connections = {alias: connections[alias] for alias in connections}
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    playwright = sync_playwright().start()
    for alias, connection in same_connections.items():
        connections[alias] = connection
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
    )
    yield browser
    browser.close()
    playwright.stop()
    if previous is None:
        del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(autouse=True)
def _celery_join_flag_reset():
    """Celery runs an eager task under a process-wide "inside a task" flag that overlapping
    tasks in two threads leave set (the live server answers each upload in its own thread,
    the browser uploads two at a time). Later tests that call result.get() would then fail
    with "Never call result.get() within a task!"."""
    yield
    from celery._state import _set_task_join_will_block

    _set_task_join_will_block(False)


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
