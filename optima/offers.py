"""The customer offer: built from a lead's estimate and a search, sent by link, accepted."""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from autoservice import events
from autoservice.consent import consent_withdrawn
from autoservice.models import Membership
from autoservice.money import format_rub, quantize_rub
from autoservice.outbox import outbox_put
from leads.models import EventKind, Lead, Status
from leads.services import lead_change_status, lead_event_add
from smartcalc.selectors import (
    estimate_latest_for_lead,
    estimate_of_lead,
    estimate_replaced_parts,
    operation_label,
)
from smartcalc.services import CustomerPrice, customer_pricer

from .models import CustomerOffer, OfferStatus, OfferVersion, Search, Supplier
from .reliability import deliveries_open
from .selectors import NumberBlock, Row, search_table
from .services import (
    pricing_settings,
    supplier_ask_batch_counted,
    supplier_ask_counted,
    supplier_batch_allowed,
)
from .suppliers import SearchResult

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


# The customer's price of an amount from a price source under the shop's tax regime.
Pricer = Callable[[Decimal, str], CustomerPrice]

# Which tag wins the card's headline when one row is several picks at once.
TAG_ORDER = ("recommended", "original", "cheapest")
OTHER_LABEL = gettext_noop("ещё вариант")
ESTIMATE_SOURCE = "estimate:"


def _refuse_withdrawn(lead: Lead) -> None:
    """No offer is sent to a driver who withdrew consent (152-FZ): processing
    of their data has stopped."""
    if lead.is_consent_withdrawn or consent_withdrawn(shop=lead.shop_id, phone=lead.phone):
        raise ValidationError(
            _(
                "Клиент отозвал согласие на обработку персональных данных: предложение "
                "ему не отправляется."
            )
        )


def estimate_lines(lead: Lead) -> list[dict]:
    """The work of the lead's latest estimate (labour, paint, materials) as offer lines, one
    per estimate line, named by the line's real operation («Фонарь задний левый: замена»).
    `source` ties a line to its estimate line, so that the builder can include or leave it
    out and keep what the advisor edited."""
    latest = estimate_latest_for_lead(lead)
    if latest is None:
        return []
    # Priced as the estimate is: the shop's rates, with VAT as its regime says.
    pricer = customer_pricer(lead.shop)
    lines = []
    for index, line in enumerate(latest.result["lines"]):
        work = (
            Decimal(line["labour_rub"]) + Decimal(line["paint_rub"]) + Decimal(line["material_rub"])
        )
        if work:
            price = pricer(work, "rates")
            lines.append(
                {
                    "source": f"{ESTIMATE_SOURCE}{index}",
                    "name": _("%(part)s: %(operation)s")
                    % {
                        "part": capfirst(line["part_name"]),
                        "operation": operation_label(line.get("operation", "")),
                    },
                    "price_rub": str(price.total_rub),
                    "vat_rub": str(price.vat_in_total_rub),
                }
            )
    return lines


def estimate_parts(lead: Lead) -> tuple[list[str], list[str]]:
    """The parts the lead's estimate replaces, for the parts search: the OEM numbers known
    (the shop's price list, then the platform's catalogue for the car), and the names of the
    parts no source numbers, which the advisor types in by hand."""
    estimate = estimate_of_lead(lead)
    if estimate is None:
        return [], []
    replaced = estimate_replaced_parts(estimate)
    numbers = [number for _name, number in replaced if number]
    unknown = [name for name, number in replaced if not number]
    return numbers, unknown


def estimate_numbers(lead: Lead) -> list[str]:
    """OEM numbers of the parts the lead's estimate replaces (the shop's price list, then the
    platform's catalogue for the car), to search them all at once."""
    return estimate_parts(lead)[0]


def _stocked(row: Row) -> bool:
    return bool(
        (row.offer.get("qty") or row.offer.get("qty_min")) and not row.offer.get("qty_on_order")
    )


