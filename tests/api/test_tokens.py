"""Tokens: scopes, expiry, revocation, last use, the request budget."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from autoservice.models import ApiScope, ApiToken
from tests.factories import LeadFactory

from .conftest import bearer

pytestmark = pytest.mark.django_db


def _problem(response, status: int, slug: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["type"].endswith(f"/api/problems/{slug}")
    assert body["status"] == status
    assert body["title"] and body["detail"]
    return body


def test_no_token_is_401_problem_with_bearer_challenge(client, shop):
    response = client.get(reverse("api:leads"))
    body = _problem(response, 401, "unauthorized")
    assert "Authorization" in body["detail"]
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_wrong_token_is_401(client, shop):
    response = client.get(reverse("api:leads"), **bearer("sto_not-a-token"))
    _problem(response, 401, "unauthorized")
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_expired_token_is_401(client, shop, make_token):
    raw = make_token(shop, expires_at=timezone.now() - dt.timedelta(seconds=1))
    _problem(client.get(reverse("api:leads"), **bearer(raw)), 401, "unauthorized")


def test_token_before_its_expiry_works(client, shop, make_token):
    raw = make_token(shop, expires_at=timezone.now() + dt.timedelta(days=1))
    assert client.get(reverse("api:leads"), **bearer(raw)).status_code == 200


def test_revoked_token_is_401(client, shop, make_token):
    raw = make_token(shop)
    ApiToken.objects.filter(shop=shop).update(is_active=False)
    _problem(client.get(reverse("api:leads"), **bearer(raw)), 401, "unauthorized")


def test_read_token_cannot_write(client, shop, make_token):
    raw = make_token(shop, scopes=[ApiScope.LEADS_READ])
    lead = LeadFactory(shop=shop)
    assert client.get(reverse("api:lead", args=[lead.pk]), **bearer(raw)).status_code == 200
    response = client.post(
        reverse("api:lead_status", args=[lead.pk]),
        {"status": "in_progress"},
        content_type="application/json",
        **bearer(raw),
    )
    body = _problem(response, 403, "forbidden")
    assert "leads:write" in body["detail"]
    lead.refresh_from_db()
    assert lead.status == "new"


def test_token_without_the_resource_scope_is_403(client, shop, make_token):
    raw = make_token(shop, scopes=[ApiScope.INTAKE_READ])
    for name in ("api:leads", "api:estimates", "api:offers"):
        _problem(client.get(reverse(name), **bearer(raw)), 403, "forbidden")
    assert client.get(reverse("api:intake_records"), **bearer(raw)).status_code == 200


def test_use_is_recorded(client, shop, make_token):
    raw = make_token(shop)
    client.get(reverse("api:leads"), **bearer(raw))
    assert ApiToken.objects.get(shop=shop).last_used_at is not None


def test_rate_limit_answers_429_with_retry_after(client, shop, make_token, settings):
    settings.API_RATE_PER_MINUTE = 3
    raw = make_token(shop)
    other = make_token(shop)
    for _ in range(3):
        assert client.get(reverse("api:leads"), **bearer(raw)).status_code == 200
    response = client.get(reverse("api:leads"), **bearer(raw))
    body = _problem(response, 429, "rate-limited")
    assert 1 <= int(response["Retry-After"]) <= 60
    assert response["Retry-After"] in body["detail"]
    # The budget is the token's own: another token of the same shop still gets through.
    assert client.get(reverse("api:leads"), **bearer(other)).status_code == 200


def test_tokens_made_before_scopes_keep_reading_intake_records(shop):
    import importlib

    from django.apps import apps

    from autoservice.apitokens import shop_for_token, token_create

    _token, raw = token_create(shop=shop, name="старая CRM", scopes=[])
    migration = importlib.import_module("autoservice.migrations.0010_api_token_scopes_expiry")
    migration._existing_tokens_keep_intake(apps, None)
    assert ApiToken.objects.get(shop=shop).scopes == ["intake:read"]
    assert shop_for_token(raw, scope="intake:read") == shop
    assert shop_for_token(raw, scope="leads:read") is None
