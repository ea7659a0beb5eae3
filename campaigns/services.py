"""Reminders and campaigns: who is due, the message each gets, its landing and unsubscribe.

A message is a `CampaignMessage` row written in its own transaction together with the shop
event `campaign.message_queued` (the SMS app writes the SMS and its outbox row there, checking
the advertising consent again) and, when the customer has an e-mail, an outbox row for the
letter. The row's unique constraint (rule, customer, due date) / (campaign, customer) is what
makes a reminder go once however many beats run at once: the second insert waits for the
first and fails, and nothing else is written.

Due dates (the shop's local calendar):
- maintenance: the last finished repair (a won lead) + N months;
- anti-corrosion check: the last body repair (a won lead or a sealed intake act) + N months
  (12 by default);
- warranty: the last finished repair + the warranty months − the days before;
- seasonal: this year's spring and autumn dates;
- mileage: the next multiple of the rule's step, reached at the car's average daily mileage
  estimated from its two newest odometer readings (the car's own and the intake acts'); with
  fewer than two readings, or readings that do not grow, `DEFAULT_KM_PER_DAY` (40 km a day,
  about 14 600 km a year, a Russian average for a private car).
A due date is acted on from that day for `DUE_GRACE_DAYS` days, so switching a rule on never
sends reminders for dates long past.
"""

from __future__ import annotations

import calendar
import datetime as dt
import logging
import math
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from autoservice import events
from autoservice.consent import consent_withdrawn
from autoservice.models import Membership, OutboxMessage, Shop
from autoservice.outbox import outbox_put, register_handler
from customers.models import Car, Customer, CustomerEvent
from customers.models import EventKind as CustomerEventKind
from intake.models import IntakeRecord
from leads.models import Channel, EventKind, Lead, Status
from leads.services import LeadInput, lead_create, lead_event_add

from .models import (
    Campaign,
    CampaignMessage,
    CampaignResponse,
    CampaignStatus,
    MessageChannel,
    MessageStatus,
    ReminderRule,
    RuleKind,
    message_pk_from_token,
)

log = logging.getLogger(__name__)

DEFAULT_KM_PER_DAY = 40
DUE_GRACE_DAYS = 14
EMAIL = "campaigns.email"


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day N months later; the month's last day when it is shorter (31.01 → 28.02)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


# --- who may receive ------------------------------------------------------------------------


def reachable_customers(shop: Shop) -> QuerySet[Customer]:
    """Customers of the shop who agreed to advertising and did not take it back, and are not
    a merged duplicate. The processing consent is checked per phone on top of this."""
    return Customer.objects.filter(
        shop=shop,
        marketing_consent_at__isnull=False,
        marketing_withdrawn_at__isnull=True,
        merged_into__isnull=True,
    ).select_related("shop")


def _primary_phone(customer: Customer) -> str:
    phones = sorted(customer.phones.all(), key=lambda p: (not p.is_primary, p.pk))
    return phones[0].phone if phones else ""


def _may_receive(customer: Customer, phone: str) -> bool:
    if not customer.has_marketing_consent or customer.merged_into_id is not None:
        return False
    if not phone and not customer.email:
        return False  # erased, or never reachable
    return not (phone and consent_withdrawn(shop=customer.shop, phone=phone))


# --- the message --------------------------------------------------------------------------


def _car_words(car: Car | None) -> str:
    if car is None:
        return _("ваш автомобиль")
    return " ".join(p for p in (car.make, car.model) if p) or _("ваш автомобиль")


def message_links(message: CampaignMessage) -> tuple[str, str]:
    base = settings.SITE_URL
    return (
        base + reverse("campaigns:landing", args=[message.token]),
        base + reverse("campaigns:unsubscribe", args=[message.token]),
    )


def text_render(template: str, *, customer: Customer, car: Car | None, link: str) -> str:
    name = (customer.name or "").strip().split(" ")[0] or _("Здравствуйте")
    return (
        template.replace("{имя}", name).replace("{авто}", _car_words(car)).replace("{ссылка}", link)
    )


