"""A token never sees another shop: every object route answers 404, lists leave them out."""

import pytest
from django.urls import get_resolver, reverse

from tests.factories import (
    EstimateFactory,
    IntakeRecordFactory,
    LeadFactory,
    OfferVersionFactory,
    SupplierOrderFactory,
)

from .conftest import bearer
from .routes import API_ROUTES

pytestmark = pytest.mark.django_db


def _api_route_names() -> set[str]:
    resolver = get_resolver()
    names = set()
    for pattern in resolver.url_patterns:
        if getattr(pattern, "namespace", None) == "api":
            names |= {f"api:{p.name}" for p in pattern.url_patterns}
    return names


def test_every_api_route_is_in_the_registry():
    assert _api_route_names() == set(API_ROUTES)


@pytest.mark.parametrize("name", sorted(n for n, (build, _m) in API_ROUTES.items() if build))
def test_token_of_other_shop_gets_404(client, shop, other_shop, make_token, name):
    build, methods = API_ROUTES[name]
    url = reverse(name, kwargs=build(other_shop))
    for method in methods:
        response = getattr(client, method)(
            url, data={}, content_type="application/json", **bearer(make_token(shop))
        )
        assert response.status_code == 404, (method, url)
        assert response["Content-Type"] == "application/problem+json"
        assert response.json()["type"].endswith("/api/problems/not-found")


def test_lists_show_only_the_tokens_shop(client, shop, other_shop, make_token):
    mine = LeadFactory(shop=shop)
    LeadFactory(shop=other_shop)
    EstimateFactory(shop=other_shop)
    OfferVersionFactory(offer__shop=other_shop)
    IntakeRecordFactory(shop=other_shop)
    SupplierOrderFactory(shop=other_shop)
    headers = bearer(make_token(shop))
    leads = client.get(reverse("api:leads"), **headers).json()["results"]
    assert [lead["id"] for lead in leads] == [mine.pk]
    for name in ("api:estimates", "api:offers", "api:intake_records", "api:orders"):
        assert client.get(reverse(name), **headers).json()["results"] == [], name


def test_assigning_a_member_of_another_shop_is_refused(api, shop, other_shop):
    from tests.factories import MembershipFactory

    lead = LeadFactory(shop=shop)
    stranger = MembershipFactory(shop=other_shop)
    response = api.post(
        reverse("api:lead_assignee", args=[lead.pk]),
        {"assignee": stranger.pk},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "assignee" in response.json()["errors"]
    lead.refresh_from_db()
    assert lead.assignee_id is None


@pytest.mark.parametrize(
    "path", ["/api/v1/leads/-5/", "/api/v1/leads/1/status/x/", "/api/v1/nothing/"]
)
def test_unknown_api_address_is_a_404_problem(api, path):
    response = api.get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["type"].endswith("/api/problems/not-found")


def test_nul_in_the_query_is_a_400_problem(api):
    response = api.get("/api/v1/leads/", {"status": "new\x00"})
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert "NUL" in response.json()["detail"]


def test_post_to_an_unknown_api_address_is_a_404_problem(shop, make_token):
    from django.test import Client

    # A CRM sends no CSRF token: the browser's check must not answer in its place.
    crm = Client(enforce_csrf_checks=True, **bearer(make_token(shop)))
    response = crm.post("/api/v1/leads/-5/status/", {}, content_type="application/json")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
