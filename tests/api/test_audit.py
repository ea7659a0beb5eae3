"""Every write through the API leaves a row on the lead's timeline naming the token that
made it (the shop's audit of who changed what); a refused write leaves none. Reads of
personal data (leads, intake records) are in the access log, named by the token."""

import pytest
from django.urls import reverse

from autoservice.models import ApiToken, PersonalDataAccess
from leads.models import LeadEvent
from tests.factories import IntakeRecordFactory, LeadFactory

from .conftest import bearer
from .routes import API_ROUTES, WRITES

pytestmark = pytest.mark.django_db

WRITE_METHODS = {"post", "put", "patch", "delete"}


def test_every_write_route_is_listed_for_the_audit_test():
    writes = {name for name, (_b, methods) in API_ROUTES.items() if WRITE_METHODS & set(methods)}
    assert writes == set(WRITES)


@pytest.mark.parametrize("name", sorted(WRITES))
def test_every_write_is_audited_with_the_token(client, shop, make_token, name):
    build, body, headers = WRITES[name]
    raw = make_token(shop)
    token = ApiToken.objects.get(shop=shop)
    url = reverse(name, kwargs=build(shop))
    before = set(LeadEvent.objects.values_list("pk", flat=True))
    response = client.post(
        url, body(shop), content_type="application/json", **headers, **bearer(raw)
    )
    assert response.status_code in (200, 201), response.content
    new = LeadEvent.objects.exclude(pk__in=before).filter(lead__shop=shop)
    audited = [e for e in new if e.data.get("api_token") == token.pk]
    assert audited, [e.data for e in new]
    assert all(e.data["api_token_name"] == "amoCRM" for e in audited)
    assert all("amoCRM" in e.text for e in audited)


@pytest.mark.parametrize("name", sorted(WRITES))
def test_a_refused_write_leaves_no_audit_row(client, shop, make_token, name):
    build, _body, headers = WRITES[name]
    raw = make_token(shop)
    url = reverse(name, kwargs=build(shop))
    before = LeadEvent.objects.count()
    response = client.post(
        url,
        {"status": "nonsense", "assignee": "x", "channel": "fax"},
        content_type="application/json",
        **headers,
        **bearer(raw),
    )
    assert response.status_code == 400
    assert LeadEvent.objects.count() == before


@pytest.mark.parametrize(
    ("name", "make", "action"),
    [
        ("api:leads", lambda shop: LeadFactory(shop=shop), "api_leads"),
        ("api:lead", lambda shop: LeadFactory(shop=shop), "api_leads"),
        ("api:intake_records", lambda shop: IntakeRecordFactory(shop=shop), "api_intake"),
        ("api:intake_record", lambda shop: IntakeRecordFactory(shop=shop), "api_intake"),
    ],
)
def test_reading_personal_data_is_in_the_access_log(api, shop, name, make, action):
    obj = make(shop)
    kwargs = {}
    if name == "api:lead":
        kwargs = {"lead_id": obj.pk}
    elif name == "api:intake_record":
        kwargs = {"record_id": obj.pk}
    assert api.get(reverse(name, kwargs=kwargs)).status_code == 200
    [entry] = PersonalDataAccess.objects.filter(shop=shop)
    assert entry.action == action
    assert entry.via_api and entry.actor == "amoCRM" and entry.user is None
    assert entry.object_id == str(obj.pk)
    if name == "api:lead":
        assert entry.lead_number == obj.number
