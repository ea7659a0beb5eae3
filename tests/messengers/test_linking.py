"""A staff member links their own chat: «Привязать» gives a one-time code (15 minutes), they
send it to the shop's bot (Telegram deep link "/start CODE", MAX start payload), the beat task
reads the bot's updates and links the chat; a code works once, only for its shop, and not
after it expired."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse
from django.utils import timezone

from messengers.models import ChatLink, LinkCode, LinkState
from messengers.services import bots_poll, link_code_create
from tests.factories import MembershipFactory, ShopFactory
from tests.messengers.conftest import MAX_USER, TELEGRAM_CHAT


def test_advisor_links_telegram_with_the_code_from_their_profile(advisor_client, advisor, telegram):
    response = advisor_client.post(
        reverse("messengers:profile_action", kwargs={"kind": "telegram"}), {"action": "link"}
    )
    assert response.status_code == 302
    code = LinkCode.objects.get(membership=advisor, kind="telegram")
    assert code.expires_at - timezone.now() > dt.timedelta(minutes=14)
    page = advisor_client.get(reverse("messengers:profile")).content.decode()
    assert code.code in page and f"https://t.me/shop_bot?start={code.code}" in page

    telegram.code = code.code
    assert bots_poll() == 1
    link = ChatLink.objects.get(membership=advisor, kind="telegram")
    assert link.chat_id == TELEGRAM_CHAT and link.state == LinkState.ACTIVE
    assert link.chat_name == "ivan_master"
    (greeting,) = telegram.calls("sendMessage")
    assert greeting.body["chat_id"] == TELEGRAM_CHAT and "Готово" in greeting.body["text"]
    telegram.bot.refresh_from_db()
    assert telegram.bot.updates_marker == 871200302

    # The same update read again (or the code sent again): no second link, no greeting.
    assert bots_poll() == 0
    assert telegram.calls("getUpdates")[-1].body["offset"] == 871200302
    assert len(telegram.calls("sendMessage")) == 1
    page = advisor_client.get(reverse("messengers:profile")).content.decode()
    assert "Отвязать" in page and code.code not in page


def test_max_links_by_the_start_payload(shop, advisor, max_bot):
    code = link_code_create(membership=advisor, kind="max")
    max_bot.code = code.code
    assert bots_poll() == 1
    link = ChatLink.objects.get(membership=advisor, kind="max")
    assert link.chat_id == MAX_USER
    assert max_bot.calls("updates")[0].headers["Authorization"] == max_bot.token
    greeting = max_bot.calls("messages")[0]
    assert greeting.query == {"user_id": [MAX_USER]}
    max_bot.bot.refresh_from_db()
    assert max_bot.bot.updates_marker == 145


def test_an_expired_code_or_another_shops_code_links_nothing(shop, advisor, telegram):
    expired = link_code_create(membership=advisor, kind="telegram")
    LinkCode.objects.filter(pk=expired.pk).update(expires_at=timezone.now())
    telegram.code = expired.code
    assert bots_poll() == 0

    stranger = MembershipFactory(shop=ShopFactory())
    foreign = link_code_create(membership=stranger, kind="telegram")
    telegram.code = foreign.code
    telegram.bot.updates_marker = None
    telegram.bot.save()
    assert bots_poll() == 0
    assert not ChatLink.objects.exists()
    assert not telegram.calls("sendMessage")


def test_a_new_code_replaces_the_unused_one(advisor):
    first = link_code_create(membership=advisor, kind="telegram")
    second = link_code_create(membership=advisor, kind="telegram")
    first.refresh_from_db()
    assert first.expires_at <= timezone.now() < second.expires_at


def test_unlink_and_off_duty(advisor_client, advisor, telegram):
    ChatLink.objects.create(membership=advisor, kind="telegram", chat_id=TELEGRAM_CHAT)
    url = reverse("messengers:profile_action", kwargs={"kind": "telegram"})
    advisor_client.post(url, {"action": "duty_off"})
    assert not ChatLink.objects.get(membership=advisor).on_duty
    assert "Я на смене" in advisor_client.get(reverse("messengers:profile")).content.decode()
    advisor_client.post(url, {"action": "unlink"})
    assert not ChatLink.objects.filter(membership=advisor).exists()


def test_linking_needs_the_shops_bot(advisor_client, advisor):
    response = advisor_client.post(
        reverse("messengers:profile_action", kwargs={"kind": "max"}),
        {"action": "link"},
        follow=True,
    )
    assert "автосервис ещё не подключил бота" in response.content.decode()
    assert not LinkCode.objects.exists()
    assert (
        advisor_client.post(
            reverse("messengers:profile_action", kwargs={"kind": "icq"}), {"action": "link"}
        ).status_code
        == 404
    )
