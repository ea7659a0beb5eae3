from __future__ import annotations

import pytest

from messengers.models import ChatLink, MessengerBot
from tests.factories import MembershipFactory
from tests.messengers.fake_bots import FakeBot

TELEGRAM_CHAT = "1297094036"
MAX_USER = "4005123"


@pytest.fixture
def telegram(settings, shop):
    with FakeBot("telegram") as fake:
        settings.TELEGRAM_API_BASE = fake.base
        fake.bot = MessengerBot.objects.create(
            shop=shop, kind="telegram", token=fake.token, enabled=True, bot_username="shop_bot"
        )
        yield fake


@pytest.fixture
def max_bot(settings, shop):
    with FakeBot("max") as fake:
        settings.MAX_API_BASE = fake.base
        fake.bot = MessengerBot.objects.create(
            shop=shop, kind="max", token=fake.token, enabled=True
        )
        yield fake


@pytest.fixture
def linked_advisor(shop):
    """An advisor on duty with both messengers linked."""
    member = MembershipFactory(shop=shop, user__first_name="Иван", user__last_name="Сидоров")
    ChatLink.objects.create(membership=member, kind="telegram", chat_id=TELEGRAM_CHAT)
    ChatLink.objects.create(membership=member, kind="max", chat_id=MAX_USER)
    return member


@pytest.fixture
def linked_manager(shop):
    member = MembershipFactory(
        shop=shop, role="manager", user__first_name="Ольга", user__last_name="Кузнецова"
    )
    ChatLink.objects.create(membership=member, kind="telegram", chat_id="777000111")
    return member
