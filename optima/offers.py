"""The customer offer: built from a lead's estimate and a search, sent by link, accepted."""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from collections.abc import Mapping, Sequence
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from autoservice.models import Membership
from autoservice.outbox import outbox_put
from leads.models import EventKind, Lead, Status
from leads.services import lead_change_status, lead_event_add
from smartcalc.selectors import estimate_latest_for_lead

from .models import CustomerOffer, OfferStatus, OfferVersion, Search, Supplier
from .reliability import deliveries_open
from .selectors import search_table
from .services import pricing_settings, supplier_ask_counted

# An option's label is stored in the offer in Russian, the source language, because pages and
# the driver's "take the whole set" buttons compare on it; it is shown translated (the
# `option_label` filter).
OPTION_LABELS = {
    "original": gettext_noop("оригинал"),
    "recommended": gettext_noop("рекомендуем"),
    "cheapest": gettext_noop("самый выгодный"),
}
NOTIFY_OFFER_ACCEPTED = "optima.offer_accepted_email"
NOTIFY_OFFER_SENT = "optima.offer_sent_email"
QUESTION_MAX_CHARS = 2000
USER_AGENT_MAX_CHARS = 400


def _labour_from_estimate(lead: Lead) -> list[dict]:
    """Labour, paint and materials of the lead's latest estimate, as editable offer lines."""
    latest = estimate_latest_for_lead(lead)
    if latest is None:
        return []
    lines = []
    for line in latest.result["lines"]:
        work = (
            Decimal(line["labour_rub"]) + Decimal(line["paint_rub"]) + Decimal(line["material_rub"])
        )
        if work:
            lines.append(
                {
                    "name": _("%(part)s: работа и окраска") % {"part": line["part_name"]},
                    "price_rub": str(work),
                }
            )
    return lines


def estimate_numbers(lead: Lead) -> list[str]:
    """OEM numbers of the parts the lead's estimate replaces (where the shop's price list
    names them), to search them all at once."""
    latest = estimate_latest_for_lead(lead)
    if latest is None:
        return []
    numbers = []
    for line in latest.result["lines"]:
        number = line.get("oem_number") or ""
        if number and Decimal(line.get("part_rub", "0")) > 0 and number not in numbers:
            numbers.append(number)
    return numbers


def _cheapest_in_stock(rows):
    in_stock = [
        r
        for r in rows
        if (r.offer.get("qty") or r.offer.get("qty_min")) and not r.offer.get("qty_on_order")
    ]
    pool = in_stock or rows
    return min(pool, key=lambda r: (r.price.customer_rub, r.delivery_days)) if pool else None


def _option(row, label: str) -> dict:
    return {
        "label": label,
        "brand": row.offer["brand"],
        "number": row.offer["number_raw"],
        "name": row.offer.get("name", ""),
        "quality": row.offer["quality"],
        "supplier_id": row.supplier.pk,
        "supplier_name": row.supplier.name,
        "list_price_rub": row.offer["price_rub"],
        "purchase_rub": str(row.price.purchase_rub),
        "customer_rub": str(row.price.customer_rub),
        "delivery_date": row.delivery_date.isoformat(),
        "warranty_months": row.offer.get("warranty_months"),
        "order_ref": row.offer.get("order_ref", {}),
        "number_key": row.offer["number_key"],
        "condition": row.offer.get("condition", "new"),
        "wear_pct": row.offer.get("wear_pct"),
        "min_qty": row.offer.get("min_qty", 1),
        "multiple": row.offer.get("multiple", 1),
        "in_stock": bool(
            (row.offer.get("qty") or row.offer.get("qty_min")) and not row.offer.get("qty_on_order")
        ),
    }


