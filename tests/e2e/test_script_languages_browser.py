"""The pages' scripts speak the language of the page: their words come from Django's
JavaScript catalogue, with Russian plurals in Russian and English in English, and the
upload queue both pages share works the same for each."""

from __future__ import annotations

import re

import pytest

from intake.models import IntakeShot
from tests.e2e.test_intake_browser import TABLET, login, make_scene, row, start_intake
from tests.e2e.test_photo_portal_browser import ALL_STORED, ITEMS, make_photo, open_form

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

CYRILLIC = re.compile(r"[а-яё]", re.IGNORECASE)


@pytest.fixture
def english_phone(browser):
    """A driver's phone set to English: 390×844, touch."""
    context = browser.new_context(
        viewport={"width": 390, "height": 844},
        device_scale_factor=3,
        is_mobile=True,
        has_touch=True,
        locale="en-GB",
    )
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


@pytest.fixture
def tablet(browser):
    context = browser.new_context(**TABLET)
    context.set_default_timeout(20_000)
    yield context.new_page()
    context.close()


def test_photo_form_on_an_english_phone_waits_offline_and_uploads_in_english(
    english_phone, live_server, shop, tmp_path
):
    page = english_phone
    open_form(page, live_server, shop)
    assert page.evaluate("gettext('Сжимаю…')") == "Shrinking…"

    page.context.set_offline(True)
    page.set_input_files("#id_photos", [make_photo(tmp_path / "IMG_0001.JPG", seed=3)])
    waiting = page.locator(f"{ITEMS}[data-state='offline'] [aria-live]")
    assert waiting.inner_text() == "No connection: will send when the network is back"
    remove = page.locator(ITEMS).get_by_role("button", name="Remove photo IMG_0001.JPG")
    assert remove.is_visible()

    page.context.set_offline(False)
    page.wait_for_selector(ALL_STORED)
    done = page.locator(f"{ITEMS}[data-state='done'] [aria-live]").inner_text()
    # The size with an English decimal point: "Uploaded · 0.4 MB".
    assert re.fullmatch(r"Uploaded · \d+\.\d MB", done), done
    assert not CYRILLIC.search(page.locator(ITEMS).inner_text())


@pytest.mark.timeout(120)
def test_unsent_shots_are_counted_in_proper_russian(tablet, live_server, advisor, tmp_path):
    page = tablet
    login(page, live_server, advisor)
    record = start_intake(page, live_server)
    names = [
        text.split(". ", 1)[1]
        for text in page.locator("li.shot-row[data-required='1'] strong").all_inner_texts()
    ][:5]
    queue = page.locator("#shot-queue")

    page.context.set_offline(True)
    seen = {}
    for n, name in enumerate(names, start=1):
        row(page, name).locator("input.shot-input").set_input_files(
            make_scene(tmp_path / f"shot_{n}.jpg", seed=n)
        )
        page.wait_for_selector(f'#shot-queue[data-count="{n}"]')
        seen[n] = queue.inner_text()
    assert seen[1].startswith("Не отправлено: 1 кадр. Нет связи")
    assert seen[2].startswith("Не отправлено: 2 кадра.")
    assert seen[5].startswith("Не отправлено: 5 кадров.")
    assert "ждём ещё 5 кадров." in page.locator("#to-sign-hint").inner_text()
    assert row(page, names[0]).locator(".shot-state").inner_text() == "не снят · в очереди: 1"

    page.context.set_offline(False)
    page.wait_for_selector('#shot-list[data-pending="0"]', state="attached", timeout=60_000)
    assert IntakeShot.objects.filter(record=record).count() == 5
    assert queue.is_hidden()
