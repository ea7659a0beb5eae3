"""A shop's leads reach its CRMs through the outbox: created with phone and staff link,
later events as comments / notes on the same CRM lead, a down or slow CRM retried, a refused
key parked with no further calls until the manager fixes it, then released in order."""

from __future__ import annotations

import pytest
from django.urls import reverse

from autoservice.models import OutboxMessage, OutboxStatus
from autoservice.outbox import outbox_deliver_now
from crm.models import CrmConnection, CrmLeadLink, CrmState
from crm.services import PUSH
from leads.models import Channel, Status
from leads.services import LeadInput, lead_change_status, lead_create
from tests.crm.fake_crm import FakeCrm


@pytest.fixture
def bitrix(shop):
    with FakeCrm("bitrix24") as fake:
        fake.connection = CrmConnection.objects.create(
            shop=shop, kind="bitrix24", enabled=True, webhook_url=fake.webhook_url()
        )
        yield fake


@pytest.fixture
def amo(shop):
    with FakeCrm("amocrm", secret="amo-long-lived-token-0123456789") as fake:
        fake.connection = CrmConnection.objects.create(
            shop=shop,
            kind="amocrm",
            enabled=True,
            base_url=fake.base,
            token=fake.secret,
            pipeline_id=3177727,
            status_id=32392159,
        )
        yield fake


def _new_lead(shop, capture, phone="+79161234567", name="Иван Петров"):
    with capture(execute=True):
        lead, _created = lead_create(
            shop=shop,
            channel=Channel.PHOTO,
            data=LeadInput(
                customer_name=name,
                phone=phone,
                vehicle_make="Kia",
                vehicle_model="Rio",
                description="Помят передний бампер",
            ),
        )
    return lead


def _messages(connection):
    return OutboxMessage.objects.filter(kind=PUSH, payload__connection_id=connection.pk)


def test_a_new_lead_appears_in_both_crms_with_phone_and_staff_link(
    shop, advisor, bitrix, amo, django_capture_on_commit_callbacks
):
    lead = _new_lead(shop, django_capture_on_commit_callbacks)
    staff_url = f"{reverse('leads:lead_detail', kwargs={'lead_id': lead.pk})}"

    (added,) = bitrix.calls("/crm.lead.add")
    fields = added.body["fields"]
    assert fields["PHONE"] == [{"VALUE": "+79161234567", "VALUE_TYPE": "WORK"}]
    assert fields["NAME"] == "Иван Петров" and "Kia Rio" in fields["TITLE"]
    assert staff_url in fields["COMMENTS"] and fields["COMMENTS"].startswith("Канал")
    assert fields["UTM_MEDIUM"] == "photo" and fields["UTM_CAMPAIGN"] == shop.slug

    (complex_call,) = amo.calls("/api/v4/leads/complex")
    contact = complex_call.body[0]["_embedded"]["contacts"][0]
    assert contact["custom_fields_values"][0]["values"][0]["value"] == "+79161234567"
    (details,) = amo.calls("/api/v4/leads/9774766/notes")
    assert staff_url in details.body[0]["params"]["text"]

    assert CrmLeadLink.objects.get(connection=bitrix.connection, lead=lead).remote_id == 3465
    assert CrmLeadLink.objects.get(connection=amo.connection, lead=lead).remote_id == 9774766
    assert set(OutboxMessage.objects.filter(kind=PUSH).values_list("status", flat=True)) == {
        OutboxStatus.SENT
    }
    # Each names the driver: withdrawn consent stops what is not sent yet (the outbox's rule).
    assert set(OutboxMessage.objects.filter(kind=PUSH).values_list("subject_phone", flat=True)) == {
        lead.phone
    }
    bitrix.connection.refresh_from_db()
    assert bitrix.connection.state == CrmState.OK and bitrix.connection.last_ok_at

    # A later status change is a comment / note on the same CRM lead.
    with django_capture_on_commit_callbacks(execute=True):
        lead_change_status(lead=lead, status=Status.IN_PROGRESS, by=advisor)
    (comment,) = bitrix.calls("/crm.timeline.comment.add")
    assert comment.body["fields"]["ENTITY_ID"] == 3465
    assert comment.body["fields"]["ENTITY_TYPE"] == "lead"
    assert "новая → в работе" in comment.body["fields"]["COMMENT"]
    notes = amo.calls("/api/v4/leads/9774766/notes")
    assert len(notes) == 2 and "новая → в работе" in notes[-1].body[0]["params"]["text"]
    assert len(bitrix.calls("/crm.lead.add")) == 1  # never created twice


