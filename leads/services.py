"""Actions on leads. Views, admin, tasks and other apps call these; none re-implements them."""

from __future__ import annotations

import datetime as dt
import math
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from autoservice import events
from autoservice.consent import consent_record_make
from autoservice.metrics import lead_first_response_seconds
from autoservice.models import ApiToken, ConsentRecord, ConsentText, Membership, Shop
from autoservice.outbox import outbox_put
from autoservice.services import shop_managers
from customers.models import Customer
from customers.services import (
    customer_manager_adopt,
    customer_manager_for_request,
    customer_match_request,
)

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
from .photos import (  # noqa: F401  (the photo actions other apps call, through here)
    MAX_FILES_PER_POST,
    MAX_PHOTOS_PER_LEAD,
    PhotoUploadHandler,
    UploadQuota,
    photo_delete_files,
    photo_max_bytes,
    photo_max_decoded_bytes,
    photo_signed_url,
    photo_upload_quota_take,
    photo_upload_store,
    photo_uploads_store_many,
)
from .selectors import lead_by_submission_key
from .withdrawal import (  # noqa: F401  (the withdrawal link other apps put on their pages)
    withdrawal_path,
    withdrawal_path_for_lead,
    withdrawal_url,
    withdrawal_url_for_lead,
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


def _via(token: ApiToken | None) -> str:
    return _(" (через API, токен «%(name)s»)") % {"name": token.name} if token else ""


def _token_data(token: ApiToken | None) -> dict:
    """What the timeline keeps of a change made by the shop's CRM: the token that made it."""
    return {"api_token": token.pk, "api_token_name": token.name} if token else {}


def _shop_lock(shop: Shop) -> None:
    """Serialises the lead numbers of one shop, and the submission-key checks with them.

    FOR NO KEY UPDATE, not FOR UPDATE: rows that merely reference the shop (a photo being
    uploaded, a consent record, another request's lead) take a key-share lock on it, which
    must not make a driver's request wait.
    """
    Shop.objects.select_for_update(no_key=True).filter(pk=shop.pk).first()


def _photos_attach(*, shop: Shop, lead: Lead, upload_token: str) -> int:
    """The photos waiting under the form's upload token become the lead's. The same file
    sent twice (a double tap on a plain form posts its files again) is attached once; the
    copy keeps waiting and is purged with the abandoned uploads."""
    seen: set[str] = set()
    ids = []
    waiting = (
        LeadPhoto.objects.filter(shop=shop, upload_token=upload_token, lead__isnull=True)
        .order_by("position", "id")
        .values_list("pk", "sha256")
    )
    for pk, sha256 in waiting:
        if sha256 not in seen:
            seen.add(sha256)
            ids.append(pk)
    return LeadPhoto.objects.filter(pk__in=ids, lead__isnull=True).update(lead=lead)


def _lead_insert(
    *,
    shop: Shop,
    channel: str,
    data: LeadInput,
    consent: ConsentRecord | None,
    submission_key: uuid.UUID | None,
    upload_token: str | None,
    now: dt.datetime,
    via_token: ApiToken | None = None,
    embedded: bool = False,
) -> Lead:
    """The lead, its photos, its timeline and the shop's notification; the caller holds the
    shop lock and the transaction."""
    number = (Lead.objects.filter(shop=shop).aggregate(n=Max("number"))["n"] or 0) + 1
    earlier = (
        Lead.objects.filter(shop=shop, phone=data.phone, created_at__gte=now - REPEAT_WINDOW)
        .order_by("-created_at")
        .first()
    )
    # The person and the car behind the request; a known customer's request goes to their
    # personal manager first (the SLA escalation still reaches everyone if they are silent).
    match = customer_match_request(
        shop=shop,
        phone=data.phone,
        name=data.customer_name,
        email=data.email,
        consent=consent,
        make=data.vehicle_make,
        model=data.vehicle_model,
        year=data.vehicle_year,
        plate=data.plate,
        channel=channel,
        now=now,
    )
    manager = (
        customer_manager_for_request(match.customer)
        if match is not None and not match.customer_created
        else None
    )
    lead = Lead.objects.create(
        shop=shop,
        number=number,
        submission_key=submission_key,
        channel=channel,
        consent=consent,
        customer=match.customer if match else None,
        car=match.car if match else None,
        assignee=manager,
        repeat_of=earlier,
        created_at=now,
        status_changed_at=now,
        sla_due_at=shop.add_working_minutes(now, shop.sla_minutes),
        **data.__dict__,
    )
    photos = _photos_attach(shop=shop, lead=lead, upload_token=upload_token) if upload_token else 0
    _event(
        lead,
        EventKind.CREATED,
        text=_("Заявка через канал «%(channel)s», фото: %(photos)s")
        % {"channel": Channel(channel).label, "photos": photos}
        + (_(" (с сайта автосервиса)") if embedded else "")
        + _via(via_token),
        photos=photos,
        **_token_data(via_token),
        **({"embedded": True} if embedded else {}),
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
    events.event_emit(
        shop=shop,
        type=events.LEAD_CREATED,
        subject=f"lead:{lead.pk}",
        lead_id=lead.pk,
        data={"lead_id": lead.pk, "number": lead.number, "channel": lead.channel},
    )
    if manager is not None:
        _event(
            lead,
            EventKind.ASSIGNED,
            text=_("Направлена персональному менеджеру: %(name)s") % {"name": manager.display_name},
            assignee=manager.pk,
            personal_manager=True,
        )
        _assigned_emit(lead)
    if shop.notification_email_list:
        outbox_put(
            shop=shop,
            kind=NOTIFY_NEW_LEAD,
            dedupe_key=f"lead-new:{lead.pk}",
            payload={"lead_id": lead.pk},
        )
    return lead


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
    via_token: ApiToken | None = None,
) -> tuple[Lead, bool]:
    """Create a lead with its photos, timeline and the shop's notification (a request taken
    by staff, the demo). A driver's own request goes through driver_request_submit.

    Returns (lead, created). The same submission key returns the lead made the first time,
    so a double tap or a retried form never makes two. `via_token`: the shop's CRM made it
    through the API; the timeline names the token.
    """
    _shop_lock(shop)
    if submission_key is not None:
        existing = lead_by_submission_key(shop=shop, submission_key=submission_key)
        if existing is not None:
            return existing, False
    lead = _lead_insert(
        shop=shop,
        channel=channel,
        data=data,
        consent=consent,
        submission_key=submission_key,
        upload_token=upload_token,
        now=now or timezone.now(),
        via_token=via_token,
    )
    return lead, True


# --- the driver's request: the photo form and the calculator ----------------------------

DRIVER_CHANNELS = (Channel.PHOTO, Channel.CALCULATOR)
DRIVER_LIMIT_WINDOW = dt.timedelta(hours=1)
# Per shop, over the last hour, whatever the channel. An address is shared by many drivers
# behind a mobile operator's NAT, so it gets a far larger allowance than one phone number.
DRIVER_LEADS_PER_HOUR_PER_ADDRESS = 30
DRIVER_LEADS_PER_HOUR_PER_PHONE = 5


class DriverRequestLimited(Exception):
    """Too many requests from one address or one phone. `message` (Russian) says in how many
    minutes the driver may send again; `retry_after_s` is that same moment, for the
    Retry-After header."""

    def __init__(self, message: str, retry_after_s: int) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after_s = retry_after_s


@dataclass(frozen=True)
class DriverRequest:
    """What driver_request_submit made or found."""

    lead: Lead
    created: bool  # False: this form was sent before, `lead` is the one it made then
    attached: Any = None  # what `attach` returned; None when the lead already existed


Attach = Callable[[Lead], Any]


def _limit_wait(times: list[dt.datetime], limit: int, now: dt.datetime) -> int | None:
    """Whole minutes until fewer than `limit` of these request times (newest first) fall in
    the window, or None when the driver is within the limit."""
    if len(times) < limit:
        return None
    free_at = times[limit - 1] + DRIVER_LIMIT_WINDOW
    return max(1, math.ceil((free_at - now).total_seconds() / 60))


def _driver_limits_check(*, shop: Shop, ip: str | None, phone: str, now: dt.datetime) -> None:
    """Counted from the leads themselves, inside the shop's lock: exact under concurrency,
    and a cache outage neither lets a flood through nor refuses a driver."""
    recent = Lead.objects.filter(
        shop=shop, channel__in=DRIVER_CHANNELS, created_at__gt=now - DRIVER_LIMIT_WINDOW
    ).order_by("-created_at")
    if ip:
        limit = DRIVER_LEADS_PER_HOUR_PER_ADDRESS
        times = list(
            recent.filter(consent__ip_address=ip).values_list("created_at", flat=True)[:limit]
        )
        minutes = _limit_wait(times, limit, now)
        if minutes is not None:
            message = _(
                "С этого адреса за последний час пришло слишком много заявок. Новую можно "
                "отправить через %(minutes)s мин."
            ) % {"minutes": minutes}
            if shop.phone:
                message += " " + _("Если срочно, позвоните нам: %(phone)s.") % {"phone": shop.phone}
            raise DriverRequestLimited(message, minutes * 60)
    limit = DRIVER_LEADS_PER_HOUR_PER_PHONE
    times = list(recent.filter(phone=phone).values_list("created_at", flat=True)[:limit])
    minutes = _limit_wait(times, limit, now)
    if minutes is not None:
        raise DriverRequestLimited(
            _(
                "С этого номера за последний час уже пришло несколько заявок: мастер свяжется "
                "с вами. Новую заявку можно отправить через %(minutes)s мин."
            )
            % {"minutes": minutes},
            minutes * 60,
        )


def driver_request_submit(
    *,
    shop: Shop,
    channel: str,
    contact: LeadInput,
    consent_text: ConsentText,
    submission_key: uuid.UUID,
    upload_token: str,
    ip: str | None,
    user_agent: str,
    attach: Attach | None = None,
    now: dt.datetime | None = None,
    embedded: bool = False,
) -> DriverRequest:
    """A driver sends a request (the photo form, the calculator): the consent record, the
    lead, the photos waiting under the form's upload token, the timeline, the shop's
    notification and whatever `attach(lead)` adds (the calculator's estimate) are written in
    one transaction, or nothing is.

    Idempotent by the form's submission key, under concurrency too: a double tap, a retry
    or eight requests at once make one lead, and every one of them gets it back
    (`created=False`, `attach` not called). Raises DriverRequestLimited when the address or
    the phone sent too many requests to this shop in the last hour; a form already sent is
    never refused. `embedded`: the form was sent from the shop's own website (the page in a
    frame there); the timeline says so and the analytics count it as its own source.
    """
    if channel not in DRIVER_CHANNELS:
        raise ValueError(f"not a driver's channel: {channel}")
    now = now or timezone.now()
    with transaction.atomic():
        _shop_lock(shop)
        existing = lead_by_submission_key(shop=shop, submission_key=submission_key)
        if existing is not None:
            return DriverRequest(lead=existing, created=False)
        _driver_limits_check(shop=shop, ip=ip, phone=contact.phone, now=now)
        try:
            with transaction.atomic():  # a savepoint: a lost race undoes only this request
                consent = consent_record_make(
                    shop=shop,
                    text=consent_text,
                    name=contact.customer_name,
                    phone=contact.phone,
                    ip=ip,
                    user_agent=user_agent,
                    accepted_at=now,
                )
                lead = _lead_insert(
                    shop=shop,
                    channel=channel,
                    data=contact,
                    consent=consent,
                    submission_key=submission_key,
                    upload_token=upload_token,
                    now=now,
                    embedded=embedded,
                )
                attached = attach(lead) if attach is not None else None
        except IntegrityError:
            # Someone wrote a lead with this key without the shop lock and committed while
            # we waited on the unique index: that lead is this form's.
            existing = lead_by_submission_key(shop=shop, submission_key=submission_key)
            if existing is None:
                raise
            return DriverRequest(lead=existing, created=False)
    return DriverRequest(lead=lead, created=True, attached=attached)


def _respond(lead: Lead, now: dt.datetime) -> list[str]:
    """The first answer to the driver stops the response clock."""
    if lead.first_response_at is None:
        lead.first_response_at = now
        waited = max((now - lead.created_at).total_seconds(), 0.0)
        # Counted once the answer is saved: a rolled-back change did not answer anyone.
        transaction.on_commit(lambda: lead_first_response_seconds.observe(waited))
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
def lead_assign(
    *,
    lead: Lead,
    assignee: Membership | None,
    by: Membership | None,
    via_token: ApiToken | None = None,
) -> Lead:
    """`by` is None when the shop's CRM assigns through the API (`via_token` names it)."""
    if assignee is not None and assignee.shop_id != lead.shop_id:
        raise ValidationError(_("Этот сотрудник не работает в вашем автосервисе."))
    if lead.assignee_id == (assignee.pk if assignee else None):
        return lead
    lead.assignee = assignee
    lead.save(update_fields=["assignee"])
    text = (assignee.display_name if assignee else _("ответственный снят")) + _via(via_token)
    _event(
        lead,
        EventKind.ASSIGNED,
        actor=by,
        text=text,
        assignee=assignee.pk if assignee else None,
        **_token_data(via_token),
    )
    _assigned_emit(lead)
    if assignee is not None:
        _manager_adopt(lead, assignee)
    return lead


def _assigned_emit(lead: Lead) -> None:
    events.event_emit(
        shop=lead.shop,
        type=events.LEAD_ASSIGNED,
        subject=f"lead:{lead.pk}",
        lead_id=lead.pk,
        data={"lead_id": lead.pk, "number": lead.number, "assignee_id": lead.assignee_id},
    )


def _manager_adopt(lead: Lead, member: Membership | None) -> None:
    """The advisor who takes a customer's request (assigned, or answering it first) becomes
    the customer's personal manager, if they have none."""
    if member is None or lead.customer_id is None:
        return
    customer = Customer.objects.select_related("shop").get(pk=lead.customer_id)
    customer_manager_adopt(customer=customer, member=member)


@transaction.atomic
def lead_change_status(
    *,
    lead: Lead,
    status: str,
    by: Membership | None,
    reason: str = "",
    now: dt.datetime | None = None,
    via_token: ApiToken | None = None,
) -> Lead:
    """`by` is None when the driver caused the change (accepting an offer by link), or when
    the shop's CRM made it through the API (`via_token`): that is the shop answering, so it
    stops the response clock like an advisor's change."""
    now = now or timezone.now()
    if status == lead.status:
        return lead
    if lead.is_consent_withdrawn:
        raise ValidationError(
            _(
                "Клиент отозвал согласие на обработку персональных данных: заявка заморожена, "
                "статус не меняется."
            )
        )
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
    answered = by is not None or via_token is not None
    fields = [
        "status",
        "lost_reason",
        "status_changed_at",
        *(_respond(lead, now) if answered else []),
    ]
    if by is not None and lead.assignee_id is None and by.shop_id == lead.shop_id:
        lead.assignee = by
        fields.append("assignee")
    lead.save(update_fields=fields)
    if by is not None and by.shop_id == lead.shop_id:
        _manager_adopt(lead, lead.assignee or by)
    text = f"{Status(old).label} → {Status(status).label}"
    if reason:
        text += f": {reason}"
    text += _via(via_token)
    _event(
        lead, EventKind.STATUS, actor=by, text=text, old=old, new=status, **_token_data(via_token)
    )
    events.event_emit(
        shop=lead.shop,
        type=events.LEAD_STATUS_CHANGED,
        subject=f"lead:{lead.pk}",
        lead_id=lead.pk,
        data={
            "lead_id": lead.pk,
            "number": lead.number,
            "old": old,
            "new": status,
            "lost_reason": lead.lost_reason,
        },
    )
    return lead


@transaction.atomic
def lead_mark_contacted(*, lead: Lead, by: Membership, note: str = "") -> Lead:
    """The advisor called or wrote to the driver: the response clock stops."""
    if lead.is_consent_withdrawn:
        raise ValidationError(
            _("Клиент отозвал согласие на обработку персональных данных: заявка заморожена.")
        )
    now = timezone.now()
    fields = _respond(lead, now)
    if fields:
        lead.save(update_fields=fields)
    _event(lead, EventKind.CONTACTED, actor=by, text=note.strip())
    _manager_adopt(lead, lead.assignee or by)
    if lead.status == Status.NEW:
        lead_change_status(lead=lead, status=Status.IN_PROGRESS, by=by, now=now)
    return lead


@transaction.atomic
def lead_add_note(*, lead: Lead, by: Membership, text: str) -> LeadEvent:
    text = text.strip()
    if not text:
        raise ValidationError(_("Заметка пустая: напишите, что произошло."))
    return _event(lead, EventKind.NOTE, actor=by, text=text)


# Apps above leads (the messenger bots) hear an escalation inside its transaction, to write
# their own outbox rows; a listener only writes, never calls out.
ESCALATION_LISTENERS: list[Callable[[Lead], None]] = []


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
            for listener in ESCALATION_LISTENERS:
                listener(lead)
            escalated += 1
    return escalated
