"""The manager's CRM settings: both connectors on one page, a bad address refused in Russian
with what was typed kept, secrets encrypted and never shown back, the check and the test lead
showing the CRM's answer, another shop's connection a 404."""

from __future__ import annotations

from django.db import connection as db
from django.urls import reverse

from crm.models import CrmConnection, CrmState
from tests.crm.fake_crm import FakeCrm

SETTINGS = reverse("crm:crm_settings")


def _save(client, kind, data):
    return client.post(reverse("crm:crm_save", kwargs={"kind": kind}), data)


def test_manager_sees_both_connectors_and_an_advisor_is_refused(manager_client, client, advisor):
    page = manager_client.get(SETTINGS)
    assert page.status_code == 200
    text = page.content.decode()
    assert "Битрикс24" in text and "amoCRM" in text and "Адрес входящего вебхука" in text
    assert not CrmConnection.objects.exists()  # opening the page writes nothing
    client.force_login(advisor.user)
    assert client.get(SETTINGS).status_code == 403


def test_a_bad_webhook_address_is_refused_in_russian_and_kept(manager_client, shop):
    typed = "https://sto.bitrix24.ru/crm/lead/list/"
    response = _save(manager_client, "bitrix24", {"webhook_url": typed, "enabled": "on"})
    assert response.status_code == 400
    text = response.content.decode()
    assert "Это не адрес входящего вебхука Битрикс24" in text
    assert f'value="{typed}"' in text
    assert "checked" in text  # the ticked box stays ticked
    assert not CrmConnection.objects.filter(shop=shop).exists()


def test_enabling_without_an_address_says_what_is_missing(manager_client):
    response = _save(manager_client, "bitrix24", {"enabled": "on"})
    assert response.status_code == 400
    assert "Вставьте адрес входящего вебхука" in response.content.decode()


def test_a_bad_address_is_one_message_not_two(manager_client):
    response = _save(manager_client, "bitrix24", {"webhook_url": "sto", "enabled": "on"})
    text = response.content.decode()
    assert "Это не адрес входящего вебхука" in text
    assert "чтобы включить передачу" not in text


def test_the_webhook_address_is_encrypted_and_never_shown_back(manager_client, shop):
    url = "https://sto.bitrix24.ru/rest/1/s3cr3tc0de0123/"
    assert _save(manager_client, "bitrix24", {"webhook_url": url}).status_code == 302
    saved = CrmConnection.objects.get(shop=shop, kind="bitrix24")
    assert saved.webhook_url == url and not saved.enabled
    with db.cursor() as cursor:
        cursor.execute("SELECT webhook_url FROM crm_crmconnection WHERE id = %s", [saved.pk])
        (raw,) = cursor.fetchone()
    assert "s3cr3tc0de0123" not in raw
    page = manager_client.get(SETTINGS).content.decode()
    assert "s3cr3tc0de0123" not in page
    assert "Сохранён вебхук портала sto.bitrix24.ru" in page
    # An empty field keeps the saved address.
    _save(manager_client, "bitrix24", {"webhook_url": "", "enabled": "on"})
    saved.refresh_from_db()
    assert saved.webhook_url == url and saved.enabled


def test_test_lead_shows_the_crms_answer(manager_client, shop):
    with FakeCrm("bitrix24") as fake:
        _save(manager_client, "bitrix24", {"webhook_url": fake.webhook_url()})
        connection = CrmConnection.objects.get(shop=shop, kind="bitrix24")
        response = manager_client.post(
            reverse("crm:crm_test", kwargs={"connection_id": connection.pk}), follow=True
        )
    assert "Битрикс24 принял тестовую заявку: номер 3465" in response.content.decode()
    (added,) = fake.calls("/crm.lead.add")
    assert added.body["fields"]["TITLE"].startswith("ТЕСТ")
    connection.refresh_from_db()
    assert connection.state == CrmState.OK


def test_a_refused_test_lead_shows_the_error_prominently(manager_client, shop):
    with FakeCrm("bitrix24", mode="401") as fake:
        _save(manager_client, "bitrix24", {"webhook_url": fake.webhook_url()})
        connection = CrmConnection.objects.get(shop=shop, kind="bitrix24")
        response = manager_client.post(
            reverse("crm:crm_test", kwargs={"connection_id": connection.pk}), follow=True
        )
    text = response.content.decode()
    assert "alert-danger" in text and "Битрикс24 отклонил ключ вебхука (401" in text