def test_a_disabled_connection_gets_nothing(shop, bitrix, django_capture_on_commit_callbacks):
    CrmConnection.objects.filter(pk=bitrix.connection.pk).update(enabled=False)
    _new_lead(shop, django_capture_on_commit_callbacks)
    assert bitrix.seen == [] and not _messages(bitrix.connection).exists()


def test_an_event_for_a_lead_the_crm_never_got_creates_it_first(
    shop, advisor, bitrix, django_capture_on_commit_callbacks
):
    CrmConnection.objects.filter(pk=bitrix.connection.pk).update(enabled=False)
    lead = _new_lead(shop, django_capture_on_commit_callbacks)
    CrmConnection.objects.filter(pk=bitrix.connection.pk).update(enabled=True)
    with django_capture_on_commit_callbacks(execute=True):
        lead_change_status(lead=lead, status=Status.IN_PROGRESS, by=advisor)
    assert [s.path.rsplit("/", 1)[-1] for s in bitrix.seen] == [
        "crm.lead.add",
        "crm.timeline.comment.add",
    ]
    assert "в работе" in bitrix.seen[1].body["fields"]["COMMENT"]


def test_a_failing_crm_is_retried_until_it_answers(
    shop, bitrix, django_capture_on_commit_callbacks
):
    bitrix.mode = "fail"
    lead = _new_lead(shop, django_capture_on_commit_callbacks)
    (message,) = _messages(bitrix.connection)
    assert message.status == OutboxStatus.PENDING and message.attempts == 1
    assert "INTERNAL_SERVER_ERROR" in message.last_error
    assert not CrmLeadLink.objects.filter(lead=lead).exists()

    bitrix.mode = "ok"
    assert outbox_deliver_now(message.pk) == "sent"
    assert len(bitrix.calls("/crm.lead.add")) == 2
    assert CrmLeadLink.objects.get(lead=lead).remote_id == 3465


def test_a_slow_crm_times_out_and_is_retried(
    shop, amo, settings, django_capture_on_commit_callbacks
):
    settings.CRM_TIMEOUT_SECONDS = 1
    amo.mode, amo.slow_seconds = "slow", 3
    _new_lead(shop, django_capture_on_commit_callbacks)
    (message,) = _messages(amo.connection)
    assert message.status == OutboxStatus.PENDING and "не ответил за 1 с" in message.last_error
    amo.connection.refresh_from_db()
    assert amo.connection.state != CrmState.ERROR  # slowness is not the manager's to fix
    amo.mode = "ok"
    assert outbox_deliver_now(message.pk) == "sent"


