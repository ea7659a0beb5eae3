"""Actions on customers: a request finds its person and car, duplicates are proposed and
merged by staff, a personal manager is adopted and handed over.

The apps above (leads) call these inside their own transaction and under the shop's lock
(`leads.services._shop_lock`), which serialises every request of a shop; the unique phone
per shop makes "one customer per phone" hold even for a caller that forgot the lock.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from autoservice.models import ConsentRecord, Membership, Shop
from autoservice.phones import format_phone, normalize_phone
from autoservice.plates import plate_key

from .models import (
    Car,
    Customer,
    CustomerEvent,
    CustomerPhone,
    DuplicateProposal,
    DuplicateReason,
    DuplicateStatus,
    EventKind,
)


def phone_normalize_or_none(raw: str) -> str | None:
    try:
        return normalize_phone(raw)
    except ValidationError:
        return None


def plate_clean(raw: str) -> str:
    return plate_key(raw)


def vin_clean(raw: str) -> str:
    return re.sub(r"[\s\-]", "", (raw or "").upper())[:17]


def customer_event_add(
    *,
    customer: Customer,
    kind: str,
    actor: Membership | None = None,
    text: str = "",
    now: dt.datetime | None = None,
    **data,
) -> CustomerEvent:
    """One line of the customer's timeline; written only through here."""
    return CustomerEvent.objects.create(
        customer=customer,
        kind=kind,
        actor=actor,
        text=text,
        data=data,
        created_at=now or timezone.now(),
    )


def customer_live(customer: Customer) -> Customer:
    """The customer a merged one now lives in (merges may chain)."""
    seen = set()
    while customer.merged_into_id and customer.pk not in seen:
        seen.add(customer.pk)
        customer = customer.merged_into
    return customer


def member_can_manage(member: Membership | None, shop: Shop) -> bool:
    """A manager who left the shop or was switched off gets no new requests."""
    return member is not None and member.shop_id == shop.pk and member.user.is_active


# --- a request arrives -------------------------------------------------------------------


@dataclass(frozen=True)
class RequestMatch:
    """What `customer_match_request` found or made for one request."""

    customer: Customer
    car: Car | None
    customer_created: bool
    proposals: tuple[DuplicateProposal, ...] = ()


def _phone_take(*, shop: Shop, phone: str, name: str, now: dt.datetime) -> tuple[Customer, bool]:
    """The customer of this phone, made if new. The unique (shop, phone) decides a race:
    the loser's savepoint rolls back and it reads the winner's row."""
    found = CustomerPhone.objects.select_related("customer").filter(shop=shop, phone=phone).first()
    if found is not None:
        return customer_live(found.customer), False
    try:
        with transaction.atomic():
            customer = Customer.objects.create(
                shop=shop, name=name, created_at=now, last_seen_at=now
            )
            CustomerPhone.objects.create(
                shop=shop, customer=customer, phone=phone, is_primary=True, created_at=now
            )
    except IntegrityError:
        found = CustomerPhone.objects.select_related("customer").get(shop=shop, phone=phone)
        return customer_live(found.customer), False
    customer_event_add(
        customer=customer,
        kind=EventKind.CREATED,
        text=_("Первое обращение с номера %(phone)s") % {"phone": format_phone(phone)},
        now=now,
        phone=phone,
    )
    return customer, True


def duplicate_propose(
    *, shop: Shop, first: Customer, second: Customer, reason: str, detail: str = ""
) -> DuplicateProposal | None:
    """An open proposal for the pair (made once; None for a customer and itself, or a pair
    staff already said are two people)."""
    if first.pk == second.pk:
        return None
    a, b = sorted((first.pk, second.pk))
    if DuplicateProposal.objects.filter(
        customer_a_id=a, customer_b_id=b, status=DuplicateStatus.DISMISSED
    ).exists():
        return None
    try:
        with transaction.atomic():
            proposal, _created = DuplicateProposal.objects.get_or_create(
                customer_a_id=a,
                customer_b_id=b,
                status=DuplicateStatus.OPEN,
                defaults={"shop": shop, "reason": reason, "detail": detail[:200]},
            )
    except IntegrityError:
        proposal = DuplicateProposal.objects.get(
            customer_a_id=a, customer_b_id=b, status=DuplicateStatus.OPEN
        )
    return proposal


