"""CRM connections: what a shop's events become in its CRM, and the manager's actions.

A shop event about a lead (autoservice.events) becomes, for every enabled CRM of the shop,
one outbox row (`crm.push`) written in the event's transaction; the outbox delivers it after
commit with retries. The handler makes exactly one call to the CRM per delivery: the lead's
first message creates the CRM lead (Bitrix24 crm.lead.add, amoCRM leads/complex) and records
the link; every later event becomes a timeline comment (Bitrix24) or a note (amoCRM) on that
same CRM lead. When a later event arrives for a lead the CRM never got, the lead is created
first and the event's text follows as its own outbox row, written with the link in one
transaction, so a failed comment never creates the lead twice.

When the CRM refuses the key (401 and its kin), the connection turns to "error" with the
CRM's words and what to do, the message is parked (kept, not retried), and every later
message of that connection is parked without a call. Saving a new key, a passing check or a
passing test lead releases the parked messages, oldest first.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import connection as db_connection
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from autoservice import events
from autoservice.models import Membership, OutboxMessage, OutboxStatus, Shop
from autoservice.money import format_rub
from autoservice.outbox import OutboxParked, outbox_put, outbox_release, register_handler
from leads.models import Channel, Lead, Status

from .clients import (
    AmoCrm,
    Bitrix24,
    CrmError,
    CrmLead,
    CrmSettingsError,
)
from .models import CrmConnection, CrmKind, CrmLeadLink, CrmState

log = logging.getLogger(__name__)

PUSH = "crm.push"
TAG = "Цифровая стойка"

# How our channels look in Bitrix24's SOURCE_ID directory (documented defaults).
_SOURCE_IDS = {
    Channel.PHOTO: "WEB",
    Channel.CALCULATOR: "WEB",
    Channel.PHONE: "CALL",
    Channel.WALK_IN: "OTHER",
    Channel.MESSENGER: "OTHER",
}


def lead_staff_url(lead: Lead) -> str:
    return settings.SITE_URL + reverse("leads:lead_detail", kwargs={"lead_id": lead.pk})


def crm_lead_for(lead: Lead, *, request_id: str = "") -> CrmLead:
    vehicle = " ".join(p for p in (lead.vehicle_make, lead.vehicle_model) if p)
    title = _("Заявка №%(n)s") % {"n": lead.number}
    if vehicle:
        title = f"{title}: {vehicle}"
    lines = [
        _("Канал: %(c)s") % {"c": lead.get_channel_display()},
        vehicle and (_("Автомобиль: %(v)s") % {"v": vehicle}),
        lead.vehicle_year and (_("Год выпуска: %(y)s") % {"y": lead.vehicle_year}),
        lead.plate and (_("Госномер: %(p)s") % {"p": lead.plate}),
        lead.email and (_("E-mail: %(e)s") % {"e": lead.email}),
        lead.description,
    ]
    return CrmLead(
        title=title,
        name=lead.customer_name,
        phone=lead.phone,
        comments="\n".join(str(line) for line in lines if line),
        link=lead_staff_url(lead),
        source_id=_SOURCE_IDS.get(lead.channel, "OTHER"),
        source_description=_("Цифровая стойка автосервиса: %(c)s")
        % {"c": lead.get_channel_display()},
        utm_source="sto-frontdesk",
        utm_medium=lead.channel,
        utm_campaign=lead.shop.slug,
        request_id=request_id,
        tags=(TAG,),
    )


def crm_test_lead(shop: Shop) -> CrmLead:
    """A lead marked as a test, to see the connection work end to end."""
    return CrmLead(
        title=_("ТЕСТ: проверка подключения (%(shop)s)") % {"shop": shop.name},
        name=_("Тестовый клиент"),
        phone=shop.phone or "+70000000000",
        comments=_("Тестовая заявка из Цифровой стойки автосервиса; её можно удалить."),
        link=settings.SITE_URL + reverse("crm:crm_settings"),
        source_id="OTHER",
        source_description=_("Цифровая стойка автосервиса: тест"),
        utm_source="sto-frontdesk",
        utm_medium="test",
        utm_campaign=shop.slug,
        tags=(TAG, _("тест")),
    )


def event_note(*, event_type: str, data: dict, lead: Lead) -> str:
    """The words a later event leaves on the CRM lead."""
    label = str(events.EVENT_TYPES.get(event_type, event_type))
    head = _("%(what)s (заявка №%(n)s)") % {"what": label, "n": lead.number}
    detail = ""
    if event_type == events.LEAD_STATUS_CHANGED:
        labels = dict(Status.choices)
        detail = f"{labels.get(data.get('old'), data.get('old'))} → " + str(
            labels.get(data.get("new"), data.get("new"))
        )
        if data.get("new") == Status.LOST and data.get("lost_reason"):
            detail += "\n" + _("Причина: %(r)s") % {"r": data["lost_reason"]}
    elif event_type == events.LEAD_ASSIGNED:
        member = (
            Membership.objects.filter(pk=data.get("assignee_id"), shop_id=lead.shop_id)
            .select_related("user")
            .first()
        )
        detail = member.display_name if member else _("без ответственного")
    elif data.get("accepted_total_rub"):
        detail = _("Сумма: %(s)s") % {"s": format_rub(data["accepted_total_rub"])}
    elif data.get("total_rub"):
        detail = _("Сумма по смете: %(s)s") % {"s": format_rub(data["total_rub"])}
    parts = [f"{head}: {detail}" if detail else head, lead_staff_url(lead)]
    return "\n".join(parts)


def _client(connection: CrmConnection) -> Bitrix24 | AmoCrm:
    if connection.kind == CrmKind.BITRIX24:
        return Bitrix24(connection.webhook_url)
    return AmoCrm(
        connection.base_url,
        connection.token,
        pipeline_id=connection.pipeline_id,
        status_id=connection.status_id,
    )


def _remote_note(connection: CrmConnection, remote_id: int, text: str) -> int:
    client = _client(connection)
    if isinstance(client, Bitrix24):
        return client.comment_add(remote_id, text)
    return client.note_add(remote_id, text)


# --- events in, calls out ---------------------------------------------------------------


@events.event_listen("crm")
def crm_on_shop_event(event: events.ShopEvent) -> None:
    """Writes one outbox row per enabled CRM of the shop; never calls out."""
    if event.lead_id is None or event.type == events.BOOKING_REMINDER_DUE:
        return  # a reminder is the driver's business, not a change for the CRM
    connections = list(CrmConnection.objects.filter(shop=event.shop, enabled=True))
    if not connections:
        return
    lead = Lead.objects.filter(pk=event.lead_id, shop=event.shop).only("pk", "phone").first()
    if lead is None:
        return
    for connection in connections:
        outbox_put(
            shop=event.shop,
            kind=PUSH,
            dedupe_key=f"crm:{connection.pk}:{event.id}",
            payload={
                "connection_id": connection.pk,
                "lead_id": lead.pk,
                "event": event.type,
                "event_id": event.id,
                "data": event.data,
            },
            subject_phone=lead.phone,
        )


@register_handler(PUSH)
def crm_push(message: OutboxMessage) -> None:
    payload = message.payload
    connection = CrmConnection.objects.filter(
        pk=payload.get("connection_id"), shop_id=message.shop_id
    ).first()
    if connection is None or not connection.enabled:
        return  # switched off (or removed) since: nothing is sent
    if connection.state == CrmState.ERROR:
        raise OutboxParked(connection.error_message)  # no call until the manager fixes it
    lead = (
        Lead.objects.filter(pk=payload.get("lead_id"), shop_id=message.shop_id)
        .select_related("shop")
        .first()
    )
    if lead is None:
        return
    _one_at_a_time(connection.pk, lead.pk)
    link = CrmLeadLink.objects.filter(connection=connection, lead=lead).first()
    try:
        if link is None:
            _create_remote(message, connection, lead)
        elif payload.get("note") or payload.get("event") != events.LEAD_CREATED:
            text = payload.get("note") or event_note(
                event_type=payload["event"], data=payload.get("data") or {}, lead=lead
            )
            _remote_note(connection, link.remote_id, text)
        # else: a copy of the creation of a lead the CRM already has
    except CrmSettingsError as refused:
        connection_id, reason = connection.pk, refused.message
        raise OutboxParked(reason, then=lambda: _connection_failed(connection_id, reason)) from None
    CrmConnection.objects.filter(pk=connection.pk).exclude(state=CrmState.ERROR).update(
        state=CrmState.OK, last_ok_at=timezone.now()
    )


def _one_at_a_time(connection_id: int, lead_id: int) -> None:
    """Deliveries for one lead to one CRM wait for each other (a transaction-scoped advisory
    lock, released with the delivery's transaction): two events of a lead the CRM does not
    have yet must not both create it. Staff editing the lead are never blocked by it."""
    key = ((connection_id & 0x7FFFFFFF) << 32) | (lead_id & 0xFFFFFFFF)
    with db_connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])


def _create_remote(message: OutboxMessage, connection: CrmConnection, lead: Lead) -> None:
    payload = message.payload
    remote_id = _client(connection).lead_add(
        crm_lead_for(lead, request_id=str(payload.get("event_id") or ""))
    )
    CrmLeadLink.objects.create(connection=connection, lead=lead, remote_id=remote_id)
    follow: list[tuple[str, str]] = []
    if connection.kind == CrmKind.AMOCRM:
        # An amoCRM lead has no comment field: the details and the staff link go in a note.
        details = crm_lead_for(lead)
        follow.append(("details", f"{details.comments}\n{details.link}"))
    if payload.get("note"):
        follow.append(("note", payload["note"]))
    elif payload.get("event") != events.LEAD_CREATED:
        text = event_note(event_type=payload["event"], data=payload.get("data") or {}, lead=lead)
        follow.append(("event", text))
    for suffix, text in follow:
        outbox_put(
            shop=lead.shop,
            kind=PUSH,
            dedupe_key=f"{message.dedupe_key}:{suffix}"[:200],
            payload={**payload, "note": text},
            subject_phone=lead.phone,
        )


def _connection_failed(connection_id: int, reason: str) -> None:
    now = timezone.now()
    CrmConnection.objects.filter(pk=connection_id).exclude(state=CrmState.ERROR).update(
        state=CrmState.ERROR, error_at=now
    )
    CrmConnection.objects.filter(pk=connection_id).update(error_message=reason)
    log.warning("CRM connection %s refused our key; its messages are parked", connection_id)


# --- the manager's actions --------------------------------------------------------------


def connection_messages(connection: CrmConnection):
    return OutboxMessage.objects.filter(
        shop_id=connection.shop_id, kind=PUSH, payload__connection_id=connection.pk
    )


def connection_backlog(connection: CrmConnection) -> dict[str, int | str]:
    """Parked, waiting and failed messages, and the last retried problem, for the page."""
    rows = connection_messages(connection)
    counts = {
        status: rows.filter(status=status).count()
        for status in (OutboxStatus.PARKED, OutboxStatus.PENDING, OutboxStatus.FAILED)
    }
    problem = (
        rows.filter(status__in=(OutboxStatus.PENDING, OutboxStatus.FAILED), attempts__gt=0)
        .exclude(last_error="")
        .order_by("-pk")
        .values_list("last_error", flat=True)
        .first()
    )
    return {
        "parked": counts[OutboxStatus.PARKED],
        "pending": counts[OutboxStatus.PENDING],
        "failed": counts[OutboxStatus.FAILED],
        "problem": problem or "",
    }


def connection_for(shop: Shop, kind: str) -> CrmConnection:
    """The shop's connection of this kind (made, disabled, on first use)."""
    connection, _created = CrmConnection.objects.get_or_create(shop=shop, kind=kind)
    return connection


def _release(connection: CrmConnection) -> int:
    return outbox_release(connection_messages(connection))


@transaction.atomic
def connection_save(*, connection: CrmConnection, secret_changed: bool) -> CrmConnection:
    """Save the manager's settings. A new key or address clears the error and releases the
    messages parked under the old one (the first call tells whether the new one works)."""
    if secret_changed:
        connection.state = CrmState.NEW
        connection.error_message = ""
        connection.error_at = None
    connection.save()
    if secret_changed:
        _release(connection)
    return connection


def _passed(connection: CrmConnection) -> None:
    CrmConnection.objects.filter(pk=connection.pk).update(
        state=CrmState.OK, error_message="", error_at=None, last_ok_at=timezone.now()
    )
    connection.refresh_from_db()
    _release(connection)


def _failed(connection: CrmConnection, error: CrmError) -> None:
    if isinstance(error, CrmSettingsError):
        _connection_failed(connection.pk, error.message)
        connection.refresh_from_db()


def connection_check(*, connection: CrmConnection) -> tuple[bool, str]:
    """A harmless call that needs the key (Bitrix24 `profile`, amoCRM pipelines, which also
    refreshes the pipeline list). Passing releases the parked messages."""
    if connection.kind == CrmKind.BITRIX24 and not connection.webhook_url:
        return False, _("Сначала вставьте и сохраните адрес входящего вебхука.")
    if connection.kind == CrmKind.AMOCRM and not (connection.base_url and connection.token):
        return False, _("Сначала сохраните адрес аккаунта amoCRM и долгосрочный токен.")
    try:
        if connection.kind == CrmKind.BITRIX24:
            said = Bitrix24(connection.webhook_url).check()
        else:
            pipelines = AmoCrm(connection.base_url, connection.token).pipelines()
            CrmConnection.objects.filter(pk=connection.pk).update(pipelines=pipelines)
            connection.pipelines = pipelines
            said = _("Воронок в amoCRM: %(n)s. Выберите этап для новых заявок.") % {
                "n": len(pipelines)
            }
    except CrmError as error:
        _failed(connection, error)
        return False, error.message
    _passed(connection)
    return True, said


def connection_send_test(*, connection: CrmConnection) -> tuple[bool, str]:
    """Create a lead marked as a test in the CRM now and say what the CRM answered."""
    if not connection.configured:
        return False, _("Сначала заполните и сохраните настройки подключения.")
    lead = crm_test_lead(connection.shop)
    try:
        remote_id = _client(connection).lead_add(lead)
    except CrmError as error:
        _failed(connection, error)
        return False, error.message
    _passed(connection)
    return True, _("%(crm)s принял тестовую заявку: номер %(id)s.") % {
        "crm": connection.get_kind_display(),
        "id": remote_id,
    }