@transaction.atomic
def offer_build(*, lead: Lead, search: Search, by: Membership) -> OfferVersion:
    """A draft with, per number, the original, the recommended and the cheapest offer
    (each once), plus the labour of the lead's estimate."""
    blocks, _states = search_table(search)
    positions = []
    for block in blocks:
        chosen: dict[str, dict] = {}
        # Used and clearance parts go into an offer only where the shop allows them.
        block.rows = [r for r in block.rows if r.offerable]
        originals = [r for r in block.rows if r.offer["quality"] == "original"]
        picks = [
            ("original", min(originals, key=lambda r: r.price.customer_rub) if originals else None),
            ("recommended", next((r for r in block.rows if r.is_recommended), None)),
            # The cheapest part on a shelf now; a part "on order" from abroad is the
            # cheapest only when nothing is in stock.
            ("cheapest", _cheapest_in_stock(block.rows)),
        ]
        for label, row in picks:
            if row is not None and row.key not in chosen:
                chosen[row.key] = _option(row, OPTION_LABELS[label])
        if chosen:
            positions.append(
                {
                    "number": block.number,
                    "name": block.name,
                    "options": list(chosen.values()),
                    "reasons": list(block.reasons),
                }
            )
    offer, _created = CustomerOffer.objects.get_or_create(lead=lead, defaults={"shop": lead.shop})
    number = (offer.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    return OfferVersion.objects.create(
        offer=offer,
        number=number,
        author=by,
        labour=_labour_from_estimate(lead),
        positions=positions,
    )


def choice_for_set(version: OfferVersion, label: str) -> dict[str, int]:
    """The driver takes a whole set (all originals, all recommended, all cheapest): each
    position gets its option of that kind, or its first one when it has none. A set this
    offer does not show is refused, never replaced by the first options."""
    offered = [[option["label"] for option in p["options"]] for p in version.positions]
    if not any(label in labels for labels in offered):
        raise ValidationError(
            _("Такого набора в предложении нет: обновите страницу и выберите ещё раз.")
        )
    return {
        str(index): labels.index(label) if label in labels else 0
        for index, labels in enumerate(offered)
    }


def choice_from_fields(version: OfferVersion, fields: Mapping[str, str]) -> dict[str, int]:
    """The option picked per position from the page's radios (`pos_<n>` = option number).
    A position or an option the offer does not have is refused, with nothing taken."""

    def number(text: str, below: int) -> int | None:
        # ASCII digits only ("²".isdigit() is true) and short: int() of 5000 digits raises.
        ok = len(text) <= 6 and text.isascii() and text.isdigit() and int(text) < below
        return int(text) if ok else None

    choice: dict[str, int] = {}
    for key, value in fields.items():
        if not key.startswith("pos_"):
            continue
        index = number(key.removeprefix("pos_"), len(version.positions))
        if index is None:
            raise ValidationError(_("Такой детали в предложении нет: обновите страницу."))
        picked = number(value, len(version.positions[index]["options"]))
        if picked is None:
            raise ValidationError(_("Такого варианта нет: обновите страницу."))
        choice[str(index)] = picked
    return choice


def option_total(version: OfferVersion, choice: dict[str, int]) -> Decimal:
    total = sum((Decimal(line["price_rub"]) for line in version.labour), Decimal("0.00"))
    for index, position in enumerate(version.positions):
        picked = choice.get(str(index))
        if picked is not None:
            total += Decimal(position["options"][picked]["customer_rub"])
    return total


@transaction.atomic
def offer_send(*, version: OfferVersion, by: Membership) -> OfferVersion:
    """Freeze the prices (they are in the version), start the validity, tell the driver."""
    if version.status != OfferStatus.DRAFT:
        raise ValidationError(_("Это предложение уже отправлено."))
    if not version.positions and not version.labour:
        raise ValidationError(_("В предложении нет ни работ, ни деталей."))
    days = pricing_settings(version.offer.shop).offer_valid_days
    version.status = OfferStatus.SENT
    version.sent_at = timezone.now()
    version.valid_until = timezone.localdate() + dt.timedelta(days=days)
    version.save(update_fields=["status", "sent_at", "valid_until"])
    # Older sent versions give way to this one: the link always shows the latest.
    version.offer.versions.filter(status=OfferStatus.SENT).exclude(pk=version.pk).update(
        status=OfferStatus.WITHDRAWN
    )
    lead = version.offer.lead
    if lead.status in (Status.NEW, Status.IN_PROGRESS):
        if lead.status == Status.NEW:
            lead_change_status(lead=lead, status=Status.IN_PROGRESS, by=by)
        lead_change_status(lead=lead, status=Status.OFFER_SENT, by=by)
    if lead.email:
        outbox_put(
            shop=lead.shop,
            kind=NOTIFY_OFFER_SENT,
            dedupe_key=f"offer-sent:{version.pk}",
            payload={"version_id": version.pk},
        )
    return version


def offer_labour_set(
    *, version: OfferVersion, lines: Sequence[tuple[str, Decimal]]
) -> OfferVersion:
    """Replace the labour lines of a draft (name, price); a sent offer keeps what the driver
    was shown."""
    if version.status != OfferStatus.DRAFT:
        raise ValidationError(_("Работы меняются только в черновике: предложение уже отправлено."))
    version.labour = [{"name": name, "price_rub": str(price_rub)} for name, price_rub in lines]
    version.save(update_fields=["labour"])
    return version


def offer_latest(offer: CustomerOffer) -> OfferVersion | None:
    return offer.versions.exclude(status=OfferStatus.DRAFT).order_by("-number").first()


def offer_state(version: OfferVersion) -> str:
    if (
        version.status == OfferStatus.SENT
        and version.valid_until
        and version.valid_until < timezone.localdate()
    ):
        return OfferStatus.EXPIRED
    return version.status


@transaction.atomic
def offer_accept(
    *, version: OfferVersion, choice: dict[str, int], ip: str | None, user_agent: str
) -> OfferVersion:
    """The driver's acceptance: who (the link), when, what, from where (the address and the
    browser, kept as evidence). Once only."""
    version = OfferVersion.objects.select_for_update().get(pk=version.pk)
    state = offer_state(version)
    if state == OfferStatus.ACCEPTED:
        raise ValidationError(_("Вы уже приняли это предложение — мы его получили."))
    if state != OfferStatus.SENT:
        raise ValidationError(
            _("Предложение больше не действует. Позвоните нам — подготовим новое.")
        )
    clean: dict[str, int] = {}
    for index, position in enumerate(version.positions):
        picked = choice.get(str(index))
        if picked is None:
            raise ValidationError(_("Выберите вариант для каждой детали."))
        if not 0 <= picked < len(position["options"]):
            raise ValidationError(_("Такого варианта нет: обновите страницу."))
        clean[str(index)] = picked
    version.status = OfferStatus.ACCEPTED
    version.accepted_at = timezone.now()
    version.accepted_choice = clean
    version.accepted_total_rub = option_total(version, clean)
    version.accepted_ip = ip or None
    version.accepted_user_agent = (user_agent or "")[:USER_AGENT_MAX_CHARS]
    version.save()
    lead = version.offer.lead
    if Status.OFFER_ACCEPTED in lead.allowed_statuses():
        lead_change_status(lead=lead, status=Status.OFFER_ACCEPTED, by=None)
    outbox_put(
        shop=lead.shop,
        kind=NOTIFY_OFFER_ACCEPTED,
        dedupe_key=f"offer-accepted:{version.pk}",
        payload={"version_id": version.pk},
    )
    deliveries_open(version)
    transaction.on_commit(lambda: _enqueue_recheck(version.pk))
    return version


def offer_recheck(version_id: int) -> list[dict]:
    """Ask the suppliers again for the accepted options: any change of price or stock is
    shown to the advisor before ordering."""
    version = OfferVersion.objects.select_related("offer__shop").get(pk=version_id)
    deadline = time.monotonic() + float(pricing_settings(version.offer.shop).search_deadline_s)
    results = []
    for index, position in enumerate(version.positions):
        picked = version.accepted_choice.get(str(index))
        if picked is None:
            continue
        option = position["options"][picked]
        supplier = Supplier.objects.filter(
            pk=option["supplier_id"], shop=version.offer.shop
        ).first()
        entry = {"position": index, "brand": option["brand"], "number": option["number"]}
        if supplier is None:
            results.append({**entry, "status": "supplier_gone"})
            continue
        answer = supplier_ask_counted(
            supplier=supplier, number=option["number_key"], deadline=deadline
        )
        same = [
            o
            for o in answer.offers
            if o.brand.upper() == option["brand"].upper() and o.number_key == option["number_key"]
        ]
        if answer.state not in ("answered", "no_stock"):
            results.append({**entry, "status": "supplier_error", "message": answer.message})
        elif not same or not any(o.in_stock or o.qty_on_order for o in same):
            results.append({**entry, "status": "out_of_stock"})
        else:
            now_price = min(o.price_rub for o in same)
            old_price = Decimal(option["list_price_rub"])
            status = "same" if now_price <= old_price else "price_up"
            results.append({**entry, "status": status, "list_price_rub": str(now_price)})
    version.recheck = results
    version.save(update_fields=["recheck"])
    return results


def _enqueue_recheck(version_id: int) -> None:
    from .tasks import recheck_offer

    try:
        recheck_offer.delay(version_id)
    except Exception:  # the advisor re-checks by hand from the offer page
        pass


@transaction.atomic
def offer_ask(*, version: OfferVersion, question: str) -> OfferVersion:
    """The driver asked a question instead of accepting: it is kept on the version, written
    to the lead's timeline, and the shop hears of it at once."""
    question = (question or "").strip()[:QUESTION_MAX_CHARS]
    if not question:
        raise ValidationError(_("Напишите вопрос."))
    version.question = question
    version.save(update_fields=["question"])
    lead = version.offer.lead
    lead_event_add(
        lead=lead,
        kind=EventKind.NOTE,
        text=_("Вопрос клиента по предложению: %(question)s") % {"question": question},
    )
    outbox_put(
        shop=lead.shop,
        kind=NOTIFY_OFFER_ACCEPTED,
        dedupe_key=f"offer-question:{version.pk}:"
        + hashlib.sha256(question.encode()).hexdigest()[:16],
        payload={"version_id": version.pk, "question": True},
    )
    return version