def _car_find_or_make(
    *,
    shop: Shop,
    customer: Customer,
    make: str,
    model: str,
    generation: str,
    year: int | None,
    plate: str,
    vin: str,
    mileage_km: int | None,
    now: dt.datetime,
) -> Car | None:
    cars = list(customer.cars.all())
    car = None
    if vin:
        car = next((c for c in cars if c.vin == vin), None)
    if car is None and plate:
        car = next((c for c in cars if c.plate == plate and (not vin or not c.vin)), None)
    if car is None and make and model:
        same = [
            c
            for c in cars
            if c.make.lower() == make.lower()
            and c.model.lower() == model.lower()
            and (not year or not c.year or c.year == year)
            and (not plate or not c.plate)
            and (not vin or not c.vin)
        ]
        car = same[0] if same else None
    if car is None:
        if not (make or model or plate or vin):
            return None
        return Car.objects.create(
            shop=shop,
            customer=customer,
            make=make,
            model=model,
            generation=generation,
            year=year,
            vin=vin,
            plate=plate,
            mileage_km=mileage_km,
            mileage_at=now.date() if mileage_km is not None else None,
            created_at=now,
        )
    changed = []
    for field, value in (
        ("make", make),
        ("model", model),
        ("generation", generation),
        ("year", year),
        ("vin", vin),
        ("plate", plate),
    ):
        if value and not getattr(car, field):
            setattr(car, field, value)
            changed.append(field)
    if mileage_km is not None and (car.mileage_km is None or mileage_km >= car.mileage_km):
        car.mileage_km = mileage_km
        car.mileage_at = now.date()
        changed += ["mileage_km", "mileage_at"]
    if changed:
        car.save(update_fields=changed)
    return car


def _duplicates_by_car(
    *, shop: Shop, customer: Customer, car: Car | None, name: str, created: bool
) -> list[DuplicateProposal]:
    proposals = []
    if car is None:
        return proposals
    others = Car.objects.filter(shop=shop, customer__merged_into__isnull=True).exclude(
        customer=customer
    )
    seen: set[int] = set()
    for reason, field, value in (
        (DuplicateReason.VIN, "vin", car.vin),
        (DuplicateReason.PLATE, "plate", car.plate),
    ):
        if not value:
            continue
        for other in others.filter(**{field: value}).select_related("customer"):
            if other.customer_id in seen:
                continue
            seen.add(other.customer_id)
            proposal = duplicate_propose(
                shop=shop, first=other.customer, second=customer, reason=reason, detail=value
            )
            if proposal is not None:
                proposals.append(proposal)
    if created and name.strip() and car.make and car.model:
        same = others.filter(
            customer__name__iexact=name.strip(),
            make__iexact=car.make,
            model__iexact=car.model,
        ).select_related("customer")
        for other in same:
            if other.customer_id in seen:
                continue
            seen.add(other.customer_id)
            proposal = duplicate_propose(
                shop=shop,
                first=other.customer,
                second=customer,
                reason=DuplicateReason.NAME_CAR,
                detail=f"{name.strip()}, {car.make} {car.model}",
            )
            if proposal is not None:
                proposals.append(proposal)
    return proposals


def customer_match_request(
    *,
    shop: Shop,
    phone: str,
    name: str = "",
    email: str = "",
    consent: ConsentRecord | None = None,
    make: str = "",
    model: str = "",
    generation: str = "",
    year: int | None = None,
    plate: str = "",
    vin: str = "",
    mileage_km: int | None = None,
    channel: str = "",
    now: dt.datetime | None = None,
) -> RequestMatch | None:
    """The customer and car of a new request, found by the normalised phone (made when
    new). A VIN or plate that belongs to another customer is proposed as a duplicate, never
    merged. None when the phone is not a phone (nothing to find a person by).

    The caller holds the transaction (and, for leads, the shop's lock)."""
    phone = phone_normalize_or_none(phone) or ""
    if not phone:
        return None
    now = now or timezone.now()
    name = (name or "").strip()
    customer, created = _phone_take(shop=shop, phone=phone, name=name, now=now)
    fields = ["last_seen_at"]
    customer.last_seen_at = max(customer.last_seen_at, now)
    if name and not customer.name:
        customer.name = name
        fields.append("name")
    if email and not customer.email:
        customer.email = email
        fields.append("email")
    if consent is not None and (
        customer.consent_id is None or consent.accepted_at >= customer.consent.accepted_at
    ):
        customer.consent = consent
        fields.append("consent")
    customer.save(update_fields=fields)
    if "consent" in fields:
        customer_event_add(
            customer=customer,
            kind=EventKind.CONSENT,
            text=_("Согласие на обработку персональных данных: запись №%(id)s")
            % {"id": consent.pk},
            now=now,
            consent=consent.pk,
        )
    car = _car_find_or_make(
        shop=shop,
        customer=customer,
        make=(make or "").strip(),
        model=(model or "").strip(),
        generation=(generation or "").strip(),
        year=year,
        plate=plate_clean(plate),
        vin=vin_clean(vin),
        mileage_km=mileage_km,
        now=now,
    )
    customer_event_add(
        customer=customer,
        kind=EventKind.REQUEST,
        text=_("Новое обращение") + (f" ({car})" if car else ""),
        now=now,
        channel=channel,
        car=car.pk if car else None,
    )
    proposals = _duplicates_by_car(
        shop=shop, customer=customer, car=car, name=name, created=created
    )
    return RequestMatch(
        customer=customer, car=car, customer_created=created, proposals=tuple(proposals)
    )


