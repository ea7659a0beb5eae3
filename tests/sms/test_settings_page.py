"""The manager's SMS settings: secrets kept encrypted and never shown back, bad input said
in Russian with everything typed kept, each shop sees only its own, and «Отправить тестовое
SMS» tells the gateway's answer (an empty balance in plain Russian)."""

from __future__ import annotations

from django.db import connection
from django.urls import reverse

from sms.models import SmsMessage, SmsSettings
from tests.factories import MembershipFactory

URL = "sms:settings"


def _form(**extra):
    data = {
        "gateway": "smsru",
        "api_key": "",
        "login": "",
        "password": "",
        "sender": "AvtoServis",
        "cost_per_message": "4,50",
        "daily_limit": "300",
        "enabled": "on",
    }
    data.update(extra)
    return data


def test_a_saved_key_is_encrypted_and_never_shown_back(shop, manager_client):
    response = manager_client.post(reverse(URL), _form(api_key="F2D79B58-A5A2-2F9E-SECRET"))
    assert response.status_code == 302
    conf = SmsSettings.objects.get(shop=shop)
    assert conf.api_key == "F2D79B58-A5A2-2F9E-SECRET" and str(conf.cost_per_message) == "4.50"
    with connection.cursor() as cursor:
        cursor.execute("SELECT api_key FROM sms_smssettings WHERE id = %s", [conf.pk])
        (stored,) = cursor.fetchone()
    assert "SECRET" not in stored
    page = manager_client.get(reverse(URL)).content.decode()
    assert "SECRET" not in page and "Сохранён. Оставьте поле пустым" in page
    # Saved again with the field empty: the key stays.
    manager_client.post(reverse(URL), _form(daily_limit="50"))
    conf.refresh_from_db()
    assert conf.api_key == "F2D79B58-A5A2-2F9E-SECRET" and conf.daily_limit == 50


def test_bad_input_is_said_in_russian_and_nothing_typed_is_lost(shop, manager_client):
    response = manager_client.post(
        reverse(URL), _form(sender="Автосервис", daily_limit="300", api_key="")
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "Имя отправителя: от 2 до 11 латинских букв" in page
    assert "Вставьте API-ключ SMS.ru, чтобы включить отправку." in page
    assert 'value="Автосервис"' in page and 'value="300"' in page and 'value="4,50"' in page
    assert not SmsSettings.objects.filter(shop=shop).exists()


def test_smsc_needs_login_and_password_to_be_switched_on(shop, manager_client):
    response = manager_client.post(reverse(URL), _form(gateway="smsc", login=""))
    assert response.status_code == 400
    page = response.content.decode()
    assert "Укажите логин SMSC" in page and "Укажите пароль SMSC" in page


def test_each_shop_sees_only_its_own_settings(shop, other_shop, client):
    SmsSettings.objects.create(shop=shop, api_key="OUR-SECRET-KEY", sender="OurShop")
    SmsMessage.objects.create(
        shop=shop, phone="+79161234567", text="Наше SMS", purpose="ready", dedupe_key="ours"
    )
    stranger = MembershipFactory(shop=other_shop, role="manager")
    client.force_login(stranger.user)
    page = client.get(reverse(URL)).content.decode()
    assert "OurShop" not in page and "+79161234567" not in page
    assert "SMS ещё не отправлялись." in page


def test_an_advisor_cannot_open_the_settings(advisor_client):
    assert advisor_client.get(reverse(URL)).status_code == 403


def test_the_test_sms_goes_out_and_a_bad_number_is_kept(shop, smsru, manager_client):
    response = manager_client.post(reverse("sms:test"), {"phone": "12345"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Проверьте номер" in page and 'value="12345"' in page
    assert smsru.sends() == []

    response = manager_client.post(reverse("sms:test"), {"phone": "8 (916) 123-45-67"}, follow=True)
    assert "Тестовое SMS на +7 916 123-45-67 принято шлюзом." in response.content.decode()
    (sent,) = smsru.sends()
    assert sent.form["to"] == "79161234567" and "тестовое SMS" in sent.form["msg"]


def test_the_test_sms_says_the_balance_is_empty(shop, smsru, manager_client):
    smsru.mode = "low_balance"
    response = manager_client.post(reverse("sms:test"), {"phone": "+79161234567"}, follow=True)
    page = response.content.decode()
    assert "на счёте SMS.ru недостаточно средств — пополните баланс" in page
    assert "SMS не отправляются" in page
