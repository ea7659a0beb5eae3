"""The API keeps its own promise: schemathesis sends examples made from the OpenAPI document
to every operation (through the WSGI app, against the real database) with a valid token of a
shop with data; no answer is a 5xx, every answer matches the document."""

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, strategies
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.factories import (
    EstimateFactory,
    IntakeRecordFactory,
    LeadFactory,
    LeadPhotoFactory,
    MembershipFactory,
    OfferVersionFactory,
    SupplierOrderFactory,
)

pytestmark = [pytest.mark.django_db, pytest.mark.timeout(300)]

EXAMPLES_PER_OPERATION = 20
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def wsgi_app():
    """The app as a server runs it, but keeping the test's connection (and its transaction)
    between requests, as Django's test client does."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.fixture
def shop_with_data(shop):
    member = MembershipFactory(shop=shop)
    leads = [LeadFactory(shop=shop, assignee=member if i % 2 else None) for i in range(5)]
    LeadPhotoFactory(lead=leads[0])
    estimate = EstimateFactory(shop=shop)
    offer = OfferVersionFactory(offer__shop=shop).offer
    record = IntakeRecordFactory(shop=shop)
    order = SupplierOrderFactory(shop=shop)
    return {
        "number": 1,
        "order_id": order.pk,
        "lead_id": leads[0].pk,
        "estimate_id": estimate.pk,
        "offer_id": offer.pk,
        "record_id": record.pk,
    }


def test_every_operation_answers_as_documented(
    wsgi_app, shop, shop_with_data, make_token, settings
):
    settings.API_RATE_PER_MINUTE = 1_000_000
    schema = schemathesis.openapi.from_wsgi("/api/v1/schema/", wsgi_app)
    headers = {"Authorization": f"Bearer {make_token(shop)}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 14

    for operation in operations:
        names = {p.name for p in operation.path_parameters}
        strategy = operation.as_strategy()
        if names:
            # Half of the examples name the shop's real objects, half anything at all.
            real = {name: shop_with_data[name] for name in names}
            strategy = strategies.one_of(strategy, operation.as_strategy(path_parameters=real))

        @given(case=strategy)
        @hypothesis_settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        def answers_as_documented(case):
            case.call_and_validate(headers=headers, checks=CHECKS)

        answers_as_documented()