def car_update(
    *,
    car: Car,
    vin: str = "",
    plate: str = "",
    make: str = "",
    model: str = "",
    year: int | None = None,
    mileage_km: int | None = None,
    now: dt.datetime | None = None,
) -> Car:
    """What an intake or an advisor learns about a car: empty fields filled, mileage moved
    on. A VIN or plate another customer has is proposed as a duplicate."""
    now = now or timezone.now()
    with transaction.atomic():
        changed = []
        for field, value in (
            ("vin", vin_clean(vin)),
            ("plate", plate_clean(plate)),
            ("make", make),
            ("model", model),
            ("year", year),
        ):
            if value and not getattr(car, field):
                setattr(car, field, value)
                changed.append(field)
        if mileage_km is not None and (car.mileage_km is None or mileage_km >= car.mileage_km):
            car.mileage_km, car.mileage_at = mileage_km, now.date()
            changed += ["mileage_km", "mileage_at"]
        if changed:
            car.save(update_fields=changed)
            _duplicates_by_car(
                shop=car.shop, customer=car.customer, car=car, name="", created=False
            )
    return car


# --- the personal manager ----------------------------------------------------------------


def customer_manager_adopt(
    *, customer: Customer, member: Membership, now: dt.datetime | None = None
) -> bool:
    """The first advisor who takes the customer's request becomes their personal manager,
    when they have none (or theirs left). True when this made them the manager."""
    locked = (
        Customer.objects.select_for_update(of=("self",))
        .select_related("manager__user")
        .get(pk=customer.pk)
    )
    if member_can_manage(locked.manager, locked.shop) or not member_can_manage(member, locked.shop):
        return False
    before = locked.manager
    locked.manager = member
    locked.save(update_fields=["manager"])
    customer.manager = member
    customer_event_add(
        customer=locked,
        kind=EventKind.MANAGER,
        actor=member,
        text=_("Персональный менеджер: %(name)s") % {"name": member.display_name},
        now=now,
        manager=member.pk,
        previous=before.pk if before else None,
    )
    return True


def customer_manager_for_request(customer: Customer) -> Membership | None:
    """Whom a new request of this customer goes to first: their manager, if still working
    in the shop."""
    manager = customer.manager
    return manager if member_can_manage(manager, customer.shop) else None


@transaction.atomic
def customers_reassign(
    *,
    shop: Shop,
    from_member: Membership,
    to_member: Membership,
    by: Membership,
    customer_ids: list[int] | None = None,
) -> int:
    """Hand the customers of one advisor (all, or those chosen) to another, each with a line
    on their timeline. Returns how many changed hands."""
    if not by.is_manager or by.shop_id != shop.pk:
        raise ValidationError(_("Передавать клиентов может только руководитель автосервиса."))
    if from_member.shop_id != shop.pk or to_member.shop_id != shop.pk:
        raise ValidationError(_("Этот сотрудник не работает в вашем автосервисе."))
    if from_member.pk == to_member.pk:
        raise ValidationError(_("Выберите другого сотрудника: клиенты уже у него."))
    if not to_member.user.is_active:
        raise ValidationError(
            _("Сотрудник «%(name)s» отключён: выберите того, кто работает.")
            % {"name": to_member.display_name}
        )
    customers = Customer.objects.select_for_update().filter(
        shop=shop, manager=from_member, merged_into__isnull=True
    )
    if customer_ids is not None:
        customers = customers.filter(pk__in=customer_ids)
    ids = list(customers.values_list("pk", flat=True))
    now = timezone.now()
    Customer.objects.filter(pk__in=ids).update(manager=to_member)
    text = _("Персональный менеджер: %(new)s (передан от %(old)s)") % {
        "new": to_member.display_name,
        "old": from_member.display_name,
    }
    CustomerEvent.objects.bulk_create(
        CustomerEvent(
            customer_id=pk,
            kind=EventKind.MANAGER,
            actor=by,
            text=text,
            data={"manager": to_member.pk, "previous": from_member.pk},
            created_at=now,
        )
        for pk in ids
    )
    return len(ids)


