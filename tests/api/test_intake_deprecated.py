"""The old intake endpoints keep working, say they are deprecated, and name the new path."""

import pytest
from django.urls import reverse

from tests.factories import IntakeRecordFactory

from .conftest import bearer

pytestmark = pytest.mark.django_db


def test_old_path_answers_as_before_with_deprecation_headers(client, shop, make_token):
    record = IntakeRecordFactory(shop=shop)
    raw = make_token(shop, scopes=["intake:read"])
    old = client.get("/api/v1/intake/", **bearer(raw))
    assert old.status_code == 200
    assert old["Deprecation"].startswith("@")
    assert 'rel="successor-version"' in old["Link"]
    assert "/api/v1/intake/records/" in old["Link"]
    new = client.get(reverse("api:intake_records"), **bearer(raw)).json()
    assert new["results"] == old.json()["results"]
    one = client.get(reverse("api:intake_record", args=[record.pk]), **bearer(raw)).json()
    assert one == client.get(f"/api/v1/intake/{record.pk}/", **bearer(raw)).json()


def test_old_path_needs_the_intake_scope(client, shop, make_token):
    raw = make_token(shop, scopes=["leads:read"])
    response = client.get("/api/v1/intake/", **bearer(raw))
    assert response.status_code == 403
    assert response["Deprecation"].startswith("@")


def test_refusals_of_the_old_path_are_marked_too(client, shop):
    response = client.get("/api/v1/intake/")
    assert response.status_code == 401
    assert response["Deprecation"].startswith("@")