def _obtainable(row: Row) -> bool:
    return bool(row.offer.get("qty") or row.offer.get("qty_min") or row.offer.get("qty_on_order"))


def _cheapest_in_stock(rows: Sequence[Row]) -> Row | None:
    # The cheapest part on a shelf now; a part "on order" from abroad is the cheapest only
    # when nothing is in stock.
    pool = [r for r in rows if _stocked(r)] or list(rows)
    return min(pool, key=lambda r: (r.price.customer_rub, r.delivery_date)) if pool else None


def originals_ranked(rows: Sequence[Row]) -> list[Row]:
    """Original parts that can be had, the one the customer gets soonest first, then the
    cheaper: an original in stock nearby for 01.12 goes before a cheaper one from Europe for
    22.12."""
    originals = [r for r in rows if r.offer["quality"] == "original"]
    pool = [r for r in originals if _obtainable(r)] or originals
    return sorted(pool, key=lambda r: (r.delivery_date, r.price.customer_rub))


def _original_why(best: Row, ranked: Sequence[Row]) -> str:
    """Why this original among all the search found: the soonest, and what waiting for a
    cheaper one would save. Nothing when it is the only one, or when the advisor chose a
    later one (then "the soonest" would not be true)."""
    if len(ranked) < 2 or best.delivery_date > ranked[0].delivery_date:
        return ""
    cheaper = [r for r in ranked if r.price.customer_rub < best.price.customer_rub]
    if not cheaper:
        return _("Из оригиналов — самый ранний срок и самая низкая цена.")
    other = min(cheaper, key=lambda r: (r.price.customer_rub, r.delivery_date))
    return _(
        "Оригинал, который приедет раньше всех (%(date)s); самый дешёвый оригинал — на "
        "%(extra)s дешевле, но только к %(later)s."
    ) % {
        "date": best.delivery_date.strftime("%d.%m"),
        "extra": format_rub(best.price.customer_rub - other.price.customer_rub),
        "later": other.delivery_date.strftime("%d.%m"),
    }


def default_picks(block: NumberBlock) -> dict[str, Row]:
    """The builder's suggestion for one number: {tag: row} for the original (soonest, then
    cheapest), the recommended one (the 30 % rule) and the cheapest; a row can be several."""
    picks: dict[str, Row] = {}
    ranked = originals_ranked(block.rows)
    if ranked:
        picks["original"] = ranked[0]
    recommended = next((r for r in block.rows if r.is_recommended), None)
    if recommended is not None:
        picks["recommended"] = recommended
    cheapest = _cheapest_in_stock(block.rows)
    if cheapest is not None:
        picks["cheapest"] = cheapest
    return picks


def _option(row: Row, tags: Sequence[str], why: str, pricer: Pricer) -> dict:
    labels = [OPTION_LABELS[tag] for tag in TAG_ORDER if tag in tags]
    # What the customer pays for the part under the shop's tax regime: VAT added on top of a
    # supplier price without it, only stated for one with it.
    price = pricer(row.price.customer_rub, "supplier")
    return {
        "label": labels[0] if labels else OTHER_LABEL,
        "tags": labels,
        "why": why,
        "row_key": row.key,
        "brand": row.offer["brand"],
        # As the supplier spells it: what ABCP search/batch is asked with at the re-check.
        "brand_raw": row.offer.get("brand_raw", row.offer["brand"]),
        "number": row.offer["number_raw"],
        "name": row.offer.get("name", ""),
        "quality": row.offer["quality"],
        "supplier_id": row.supplier.pk,
        "supplier_name": row.supplier.name,
        "list_price_rub": row.offer["price_rub"],
        "purchase_rub": str(row.price.purchase_rub),
        "customer_rub": str(price.total_rub),
        "vat_rub": str(price.vat_in_total_rub),
        "vat_on_top_rub": str(price.vat_on_top_rub),
        "delivery_date": row.delivery_date.isoformat(),
        "warranty_months": row.offer.get("warranty_months"),
        "order_ref": row.offer.get("order_ref", {}),
        "number_key": row.offer["number_key"],
        "condition": row.offer.get("condition", "new"),
        "wear_pct": row.offer.get("wear_pct"),
        "min_qty": row.offer.get("min_qty", 1),
        "multiple": row.offer.get("multiple", 1),
        "in_stock": _stocked(row),
    }