def test_amo_check_loads_the_pipelines_for_the_stage_select(manager_client, shop):
    token = "amo-long-lived-token-0123456789"
    with FakeCrm("amocrm", secret=token) as fake:
        _save(manager_client, "amocrm", {"base_url": fake.base, "token": token})
        connection = CrmConnection.objects.get(shop=shop, kind="amocrm")
        assert connection.token == token
        response = manager_client.post(
            reverse("crm:crm_check", kwargs={"connection_id": connection.pk}), follow=True
        )
        text = response.content.decode()
        assert "Воронок в amoCRM: 1" in text
        assert 'value="3177727:32392159"' in text and "Первичный контакт" in text
        assert "Успешно реализовано" not in text
        assert token not in text
        response = _save(
            manager_client, "amocrm", {"base_url": "", "stage": "3177727:32392159", "enabled": "on"}
        )
        assert response.status_code == 302
        connection.refresh_from_db()
        assert (connection.pipeline_id, connection.status_id, connection.enabled) == (
            3177727,
            32392159,
            True,
        )
        assert connection.stage_label == "Воронка → Первичный контакт"
        response = manager_client.post(
            reverse("crm:crm_test", kwargs={"connection_id": connection.pk}), follow=True
        )
    assert "amoCRM принял тестовую заявку: номер 9774766" in response.content.decode()


def test_amo_enabling_without_a_stage_asks_for_the_check_first(manager_client):
    response = _save(
        manager_client,
        "amocrm",
        {"base_url": "sto", "token": "amo-long-lived-token-0123456789", "enabled": "on"},
    )
    assert response.status_code == 400
    text = response.content.decode()
    assert "Нажмите «Проверить», затем выберите этап" in text
    assert 'value="sto"' in text


def test_another_shops_connection_is_404(manager_client, other_shop):
    theirs = CrmConnection.objects.create(
        shop=other_shop, kind="bitrix24", webhook_url="https://x.bitrix24.ru/rest/1/abc/"
    )
    for name in ("crm:crm_check", "crm:crm_test"):
        response = manager_client.post(reverse(name, kwargs={"connection_id": theirs.pk}))
        assert response.status_code == 404, name


def test_an_unknown_crm_kind_is_404(manager_client):
    assert _save(manager_client, "salesforce", {}).status_code == 404


def test_the_demo_shows_both_connectors_filled_in_and_switched_off(manager_client, shop):
    from crm.demo import load

    load(shop=shop)
    load(shop=shop)  # the demo command may run again
    connections = CrmConnection.objects.filter(shop=shop)
    assert connections.count() == 2 and not connections.filter(enabled=True).exists()
    text = manager_client.get(SETTINGS).content.decode()
    assert "Сохранён вебхук портала demo-sto.bitrix24.ru" in text
    assert 'value="https://demo-sto.amocrm.ru"' in text and "demo0webhook0code" not in text


def test_a_manager_sees_a_refused_crm_on_every_staff_page(manager_client, client, advisor, shop):
    inbox = reverse("leads:inbox")
    connection = CrmConnection.objects.create(
        shop=shop, kind="amocrm", enabled=True, base_url="https://sto.amocrm.ru", token="t" * 30
    )
    assert 'id="crm-broken"' not in manager_client.get(inbox).content.decode()
    CrmConnection.objects.filter(pk=connection.pk).update(
        state=CrmState.ERROR, error_message="amoCRM отклонил токен (401)"
    )
    text = manager_client.get(inbox).content.decode()
    assert 'id="crm-broken"' in text and "amoCRM не принимает заявки" in text
    assert reverse("crm:crm_settings") in text
    client.force_login(advisor.user)  # settings are the manager's to fix
    assert 'id="crm-broken"' not in client.get(inbox).content.decode()
    # On the CRM page itself the card says it, with the CRM's words.
    assert 'id="crm-broken"' not in manager_client.get(SETTINGS).content.decode()


def test_another_amo_account_forgets_the_old_accounts_stage(manager_client, shop):
    connection = CrmConnection.objects.create(
        shop=shop,
        kind="amocrm",
        base_url="https://old.amocrm.ru",
        token="t" * 30,
        pipelines=[{"id": 1, "name": "Старая", "statuses": [{"id": 2, "name": "Новая"}]}],
        pipeline_id=1,
        status_id=2,
    )
    assert _save(manager_client, "amocrm", {"base_url": "new"}).status_code == 302
    connection.refresh_from_db()
    assert connection.base_url == "https://new.amocrm.ru"
    assert (connection.pipeline_id, connection.status_id, connection.pipelines) == (None, None, [])
