"""The calculator's last step sent with mistakes lists them at the top of the form."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from smartcalc.models import Generation


@pytest.fixture
def solaris(db):
    return Generation.objects.select_related("model").get(
        model__make__name="Hyundai", model__name="Solaris", popular=True
    )


def test_failed_send_shows_an_error_summary_above_the_fields(client, shop, solaris):
    send = reverse("smartcalc:calc_send", args=[shop.slug, solaris.pk, "sedan"])
    damages = {"kind_door_front_left": "dent", "size_door_front_left": "2"}
    step = client.post(send, damages).content.decode()
    token = re.search(r'name="form_token" value="([^"]+)"', step).group(1)
    response = client.post(
        send, {**damages, "form_token": token, "customer_name": "Ирина", "phone": "123"}
    )
    assert response.status_code == 400
    html = response.content.decode()
    summary = re.search(r'<div class="alert alert-danger error-summary".*?</div>', html, re.S)
    assert summary is not None
    assert 'href="#id_phone"' in summary.group(0) and "Телефон: Проверьте номер" in summary.group(0)
    assert "Без согласия" in summary.group(0)
    assert html.index('id="error-summary"') < html.index('id="id_customer_name"')
    assert "js/error-summary.js" in html
