"""The driver's calculator and the staff's estimates, through the test client."""

from __future__ import annotations

import io
import re
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from pypdf import PdfReader

from autoservice.models import ConsentRecord
from leads.models import Lead
from leads.services import DRIVER_LEADS_PER_HOUR_PER_ADDRESS, DRIVER_LEADS_PER_HOUR_PER_PHONE
from smartcalc.models import DataVersion, Estimate, Generation, ShopPartPrice
from tests.factories import EstimateFactory, driver_requests_sent


@pytest.fixture
def solaris(db):
    return Generation.objects.select_related("model").get(
        model__make__name="Hyundai", model__name="Solaris", popular=True
    )


def _url(name, shop, generation, body="sedan"):
    return reverse(name, args=[shop.slug, generation.pk, body])


DAMAGES = {
    "kind_door_front_left": "dent",
    "size_door_front_left": "2",
    "kind_bumper_front": "crack",
    "size_bumper_front": "1",
    "kind_headlamp_left": "broken",
    "size_headlamp_left": "2",
}


def _total(html: str) -> Decimal:
    return Decimal(re.search(r'data-total="([^"]+)"', html).group(1))


def test_vehicle_step_offers_popular_cars_and_search(client, shop, solaris):
    html = client.get(reverse("smartcalc:calc_vehicle", args=[shop.slug])).content.decode()
    assert "Solaris" in html and "Vesta" in html
    assert _url("smartcalc:calc_damage", shop, solaris) in html
    found = client.get(
        reverse("smartcalc:calc_vehicle", args=[shop.slug]), {"q": "camry"}
    ).content.decode()
    assert ">Camry</a>" in found and ">Solaris</a>" not in found
    missing = client.get(reverse("smartcalc:calc_vehicle", args=[shop.slug]), {"q": "zaporozhets"})
    assert reverse("photoportal:photo_form", args=[shop.slug]) in missing.content.decode()


def test_estimate_grows_as_parts_are_added(client, shop, solaris):
    url = _url("smartcalc:calc_estimate", shop, solaris)
    one = client.post(url, {"kind_door_front_left": "dent", "size_door_front_left": "2"})
    two = client.post(url, {**DAMAGES})
    assert one.status_code == two.status_code == 200
    assert _total(two.content.decode()) > _total(one.content.decode()) > 0


def test_estimate_explains_limits_and_flags_reference_prices(client, shop, solaris):
    html = client.post(_url("smartcalc:calc_estimate", shop, solaris), DAMAGES).content.decode()
    assert "ориентировочн" in html  # the shop has no prices of its own yet
    assert "эмблемы, молдинги" in html
    assert "После осмотра обычно +" in html
    assert "европротокол" in html.lower()
    assert "755-П" in html and "износа" in html
    # The test shop has not chosen its tax regime: prices as they are, no VAT invented.
    assert "цены без учёта налогов" in html and "НДС 22 %" not in html


def test_shop_price_replaces_the_reference_price(client, shop, solaris):
    url = _url("smartcalc:calc_estimate", shop, solaris)
    damage = {"kind_headlamp_left": "broken", "size_headlamp_left": "2"}
    before = _total(client.post(url, damage).content.decode())
    ShopPartPrice.objects.create(
        shop=shop, vehicle_model=solaris.model, part="headlamp_left", original_rub=Decimal("99000")
    )
    html = client.post(url, damage).content.decode()
    assert _total(html) > before
    assert "ориентировочн" not in html


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"kind_door_front_left": "dent", "size_door_front_left": "9"}, "размер"),
        ({"kind_door_front_left": "melted", "size_door_front_left": "2"}, "вид повреждения"),
        ({"kind_door_front_left": "dent"}, "размер"),
    ],
)
def test_bad_input_is_explained_never_a_500(client, shop, solaris, data, message):
    response = client.post(_url("smartcalc:calc_estimate", shop, solaris), data)
    assert response.status_code == 200
    html = response.content.decode()
    assert message in html
    assert "data-total" not in html


def test_part_of_another_body_type_is_ignored_not_priced(client, shop, solaris):
    # A sedan has a boot lid, not a tailgate: a tampered field for it changes nothing.
    html = client.post(
        _url("smartcalc:calc_estimate", shop, solaris),
        {"kind_tailgate": "dent", "size_tailgate": "2"},
    ).content.decode()
    assert "data-total" not in html


def test_unknown_body_or_vehicle_is_404(client, shop, solaris):
    assert (
        client.get(_url("smartcalc:calc_damage", shop, solaris, body="tractor")).status_code == 404
    )
    assert (
        client.get(reverse("smartcalc:calc_damage", args=[shop.slug, 999999, "sedan"])).status_code
        == 404
    )


def test_vehicle_without_technology_data_says_so(client, shop, solaris):
    from smartcalc.models import DataVersion

    DataVersion.objects.update(is_current=False)
    html = client.post(_url("smartcalc:calc_estimate", shop, solaris), DAMAGES).content.decode()
    assert "пришлите фото" in html
    assert "data-total" not in html


