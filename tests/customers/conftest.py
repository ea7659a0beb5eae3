import pytest

from sms.models import SmsSettings
from tests.sms.fake_gateway import FakeGateway


@pytest.fixture
def smsru(shop, settings):
    """The shop sends SMS through a fake SMS.ru on loopback that answers as its
    documentation shows (tests/sms/contracts/README.md, https://sms.ru/api/send)."""
    with FakeGateway("smsru") as fake:
        settings.SMSRU_BASE_URL = fake.base
        settings.SMS_TIMEOUT_SECONDS = 1
        fake.conf = SmsSettings.objects.create(
            shop=shop, gateway="smsru", api_key="F2D79B58-A5A2", sender="AvtoServis", enabled=True
        )
        yield fake
