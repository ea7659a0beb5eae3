"""The manager's bot settings: tokens saved encrypted and never shown back, a wrong token
refused in Russian with the rest kept, «Проверить» asks the bot who it is; advisors cannot
open the page."""

from __future__ import annotations

from django.db import connection
from django.urls import reverse

from messengers.models import MessengerBot
from tests.messengers.fake_bots import MAX_TOKEN, TELEGRAM_TOKEN, FakeBot


def _raw_token(bot: MessengerBot) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT token FROM messengers_messengerbot WHERE id = %s", [bot.pk])
        return cursor.fetchone()[0]


def test_manager_saves_and_checks_the_telegram_bot(manager_client, shop, settings):
    url = reverse("messengers:bot_action", kwargs={"kind": "telegram"})
    response = manager_client.post(
        url, {"action": "save", "token": TELEGRAM_TOKEN, "enabled": "on"}
    )
    assert response.status_code == 302
    bot = MessengerBot.objects.get(shop=shop, kind="telegram")
    assert bot.token == TELEGRAM_TOKEN and bot.enabled
    assert TELEGRAM_TOKEN not in _raw_token(bot)  # encrypted at rest
    page = manager_client.get(reverse("messengers:settings")).content.decode()
    assert TELEGRAM_TOKEN not in page and "Токен сохранён" in page

    with FakeBot("telegram") as fake:
        settings.TELEGRAM_API_BASE = fake.base
        page = manager_client.post(url, {"action": "check"}, follow=True).content.decode()
    assert "бот на связи (shop_service_bot)" in page
    bot.refresh_from_db()
    assert bot.bot_username == "shop_service_bot" and bot.checked_at

    # Saving again with the field empty keeps the token.
    manager_client.post(url, {"action": "save", "token": "", "enabled": ""})
    bot.refresh_from_db()
    assert bot.token == TELEGRAM_TOKEN and not bot.enabled


def test_a_refused_token_is_reported_on_check(manager_client, shop, settings):
    MessengerBot.objects.create(shop=shop, kind="max", token="x" * 20 + "wrong", enabled=True)
    with FakeBot("max") as fake:
        settings.MAX_API_BASE = fake.base
        page = manager_client.post(
            reverse("messengers:bot_action", kwargs={"kind": "max"}),
            {"action": "check"},
            follow=True,
        ).content.decode()
    assert "MAX: бот не отвечает" in page and "Invalid access_token" in page
    assert MAX_TOKEN not in page


def test_a_malformed_token_is_refused_in_russian_and_the_choice_kept(manager_client, shop):
    response = manager_client.post(
        reverse("messengers:bot_action", kwargs={"kind": "telegram"}),
        {"action": "save", "token": "hello", "enabled": "on"},
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "Это не токен Telegram-бота" in page
    assert 'id="enabled-telegram" checked' in page
    assert not MessengerBot.objects.exists()


def test_enabling_without_a_token_is_refused(manager_client):
    response = manager_client.post(
        reverse("messengers:bot_action", kwargs={"kind": "max"}),
        {"action": "save", "enabled": "on"},
    )
    assert response.status_code == 400
    assert "укажите токен бота" in response.content.decode()


def test_advisors_cannot_open_the_bot_settings(advisor_client):
    assert advisor_client.get(reverse("messengers:settings")).status_code == 403
    response = advisor_client.post(
        reverse("messengers:bot_action", kwargs={"kind": "telegram"}),
        {"action": "save", "token": TELEGRAM_TOKEN, "enabled": "on"},
    )
    assert response.status_code == 403
    assert not MessengerBot.objects.exists()


def test_each_shop_sees_only_its_own_bots(manager_client, other_shop):
    MessengerBot.objects.create(
        shop=other_shop, kind="telegram", token=TELEGRAM_TOKEN, enabled=True, bot_username="other"
    )
    page = manager_client.get(reverse("messengers:settings")).content.decode()
    assert "@other" not in page and "Токен сохранён" not in page


def test_the_admin_lists_bots_and_links_without_their_secrets(admin_client, shop, advisor):
    from messengers.models import ChatLink, LinkCode
    from messengers.services import link_code_create

    bot = MessengerBot.objects.create(shop=shop, kind="telegram", token=TELEGRAM_TOKEN)
    ChatLink.objects.create(membership=advisor, kind="telegram", chat_id="1297094036")
    code = link_code_create(membership=advisor, kind="telegram")
    pages = [
        reverse("admin:messengers_messengerbot_changelist"),
        reverse("admin:messengers_messengerbot_change", args=[bot.pk]),
        reverse("admin:messengers_chatlink_changelist"),
        reverse("admin:messengers_linkcode_change", args=[LinkCode.objects.get().pk]),
    ]
    for url in pages:
        response = admin_client.get(url)
        assert response.status_code == 200, url
        page = response.content.decode()
        assert TELEGRAM_TOKEN not in page and code.code not in page, url