# --- duplicates and the merge ------------------------------------------------------------


@transaction.atomic
def duplicate_dismiss(*, proposal: DuplicateProposal, by: Membership) -> DuplicateProposal:
    proposal = DuplicateProposal.objects.select_for_update().get(pk=proposal.pk)
    if proposal.status != DuplicateStatus.OPEN:
        return proposal
    now = timezone.now()
    proposal.status, proposal.decided_by, proposal.decided_at = (
        DuplicateStatus.DISMISSED,
        by,
        now,
    )
    proposal.save(update_fields=["status", "decided_by", "decided_at"])
    for customer, other in (
        (proposal.customer_a, proposal.customer_b),
        (proposal.customer_b, proposal.customer_a),
    ):
        customer_event_add(
            customer=customer,
            kind=EventKind.DUPLICATE_DISMISSED,
            actor=by,
            text=_("Не дубль клиента №%(id)s (%(name)s)") % {"id": other.pk, "name": other},
            now=now,
            other=other.pk,
        )
    return proposal


def _repoint(model, field: str, old, new) -> tuple[int, int]:
    """Rows of `model` that name `old` in `field` now name `new`. A row the other side
    already has its twin of (a unique rule of the app above, e.g. one campaign message per
    customer) stays where it is, counted as left: nothing is deleted. Returns (moved, left)."""
    rows = model._base_manager.filter(**{field: old})
    try:
        with transaction.atomic():
            return rows.update(**{field: new}), 0
    except IntegrityError:
        moved = left = 0
        for pk in list(rows.values_list("pk", flat=True)):
            try:
                with transaction.atomic():
                    moved += model._base_manager.filter(pk=pk).update(**{field: new})
            except IntegrityError:
                left += 1
        return moved, left


def _merge_cars(*, keep: Customer, drop: Customer) -> tuple[int, int]:
    """Cars move to `keep`; a car `keep` already has (same VIN or plate) absorbs the other:
    its requests point to the kept car, empty fields are filled. Returns (moved, joined)."""
    moved = joined = 0
    kept_cars = list(keep.cars.all())
    for car in list(drop.cars.all()):
        twin = next(
            (
                k
                for k in kept_cars
                if (car.vin and k.vin == car.vin)
                or (car.plate and k.plate == car.plate and not (car.vin and k.vin))
            ),
            None,
        )
        if twin is None:
            car.customer = keep
            car.save(update_fields=["customer"])
            kept_cars.append(car)
            moved += 1
            continue
        for rel in Car._meta.related_objects:
            if rel.one_to_many:
                _repoint(rel.related_model, rel.field.name, car, twin)
        changed = [
            f
            for f in ("make", "model", "generation", "year", "vin", "plate")
            if getattr(car, f) and not getattr(twin, f)
        ]
        for f in changed:
            setattr(twin, f, getattr(car, f))
        if car.mileage_km is not None and (
            twin.mileage_km is None or car.mileage_km > twin.mileage_km
        ):
            twin.mileage_km, twin.mileage_at = car.mileage_km, car.mileage_at
            changed += ["mileage_km", "mileage_at"]
        if changed:
            twin.save(update_fields=changed)
        car.delete()
        joined += 1
    return moved, joined


