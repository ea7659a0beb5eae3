"""The leads resource: list with cursor and filters, read, create by key, status, assignment."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from autoservice.consent import consent_record_make
from leads.models import EventKind, Lead, LeadEvent
from tests.factories import LeadFactory, LeadPhotoFactory, MembershipFactory
from tests.s3 import served_bytes, served_file, stored_bytes

pytestmark = pytest.mark.django_db

NEW_LEAD = {
    "channel": "phone",
    "customer_name": "Сергей",
    "phone": "8 (912) 345-67-89",
    "vehicle_make": "Lada",
    "vehicle_model": "Vesta",
    "description": "Звонил: вмятина на задней левой двери",
}


def _post(api, url, body, **headers):
    return api.post(url, body, content_type="application/json", **headers)


def _walk(api, url):
    seen = []
    while url:
        page = api.get(url).json()
        seen += [lead["id"] for lead in page["results"]]
        url = page["next"]
    return seen


# --- list ---------------------------------------------------------------------------------


def test_cursor_pages_walk_every_lead_once_newest_first(api, shop):
    now = timezone.now()
    leads = [LeadFactory(shop=shop, created_at=now - dt.timedelta(minutes=i)) for i in range(7)]
    # Two leads at the very same moment still come once each.
    leads.append(LeadFactory(shop=shop, created_at=leads[3].created_at))
    seen = _walk(api, reverse("api:leads") + "?limit=3")
    assert sorted(seen) == sorted(lead.pk for lead in leads)
    assert len(seen) == len(set(seen))
    assert seen[0] == leads[0].pk


def test_filters_status_and_channel(api, shop):
    wanted = LeadFactory(shop=shop, status="in_progress", channel="phone")
    LeadFactory(shop=shop, status="in_progress", channel="photo")
    LeadFactory(shop=shop, status="new", channel="phone")
    page = api.get(reverse("api:leads"), {"status": "in_progress", "channel": "phone"}).json()
    assert [lead["id"] for lead in page["results"]] == [wanted.pk]


def test_updated_since_returns_leads_with_later_timeline(api, shop):
    old = LeadFactory(shop=shop)
    fresh = LeadFactory(shop=shop)
    then = timezone.now() - dt.timedelta(days=2)
    LeadEvent.objects.create(lead=old, kind=EventKind.NOTE, text="давно", created_at=then)
    LeadEvent.objects.create(lead=fresh, kind=EventKind.NOTE, text="сейчас")
    since = (timezone.now() - dt.timedelta(hours=1)).isoformat()
    page = api.get(reverse("api:leads"), {"updated_since": since}).json()
    assert [lead["id"] for lead in page["results"]] == [fresh.pk]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"updated_since": "вчера"}, "updated_since"),
        ({"updated_since": "2026-13-01T00:00:00"}, "updated_since"),
        ({"status": "deleted"}, "status"),
        ({"channel": "fax"}, "channel"),
        ({"cursor": "not-a-cursor"}, "cursor"),
    ],
)
def test_bad_query_is_400_problem_naming_the_parameter(api, shop, params, field):
    response = api.get(reverse("api:leads"), params)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["type"].endswith("/api/problems/validation")
    assert field in body["errors"]
    assert field in body["detail"] or body["errors"][field]


def test_list_query_count_does_not_grow_with_the_page(api, shop):
    member = MembershipFactory(shop=shop)
    for _ in range(3):
        lead = LeadFactory(shop=shop, assignee=member)
        LeadPhotoFactory(lead=lead)
    api.get(reverse("api:leads"))  # the token's last use is written once a minute
    with CaptureQueriesContext(connection) as few:
        assert api.get(reverse("api:leads")).status_code == 200
    for _ in range(20):
        lead = LeadFactory(shop=shop, assignee=MembershipFactory(shop=shop))
        LeadPhotoFactory(lead=lead)
    with CaptureQueriesContext(connection) as many:
        page = api.get(reverse("api:leads")).json()
    assert len(page["results"]) == 23
    assert len(many) == len(few) == 3  # the token, the page, the access log entry


# --- read ---------------------------------------------------------------------------------


def test_lead_shows_photos_as_signed_links_consent_and_timeline(api, client, shop):
    from autoservice.consent import consent_text_current

    consent = consent_record_make(
        shop=shop,
        text=consent_text_current(shop),
        name="Анна",
        phone="+79120000001",
        ip=None,
        user_agent="test",
    )
    lead = LeadFactory(shop=shop, consent=consent)
    photo = LeadPhotoFactory(lead=lead)
    LeadEvent.objects.create(lead=lead, kind=EventKind.CREATED, text="Заявка получена")
    body = api.get(reverse("api:lead", args=[lead.pk])).json()
    assert body["consent"]["subject_name"] == "Анна"
    assert body["timeline"][0]["text"] == "Заявка получена"
    assert body["photo_count"] == 1
    [shown] = body["photos"]
    assert shown["id"] == photo.pk
    # The link opens the picture without a token or a session.
    path = shown["web_url"].split("://", 1)[1].split("/", 1)[1]
    client.defaults.pop("HTTP_AUTHORIZATION", None)
    content, headers = served_file(client.get("/" + path))
    assert headers["content-type"] == "image/jpeg"
    # The picture itself, from wherever it is stored (the folder, or the bucket behind the
    # presigned redirect that served_file follows).
    assert content == stored_bytes(photo.web.name)


def test_photo_link_is_short_lived(api, client, shop):
    from leads.photos import photo_signed_url

    lead = LeadFactory(shop=shop)
    photo = LeadPhotoFactory(lead=lead)
    client.defaults.pop("HTTP_AUTHORIZATION", None)
    expired = photo_signed_url(photo, "thumb", max_age_s=-1)
    assert client.get("/" + expired.split("://", 1)[1].split("/", 1)[1]).status_code == 404
    fresh = photo_signed_url(photo, "thumb", max_age_s=60)
    opened = client.get("/" + fresh.split("://", 1)[1].split("/", 1)[1])
    assert served_bytes(opened) == stored_bytes(photo.thumb.name)


def test_unknown_lead_is_404_problem(api, shop):
    response = api.get(reverse("api:lead", args=[999999]))
    assert response.status_code == 404
    assert response.json()["type"].endswith("/api/problems/not-found")


# --- create -------------------------------------------------------------------------------


def test_create_with_key_makes_one_lead_and_repeats_answer_200(api, shop):
    url = reverse("api:leads")
    first = _post(api, url, NEW_LEAD, HTTP_IDEMPOTENCY_KEY="call-2026-001")
    assert first.status_code == 201, first.content
    body = first.json()
    assert body["phone"] == "+79123456789"
    assert body["channel"] == "phone"
    again = _post(api, url, NEW_LEAD, HTTP_IDEMPOTENCY_KEY="call-2026-001")
    assert again.status_code == 200
    assert again.json()["id"] == body["id"]
    assert Lead.objects.filter(shop=shop).count() == 1
    # The timeline names the token that made it.
    created = LeadEvent.objects.get(lead_id=body["id"], kind=EventKind.CREATED)
    assert created.data["api_token_name"] == "amoCRM"
    assert "amoCRM" in created.text
    # The customer and car the request was matched to; a second call is the same customer.
    lead = Lead.objects.get(pk=body["id"])
    assert (body["customer_id"], body["car_id"]) == (lead.customer_id, lead.car_id)
    assert body["customer_id"] is not None and body["car_id"] is not None
    other = _post(api, url, {**NEW_LEAD, "phone": "+7 912 345 67 89"}, HTTP_IDEMPOTENCY_KEY="k2")
    assert other.json()["customer_id"] == body["customer_id"]


def test_same_key_with_another_body_is_409(api, shop):
    url = reverse("api:leads")
    assert _post(api, url, NEW_LEAD, HTTP_IDEMPOTENCY_KEY="k-1").status_code == 201
    response = _post(api, url, {**NEW_LEAD, "customer_name": "Пётр"}, HTTP_IDEMPOTENCY_KEY="k-1")
    assert response.status_code == 409
    assert response.json()["type"].endswith("/api/problems/conflict")
    assert Lead.objects.filter(shop=shop).count() == 1


def test_same_key_in_another_shop_is_another_lead(client, shop, other_shop, make_token):
    from .conftest import bearer

    for s in (shop, other_shop):
        response = client.post(
            reverse("api:leads"),
            NEW_LEAD,
            content_type="application/json",
            HTTP_IDEMPOTENCY_KEY="same",
            **bearer(make_token(s)),
        )
        assert response.status_code == 201
    assert Lead.objects.filter(shop=other_shop).count() == 1


def test_create_without_key_is_400(api, shop):
    response = _post(api, reverse("api:leads"), NEW_LEAD)
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["errors"]
    assert not Lead.objects.exists()


def test_create_with_bad_fields_names_each(api, shop):
    response = _post(
        api,
        reverse("api:leads"),
        {**NEW_LEAD, "phone": "123", "channel": "photo", "customer_name": ""},
        HTTP_IDEMPOTENCY_KEY="k-2",
    )
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    errors = response.json()["errors"]
    assert set(errors) == {"phone", "channel", "customer_name"}
    assert "+7" in errors["phone"][0]


def test_body_that_is_not_json_is_400_problem(api, shop):
    response = api.post(
        reverse("api:leads"),
        "{not json",
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="k-3",
    )
    assert response.status_code == 400
    assert response.json()["type"].endswith("/api/problems/malformed")


def test_messenger_is_a_channel(api, shop):
    response = _post(
        api, reverse("api:leads"), {**NEW_LEAD, "channel": "messenger"}, HTTP_IDEMPOTENCY_KEY="m"
    )
    assert response.status_code == 201
    assert response.json()["channel"] == "messenger"


# --- status and assignment ----------------------------------------------------------------


def test_status_change_follows_the_workflow_and_is_audited(api, shop):
    lead = LeadFactory(shop=shop)
    url = reverse("api:lead_status", args=[lead.pk])
    response = _post(api, url, {"status": "in_progress"})
    assert response.status_code == 200
    assert response.json()["status"] == "in_progress"
    lead.refresh_from_db()
    assert lead.first_response_at is not None  # the shop answered
    event = LeadEvent.objects.get(lead=lead, kind=EventKind.STATUS)
    assert event.data["api_token_name"] == "amoCRM"
    assert response.json()["timeline"][-1]["api_token"] == "amoCRM"


def test_status_jump_outside_the_workflow_is_409(api, shop):
    lead = LeadFactory(shop=shop)
    response = _post(api, reverse("api:lead_status", args=[lead.pk]), {"status": "won"})
    assert response.status_code == 409
    assert "«новая»" in response.json()["detail"]
    lead.refresh_from_db()
    assert lead.status == "new"


def test_lost_needs_a_reason(api, shop):
    lead = LeadFactory(shop=shop)
    url = reverse("api:lead_status", args=[lead.pk])
    response = _post(api, url, {"status": "lost"})
    assert response.status_code == 400
    assert "reason" in response.json()["errors"]
    assert _post(api, url, {"status": "lost", "reason": "дорого"}).status_code == 200


def test_assign_and_unassign_are_audited(api, shop):
    lead = LeadFactory(shop=shop)
    member = MembershipFactory(shop=shop)
    url = reverse("api:lead_assignee", args=[lead.pk])
    body = _post(api, url, {"assignee": member.pk}).json()
    assert body["assignee"]["id"] == member.pk
    body = _post(api, url, {"assignee": None}).json()
    assert body["assignee"] is None
    events = LeadEvent.objects.filter(lead=lead, kind=EventKind.ASSIGNED)
    assert [e.data["api_token_name"] for e in events] == ["amoCRM", "amoCRM"]


@pytest.mark.parametrize("name", ["api:leads", "api:intake_records"])
def test_offset_beyond_what_the_database_takes_is_still_read(api, shop, name):
    # ISO 8601 allows −23:36; PostgreSQL stops at ±15:59.
    response = api.get(reverse(name), {"updated_since": "2026-01-21T16:57:51-23:36"})
    assert response.status_code == 200


def test_old_intake_path_reads_a_far_offset_too(api, shop):
    response = api.get("/api/v1/intake/", {"updated_since": "2026-01-21T16:57:51-23:36"})
    assert response.status_code == 200
