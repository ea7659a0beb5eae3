"""The manager's subject-request page: search by phone or e-mail, export, erase with a typed
confirmation, the act and its PDF; the retention periods; bad input kept with a message."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from django.urls import reverse
from pypdf import PdfReader

from autoservice.models import DestructionAct, PersonalDataPolicy
from leads.models import Lead
from tests.factories import LeadFactory, LeadPhotoFactory

PHONE = "+79161112233"
URL = "/staff/personal-data/"


@pytest.fixture
def driver(shop):
    lead = LeadFactory(shop=shop, phone=PHONE, customer_name="Евлампий", email="ev@example.ru")
    LeadPhotoFactory(lead=lead)
    return lead


def test_search_by_phone_in_any_format_shows_counts(manager_client, driver):
    page = manager_client.get(URL, {"phone": "8 (916) 111-22-33"})
    assert page.status_code == 200
    text = page.content.decode()
    assert "Фото заявок" in text and "Выгрузить ZIP" in text and "Удалить данные" in text


def test_malformed_phone_gets_a_russian_message_and_keeps_the_input(manager_client, driver):
    page = manager_client.get(URL, {"phone": "12-34"})
    assert page.status_code == 400
    text = page.content.decode()
    assert "Проверьте номер" in text
    assert 'value="12-34"' in text


def test_nothing_found_says_so(manager_client, driver):
    page = manager_client.get(URL, {"email": "nobody@example.ru"})
    assert "ничего не хранится" in page.content.decode()


def test_advisor_cannot_open_the_page(advisor_client):
    assert advisor_client.get(URL).status_code == 403


def test_export_downloads_a_zip_of_own_shop_only(manager_client, driver, other_shop):
    LeadFactory(shop=other_shop, phone=PHONE, customer_name="Чужой")
    response = manager_client.post(reverse("autoservice:personal_data_export"), {"phone": PHONE})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    document = json.loads(archive.read("subject.json"))
    leads = next(c for c in document["categories"] if c["category"] == "leads")
    assert [item["customer_name"] for item in leads["items"]] == ["Евлампий"]
    assert sum(name.startswith("files/") for name in archive.namelist()) == 3


def test_export_with_a_bad_phone_goes_back_with_the_input(manager_client, driver):
    response = manager_client.post(
        reverse("autoservice:personal_data_export"), {"phone": "abc"}, follow=True
    )
    assert response.status_code == 400  # the search page, with the message about the phone
    assert "Не удалось выгрузить" in response.content.decode()
    assert 'value="abc"' in response.content.decode()


def test_erase_needs_the_phone_typed_again(manager_client, driver):
    url = reverse("autoservice:personal_data_erase")
    confirm_page = manager_client.get(url, {"phone": PHONE})
    assert confirm_page.status_code == 200
    assert "Удалить данные и составить акт" in confirm_page.content.decode()

    wrong = manager_client.post(url, {"phone": PHONE, "confirm": "+79160000000"})
    assert wrong.status_code == 400
    assert "Введите тот же телефон" in wrong.content.decode()
    assert Lead.objects.get(pk=driver.pk).phone == PHONE

    done = manager_client.post(url, {"phone": PHONE, "confirm": "8 916 111 22 33"})
    act = DestructionAct.objects.get()
    assert done.status_code == 302
    assert done["Location"] == reverse("autoservice:destruction_act", args=[act.pk])
    assert Lead.objects.get(pk=driver.pk).phone == ""
    page = manager_client.get(done["Location"]).content.decode()
    assert act.number in page and "Евлампий" not in page and PHONE not in page


def test_act_pdf_names_the_categories_and_no_personal_data(manager_client, driver, manager):
    manager_client.post(
        reverse("autoservice:personal_data_erase"), {"phone": PHONE, "confirm": PHONE}
    )
    act = DestructionAct.objects.get()
    response = manager_client.get(reverse("autoservice:destruction_act_pdf", args=[act.pk]))
    assert response["Content-Type"] == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    assert act.number in text
    assert "Фото заявок" in text or "фото заявок" in text
    assert "9161112233" not in text.replace(" ", "").replace("-", "")
    assert "Евлампий" not in text


def test_manager_sets_the_retention_periods(manager_client, shop):
    response = manager_client.post(
        URL,
        {
            "policy-lost_lead_months": "6",
            "policy-claim_period_years": "3",
            "policy-intake_hold_years": "5",
        },
    )
    assert response.status_code == 302
    policy = PersonalDataPolicy.objects.get(shop=shop)
    assert (policy.lost_lead_months, policy.intake_hold_years) == (6, 5)


def test_nonsense_retention_period_is_refused_with_the_input_kept(manager_client, shop):
    response = manager_client.post(
        URL,
        {
            "policy-lost_lead_months": "0",
            "policy-claim_period_years": "²",
            "policy-intake_hold_years": "5",
        },
    )
    assert response.status_code == 400
    text = response.content.decode()
    assert "от 1 до 120" in text
    assert not PersonalDataPolicy.objects.filter(shop=shop).exists()


def test_settings_and_menu_link_to_the_page(manager_client):
    page = manager_client.get(reverse("autoservice:shop_settings")).content.decode()
    assert URL in page


def test_act_of_another_shop_is_404(manager_client, other_shop):
    act = DestructionAct.objects.create(
        shop=other_shop, performed_by_label="x", reason="retention", categories=[]
    )
    assert (
        manager_client.get(reverse("autoservice:destruction_act", args=[act.pk])).status_code == 404
    )