def _message_text(template: str, message: CampaignMessage, car: Car | None) -> str:
    landing, unsubscribe = message_links(message)
    text = text_render(template, customer=message.customer, car=car, link=landing)
    if "{ссылка}" not in template:
        text += " " + landing
    return f"{message.shop.name.strip()}: {text} " + _("Отписаться: %(link)s") % {
        "link": unsubscribe
    }


def message_queue(
    *,
    customer: Customer,
    template: str,
    car: Car | None = None,
    rule: ReminderRule | None = None,
    due_date: dt.date | None = None,
    campaign: Campaign | None = None,
) -> CampaignMessage | None:
    """One message to one customer, written once: None when this rule and due date (or this
    campaign) reached the customer already, or the customer may not receive advertising."""
    phone = _primary_phone(customer)
    if not _may_receive(customer, phone):
        return None
    try:
        with transaction.atomic():
            message = CampaignMessage.objects.create(
                shop=customer.shop,
                customer=customer,
                rule=rule,
                due_date=due_date,
                campaign=campaign,
                phone=phone,
                email=customer.email,
                text="",
            )
            message.text = _message_text(template, message, car)
            message.save(update_fields=["text"])
            if phone:
                events.event_emit(
                    shop=customer.shop,
                    type=events.CAMPAIGN_MESSAGE_QUEUED,
                    subject=f"customer:{customer.pk}",
                    data={"key": str(message.pk), "phone": phone, "text": message.text},
                )
            if customer.email:
                outbox_put(
                    shop=customer.shop,
                    kind=EMAIL,
                    dedupe_key=f"campaign-email:{message.pk}",
                    payload={"message_id": message.pk},
                    subject_phone=phone,
                )
    except IntegrityError:
        return None  # sent already (perhaps by a beat running at this very moment)
    return message


_SMS_STATUS = {
    "sent": MessageStatus.SENT,
    "delivered": MessageStatus.DELIVERED,
    "undelivered": MessageStatus.UNDELIVERED,
    "failed": MessageStatus.FAILED,
    "over_limit": MessageStatus.FAILED,
    "unknown": MessageStatus.FAILED,
}


@events.event_listen("campaigns")
def campaigns_on_shop_event(event: events.ShopEvent) -> None:
    """The SMS of a message changed state: recorded for the figures. Only writes."""
    if event.type != events.CAMPAIGN_SMS_STATUS:
        return
    said = event.data.get("status", "")
    status = _SMS_STATUS.get(said)
    if status is None:
        return
    if said == "over_limit":
        # The shop's daily SMS limit: a reminder is forgotten so that the next morning's run
        # (still within the due window) writes it again; a campaign's message stays refused.
        gone, _rows = CampaignMessage.objects.filter(
            shop=event.shop, pk=int(event.data["key"]), rule__isnull=False, email_sent_at=None
        ).delete()
        if gone:
            return
    CampaignMessage.objects.filter(shop=event.shop, pk=int(event.data["key"])).exclude(
        status=MessageStatus.DELIVERED
    ).update(status=status)


@register_handler(EMAIL)
def campaign_email_send(outbox: OutboxMessage) -> None:
    from autoservice.mail import send_templated

    message = (
        CampaignMessage.objects.select_related("shop", "customer")
        .filter(pk=outbox.payload.get("message_id"), shop_id=outbox.shop_id)
        .first()
    )
    if message is None or message.email_sent_at is not None or not message.email:
        return
    if not _may_receive(message.customer, message.phone):
        return  # withdrew between the queue and the send
    landing, unsubscribe = message_links(message)
    send_templated(
        template="campaigns/email/message",
        context={
            "shop": message.shop,
            "message": message,
            "landing": landing,
            "unsubscribe": unsubscribe,
        },
        shop=message.shop,
        to=[message.email],
        message_id=f"campaign-{message.pk}",
    )
    CampaignMessage.objects.filter(pk=message.pk).update(email_sent_at=timezone.now())


# --- reminders ------------------------------------------------------------------------------


