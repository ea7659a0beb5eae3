import pytest

from tests.webhooks.receiver import Receiver
from webhooks.services import endpoint_create

ALL_EVENTS = (
    "lead.created",
    "lead.status_changed",
    "lead.assigned",
    "estimate.created",
    "estimate.revised",
    "offer.sent",
    "offer.accepted",
    "intake.sealed",
)


@pytest.fixture
def receiver():
    with Receiver() as running:
        yield running


@pytest.fixture
def endpoint(shop, receiver):
    """An endpoint of the shop for every event, pointing at the loopback receiver; the
    secret is kept on it as `raw_secret` for the tests' own verification."""
    made, secret = endpoint_create(shop=shop, url=receiver.url, events=ALL_EVENTS)
    made.raw_secret = secret
    return made