def _position(block: NumberBlock, keys: Sequence[str], pricer: Pricer) -> dict | None:
    """A position offering the rows `keys` of a number, each tagged by what it is among the
    rows offered: the original the customer gets soonest, the recommended one, the cheapest."""
    wanted = set(keys)
    rows = [r for r in block.rows if r.key in wanted]
    if not rows:
        return None
    tags: dict[str, list[str]] = {r.key: [] for r in rows}
    why: dict[str, str] = {}
    ranked = originals_ranked(rows)
    if ranked:
        tags[ranked[0].key].append("original")
        why[ranked[0].key] = _original_why(ranked[0], originals_ranked(block.rows))
    for row in rows:
        if row.is_recommended:
            tags[row.key].append("recommended")
    cheapest = _cheapest_in_stock(rows)
    if cheapest is not None:
        tags[cheapest.key].append("cheapest")
    # Cards in the order of the tags (recommended, original, cheapest), then by price.
    rows.sort(
        key=lambda r: (
            min((TAG_ORDER.index(t) for t in tags[r.key]), default=len(TAG_ORDER)),
            r.price.customer_rub,
        )
    )
    recommended = any(r.is_recommended for r in rows)
    return {
        "number": block.number,
        "name": block.name,
        "options": [_option(r, tags[r.key], why.get(r.key, ""), pricer) for r in rows],
        "reasons": list(block.reasons) if recommended else [],
    }


def offer_blocks(search: Search) -> list[NumberBlock]:
    """The stored answers of a search as the builder shows them: no supplier is asked. Used
    and clearance parts are left out unless the shop offers them like new ones."""
    blocks, _states = search_table(search, sort="price")
    for block in blocks:
        block.rows = [row for row in block.rows if row.offerable]
    return blocks


