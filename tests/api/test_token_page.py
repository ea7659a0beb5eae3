"""The manager's token page: scopes and expiry are picked when the token is made."""

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from autoservice.models import ApiToken

pytestmark = pytest.mark.django_db


def test_manager_picks_scopes_and_expiry(manager_client, manager):
    response = manager_client.post(
        reverse("autoservice:api_tokens"),
        {
            "action": "create",
            "name": "Битрикс24",
            "scopes": ["leads:read", "leads:write"],
            "expires_in_days": "30",
        },
    )
    html = response.content.decode()
    raw = re.search(r'id="new-token">([^<]+)<', html).group(1)
    token = ApiToken.objects.get(shop=manager.shop)
    assert token.scopes == ["leads:read", "leads:write"]
    expected = timezone.now() + dt.timedelta(days=30)
    assert abs(token.expires_at - expected) < dt.timedelta(minutes=1)
    assert raw.startswith(token.prefix)
    page = manager_client.get(reverse("autoservice:api_tokens")).content.decode()
    assert "заявки: чтение" in page
    assert token.expires_at.astimezone(manager.shop.tzinfo).strftime("%d.%m.%Y") in page


def test_token_without_scopes_is_refused_and_the_name_kept(manager_client, manager):
    response = manager_client.post(
        reverse("autoservice:api_tokens"),
        {"action": "create", "name": "1С: Автосервис", "expires_in_days": "90"},
    )
    html = response.content.decode()
    assert "Отметьте хотя бы одно право" in html
    assert 'value="1С: Автосервис"' in html
    assert not ApiToken.objects.exists()


def test_never_expiring_token(manager_client, manager):
    manager_client.post(
        reverse("autoservice:api_tokens"),
        {"action": "create", "name": "CRM", "scopes": ["offers:read"], "expires_in_days": ""},
    )
    assert ApiToken.objects.get().expires_at is None


def test_advisor_cannot_make_tokens(advisor_client, advisor):
    response = advisor_client.post(
        reverse("autoservice:api_tokens"),
        {"action": "create", "name": "CRM", "scopes": ["leads:write"]},
    )
    assert response.status_code in (403, 404)
    assert not ApiToken.objects.exists()
