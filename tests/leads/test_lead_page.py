"""The lead page: timeline, assignment, status workflow, response clock, photos."""

from __future__ import annotations

from django.contrib.admin.sites import site
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from leads.models import Lead, LeadDeletion
from tests.factories import LeadFactory, LeadPhotoFactory, MembershipFactory, UserFactory
from tests.s3 import served_bytes, served_file


def test_opening_a_lead_marks_it_read_once(advisor_client, advisor, shop):
    lead = LeadFactory(shop=shop)
    advisor_client.get(reverse("leads:lead_detail", args=[lead.pk]))
    advisor_client.get(reverse("leads:lead_detail", args=[lead.pk]))
    lead.refresh_from_db()
    assert lead.opened_at is not None
    assert list(lead.events.values_list("kind", flat=True)) == ["opened"]


def test_lead_page_shows_contact_links_vehicle_and_consent(advisor_client, shop):
    lead = LeadFactory(shop=shop, phone="+79123456789", description="Вмятина")
    html = advisor_client.get(reverse("leads:lead_detail", args=[lead.pk])).content.decode()
    assert 'href="tel:+79123456789"' in html
    assert "https://wa.me/79123456789" in html
    assert "https://t.me/+79123456789" in html
    assert "+7 912 345-67-89" in html
    assert "Kia Rio" in html and "Вмятина" in html


def test_lead_page_queries_do_not_grow_with_photos_and_events(advisor_client, advisor, shop):
    lead = LeadFactory(shop=shop)
    advisor_client.get(reverse("leads:lead_detail", args=[lead.pk]))

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            advisor_client.get(reverse("leads:lead_detail", args=[lead.pk]))
        return len(queries)

    few = count()
    for _ in range(8):
        LeadPhotoFactory(lead=lead)
        lead.events.create(kind="note", actor=advisor, text="заметка")
    assert count() == few


def test_status_workflow_and_response_clock(advisor_client, advisor, shop):
    lead = LeadFactory(shop=shop)
    url = reverse("leads:lead_detail", args=[lead.pk])
    response = advisor_client.post(url, {"action": "status", "status": "in_progress"})
    assert response.status_code == 302
    lead.refresh_from_db()
    assert lead.status == "in_progress"
    assert lead.first_response_at is not None
    assert lead.assignee == advisor  # taking a lead into work takes it
    # Jumping straight to "won" is not a step of the workflow.
    response = advisor_client.post(url, {"action": "status", "status": "won"})
    assert response.status_code == 400
    lead.refresh_from_db()
    assert lead.status == "in_progress"


def test_lost_requires_a_reason_and_keeps_what_was_typed(advisor_client, shop):
    lead = LeadFactory(shop=shop)
    url = reverse("leads:lead_detail", args=[lead.pk])
    response = advisor_client.post(url, {"action": "status", "status": "lost", "reason": " "})
    assert response.status_code == 400
    assert "Укажите причину отказа" in response.content.decode()
    response = advisor_client.post(
        url, {"action": "status", "status": "lost", "reason": "Дорого, уехал к дилеру"}
    )
    assert response.status_code == 302
    lead.refresh_from_db()
    assert lead.status == "lost" and lead.lost_reason == "Дорого, уехал к дилеру"
    assert "Дорого" in lead.events.filter(kind="status").last().text


def test_note_and_contacted(advisor_client, shop):
    lead = LeadFactory(shop=shop)
    url = reverse("leads:lead_detail", args=[lead.pk])
    response = advisor_client.post(url, {"action": "note", "text": ""})
    assert response.status_code == 400
    assert "Заметка пустая" in response.content.decode()
    advisor_client.post(url, {"action": "contacted", "note": "Записал на завтра 10:00"})
    lead.refresh_from_db()
    assert lead.first_response_at is not None
    assert lead.status == "in_progress"
    assert lead.events.filter(kind="contacted", text="Записал на завтра 10:00").exists()


def test_assign_only_to_own_staff(advisor_client, shop, other_shop):
    lead = LeadFactory(shop=shop)
    colleague = MembershipFactory(shop=shop)
    stranger = MembershipFactory(shop=other_shop)
    url = reverse("leads:lead_detail", args=[lead.pk])
    response = advisor_client.post(url, {"action": "assign", "assignee": stranger.pk})
    assert response.status_code == 400
    advisor_client.post(url, {"action": "assign", "assignee": colleague.pk})
    lead.refresh_from_db()
    assert lead.assignee == colleague


def test_photos_are_served_to_staff_only_and_never_the_original(client, advisor_client, shop):
    photo = LeadPhotoFactory(lead=LeadFactory(shop=shop))
    url = reverse("leads:lead_photo", args=[photo.lead_id, photo.pk, "thumb"])
    response = advisor_client.get(url)
    content, headers = served_file(response)
    assert content.startswith(b"\xff\xd8")
    assert headers["content-type"] == "image/jpeg"
    assert headers["cache-control"].startswith("private")
    original = reverse("leads:lead_photo", args=[photo.lead_id, photo.pk, "original"])
    assert advisor_client.get(original).status_code == 404
    client.logout()
    assert client.get(url).status_code == 302


def test_signed_photo_link_works_and_a_tampered_one_is_404(client, shop):
    from leads.photos import photo_signed_url

    photo = LeadPhotoFactory(lead=LeadFactory(shop=shop))
    url = photo_signed_url(photo, "web").split("://", 1)[1].split("/", 1)[1]
    assert served_bytes(client.get("/" + url)).startswith(b"\xff\xd8")
    assert client.get("/" + url[:-3] + "xyz/").status_code == 404


def test_staff_cannot_delete_a_lead(advisor_client, shop):
    lead = LeadFactory(shop=shop)
    for method in ("delete", "post"):
        response = getattr(advisor_client, method)(f"/staff/leads/{lead.pk}/delete/")
        assert response.status_code in (404, 405)
    assert Lead.objects.filter(pk=lead.pk).exists()
    admin = site._registry[Lead]

    class Request:
        user = MembershipFactory(shop=shop, role="manager").user

    assert admin.has_delete_permission(Request()) is False


def test_admin_deletion_is_recorded(client, shop):
    lead = LeadFactory(shop=shop, customer_name="Удаляемый")
    superuser = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(superuser)
    response = client.post(reverse("admin:leads_lead_delete", args=[lead.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert not Lead.objects.filter(pk=lead.pk).exists()
    record = LeadDeletion.objects.get()
    assert record.deleted_by == superuser
    assert record.lead_number == lead.number
    assert record.snapshot["customer_name"] == "Удаляемый"