@transaction.atomic
def customers_merge(*, shop: Shop, keep: Customer, drop: Customer, by: Membership) -> Customer:
    """`drop` is the same person as `keep`: its phones, cars, requests, timeline and notes
    move to `keep`; `drop` stays as a row that points to `keep`. Both timelines say who
    merged and what moved.

    Consents: the later processing consent stays. Marketing consent is never made up: the
    kept customer keeps its own, and a withdrawal on either side stands (a withdrawn
    consent must not come back through a merge)."""
    if keep.pk == drop.pk:
        raise ValidationError(_("Нельзя объединить клиента с самим собой."))
    if by.shop_id != shop.pk:
        raise ValidationError(_("Этот сотрудник не работает в вашем автосервисе."))
    locked = {
        c.pk: c
        for c in Customer.objects.select_for_update(of=("self",))
        .select_related("consent")
        .filter(shop=shop, pk__in=[keep.pk, drop.pk])
        .order_by("pk")
    }
    if len(locked) != 2:
        raise Customer.DoesNotExist
    keep, drop = locked[keep.pk], locked[drop.pk]
    if keep.merged_into_id or drop.merged_into_id:
        raise ValidationError(_("Один из клиентов уже объединён с другим: обновите страницу."))
    now = timezone.now()
    counts: dict[str, int] = {}

    counts["phones"] = drop.phones.update(customer=keep, is_primary=False)
    counts["cars"], counts["cars_joined"] = _merge_cars(keep=keep, drop=drop)
    counts["events"] = drop.events.update(customer=keep)
    # Whatever else names the customer (requests, campaign rows of the apps above), moves.
    handled = {CustomerPhone, Car, CustomerEvent, DuplicateProposal, Customer}
    for rel in Customer._meta.related_objects:
        if rel.one_to_many and rel.related_model not in handled:
            moved, left = _repoint(rel.related_model, rel.field.name, drop, keep)
            counts[rel.related_model._meta.label_lower] = moved
            if left:
                counts[rel.related_model._meta.label_lower + ":left"] = left
    Customer.objects.filter(merged_into=drop).update(merged_into=keep)

    fields = ["last_seen_at", "created_at"]
    keep.last_seen_at = max(keep.last_seen_at, drop.last_seen_at)
    keep.created_at = min(keep.created_at, drop.created_at)
    for field in ("name", "email"):
        if getattr(drop, field) and not getattr(keep, field):
            setattr(keep, field, getattr(drop, field))
            fields.append(field)
    if drop.consent_id and (
        keep.consent_id is None or drop.consent.accepted_at > keep.consent.accepted_at
    ):
        keep.consent_id = drop.consent_id
        fields.append("consent")
    if drop.marketing_withdrawn_at and keep.marketing_consent_at:
        keep.marketing_withdrawn_at = max(
            drop.marketing_withdrawn_at, keep.marketing_withdrawn_at or drop.marketing_withdrawn_at
        )
        fields.append("marketing_withdrawn_at")
    if not member_can_manage(keep.manager, shop) and member_can_manage(drop.manager, shop):
        keep.manager = drop.manager
        fields.append("manager")
    keep.save(update_fields=fields)
    drop.merged_into = keep
    drop.manager = None
    drop.save(update_fields=["merged_into", "manager"])

    for proposal in DuplicateProposal.objects.select_for_update().filter(
        Q(customer_a=drop) | Q(customer_b=drop), status=DuplicateStatus.OPEN
    ):
        pair = {proposal.customer_a_id, proposal.customer_b_id}
        if pair == {keep.pk, drop.pk}:
            proposal.status, proposal.decided_by, proposal.decided_at = (
                DuplicateStatus.MERGED,
                by,
                now,
            )
            proposal.save(update_fields=["status", "decided_by", "decided_at"])
        else:
            other = (pair - {drop.pk}).pop()
            proposal.delete()
            duplicate_propose(
                shop=shop,
                first=Customer(pk=other),
                second=keep,
                reason=proposal.reason,
                detail=proposal.detail,
            )

    customer_event_add(
        customer=keep,
        kind=EventKind.MERGED_FROM,
        actor=by,
        text=_("Присоединён клиент №%(id)s (%(name)s): %(what)s")
        % {"id": drop.pk, "name": drop, "what": _merge_summary(counts)},
        now=now,
        other=drop.pk,
        moved=counts,
    )
    customer_event_add(
        customer=drop,
        kind=EventKind.MERGED_INTO,
        actor=by,
        text=_("Объединён с клиентом №%(id)s (%(name)s): %(what)s")
        % {"id": keep.pk, "name": keep, "what": _merge_summary(counts)},
        now=now,
        other=keep.pk,
        moved=counts,
    )
    return keep


def _merge_summary(counts: dict[str, int]) -> str:
    return _(
        "телефонов %(phones)s, автомобилей %(cars)s (совпавших %(joined)s), "
        "обращений %(leads)s, записей истории %(events)s"
    ) % {
        "phones": counts.get("phones", 0),
        "cars": counts.get("cars", 0),
        "joined": counts.get("cars_joined", 0),
        "leads": counts.get("leads.lead", 0),
        "events": counts.get("events", 0),
    }