def _local_date(moment: dt.datetime, shop: Shop) -> dt.date:
    return moment.astimezone(shop.tzinfo).date()


def _day_month(text: str, year: int) -> dt.date | None:
    try:
        day, month = (int(p) for p in text.split("."))
        return dt.date(year, month, day)
    except (ValueError, TypeError):
        return None


def km_per_day(readings: list[tuple[dt.date, int]]) -> tuple[float, bool]:
    """The car's average from its two newest readings on different days, and whether it is
    measured (False: the default was assumed)."""
    newest: dict[dt.date, int] = {}
    for day, km in readings:
        newest[day] = max(km, newest.get(day, 0))
    days = sorted(newest)
    if len(days) >= 2:
        (d1, k1), (d2, k2) = (days[-2], newest[days[-2]]), (days[-1], newest[days[-1]])
        if k2 > k1:
            return (k2 - k1) / (d2 - d1).days, True
    return float(DEFAULT_KM_PER_DAY), False


def mileage_due(readings: list[tuple[dt.date, int]], step_km: int) -> dt.date | None:
    """When the car reaches the next multiple of `step_km`, at its estimated pace."""
    if not readings:
        return None
    last_day, last_km = max(readings)
    per_day, _measured = km_per_day(readings)
    mark = (last_km // step_km + 1) * step_km
    return last_day + dt.timedelta(days=math.ceil((mark - last_km) / per_day))


@dataclass(frozen=True)
class Due:
    customer: Customer
    car: Car | None
    due_date: dt.date


def _won_dates(customer: Customer, shop: Shop) -> list[dt.date]:
    return [
        _local_date(lead.status_changed_at, shop)
        for lead in customer.leads.all()
        if lead.status == Status.WON
    ]


def rule_due(rule: ReminderRule, today: dt.date) -> list[Due]:
    """Customers this rule names for a date in [today − grace, today]."""
    shop = rule.shop
    customers = list(
        reachable_customers(shop).prefetch_related("phones", "cars", "leads").order_by("pk")
    )
    body_repairs: dict[int, list[dt.date]] = {}
    readings: dict[int, list[tuple[dt.date, int]]] = {}
    if rule.kind in (RuleKind.ANTICORROSION, RuleKind.MILEAGE):
        for record in IntakeRecord.objects.filter(
            shop=shop, lead__customer__in=customers
        ).select_related("lead"):
            if rule.kind == RuleKind.ANTICORROSION and record.sealed_at is not None:
                body_repairs.setdefault(record.lead.customer_id, []).append(
                    _local_date(record.sealed_at, shop)
                )
            if record.odometer_km and record.lead.car_id:
                readings.setdefault(record.lead.car_id, []).append(
                    (_local_date(record.created_at, shop), record.odometer_km)
                )
    window_start = today - dt.timedelta(days=DUE_GRACE_DAYS)
    found: list[Due] = []
    for customer in customers:
        cars = list(customer.cars.all())
        car = cars[-1] if cars else None
        dates: list[tuple[dt.date, Car | None]] = []
        if rule.kind == RuleKind.MAINTENANCE:
            won = _won_dates(customer, shop)
            if won:
                dates.append((add_months(max(won), rule.interval_months), car))
        elif rule.kind == RuleKind.ANTICORROSION:
            repairs = _won_dates(customer, shop) + body_repairs.get(customer.pk, [])
            if repairs:
                dates.append((add_months(max(repairs), rule.interval_months), car))
        elif rule.kind == RuleKind.WARRANTY:
            won = _won_dates(customer, shop)
            if won:
                end = add_months(max(won), rule.warranty_months)
                dates.append((end - dt.timedelta(days=rule.days_before), car))
        elif rule.kind == RuleKind.SEASONAL:
            for text in (rule.spring_date, rule.autumn_date):
                day = _day_month(text, today.year)
                if day is not None:
                    dates.append((day, car))
        elif rule.kind == RuleKind.MILEAGE:
            for each in cars:
                car_readings = list(readings.get(each.pk, []))
                if each.mileage_km is not None and each.mileage_at is not None:
                    car_readings.append((each.mileage_at, each.mileage_km))
                due = mileage_due(car_readings, rule.mileage_step_km)
                if due is not None:
                    dates.append((due, each))
        for due_date, which in dates:
            if window_start <= due_date <= today:
                found.append(Due(customer=customer, car=which, due_date=due_date))
    return found


def reminders_send(*, shop: Shop, today: dt.date | None = None) -> int:
    """Every enabled rule of the shop: the due customers get their message, once."""
    today = today or shop.local_now().date()
    sent = 0
    for rule in ReminderRule.objects.filter(shop=shop, enabled=True).select_related("shop"):
        for due in rule_due(rule, today):
            made = message_queue(
                customer=due.customer,
                template=rule.text,
                car=due.car,
                rule=rule,
                due_date=due.due_date,
            )
            sent += made is not None
    return sent


def reminders_send_all(now: dt.datetime | None = None) -> int:
    """The beat (hourly): shops whose local morning has come get today's reminders. Later
    runs the same day find them sent and write nothing."""
    now = now or timezone.now()
    hour = settings.CAMPAIGN_REMINDER_HOUR
    sent = 0
    shop_ids = ReminderRule.objects.filter(enabled=True).values_list("shop_id", flat=True)
    for shop in Shop.objects.filter(pk__in=shop_ids, is_active=True):
        local = now.astimezone(shop.tzinfo)
        if local.hour >= hour:
            sent += reminders_send(shop=shop, today=local.date())
    return sent


# --- campaigns ------------------------------------------------------------------------------


def campaign_audience(
    *, shop: Shop, make: str = "", model: str = "", not_seen_months: int | None = None
) -> QuerySet[Customer]:
    """The customers a campaign with this filter reaches; marketing consent always."""
    customers = reachable_customers(shop)
    if make.strip():
        customers = customers.filter(cars__make__iexact=make.strip())
    if model.strip():
        customers = customers.filter(cars__model__iexact=model.strip())
    if not_seen_months:
        today = shop.local_now().date()
        since = add_months(today, -not_seen_months)
        customers = customers.filter(last_seen_at__date__lt=since)
    return customers.filter(Q(phones__isnull=False) | ~Q(email="")).distinct()


def campaign_customers(campaign: Campaign) -> QuerySet[Customer]:
    return campaign_audience(
        shop=campaign.shop,
        make=campaign.make,
        model=campaign.model,
        not_seen_months=campaign.not_seen_months,
    )


def _car_for(customer: Customer, campaign: Campaign) -> Car | None:
    cars = list(customer.cars.all())
    for car in cars:
        if (not campaign.make or car.make.lower() == campaign.make.lower()) and (
            not campaign.model or car.model.lower() == campaign.model.lower()
        ):
            return car
    return cars[-1] if cars else None


def campaign_preview(campaign: Campaign) -> tuple[int, str]:
    """How many customers the send reaches, and the text the first of them would read."""
    customers = campaign_customers(campaign)
    count = customers.count()
    first = customers.prefetch_related("cars").order_by("pk").first()
    if first is None:
        return 0, ""
    sample = CampaignMessage(pk=0, shop=campaign.shop, customer=first, campaign=campaign)
    return count, _message_text(campaign.text, sample, _car_for(first, campaign))


def campaign_send(*, campaign: Campaign, by: Membership | None) -> int:
    """Send to the filtered list, once: a second tap (or a second manager) sends nothing."""
    with transaction.atomic():
        locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if locked.status == CampaignStatus.SENT:
            return 0
        locked.status, locked.sent_at = CampaignStatus.SENT, timezone.now()
        locked.save(update_fields=["status", "sent_at"])
    sent = 0
    customers = campaign_customers(campaign).prefetch_related("phones", "cars").order_by("pk")
    for customer in customers:
        made = message_queue(
            customer=customer,
            template=campaign.text,
            car=_car_for(customer, campaign),
            campaign=campaign,
        )
        sent += made is not None
    return sent


# --- the driver's side: landing and unsubscribe ---------------------------------------------


def message_by_token(token: str) -> CampaignMessage | None:
    pk = message_pk_from_token(token)
    if pk is None:
        return None
    return (
        CampaignMessage.objects.select_related("shop", "customer", "campaign", "rule")
        .filter(pk=pk)
        .first()
    )


def message_clicked(message: CampaignMessage) -> None:
    if message.clicked_at is None:
        now = timezone.now()
        CampaignMessage.objects.filter(pk=message.pk, clicked_at__isnull=True).update(
            clicked_at=now
        )
        message.clicked_at = now


def _source_name(message: CampaignMessage) -> str:
    if message.campaign_id:
        return _("рассылка «%(name)s»") % {"name": message.campaign.name}
    return _("напоминание «%(name)s»") % {"name": message.rule.name}


def message_respond(*, message: CampaignMessage) -> Lead:
    """The driver asked for the free diagnosis: one lead per message, tied to its campaign
    (or rule), on the customer's timeline, made once however often the button is tapped."""
    with transaction.atomic():
        CampaignMessage.objects.select_for_update().filter(pk=message.pk).first()
        existing = CampaignResponse.objects.filter(message=message).select_related("lead").first()
        if existing is not None:
            return existing.lead
        message_clicked(message)
        customer = message.customer
        car = customer.cars.order_by("-pk").first()
        source = _source_name(message)
        lead, _created = lead_create(
            shop=message.shop,
            channel=Channel.CAMPAIGN,
            data=LeadInput(
                customer_name=customer.name,
                phone=message.phone,
                email=customer.email,
                vehicle_make=car.make if car else "",
                vehicle_model=car.model if car else "",
                vehicle_year=car.year if car else None,
                plate=car.plate if car else "",
                description=_("Бесплатная диагностика: %(source)s") % {"source": source},
            ),
            consent=customer.consent,
            submission_key=uuid.uuid5(uuid.NAMESPACE_URL, f"campaign-message:{message.pk}"),
        )
        fields = []
        if lead.customer_id is None:
            lead.customer = customer
            fields.append("customer")
        if lead.car_id is None and car is not None:
            lead.car = car
            fields.append("car")
        if fields:
            lead.save(update_fields=fields)
        lead_event_add(
            lead=lead,
            kind=EventKind.NOTE,
            text=_("Клиент откликнулся: %(source)s") % {"source": source},
            campaign_message=message.pk,
        )
        CampaignResponse.objects.create(
            shop=message.shop,
            message=message,
            campaign=message.campaign,
            rule=message.rule,
            lead=lead,
        )
        CustomerEvent.objects.create(
            customer=customer,
            kind=CustomerEventKind.REQUEST,
            text=_("Заявка №%(n)s на бесплатную диагностику: %(source)s")
            % {"n": lead.number, "source": source},
            data={"lead_id": lead.pk, "campaign_message": message.pk},
        )
    return lead


def message_unsubscribe(*, message: CampaignMessage) -> bool:
    """The driver takes back the advertising consent: nothing more is sent to them. True
    when this tap withdrew it (False: withdrawn already)."""
    with transaction.atomic():
        customer = Customer.objects.select_for_update().get(pk=message.customer_id)
        if customer.marketing_withdrawn_at is not None and (
            customer.marketing_consent_at is None
            or customer.marketing_withdrawn_at >= customer.marketing_consent_at
        ):
            return False
        customer.marketing_withdrawn_at = timezone.now()
        customer.save(update_fields=["marketing_withdrawn_at"])
        CustomerEvent.objects.create(
            customer=customer,
            kind=CustomerEventKind.CONSENT,
            text=_("Отказался от рекламных сообщений по ссылке из сообщения (%(source)s)")
            % {"source": _source_name(message)},
            data={"marketing": False, "campaign_message": message.pk},
        )
    return True


def message_channels(message: CampaignMessage) -> list[str]:
    return [
        label
        for value, label in MessageChannel.choices
        if (value == MessageChannel.SMS and message.phone)
        or (value == MessageChannel.EMAIL and message.email)
    ]
