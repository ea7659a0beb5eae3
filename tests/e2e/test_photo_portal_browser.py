"""A driver sends photos from a phone: shrunk in the browser, uploaded one by one, survive a
dropped connection, and reach the advisor's inbox."""

from __future__ import annotations

import random
import re
import time
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from leads.models import Lead

# The live server needs committed rows; serialized_rollback brings back the rows the
# migrations put in (the platform's consent text), which the flush after each test removes.
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

ALL_STORED = 'form#photo-form[data-uploads-pending="0"]'
ITEMS = "#uploaded-photos li"
# Remembers every state text the items showed, however briefly.
RECORD_STATES = """() => {
  window.seenStates = [];
  new MutationObserver(() => {
    for (const el of document.querySelectorAll("#uploaded-photos [aria-live]")) {
      window.seenStates.push(el.textContent);
    }
  }).observe(document.getElementById("uploaded-photos"),
             {subtree: true, childList: true, characterData: true});
}"""


def make_photo(path: Path, seed: int, size: tuple[int, int] = (3000, 2000)) -> Path:
    """A camera-sized JPEG with shapes and sensor-like noise, different for every seed."""
    rnd = random.Random(seed)
    width, height = size
    image = Image.new("RGB", size, (rnd.randrange(256), rnd.randrange(256), rnd.randrange(256)))
    draw = ImageDraw.Draw(image)
    for _ in range(40):
        x, y = rnd.randrange(width), rnd.randrange(height)
        r = rnd.randrange(50, 600)
        colour = (rnd.randrange(256), rnd.randrange(256), rnd.randrange(256))
        shape = draw.ellipse if rnd.random() < 0.5 else draw.rectangle
        shape((x - r, y - r, x + r, y + r), fill=colour, outline=(0, 0, 0), width=8)
    noise = Image.effect_noise(size, 24).convert("RGB")
    image = Image.blend(image, noise, 0.15)
    image.save(path, "JPEG", quality=95)
    return path


def open_form(page, live_server, shop):
    page.goto(f"{live_server.url}/s/{shop.slug}/photo/")
    page.wait_for_function("window.photoUploader !== undefined")


def fill_request(page) -> None:
    page.fill("#id_description", "Задел столб на парковке, вмятина на задней двери")
    page.fill("#id_vehicle_make", "Hyundai")
    page.fill("#id_vehicle_model", "Solaris")
    page.fill("#id_vehicle_year", "2019")
    page.fill("#id_customer_name", "Иван")
    page.fill("#id_phone", "8 912 345-67-89")
    page.check("#id_consent")


def send_request(page):
    page.click("#send-button")
    page.wait_for_url(re.compile(r"/photo/sent/"))
    return Lead.objects.get()


def wait_all_stored(page, count: int, timeout: float = 30_000) -> None:
    page.locator(ITEMS).nth(count - 1).wait_for()
    page.wait_for_selector(ALL_STORED, timeout=timeout)
    page.wait_for_function(
        "n => document.querySelectorAll('#uploaded-photos li[data-state=\"done\"]').length === n",
        arg=count,
    )


def test_driver_sends_three_photos_from_a_phone_and_the_advisor_sees_them(
    phone_page, desktop_page, live_server, shop, advisor, tmp_path
):
    page = phone_page
    photos = [make_photo(tmp_path / f"IMG_{n:04d}.JPG", seed=n) for n in (1, 2, 3)]
    open_form(page, live_server, shop)

    page.set_input_files("#id_photos", photos)

    wait_all_stored(page, 3)
    items = page.locator(ITEMS)
    for n in range(3):
        item = items.nth(n)
        assert "Загружено" in item.locator("[aria-live]").inner_text()
        assert item.get_attribute("data-state") == "done"
        assert item.get_by_role("progressbar").get_attribute("aria-valuenow") == "100"
        assert item.get_by_role("button", name=re.compile("Убрать")).is_visible()
    assert page.evaluate("photoUploader.pending()") == 0
    assert page.evaluate("photoUploader.done()") == 3
    # The picker is cleared: sending the form later must not carry the files again.
    assert page.eval_on_selector("#id_photos", "input => input.files.length") == 0
    page.screenshot(path="/tmp/e2e-photo-form-uploaded.png", full_page=True)

    fill_request(page)
    lead = send_request(page)

    assert "Заявка №" in page.locator("h1").inner_text()
    assert shop.phone in page.content()
    stored = list(lead.photos.order_by("id"))
    assert len(stored) == 3
    assert len({photo.sha256 for photo in stored}) == 3
    for photo in stored:
        # Shrunk in the browser from 3000×2000: the long side is 2048, the shape kept.
        assert (photo.width, photo.height) == (2048, 1365)
        assert photo.original_name.startswith("IMG_") and photo.original_name.endswith(".jpg")
        assert photo.format == "JPEG"
    assert lead.vehicle_make == "Hyundai" and lead.vehicle_year == 2019

    staff = desktop_page
    staff.goto(f"{live_server.url}/accounts/login/")
    staff.fill("#id_username", advisor.user.username)
    staff.fill("#id_password", "correct-horse-42")
    staff.click("button[type=submit]")
    staff.wait_for_url(re.compile(r"/staff/"))
    staff.goto(f"{live_server.url}/staff/leads/")
    link = staff.locator(f"a[href$='/staff/leads/{lead.pk}/']").first
    assert "Иван" in staff.locator("body").inner_text()
    link.click()
    staff.wait_for_url(re.compile(rf"/staff/leads/{lead.pk}/$"))
    thumbs = staff.locator("img[src*='/photos/']")
    assert thumbs.count() == 3
    staff.wait_for_function(
        """() => [...document.querySelectorAll("img[src*='/photos/']")]
            .every(img => img.complete && img.naturalWidth > 0)"""
    )
    staff.screenshot(path="/tmp/e2e-staff-lead.png", full_page=True)


