"""A driver's form sent with mistakes comes back scrolled to a summary of what to fix, at
the top of the form, with everything typed kept (phone, 390×844)."""

from __future__ import annotations

import pytest

from tests.factories import ShopFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def _in_view(page, selector: str) -> bool:
    return page.eval_on_selector(
        selector,
        """el => { const r = el.getBoundingClientRect();
                   return r.top >= 0 && r.top < window.innerHeight; }""",
    )


def test_failed_photo_form_scrolls_to_the_error_summary_listing_the_errors(phone_page, live_server):
    shop = ShopFactory(name="Кузовной центр «Демо»")
    page = phone_page
    page.goto(f"{live_server.url}/s/{shop.slug}/photo/")
    page.wait_for_function("window.photoUploader !== undefined")
    page.fill("#id_customer_name", "Иван")
    page.fill("#id_phone", "12345")
    page.fill("#id_vehicle_make", "Kia")
    page.click("#send-button")
    page.wait_for_selector("#error-summary")

    summary = page.locator("#error-summary")
    text = summary.inner_text()
    assert "Заявка не отправлена" in text
    assert "Телефон: Проверьте номер" in text
    assert "Без согласия" in text
    # The page's script moves the focus to the summary once it has loaded: wait for it.
    page.wait_for_function("document.activeElement?.id === 'error-summary'", timeout=10_000)
    assert _in_view(page, "#error-summary")
    # The summary sits at the top of the form, above its first field.
    assert page.evaluate(
        """() => document.getElementById("error-summary").compareDocumentPosition(
                 document.getElementById("id_photos")) & Node.DOCUMENT_POSITION_FOLLOWING"""
    )
    assert page.input_value("#id_customer_name") == "Иван"
    assert page.input_value("#id_vehicle_make") == "Kia"
    page.screenshot(path="/tmp/shots-act/driver-photo-form-errors-390.png")

    summary.get_by_role("link", name="Телефон: Проверьте номер").first.click()
    assert page.evaluate("document.activeElement.id") == "id_phone"