@transaction.atomic
def offer_build(*, lead: Lead, search: Search, by: Membership) -> OfferVersion:
    """A draft with, per number, the original, the recommended and the cheapest offer
    (a row once, with every tag it has), plus the work of the lead's estimate."""
    positions = []
    pricer = customer_pricer(lead.shop)
    for block in offer_blocks(search):
        position = _position(block, [row.key for row in default_picks(block).values()], pricer)
        if position is not None:
            positions.append(position)
    offer, _created = CustomerOffer.objects.get_or_create(lead=lead, defaults={"shop": lead.shop})
    number = (offer.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    return OfferVersion.objects.create(
        offer=offer,
        number=number,
        author=by,
        search=search,
        labour=estimate_lines(lead),
        positions=positions,
    )


@transaction.atomic
def offer_compose(
    *, version: OfferVersion, estimate_sources: Sequence[str], rows: Mapping[str, Sequence[str]]
) -> OfferVersion:
    """The advisor's choice for a draft: which estimate lines (by source) go in, and per
    number which result rows of the stored search are offered (a number with none is left
    out). Lines the advisor added or edited by hand are kept; no supplier is asked again."""
    if version.status != OfferStatus.DRAFT:
        raise ValidationError(_("Менять можно только черновик: создайте новую версию."))
    wanted = set(estimate_sources)
    current = {line.get("source"): line for line in version.labour if line.get("source")}
    labour = [line for line in version.labour if not line.get("source")]
    for line in estimate_lines(version.offer.lead):
        if line["source"] in wanted:
            labour.append(current.get(line["source"], line))
    positions = []
    if version.search_id is not None:
        pricer = customer_pricer(version.offer.shop)
        for block in offer_blocks(version.search):
            keys = rows.get(block.number) or []
            position = _position(block, keys, pricer) if keys else None
            if position is not None:
                positions.append(position)
    else:
        # Built before the builder kept its search: the positions stay as they are.
        positions = version.positions
    version.labour = labour
    version.positions = positions
    version.save(update_fields=["labour", "positions"])
    return version


@transaction.atomic
def offer_revise(*, version: OfferVersion, by: Membership) -> OfferVersion:
    """A new draft from a version (sent, accepted or withdrawn): the same lines, parts and
    stored search answers, to change without searching again. The driver's link keeps the
    current version until the new one is sent. An open draft is reused, never doubled."""
    offer = CustomerOffer.objects.select_for_update().get(pk=version.offer_id)
    draft = offer.versions.filter(status=OfferStatus.DRAFT).order_by("-number").first()
    if draft is not None:
        return draft
    number = (offer.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    return OfferVersion.objects.create(
        offer=offer,
        number=number,
        author=by,
        search=version.search,
        labour=version.labour,
        positions=version.positions,
    )


def option_tags(option: Mapping) -> list[str]:
    """The kinds an option is (оригинал, рекомендуем, самый выгодный), stored in Russian."""
    return list(option.get("tags") or [option["label"]])


def set_labels(version: OfferVersion) -> list[str]:
    """The whole sets the driver can preselect in one tap, in a fixed order."""
    return [
        label
        for label in OPTION_LABELS.values()
        if any(label in option_tags(o) for p in version.positions for o in p["options"])
    ]


def choice_for_set(
    version: OfferVersion, label: str, base: Mapping[str, int] | None = None
) -> dict[str, int]:
    """The choice a "take the whole set" tap PRESELECTS (all originals, all recommended, all
    cheapest): each position gets its option of that kind; one that has none keeps what was
    picked, or its first option. A set this offer does not show is refused. Nothing is
    accepted by this: the driver still confirms."""
    if label not in set_labels(version):
        raise ValidationError(
            _("Такого набора в предложении нет: обновите страницу и выберите ещё раз.")
        )
    choice = {}
    for index, position in enumerate(version.positions):
        tagged = [n for n, o in enumerate(position["options"]) if label in option_tags(o)]
        kept = (base or {}).get(str(index))
        choice[str(index)] = tagged[0] if tagged else (kept if kept is not None else 0)
    return choice


def choice_default(version: OfferVersion) -> dict[str, int]:
    """What the page preselects before the driver touches it: the recommended option where
    there is one; elsewhere nothing (the driver picks)."""
    choice = {}
    for index, position in enumerate(version.positions):
        for n, option in enumerate(position["options"]):
            if OPTION_LABELS["recommended"] in option_tags(option):
                choice[str(index)] = n
                break
    return choice


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


@dataclass(frozen=True)
class Totals:
    """The money of an offer for one choice: what the customer pays (the server's figure is
    the one recorded) and, for the shop, what the parts cost it."""

    labour_rub: Decimal
    parts_rub: Decimal
    total_rub: Decimal
    purchase_rub: Decimal
    margin_rub: Decimal
    complete: bool  # every position has a pick
    vat_rub: Decimal = Decimal("0.00")  # the VAT inside total_rub («в т.ч. НДС»)


def offer_totals(version: OfferVersion, choice: Mapping[str, int]) -> Totals:
    """Offers store what the customer pays per line (VAT as the shop's regime says, added
    when the offer was built); older offers have no VAT keys and count none."""
    zero = Decimal("0.00")
    labour = sum((Decimal(line["price_rub"]) for line in version.labour), zero)
    vat = sum((Decimal(line.get("vat_rub") or 0) for line in version.labour), zero)
    parts = purchase = vat_on_top = zero
    complete = True
    for index, position in enumerate(version.positions):
        picked = choice.get(str(index))
        if picked is None:
            complete = False
            continue
        option = position["options"][picked]
        parts += Decimal(option["customer_rub"])
        purchase += Decimal(option["purchase_rub"])
        vat += Decimal(option.get("vat_rub") or 0)
        vat_on_top += Decimal(option.get("vat_on_top_rub") or 0)
    return Totals(
        labour_rub=quantize_rub(labour),
        parts_rub=quantize_rub(parts),
        total_rub=quantize_rub(labour + parts),
        purchase_rub=quantize_rub(purchase),
        # The shop's margin leaves out the VAT it adds on top and passes on to the budget.
        margin_rub=quantize_rub(parts - vat_on_top - purchase),
        complete=complete,
        vat_rub=quantize_rub(vat),
    )


def option_total(version: OfferVersion, choice: Mapping[str, int]) -> Decimal:
    return offer_totals(version, choice).total_rub


def set_totals(version: OfferVersion) -> list[tuple[str, Totals]]:
    """For the advisor: the customer total and the parts margin of every whole set."""
    return [
        (label, offer_totals(version, choice_for_set(version, label)))
        for label in set_labels(version)
    ]


def chosen_lines(version: OfferVersion, choice: Mapping[str, int]) -> list[dict]:
    """What the driver confirms: every part with the option picked, its price and date."""
    lines = []
    for index, position in enumerate(version.positions):
        picked = choice.get(str(index))
        if picked is not None:
            lines.append(
                {
                    "index": index,
                    "picked": picked,
                    "position": position,
                    "option": position["options"][picked],
                }
            )
    return lines


@transaction.atomic
def _offer_event(version: OfferVersion, kind: str) -> None:
    offer = version.offer
    data = {
        "offer_id": offer.pk,
        "version": version.number,
        "lead_id": offer.lead_id,
        "valid_until": version.valid_until.isoformat() if version.valid_until else None,
    }
    if version.accepted_total_rub is not None:
        data["accepted_total_rub"] = str(version.accepted_total_rub)
    events.event_emit(
        shop=offer.shop,
        type=kind,
        subject=f"lead:{offer.lead_id}",
        lead_id=offer.lead_id,
        data=data,
    )


def offer_send(*, version: OfferVersion, by: Membership) -> OfferVersion:
    """Freeze the prices (they are in the version), start the validity, tell the driver."""
    if version.status != OfferStatus.DRAFT:
        raise ValidationError(_("Это предложение уже отправлено."))
    _refuse_withdrawn(version.offer.lead)
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
    _offer_event(version, events.OFFER_SENT)
    if lead.email:
        outbox_put(
            shop=lead.shop,
            kind=NOTIFY_OFFER_SENT,
            dedupe_key=f"offer-sent:{version.pk}",
            payload={"version_id": version.pk},
            subject_phone=lead.phone,
        )
    return version


def offer_labour_set(
    *, version: OfferVersion, lines: Sequence[tuple[str, Decimal] | tuple[str, Decimal, str]]
) -> OfferVersion:
    """Replace the labour lines of a draft (name, price, and the estimate line it came from
    when it did); a sent offer keeps what the driver was shown."""
    if version.status != OfferStatus.DRAFT:
        raise ValidationError(_("Работы меняются только в черновике: предложение уже отправлено."))
    labour = []
    pricer = customer_pricer(version.offer.shop)
    for name, price_rub, *source in lines:
        # A price typed by the advisor is what the customer pays, VAT (if any) inside it.
        price = pricer(Decimal(price_rub), "final")
        line = {
            "name": name,
            "price_rub": str(price.total_rub),
            "vat_rub": str(price.vat_in_total_rub),
        }
        if source and source[0]:
            line["source"] = source[0]
        labour.append(line)
    version.labour = labour
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


class OfferChanged(ValidationError):
    """What the driver confirmed is no longer what the offer says (a new version was sent,
    or the sum differs): nothing is accepted, the page shows the offer again."""


@transaction.atomic
def offer_accept(
    *,
    version: OfferVersion,
    choice: Mapping[str, int],
    confirmed_total_rub: Decimal,
    ip: str | None,
    user_agent: str,
) -> OfferVersion:
    """The driver's acceptance, after the confirm step showed every chosen line and the
    total: who (the link), when, what, from where (the address and the browser, kept as
    evidence). The total the driver confirmed must be the server's total for that choice.
    Once only: the same confirmation sent twice (a double tap, a reload) is the same
    acceptance, another choice after it is refused."""
    version = OfferVersion.objects.select_for_update().get(pk=version.pk)
    state = offer_state(version)
    clean: dict[str, int] = {}
    for index, position in enumerate(version.positions):
        picked = choice.get(str(index))
        if picked is None:
            raise ValidationError(_("Выберите вариант для каждой детали."))
        if not 0 <= picked < len(position["options"]):
            raise ValidationError(_("Такого варианта нет: обновите страницу."))
        clean[str(index)] = picked
    if state == OfferStatus.ACCEPTED:
        if version.accepted_choice == clean and version.accepted_total_rub == confirmed_total_rub:
            return version
        raise ValidationError(_("Вы уже приняли это предложение — мы его получили."))
    if state != OfferStatus.SENT:
        raise ValidationError(
            _("Предложение больше не действует. Позвоните нам — подготовим новое.")
        )
    total = offer_totals(version, clean).total_rub
    if quantize_rub(confirmed_total_rub) != total:
        raise OfferChanged(
            _("Сумма изменилась: проверьте выбранное ещё раз и подтвердите новую сумму.")
        )
    version.status = OfferStatus.ACCEPTED
    version.accepted_at = timezone.now()
    version.accepted_choice = clean
    version.accepted_total_rub = total
    version.accepted_ip = ip or None
    version.accepted_user_agent = (user_agent or "")[:USER_AGENT_MAX_CHARS]
    version.save()
    lead = version.offer.lead
    if Status.OFFER_ACCEPTED in lead.allowed_statuses():
        lead_change_status(lead=lead, status=Status.OFFER_ACCEPTED, by=None)
    _offer_event(version, events.OFFER_ACCEPTED)
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
    shown to the advisor before ordering. An ABCP supplier that allows search/batch gets
    all its options in one call (brand and number are known) instead of a search each."""
    version = OfferVersion.objects.select_related("offer__shop").get(pk=version_id)
    deadline = time.monotonic() + float(pricing_settings(version.offer.shop).search_deadline_s)
    picked_options = []
    supplier_ids = set()
    for index, position in enumerate(version.positions):
        picked = version.accepted_choice.get(str(index))
        if picked is None:
            continue
        option = position["options"][picked]
        picked_options.append((index, option))
        supplier_ids.add(option["supplier_id"])
    suppliers = Supplier.objects.filter(pk__in=supplier_ids, shop=version.offer.shop).in_bulk()
    answers: dict[int, SearchResult] = {}
    by_supplier: dict[int, list[tuple[int, dict]]] = {}
    for index, option in picked_options:
        by_supplier.setdefault(option["supplier_id"], []).append((index, option))
    for supplier_id, chosen in by_supplier.items():
        supplier = suppliers.get(supplier_id)
        if supplier is not None and len(chosen) > 1 and supplier_batch_allowed(supplier):
            batch = supplier_ask_batch_counted(
                supplier=supplier,
                pairs=[
                    (option.get("brand_raw") or option["brand"], option["number_key"])
                    for _i, option in chosen
                ],
                deadline=deadline,
            )
            answers.update({index: r for (index, _o), r in zip(chosen, batch, strict=True)})
    results = []
    for index, option in picked_options:
        supplier = suppliers.get(option["supplier_id"])
        entry = {"position": index, "brand": option["brand"], "number": option["number"]}
        if supplier is None:
            results.append({**entry, "status": "supplier_gone"})
            continue
        answer = answers.get(index) or supplier_ask_counted(
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
