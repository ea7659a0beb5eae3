"""Actions on leads. Views, admin, tasks and other apps call these; none re-implements them."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from autoservice.models import ConsentRecord, Membership, Shop
from autoservice.outbox import outbox_put
from autoservice.services import shop_managers

from .models import (
    TRANSITIONS,
    Channel,
    EventKind,
    Lead,
    LeadEvent,
    LeadPhoto,
    PreferredContact,
    Status,
)

REPEAT_WINDOW = dt.timedelta(hours=24)
NOTIFY_NEW_LEAD = "leads.new_lead_email"
NOTIFY_ESCALATION = "leads.escalation_email"


@dataclass(frozen=True)
class LeadInput:
    """What a driver (or an advisor taking a call) tells about a request."""

    customer_name: str
    phone: str
    email: str = ""
    preferred_contact: str = PreferredContact.CALL
    vehicle_make: str = ""
    vehicle_model: str = ""
    vehicle_year: int | None = None
    plate: str = ""
    description: str = ""


def lead_event_add(
    *, lead: Lead, kind: str, actor: Membership | None = None, text: str = "", **data
) -> LeadEvent:
    """Write one line of the lead's timeline. The timeline is written only through here, by
    this app and by the others (offers, intake, notifications)."""
    return LeadEvent.objects.create(lead=lead, kind=kind, actor=actor, text=text, data=data)


def _event(lead: Lead, kind: str, *, actor: Membership | None = None, text: str = "", **data):
    return lead_event_add(lead=lead, kind=kind, actor=actor, text=text, **data)


@transaction.atomic
def lead_create(
    *,
    shop: Shop,
    channel: str,
    data: LeadInput,
    consent: ConsentRecord | None = None,
    submission_key: uuid.UUID | None = None,
    upload_token: str | None = None,
    now: dt.datetime | None = None,
) -> tuple[Lead, bool]:
    """Create a lead with its photos, timeline and the shop's notification.

    Returns (lead, created). The same submission key returns the lead made the first time,
    so a double tap or a retried form never makes two.
    """
    # Serialises lead numbers per shop, and the submission-key check below with them.
    Shop.objects.select_for_update().filter(pk=shop.pk).first()
    if submission_key is not None:
        existing = Lead.objects.filter(shop=shop, submission_key=submission_key).first()
        if existing is not None:
            return existing, False
    now = now or timezone.now()
    number = (Lead.objects.filter(shop=shop).aggregate(n=Max("number"))["n"] or 0) + 1
    earlier = (
        Lead.objects.filter(shop=shop, phone=data.phone, created_at__gte=now - REPEAT_WINDOW)
        .order_by("-created_at")
        .first()
    )
    lead = Lead.objects.create(
        shop=shop,
        number=number,
        submission_key=submission_key,
        channel=channel,
        consent=consent,
        repeat_of=earlier,
        created_at=now,
        status_changed_at=now,
        sla_due_at=shop.add_working_minutes(now, shop.sla_minutes),
        **data.__dict__,
    )
    photos = 0
    if upload_token:
        photos = LeadPhoto.objects.filter(
            shop=shop, upload_token=upload_token, lead__isnull=True
        ).update(lead=lead)
    _event(
        lead,
        EventKind.CREATED,
        text=_("Заявка через канал «%(channel)s», фото: %(photos)s")
        % {"channel": Channel(channel).label, "photos": photos},
        photos=photos,
    )
    if earlier is not None:
        _event(
            lead,
            EventKind.REPEAT,
            text=_("Повторное обращение: ранее заявка №%(n)s") % {"n": earlier.number},
            other=earlier.pk,
        )
        _event(
            earlier,
            EventKind.REPEAT,
            text=_("Клиент обратился снова: заявка №%(n)s") % {"n": lead.number},
            other=lead.pk,
        )
    if shop.notification_email_list:
        outbox_put(
            shop=shop,
            kind=NOTIFY_NEW_LEAD,
            dedupe_key=f"lead-new:{lead.pk}",
            payload={"lead_id": lead.pk},
        )
    return lead, True


def _respond(lead: Lead, now: dt.datetime) -> list[str]:
    """The first answer to the driver stops the response clock."""
    if lead.first_response_at is None:
        lead.first_response_at = now
        return ["first_response_at"]
    return []


@transaction.atomic
def lead_open(*, lead: Lead, by: Membership) -> Lead:
    if lead.opened_at is None:
        lead.opened_at = timezone.now()
        lead.save(update_fields=["opened_at"])
        _event(lead, EventKind.OPENED, actor=by, text=by.display_name)
    return lead


@transaction.atomic
def lead_assign(*, lead: Lead, assignee: Membership | None, by: Membership) -> Lead:
    if assignee is not None and assignee.shop_id != lead.shop_id:
        raise ValidationError(_("Этот сотрудник не работает в вашем автосервисе."))
    if lead.assignee_id == (assignee.pk if assignee else None):
        return lead
    lead.assignee = assignee
    lead.save(update_fields=["assignee"])
    text = assignee.display_name if assignee else _("ответственный снят")
    _event(lead, EventKind.ASSIGNED, actor=by, text=text)
    return lead


@transaction.atomic
def lead_change_status(
    *,
    lead: Lead,
    status: str,
    by: Membership | None,
    reason: str = "",
    now: dt.datetime | None = None,
) -> Lead:
    """`by` is None when the driver caused the change (accepting an offer by link)."""
    now = now or timezone.now()
    if status == lead.status:
        return lead
    if status not in TRANSITIONS[lead.status]:
        raise ValidationError(
            _("Из статуса «%(old)s» нельзя перейти в «%(new)s».")
            % {"old": Status(lead.status).label, "new": Status(status).label}
        )
    reason = reason.strip()
    if status == Status.LOST and not reason:
        raise ValidationError(_("Укажите причину отказа: она нужна для отчёта по потерям."))
    old = lead.status
    lead.status = status
    lead.lost_reason = reason if status == Status.LOST else ""
    lead.status_changed_at = now
    fields = ["status", "lost_reason", "status_changed_at", *(_respond(lead, now) if by else [])]
    if by is not None and lead.assignee_id is None and by.shop_id == lead.shop_id:
        lead.assignee = by
        fields.append("assignee")
    lead.save(update_fields=fields)
    text = f"{Status(old).label} → {Status(status).label}"
    if reason:
        text += f": {reason}"
    _event(lead, EventKind.STATUS, actor=by, text=text, old=old, new=status)
    return lead


@transaction.atomic
def lead_mark_contacted(*, lead: Lead, by: Membership, note: str = "") -> Lead:
    """The advisor called or wrote to the driver: the response clock stops."""
    now = timezone.now()
    fields = _respond(lead, now)
    if fields:
        lead.save(update_fields=fields)
    _event(lead, EventKind.CONTACTED, actor=by, text=note.strip())
    if lead.status == Status.NEW:
        lead_change_status(lead=lead, status=Status.IN_PROGRESS, by=by, now=now)
    return lead


@transaction.atomic
def lead_add_note(*, lead: Lead, by: Membership, text: str) -> LeadEvent:
    text = text.strip()
    if not text:
        raise ValidationError(_("Заметка пустая: напишите, что произошло."))
    return _event(lead, EventKind.NOTE, actor=by, text=text)


def leads_escalate_overdue(*, now: dt.datetime | None = None, limit: int = 500) -> int:
    """Leads past their response deadline go to the shop's managers, once each."""
    now = now or timezone.now()
    escalated = 0
    ids = list(
        Lead.objects.filter(
            first_response_at__isnull=True,
            escalated_at__isnull=True,
            sla_due_at__lt=now,
            status=Status.NEW,
        ).values_list("pk", flat=True)[:limit]
    )
    for lead_id in ids:
        with transaction.atomic():
            lead = (
                Lead.objects.select_for_update(skip_locked=True)
                .select_related("shop")
                .filter(pk=lead_id, escalated_at__isnull=True, first_response_at__isnull=True)
                .first()
            )
            if lead is None:
                continue
            lead.escalated_at = now
            lead.save(update_fields=["escalated_at"])
            emails = sorted({m.user.email for m in shop_managers(lead.shop) if m.user.email})
            late = int((now - lead.sla_due_at).total_seconds() // 60)
            _event(
                lead,
                EventKind.ESCALATED,
                text=_("Нет ответа дольше срока (%(sla)s мин.), сообщено руководителю")
                % {"sla": lead.shop.sla_minutes},
                minutes_late=late,
            )
            if emails:
                outbox_put(
                    shop=lead.shop,
                    kind=NOTIFY_ESCALATION,
                    dedupe_key=f"lead-escalated:{lead.pk}",
                    payload={"lead_id": lead.pk, "to": emails},
                )
            escalated += 1
    return escalated