def test_uploads_survive_a_dropped_connection_without_duplicates(
    phone_page, live_server, shop, tmp_path
):
    page = phone_page
    context = page.context
    photos = [make_photo(tmp_path / f"dash_{n}.jpg", seed=10 + n) for n in range(4)]
    held = []  # the first two uploads, kept in flight until the connection drops
    passed = []
    failed_once = []

    def upload_route(route):
        if len(held) < 2:
            held.append(route)
        elif not failed_once:
            # One server hiccup after the drop: the browser retries it after a pause.
            failed_once.append(route)
            route.fulfill(status=503, body="upstream timeout")
        else:
            passed.append(route.request.post_data_buffer)
            route.continue_()

    page.route("**/photo/upload/", upload_route)
    open_form(page, live_server, shop)
    page.set_input_files("#id_photos", photos)

    deadline = time.monotonic() + 20
    while len(held) < 2:
        assert time.monotonic() < deadline, "the uploads never started"
        page.wait_for_timeout(50)
    # At most two uploads at a time: the others wait for a free slot.
    page.wait_for_timeout(300)
    assert len(held) == 2 and not passed

    context.set_offline(True)
    for route in held:
        route.abort("internetdisconnected")
    offline_items = page.locator(f"{ITEMS}[data-state='offline']")
    offline_items.nth(1).wait_for()
    assert "Нет связи" in offline_items.first.inner_text()
    page.screenshot(path="/tmp/e2e-photo-form-offline.png", full_page=True)
    page.wait_for_timeout(2000)
    # Nothing is sent while the phone has no network, and nothing is lost.
    assert not passed and not failed_once
    assert page.get_attribute("#photo-form", "data-uploads-pending") == "4"

    page.evaluate(RECORD_STATES)
    context.set_offline(False)
    wait_all_stored(page, 4)
    assert len(failed_once) == 1
    assert "Повторяю через 1 с…" in page.evaluate("window.seenStates")
    # Each photo crossed the network to the server exactly once.
    assert len(passed) == 4
    client_ids = {
        re.search(rb'name="client_id"\r\n\r\n([0-9a-f-]{36})', body)[1] for body in passed
    }
    assert len(client_ids) == 4

    fill_request(page)
    lead = send_request(page)

    stored = list(lead.photos.all())
    assert len(stored) == 4
    assert len({photo.client_id for photo in stored}) == 4
    assert len({photo.sha256 for photo in stored}) == 4
    assert {str(photo.client_id).encode() for photo in stored} == client_ids


def test_a_file_that_is_not_a_photo_is_refused_and_the_rest_is_sent(
    phone_page, live_server, shop, tmp_path
):
    page = phone_page
    good = make_photo(tmp_path / "bumper.jpg", seed=7)
    broken = tmp_path / "broken.jpg"
    broken.write_text("это не фотография, а текстовый файл\n" * 50)
    open_form(page, live_server, shop)

    page.set_input_files("#id_photos", [good, broken])

    page.wait_for_selector(ALL_STORED)
    refused = page.locator(f"{ITEMS}[data-state='failed']")
    assert refused.count() == 1
    message = refused.locator("[aria-live]").inner_text()
    assert "broken.jpg" in message
    assert page.locator(f"{ITEMS}[data-state='done']").count() == 1
    assert refused.get_by_role("button", name=re.compile("Убрать")).is_visible()
    page.screenshot(path="/tmp/e2e-photo-form-refused.png", full_page=True)

    # The refused file stays listed with its reason; it simply is not part of the request.
    fill_request(page)
    lead = send_request(page)

    assert lead.photos.count() == 1
    assert lead.photos.get().original_name == "bumper.jpg"
