"""A driver on a phone picks a car, taps three damaged parts, watches the price change,
sends the estimate; the advisor sees it on the lead page."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from leads.models import Lead
from smartcalc.loader import load_calc_data

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def _total(page) -> Decimal:
    return Decimal(page.locator("#estimate [data-total]").get_attribute("data-total"))


def _mark(page, part: str, kind: str, size: str) -> None:
    page.locator(f"#part-{part}").tap()
    page.locator(f"label[for='damage-sheet-kind-{kind}']").tap()
    if kind != "broken":  # a broken part needs no size: the sheet hides the sizes
        page.locator(f"label[for='damage-sheet-size-{size}']").tap()
    page.locator(".damage-sheet [data-action='done']").tap()


def test_driver_prices_three_parts_and_sends_them(
    phone_page, desktop_page, live_server, shop, advisor
):
    load_calc_data()  # the live server's database is flushed between browser tests
    page = phone_page
    page.goto(f"{live_server.url}/s/{shop.slug}/")
    page.locator("a[href$='/calc/']").tap()
    page.locator(".popular-cars .card", has_text="Hyundai Solaris").locator(
        ".popular-generation", has_text="II (HCR)"
    ).locator("a", has_text="седан").tap()
    page.wait_for_url(re.compile(r"/calc/\d+/sedan/$"))
    assert page.locator(".damage-diagram").is_visible()

    totals = []
    for part, kind, size in [
        ("door_front_left", "dent", "2"),
        ("bumper_front", "crack", "1"),
        ("headlamp_left", "broken", "2"),
    ]:
        before = totals[-1] if totals else Decimal(0)
        _mark(page, part, kind, size)
        page.wait_for_function(
            "before => { const t = document.querySelector('#estimate [data-total]');"
            " return t && Number(t.dataset.total) > before; }",
            arg=float(before),
        )
        totals.append(_total(page))
        assert page.locator(f"#part-{part}").get_attribute("class").count("sev-") == 1
    assert totals[0] < totals[1] < totals[2]
    assert page.locator(".damage-summary li.damage-summary-item").count() == 3
    page.screenshot(path="/tmp/e2e-calc-phone.png", full_page=True)

    page.locator("#calc-send").tap()
    page.fill("#id_customer_name", "Ольга")
    page.fill("#id_phone", "8 916 555-44-33")
    page.check("#id_consent")
    page.locator("#send-button").tap()
    page.wait_for_url(re.compile(r"/calc/e/"))
    assert "Заявка №" in page.locator("body").inner_text()
    lead = Lead.objects.get(shop=shop)
    assert lead.channel == "calculator"
    assert lead.estimate.versions.get().total_rub == totals[-1]

    staff = desktop_page
    staff.goto(f"{live_server.url}/accounts/login/")
    staff.fill("#id_username", advisor.user.username)
    staff.fill("#id_password", "correct-horse-42")
    staff.click("button[type=submit]")
    staff.wait_for_url(re.compile(r"/staff/"))
    staff.goto(f"{live_server.url}/staff/leads/{lead.pk}/")
    text = staff.locator(".lead-estimate").inner_text()
    assert "Hyundai Solaris" in text and "фара левая" in text