def test_no_javascript_recalculates_on_the_page(client, shop, solaris):
    response = client.post(_url("smartcalc:calc_damage", shop, solaris), DAMAGES)
    assert response.status_code == 200
    html = response.content.decode()
    assert _total(html) > 0
    assert 'value="dent" selected' in html or "selected" in html


def test_driver_sends_the_estimate_and_the_advisor_sees_it(
    client, shop, solaris, advisor_client, django_capture_on_commit_callbacks
):
    send = _url("smartcalc:calc_send", shop, solaris)
    step = client.post(send, DAMAGES)
    assert step.status_code == 200
    token = re.search(r'name="form_token" value="([^"]+)"', step.content.decode()).group(1)
    contact = {
        **DAMAGES,
        "form_token": token,
        "customer_name": "Ирина",
        "phone": "+7 (916) 111-22-33",
        "preferred_contact": "telegram",
        "consent": "on",
        "photos": [SimpleUploadedFile("a.jpg", _jpeg(), "image/jpeg")],
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(send, contact)
    assert response.status_code == 302
    estimate = Estimate.objects.get(shop=shop)
    lead = estimate.lead
    assert lead.channel == "calculator" and lead.phone == "+79161112233"
    assert lead.photos.count() == 1
    assert lead.consent is not None
    version = estimate.versions.get()
    current = DataVersion.objects.get(is_current=True).label
    assert version.number == 1 and version.data_version == current
    result = client.get(response["Location"]).content.decode()
    assert f"Заявка №{lead.number}" in result
    assert _total(result) == version.total_rub
    # A double tap on «Отправить» makes no second lead.
    again = client.post(send, {**contact, "photos": []})
    assert again["Location"] == response["Location"]
    assert Lead.objects.filter(shop=shop).count() == 1
    page = advisor_client.get(reverse("leads:lead_detail", args=[lead.pk])).content.decode()
    assert "Расчёт калькулятора" in page and "дверь передняя левая" in page


def test_contact_errors_keep_damages_and_input(client, shop, solaris):
    send = _url("smartcalc:calc_send", shop, solaris)
    token = re.search(
        r'name="form_token" value="([^"]+)"', client.post(send, DAMAGES).content.decode()
    ).group(1)
    response = client.post(
        send, {**DAMAGES, "form_token": token, "customer_name": "Ирина", "phone": "123"}
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Проверьте номер" in html and 'value="Ирина"' in html
    assert 'name="kind_door_front_left" value="dent"' in html
    assert Lead.objects.count() == 0


def _contact(client, shop, solaris, **fields) -> dict:
    """The contact step's fields, with the form token the damage step handed out."""
    step = client.post(_url("smartcalc:calc_send", shop, solaris), DAMAGES).content.decode()
    token = re.search(r'name="form_token" value="([^"]+)"', step).group(1)
    return {
        **DAMAGES,
        "form_token": token,
        "customer_name": "Ирина",
        "phone": "+7 (916) 111-22-33",
        "preferred_contact": "telegram",
        "consent": "on",
        "description": "Удобно в субботу",
        **fields,
    }


def test_calculator_shares_the_address_limit_with_the_photo_form(client, shop, solaris):
    # The photo form took all this address may send in an hour; the calculator used to
    # accept 40 of 40 requests from one address.
    driver_requests_sent(
        shop, DRIVER_LEADS_PER_HOUR_PER_ADDRESS, ip="10.9.8.7", channel="photo", minutes_ago=20
    )
    contact = _contact(
        client, shop, solaris, photos=[SimpleUploadedFile("a.jpg", _jpeg(), "image/jpeg")]
    )

    response = client.post(
        _url("smartcalc:calc_send", shop, solaris), contact, REMOTE_ADDR="10.9.8.7"
    )

    assert response.status_code == 429
    assert response["Retry-After"] == str(40 * 60)
    html = response.content.decode()
    assert "С этого адреса за последний час пришло слишком много заявок" in html
    assert "Новую можно отправить через 40 мин." in html
    # Nothing the driver entered is lost: contact, comment, damages, the photo.
    assert 'value="Ирина"' in html and "Удобно в субботу" in html
    assert 'name="kind_door_front_left" value="dent"' in html
    assert "a.jpg" in html
    assert Estimate.objects.filter(shop=shop).count() == 0
    assert Lead.objects.filter(shop=shop, channel="calculator").count() == 0


def test_calculator_limits_one_phone_from_any_address(client, shop, solaris):
    driver_requests_sent(
        shop,
        DRIVER_LEADS_PER_HOUR_PER_PHONE,
        phone="+79161112233",
        channel="calculator",
        minutes_ago=45,
    )
    contact = _contact(client, shop, solaris)

    response = client.post(
        _url("smartcalc:calc_send", shop, solaris), contact, REMOTE_ADDR="10.20.30.40"
    )

    assert response.status_code == 429
    assert response["Retry-After"] == str(15 * 60)
    html = response.content.decode()
    assert "С этого номера за последний час уже пришло несколько заявок" in html
    assert "через 15 мин." in html
    assert 'value="Ирина"' in html
    assert ConsentRecord.objects.filter(shop=shop).count() == DRIVER_LEADS_PER_HOUR_PER_PHONE
    # Another phone from the same address is taken.
    other = {**_contact(client, shop, solaris), "phone": "+7 916 000-00-01"}
    assert client.post(_url("smartcalc:calc_send", shop, solaris), other).status_code == 302


def test_expired_form_keeps_the_input_and_hands_out_a_new_token(client, shop, solaris):
    contact = _contact(client, shop, solaris, form_token="not-a-token")

    response = client.post(_url("smartcalc:calc_send", shop, solaris), contact)

    assert response.status_code == 400
    html = response.content.decode()
    assert "Форма устарела" in html and 'value="Ирина"' in html
    token = re.search(r'name="form_token" value="([^"]+)"', html).group(1)
    assert token != "not-a-token"
    assert client.post(
        _url("smartcalc:calc_send", shop, solaris), {**contact, "form_token": token}
    )["Location"].startswith(f"/s/{shop.slug}/calc/")
    assert Lead.objects.filter(shop=shop).count() == 1


def test_contact_step_without_its_token_makes_no_lead_and_keeps_the_input(client, shop, solaris):
    contact = _contact(client, shop, solaris)
    del contact["form_token"]  # lost on the way (a proxy, a broken page script)
    url = _url("smartcalc:calc_send", shop, solaris)

    first = client.post(url, contact)
    second = client.post(url, contact)

    assert Lead.objects.filter(shop=shop).count() == 0
    assert ConsentRecord.objects.filter(shop=shop).count() == 0
    for response in (first, second):
        assert response.status_code == 400
        html = response.content.decode()
        assert "Форма устарела" in html and 'value="Ирина"' in html
    token = re.search(r'name="form_token" value="([^"]+)"', first.content.decode()).group(1)
    assert client.post(url, {**contact, "form_token": token}).status_code == 302
    assert Lead.objects.filter(shop=shop).count() == 1


def test_sending_nothing_is_refused(client, shop, solaris):
    response = client.post(_url("smartcalc:calc_send", shop, solaris), {})
    assert response.status_code == 400
    assert "хотя бы одно повреждение" in response.content.decode()


def test_advisor_revises_into_a_new_version_and_the_drivers_stays(advisor_client, advisor):
    estimate = EstimateFactory(shop=advisor.shop)
    first = estimate.versions.get(number=1)
    url = reverse("smartcalc:estimate_detail", args=[estimate.pk])
    data = {
        "kind_door_front_left": "dent",
        "size_door_front_left": "2",
        "op_door_front_left": "replace_paint",
        "kind_bumper_front": "crack",
        "size_bumper_front": "1",
        "extra-TOTAL_FORMS": "2",
        "extra-INITIAL_FORMS": "0",
        "extra-0-name": "Усилитель бампера",
        "extra-0-labour_hours": "1.2",
        "extra-0-part_rub": "6400",
        "note": "Скрытая деформация усилителя",
    }
    response = advisor_client.post(url, data)
    assert response.status_code == 302
    second = estimate.versions.get(number=2)
    assert second.author == advisor
    assert second.total_rub > first.total_rub
    assert any(line["part_name"] == "Усилитель бампера" for line in second.result["lines"])
    assert any(line["operation"] == "replace_paint" for line in second.result["lines"])
    first.refresh_from_db()
    assert first.result == estimate.versions.get(number=1).result
    html = advisor_client.get(url, {"v": 1}).content.decode()
    assert "как видел водитель" in html


def test_revision_needs_a_note(advisor_client, advisor):
    estimate = EstimateFactory(shop=advisor.shop)
    response = advisor_client.post(
        reverse("smartcalc:estimate_detail", args=[estimate.pk]),
        {
            "extra-TOTAL_FORMS": "0",
            "extra-INITIAL_FORMS": "0",
            "kind_bonnet": "dent",
            "size_bonnet": "1",
        },
    )
    assert response.status_code == 400
    assert estimate.versions.count() == 1


def test_pdf_is_russian_and_readable(advisor_client, advisor):
    estimate = EstimateFactory(shop=advisor.shop)
    response = advisor_client.get(reverse("smartcalc:estimate_pdf", args=[estimate.pk, 1]))
    assert response["Content-Type"] == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    assert "Предварительная смета" in text
    assert advisor.shop.name in text
    assert "Hyundai Solaris" in text


def test_calibration_compares_ranges_with_inspections(advisor_client, advisor):
    from smartcalc import engine, services
    from smartcalc.selectors import range_calibration

    estimate = EstimateFactory(shop=advisor.shop)
    services.estimate_revise(
        estimate=estimate,
        by=advisor,
        damages=services.damages_from_inputs(estimate.versions.get().inputs),
        extras=[engine.ExtraItem(name="Абсорбер", part_rub=Decimal("90000"))],
        note="осмотр",
    )
    stats = range_calibration(advisor.shop)
    assert stats["count"] == 1 and stats["above"] == 1
    assert (
        "Уточнено после осмотра: 1"
        in advisor_client.get(reverse("smartcalc:estimate_list")).content.decode()
    )


def _jpeg() -> bytes:
    from tests.photos import jpeg_bytes

    return jpeg_bytes((640, 480))
