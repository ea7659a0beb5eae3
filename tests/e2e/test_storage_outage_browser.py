"""The driver's phone uploads a photo while the object storage is away: the uploader says it
tries again, nothing is recorded, and when the bucket is back the same photo goes through on
its own (real Chromium at a phone viewport, the loopback S3 server of tests/s3.py)."""

from __future__ import annotations

import pytest

from leads.models import LeadPhoto
from tests.autoservice.test_object_storage import _bucket_away, _bucket_back
from tests.e2e.test_photo_portal_browser import ITEMS, make_photo, open_form, wait_all_stored
from tests.s3 import bucket_objects

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_photo_waits_for_the_bucket_and_goes_through_when_it_is_back(
    phone_page, live_server, shop, s3, settings, tmp_path
):
    page = phone_page
    photo = make_photo(tmp_path / "IMG_0001.JPG", seed=1)
    _bucket_away(settings, s3)
    open_form(page, live_server, shop)

    page.set_input_files("#id_photos", [photo])

    item = page.locator(ITEMS).first
    page.wait_for_selector(f'{ITEMS}[data-state="retry"]', timeout=30_000)
    assert "Повторяю через" in item.locator("[aria-live]").inner_text()
    assert LeadPhoto.objects.count() == 0 and bucket_objects(s3) == []
    page.screenshot(path="/tmp/e2e-photo-form-bucket-away.png", full_page=True)

    _bucket_back(settings, s3)
    wait_all_stored(page, 1, timeout=60_000)

    assert "Загружено" in item.locator("[aria-live]").inner_text()
    stored = LeadPhoto.objects.get()
    assert stored.original.name in bucket_objects(s3)
