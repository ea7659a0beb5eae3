import pytest

from sms.models import SmsSettings
from tests.sms.fake_gateway import FakeGateway


@pytest.fixture
def smsru(shop, settings):
    with FakeGateway("smsru") as fake:
        settings.SMSRU_BASE_URL = fake.base
        settings.SMS_TIMEOUT_SECONDS = 1
        fake.conf = SmsSettings.objects.create(
            shop=shop, gateway="smsru", api_key="F2D79B58-A5A2", sender="AvtoServis", enabled=True
        )
        yield fake


@pytest.fixture
def smsc(shop, settings):
    with FakeGateway("smsc") as fake:
        settings.SMSC_BASE_URL = fake.base
        settings.SMS_TIMEOUT_SECONDS = 1
        fake.conf = SmsSettings.objects.create(
            shop=shop, gateway="smsc", login="shop-login", password="s3cr3t-psw", enabled=True
        )
        yield fake
