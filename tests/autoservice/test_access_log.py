"""The audit log of staff access to personal data: written by every view that reveals it,
read by managers only, filtered, paged in a fixed number of queries, pruned after a year."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from autoservice.access import (
    access_log_prune,
    personal_data_access_record_subject,
)
from autoservice.apitokens import token_create
from autoservice.models import AccessAction, PersonalDataAccess
from autoservice.tasks import access_log_prune as access_log_prune_task
from tests.factories import (
    EstimateFactory,
    IntakeRecordFactory,
    LeadFactory,
    LeadPhotoFactory,
    MembershipFactory,
)
from tests.s3 import served_bytes

# --- every view that reveals personal data writes one entry ----------------------------------


def _inbox(shop) -> tuple[str, dict]:
    LeadFactory(shop=shop)
    return reverse("leads:inbox"), {}


def _inbox_poll(shop) -> tuple[str, dict]:
    from leads.selectors import newest_cursor

    seen = LeadFactory(shop=shop, created_at=timezone.now() - dt.timedelta(minutes=5))
    LeadFactory(shop=shop)
    return reverse("leads:inbox_poll") + "?newest=" + newest_cursor([seen]), {}


def _lead(shop) -> tuple[str, dict]:
    lead = LeadFactory(shop=shop, number=4242)
    return reverse("leads:lead_detail", args=[lead.pk]), {"lead_number": 4242}


def _photo(shop) -> tuple[str, dict]:
    photo = LeadPhotoFactory(lead=LeadFactory(shop=shop, number=77))
    url = reverse("leads:lead_photo", args=[photo.lead_id, photo.pk, "web"])
    return url, {"lead_number": 77, "object_id": str(photo.pk)}


def _estimate_with_lead(shop):
    estimate = EstimateFactory(shop=shop)
    estimate.lead = LeadFactory(shop=shop, number=31)
    estimate.save()
    return estimate


def _estimate_list(shop) -> tuple[str, dict]:
    _estimate_with_lead(shop)
    return reverse("smartcalc:estimate_list"), {}


def _estimate_print(shop) -> tuple[str, dict]:
    estimate = _estimate_with_lead(shop)
    url = reverse("smartcalc:estimate_print", args=[estimate.pk, 1])
    return url, {"lead_number": 31, "object_id": str(estimate.pk)}


def _estimate_pdf(shop) -> tuple[str, dict]:
    estimate = _estimate_with_lead(shop)
    url = reverse("smartcalc:estimate_pdf", args=[estimate.pk, 1])
    return url, {"lead_number": 31, "object_id": str(estimate.pk)}


def _intake_list(shop) -> tuple[str, dict]:
    IntakeRecordFactory(shop=shop)
    return reverse("intake:intake_list"), {}


def _intake_record(shop) -> tuple[str, dict]:
    record = IntakeRecordFactory(shop=shop, lead=LeadFactory(shop=shop, number=55))
    url = reverse("intake:intake_record", args=[record.pk])
    return url, {"lead_number": 55, "object_id": str(record.pk)}


def _intake_act(shop) -> tuple[str, dict]:
    record = IntakeRecordFactory(shop=shop)
    return reverse("intake:intake_act", args=[record.pk]), {"object_id": str(record.pk)}


def _intake_export(shop) -> tuple[str, dict]:
    record = IntakeRecordFactory(shop=shop)
    return reverse("intake:intake_export", args=[record.pk]), {"object_id": str(record.pk)}


STAFF_VIEWS: dict[str, tuple[Callable, str]] = {
    "inbox": (_inbox, AccessAction.LEADS_LISTED),
    "inbox_poll": (_inbox_poll, AccessAction.LEADS_LISTED),
    "lead_detail": (_lead, AccessAction.LEAD_VIEWED),
    "lead_photo": (_photo, AccessAction.PHOTO_VIEWED),
    "estimate_list": (_estimate_list, AccessAction.ESTIMATES_LISTED),
    "estimate_print": (_estimate_print, AccessAction.ESTIMATE_VIEWED),
    "estimate_pdf": (_estimate_pdf, AccessAction.ESTIMATE_VIEWED),
    "intake_list": (_intake_list, AccessAction.INTAKE_LISTED),
    "intake_record": (_intake_record, AccessAction.INTAKE_VIEWED),
    "intake_act": (_intake_act, AccessAction.INTAKE_ACT_DOWNLOADED),
    "intake_export": (_intake_export, AccessAction.INTAKE_EXPORTED),
}


@pytest.mark.parametrize("view", sorted(STAFF_VIEWS))
def test_each_view_that_reveals_personal_data_writes_one_entry(advisor_client, advisor, view):
    build, action = STAFF_VIEWS[view]
    url, expected = build(advisor.shop)
    response = advisor_client.get(url, REMOTE_ADDR="198.51.100.23")
    if view == "lead_photo":
        # Streamed, or (object storage) a redirect to a presigned link that opens it.
        assert served_bytes(response).startswith(b"\xff\xd8"), view
    else:
        if hasattr(response, "streaming_content"):
            b"".join(response.streaming_content)
        assert response.status_code == 200, view
    entry = PersonalDataAccess.objects.get()
    assert entry.shop == advisor.shop
    assert entry.user == advisor.user
    assert entry.actor == advisor.display_name
    assert entry.action == action
    assert entry.ip_address == "198.51.100.23"
    assert not entry.via_api
    for field, value in expected.items():
        assert getattr(entry, field) == value, (view, field)


def test_an_inbox_page_of_many_rows_is_one_entry(advisor_client, advisor):
    for _ in range(12):
        LeadFactory(shop=advisor.shop)
    advisor_client.get(reverse("leads:inbox"))
    assert PersonalDataAccess.objects.count() == 1


def test_an_inbox_poll_that_brings_no_new_rows_writes_nothing(advisor_client, advisor):
    LeadFactory(shop=advisor.shop)
    page = advisor_client.get(reverse("leads:inbox")).content.decode()
    newest = re.search(r"newest=([A-Za-z0-9_\-]+)", page).group(1)
    PersonalDataAccess.objects.all().delete()
    advisor_client.get(reverse("leads:inbox_poll"), {"newest": newest})
    assert not PersonalDataAccess.objects.exists()


def test_thumbnails_on_the_lead_page_are_not_logged_one_by_one(advisor_client, advisor):
    photo = LeadPhotoFactory(lead=LeadFactory(shop=advisor.shop))
    advisor_client.get(reverse("leads:lead_photo", args=[photo.lead_id, photo.pk, "thumb"]))
    assert not PersonalDataAccess.objects.exists()


def test_another_shops_lead_is_404_and_logs_nothing(advisor_client, other_shop):
    lead = LeadFactory(shop=other_shop)
    response = advisor_client.get(reverse("leads:lead_detail", args=[lead.pk]))
    assert response.status_code == 404
    assert not PersonalDataAccess.objects.exists()


@pytest.mark.parametrize("single", [False, True])
def test_the_intake_api_logs_the_tokens_name(client, shop, single):
    record = IntakeRecordFactory(shop=shop)
    _token, raw = token_create(shop=shop, name="CRM Битрикс24")
    url = (
        reverse("intake:api_intake_record", args=[record.pk])
        if single
        else reverse("intake:api_intake_records")
    )
    response = client.get(url, HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 200
    entry = PersonalDataAccess.objects.get()
    assert entry.actor == "CRM Битрикс24" and entry.via_api and entry.user is None
    assert entry.action == AccessAction.API_INTAKE
    assert entry.object_id == str(record.pk)


def test_a_refused_api_token_logs_nothing(client, shop):
    IntakeRecordFactory(shop=shop)
    response = client.get(reverse("intake:api_intake_records"), HTTP_AUTHORIZATION="Bearer nope")
    assert response.status_code == 401
    assert not PersonalDataAccess.objects.exists()


def test_subject_export_and_erasure_entries_for_other_services(manager):
    entry = personal_data_access_record_subject(
        shop=manager.shop,
        by=manager,
        action=AccessAction.SUBJECT_ERASED,
        object_type="destruction_act",
        object_id=12,
        ip="203.0.113.9",
    )
    assert entry.actor == manager.display_name and entry.user == manager.user
    by_command = personal_data_access_record_subject(
        shop=manager.shop,
        by=None,
        action=AccessAction.SUBJECT_EXPORTED,
        actor="manage.py export_subject",
    )
    assert by_command.actor == "manage.py export_subject" and by_command.user is None


# --- the manager's page ------------------------------------------------------------------------


def _entry(shop, member, action=AccessAction.LEAD_VIEWED, days_ago=0, lead_number=None):
    entry = PersonalDataAccess.objects.create(
        shop=shop,
        user=member.user,
        actor=member.display_name,
        action=action,
        object_type="lead",
        lead_number=lead_number,
    )
    if days_ago:
        PersonalDataAccess.objects.filter(pk=entry.pk).update(
            created_at=timezone.now() - dt.timedelta(days=days_ago)
        )
    return entry


def _row_ids(html: str) -> int:
    return html.count('class="access-row"')


def test_advisors_cannot_read_the_log(advisor_client):
    response = advisor_client.get(reverse("autoservice:access_log"))
    assert response.status_code == 403
    assert "руководител" in response.content.decode()


def test_manager_sees_own_shops_entries_only(manager_client, manager, other_shop):
    _entry(manager.shop, manager, lead_number=101)
    stranger = MembershipFactory(shop=other_shop)
    _entry(other_shop, stranger, lead_number=909)
    html = manager_client.get(reverse("autoservice:access_log")).content.decode()
    assert "№101" in html and "№909" not in html
    assert stranger.display_name not in html


def test_the_log_filters_by_staff_member_action_dates_and_lead(manager_client, manager):
    shop = manager.shop
    advisor = MembershipFactory(shop=shop)
    _entry(shop, advisor, AccessAction.LEAD_VIEWED, lead_number=7)
    _entry(shop, advisor, AccessAction.PHOTO_VIEWED, lead_number=8)
    _entry(shop, manager, AccessAction.LEAD_VIEWED, days_ago=10, lead_number=7)
    url = reverse("autoservice:access_log")

    def rows(**params) -> int:
        response = manager_client.get(url, params)
        assert response.status_code == 200, response.content.decode()[:500]
        return _row_ids(response.content.decode())

    assert rows() == 3
    assert rows(user=advisor.user_id) == 2
    assert rows(action=AccessAction.PHOTO_VIEWED) == 1
    assert rows(lead_number=7) == 2
    today = timezone.localdate().isoformat()
    assert rows(date_from=today) == 2
    old = (timezone.localdate() - dt.timedelta(days=10)).isoformat()
    assert rows(date_from=old, date_to=old) == 1
    assert rows(user=advisor.user_id, action=AccessAction.LEAD_VIEWED, lead_number=7) == 1


def test_bad_filters_are_explained_and_kept(manager_client):
    response = manager_client.get(
        reverse("autoservice:access_log"),
        {"lead_number": "седьмая", "date_from": "2026-05-02", "date_to": "2026-05-01"},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Номер заявки — целое число" in html
    assert "Дата «по» раньше даты «с»" in html
    assert 'value="седьмая"' in html
    bad_cursor = manager_client.get(reverse("autoservice:access_log"), {"before": "²"})
    assert bad_cursor.status_code == 400


def test_the_log_pages_by_cursor_in_a_fixed_number_of_queries(manager_client, manager):
    shop = manager.shop
    url = reverse("autoservice:access_log")
    _entry(shop, manager)
    manager_client.get(url)

    def count() -> tuple[int, str]:
        with CaptureQueriesContext(connection) as queries:
            html = manager_client.get(url).content.decode()
        return len(queries), html

    few, _html = count()
    members = [MembershipFactory(shop=shop) for _ in range(5)]
    for n in range(60):
        _entry(shop, members[n % 5], lead_number=n + 1)
    many, html = count()
    assert many == few
    # Session, user, membership, the staff list for the filter, the rows, the layout's name
    # of the staff member, the notification banner, the manager's CRM banner.
    assert many == 8
    assert _row_ids(html) == 50
    after = re.search(r"before=(\d+)", html).group(1)
    second = manager_client.get(url, {"before": after}).content.decode()
    assert _row_ids(second) == 11
    assert "before=" not in second


def test_the_log_is_read_only_in_the_admin(admin_client, manager):
    entry = _entry(manager.shop, manager)
    change = reverse("admin:autoservice_personaldataaccess_change", args=[entry.pk])
    assert admin_client.get(change).status_code == 200
    assert admin_client.post(change, {"actor": "кто-то другой"}).status_code == 403
    delete = reverse("admin:autoservice_personaldataaccess_delete", args=[entry.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    entry.refresh_from_db()
    assert entry.actor == manager.display_name


# --- retention -----------------------------------------------------------------------------


def test_pruning_keeps_recent_entries_and_removes_old_ones(manager, settings):
    settings.ACCESS_LOG_RETENTION_DAYS = 365
    recent = _entry(manager.shop, manager, days_ago=364)
    today = _entry(manager.shop, manager)
    _entry(manager.shop, manager, days_ago=366)
    _entry(manager.shop, manager, days_ago=900)
    assert access_log_prune() == 2
    assert set(PersonalDataAccess.objects.values_list("pk", flat=True)) == {recent.pk, today.pk}


def test_the_retention_period_is_a_setting(manager, settings):
    settings.ACCESS_LOG_RETENTION_DAYS = 30
    _entry(manager.shop, manager, days_ago=31)
    kept = _entry(manager.shop, manager, days_ago=29)
    assert access_log_prune_task.apply().get() == 1
    assert list(PersonalDataAccess.objects.values_list("pk", flat=True)) == [kept.pk]


def test_pruning_runs_daily_from_beat(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["autoservice-access-log-prune"]
    assert entry["task"] == "autoservice.tasks.access_log_prune"
    assert entry["schedule"].remaining_estimate(timezone.now()) <= dt.timedelta(days=1)