def test_a_refused_key_parks_everything_and_calls_no_more_until_fixed(
    shop, manager_client, bitrix, django_capture_on_commit_callbacks
):
    good = bitrix.webhook_url()
    CrmConnection.objects.filter(pk=bitrix.connection.pk).update(enabled=True)
    bitrix.connection.webhook_url = bitrix.webhook_url("revokedcode")
    bitrix.connection.save()

    first = _new_lead(shop, django_capture_on_commit_callbacks, phone="+79160000001")
    second = _new_lead(shop, django_capture_on_commit_callbacks, phone="+79160000002")
    assert len(bitrix.seen) == 1  # the second lead made no call at all
    assert list(_messages(bitrix.connection).values_list("status", "attempts")) == [
        (OutboxStatus.PARKED, 0),
        (OutboxStatus.PARKED, 0),
    ]
    bitrix.connection.refresh_from_db()
    assert bitrix.connection.state == CrmState.ERROR and bitrix.connection.error_at
    assert "Битрикс24 отклонил ключ вебхука (401" in bitrix.connection.error_message

    # The manager sees it, in Russian, on the settings page.
    page = manager_client.get(reverse("crm:crm_settings")).content.decode()
    assert "Заявки не передаются" in page and "создайте новый входящий вебхук" in page

    # The dispatcher does not pick parked messages up, and they do not make the service
    # look unhealthy (/healthz/ready, the staff banner): the CRM page says what to fix.
    from autoservice.outbox import outbox_backlog, outbox_due

    assert outbox_backlog(shop=shop).undelivered == 0

    assert not set(outbox_due()) & set(_messages(bitrix.connection).values_list("pk", flat=True))

    with django_capture_on_commit_callbacks(execute=True):
        response = manager_client.post(
            reverse("crm:crm_save", kwargs={"kind": "bitrix24"}),
            {"webhook_url": good, "enabled": "on"},
        )
    assert response.status_code == 302
    adds = bitrix.calls("/crm.lead.add")
    assert len(adds) == 3  # the refused one, then both leads, oldest first
    assert [a.body["fields"]["PHONE"][0]["VALUE"] for a in adds[1:]] == [
        first.phone,
        second.phone,
    ]
    assert set(_messages(bitrix.connection).values_list("status", flat=True)) == {OutboxStatus.SENT}
    bitrix.connection.refresh_from_db()
    assert bitrix.connection.state == CrmState.OK and bitrix.connection.error_message == ""


def test_amo_401_parks_until_the_check_passes(
    shop, manager_client, amo, django_capture_on_commit_callbacks
):
    amo.mode = "401"
    lead = _new_lead(shop, django_capture_on_commit_callbacks)
    (message,) = _messages(amo.connection)
    assert message.status == OutboxStatus.PARKED
    amo.connection.refresh_from_db()
    assert "amoCRM отклонил токен (401" in amo.connection.error_message

    amo.mode = "ok"  # the manager renewed the integration in amoCRM
    with django_capture_on_commit_callbacks(execute=True):
        manager_client.post(reverse("crm:crm_check", kwargs={"connection_id": amo.connection.pk}))
    assert CrmLeadLink.objects.get(connection=amo.connection, lead=lead).remote_id == 9774766
    message.refresh_from_db()
    assert message.status == OutboxStatus.SENT


@pytest.mark.django_db(transaction=True)
def test_two_events_delivered_at_once_create_the_crm_lead_once(settings):
    """Two workers deliver two events of a lead the CRM does not have yet, at the same time:
    the second waits for the first, then comments on the lead the first created."""
    from tests.concurrency import run_together
    from tests.factories import LeadFactory, ShopFactory

    shop = ShopFactory()
    lead = LeadFactory(shop=shop)
    with FakeCrm("bitrix24", mode="slow", slow_seconds=0.5) as fake:
        connection = CrmConnection.objects.create(
            shop=shop, kind="bitrix24", enabled=True, webhook_url=fake.webhook_url()
        )
        ids = []
        for n, event in enumerate(["lead.assigned", "lead.status_changed"]):
            # Written straight to the table: queued by nobody, delivered by the two workers.
            message = OutboxMessage.objects.create(
                shop=shop,
                kind=PUSH,
                dedupe_key=f"test-at-once-{n}",
                payload={
                    "connection_id": connection.pk,
                    "lead_id": lead.pk,
                    "event": event,
                    "event_id": f"evt_{n}",
                    "data": {"lead_id": lead.pk, "old": "new", "new": "in_progress"},
                },
            )
            ids.append(message.pk)
        results = run_together(2, lambda i: outbox_deliver_now(ids[i]))
        assert results == ["sent", "sent"]
        follow_ups = OutboxMessage.objects.filter(kind=PUSH).exclude(pk__in=ids)
        for message in follow_ups:
            outbox_deliver_now(message.pk)
    assert len(fake.calls("/crm.lead.add")) == 1
    assert len(fake.calls("/crm.timeline.comment.add")) == 2
    assert CrmLeadLink.objects.filter(lead=lead).count() == 1
