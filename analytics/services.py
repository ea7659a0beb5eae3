"""Bring a shop's analytics rollups up to date from the rows the other apps keep.

Read-only over leads, offers, estimates, intake records and supplier answers: each lead
touched since the last run gets its facts recomputed whole (response time, the furthest
funnel step, the lost reason, the money of its offers), each accepted offer its picks,
each revised estimate its calibration rows, each day with supplier answers its supplier
figures. Running it twice changes nothing; a lead deleted by a platform admin takes its
facts with it (cascade).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from autoservice.models import Shop
from intake.models import IntakeRecord, RecordKind
from leads.models import EventKind, Lead, LeadEvent, Status
from optima.models import DeliveryRecord, OfferVersion, SupplierAnswer
from smartcalc.models import Estimate, EstimateVersion

from .models import (
    EstimateCheck,
    LeadFact,
    OfferPick,
    PickKind,
    RefreshState,
    Source,
    Stage,
    SupplierDay,
)

CHUNK = 2000
# A change committed a little after the previous run began is still picked up.
OVERLAP = dt.timedelta(minutes=5)
ZERO = Decimal("0.00")
# The tags an offer option carries are stored in Russian (optima.offers.OPTION_LABELS).
TAG_KINDS = {
    "рекомендуем": PickKind.RECOMMENDED,
    "оригинал": PickKind.ORIGINAL,
    "самый выгодный": PickKind.CHEAPEST,
}
KIND_ORDER = (PickKind.RECOMMENDED, PickKind.ORIGINAL, PickKind.CHEAPEST)
ANSWERED_STATES = ("answered", "no_stock")
ERROR_STATES = ("error", "auth_error", "config_error")
STAGE_OF_STATUS = {
    Status.IN_PROGRESS: Stage.CONTACTED,
    Status.OFFER_SENT: Stage.OFFER_SENT,
    Status.OFFER_ACCEPTED: Stage.ACCEPTED,
    Status.BOOKED: Stage.BOOKED,
    Status.WON: Stage.WON,
}


def _dec(value, default: Decimal = ZERO) -> Decimal:
    try:
        return Decimal(str(value)) if value not in (None, "") else default
    except (InvalidOperation, ValueError):
        return default


def _tags(option: Mapping) -> list[str]:
    return list(option.get("tags") or [option.get("label", "")])


def _kind(option: Mapping) -> str:
    kinds = {TAG_KINDS.get(tag) for tag in _tags(option)}
    return next((kind for kind in KIND_ORDER if kind in kinds), PickKind.OTHER)


def _default_pick(position: Mapping) -> int:
    """The option the driver's page preselects (the recommended one), else the first card."""
    for index, option in enumerate(position.get("options", [])):
        if "рекомендуем" in _tags(option):
            return index
    return 0


def offer_value_rub(labour: Iterable[Mapping], positions: Iterable[Mapping]) -> Decimal:
    """What an offer is worth as sent: its work and, per part, the option preselected."""
    total = sum((_dec(line.get("price_rub")) for line in labour), ZERO)
    for position in positions:
        options = position.get("options") or []
        if options:
            total += _dec(options[_default_pick(position)].get("customer_rub"))
    return total


# --- leads -------------------------------------------------------------------------------


def _lead_facts(shop: Shop, ids: list[int], now: dt.datetime) -> None:
    tz = shop.tzinfo
    leads = list(
        Lead.objects.filter(shop=shop, pk__in=ids).values(
            "pk",
            "channel",
            "status",
            "lost_reason",
            "assignee_id",
            "created_at",
            "first_response_at",
            "sla_due_at",
        )
    )
    reached: dict[int, set[str]] = defaultdict(set)
    via_api: set[int] = set()
    embedded: set[int] = set()
    for lead_id, kind, data in LeadEvent.objects.filter(
        lead_id__in=ids, kind__in=(EventKind.STATUS, EventKind.CREATED)
    ).values_list("lead_id", "kind", "data"):
        if kind == EventKind.STATUS and isinstance(data, dict) and data.get("new"):
            reached[lead_id].add(data["new"])
        elif kind == EventKind.CREATED and isinstance(data, dict):
            if data.get("api_token"):
                via_api.add(lead_id)
            elif data.get("embedded"):
                embedded.add(lead_id)
    sent: dict[int, Decimal] = defaultdict(lambda: ZERO)
    accepted: dict[int, Decimal] = defaultdict(lambda: ZERO)
    offered: set[int] = set()
    took: set[int] = set()
    latest_sent: dict[int, tuple[int, int, list, list]] = {}
    picks: list[OfferPick] = []
    assignees = {row["pk"]: row["assignee_id"] for row in leads}
    suppliers = set(shop.suppliers.values_list("pk", flat=True))
    for version in OfferVersion.objects.filter(
        offer__shop=shop, offer__lead_id__in=ids, sent_at__isnull=False
    ).values(
        "pk",
        "offer_id",
        "offer__lead_id",
        "number",
        "labour",
        "positions",
        "accepted_at",
        "accepted_choice",
        "accepted_total_rub",
    ):
        lead_id = version["offer__lead_id"]
        offered.add(lead_id)
        key = version["offer_id"]
        if key not in latest_sent or latest_sent[key][1] < version["number"]:
            latest_sent[key] = (lead_id, version["number"], version["labour"], version["positions"])
        if version["accepted_at"] is None:
            continue
        took.add(lead_id)
        accepted[lead_id] += version["accepted_total_rub"] or ZERO
        picks += _picks(shop, version, assignees.get(lead_id), suppliers)
    for lead_id, _number, labour, positions in latest_sent.values():
        sent[lead_id] += offer_value_rub(labour or [], positions or [])
    car_in = set(
        IntakeRecord.objects.filter(
            shop=shop, lead_id__in=ids, kind=RecordKind.INTAKE, sealed_at__isnull=False
        ).values_list("lead_id", flat=True)
    )
    facts = []
    for row in leads:
        lead_id = row["pk"]
        statuses = reached[lead_id] | {row["status"]}
        stage = max((STAGE_OF_STATUS.get(s, Stage.LEAD) for s in statuses), default=Stage.LEAD)
        if row["first_response_at"] is not None:
            stage = max(stage, Stage.CONTACTED)
        if lead_id in offered:
            stage = max(stage, Stage.OFFER_SENT)
        if lead_id in took:
            stage = max(stage, Stage.ACCEPTED)
        if lead_id in car_in:
            stage = max(stage, Stage.CAR_IN)
        created, answered, due = row["created_at"], row["first_response_at"], row["sla_due_at"]
        local = created.astimezone(tz)
        if answered is not None:
            response_s = max(int((answered - created).total_seconds()), 0)
            in_sla = answered <= due if due else None
        else:
            response_s = None
            in_sla = False if due and due < now else None
        facts.append(
            LeadFact(
                lead_id=lead_id,
                shop=shop,
                assignee_id=row["assignee_id"],
                created_at=created,
                local_date=local.date(),
                local_hour=local.hour,
                local_weekday=local.weekday(),
                source=(
                    Source.API
                    if lead_id in via_api
                    else Source.EMBEDDED
                    if lead_id in embedded
                    else row["channel"]
                ),
                after_hours=not shop.is_open_at(created),
                response_s=response_s,
                in_sla=in_sla,
                stage=stage,
                lost=row["status"] == Status.LOST,
                lost_reason=(row["lost_reason"] or "").strip()[:300]
                if row["status"] == Status.LOST
                else "",
                offer_sent_rub=sent[lead_id] if lead_id in offered else None,
                offer_accepted_rub=accepted[lead_id] if lead_id in took else None,
                refreshed_at=now,
            )
        )
    with transaction.atomic():
        LeadFact.objects.filter(lead_id__in=ids).delete()
        OfferPick.objects.filter(shop=shop, lead_id__in=ids).delete()
        # A manual refresh and beat's may overlap: the rows the other run just wrote are as
        # fresh as ours, so a conflict keeps theirs instead of failing.
        LeadFact.objects.bulk_create(facts, ignore_conflicts=True)
        OfferPick.objects.bulk_create(picks, ignore_conflicts=True)


def _picks(shop: Shop, version: Mapping, assignee_id: int | None, suppliers: set[int]) -> list:
    local_date = version["accepted_at"].astimezone(shop.tzinfo).date()
    choice = version["accepted_choice"] or {}
    picks = []
    for index, position in enumerate(version["positions"] or []):
        options = position.get("options") or []
        picked = choice.get(str(index))
        if picked is None or not 0 <= picked < len(options):
            continue
        option = options[picked]
        supplier_id = option.get("supplier_id")
        picks.append(
            OfferPick(
                shop=shop,
                lead_id=version["offer__lead_id"],
                assignee_id=assignee_id,
                version_id=version["pk"],
                position=index,
                local_date=local_date,
                kind=_kind(option),
                recommended_offered=any("рекомендуем" in _tags(o) for o in options),
                recommended_picked="рекомендуем" in _tags(option),
                supplier_id=supplier_id if supplier_id in suppliers else None,
                supplier_name=str(option.get("supplier_name", ""))[:120],
                quality=str(option.get("quality", ""))[:20],
                sale_rub=_dec(option.get("customer_rub")) - _dec(option.get("vat_on_top_rub")),
                purchase_rub=_dec(option.get("purchase_rub")),
            )
        )
    return picks


# --- estimates ----------------------------------------------------------------------------


def _pct(part: Decimal, whole: Decimal) -> Decimal:
    return (part * 100 / whole).quantize(Decimal("0.01")) if whole else ZERO


def _part_sums(result: Mapping) -> dict[str, tuple[str, Decimal, Decimal, Decimal]]:
    """Per damaged part (inspection's own extra lines left out): its name, subtotal and the
    hidden-damage range promised on it, in roubles."""
    sums: dict[str, list] = {}
    for line in result.get("lines", []):
        part = line.get("part") or ""
        if not part or part == "extra":
            continue
        subtotal = _dec(line.get("subtotal_rub"))
        entry = sums.setdefault(part, [line.get("part_name") or part, ZERO, ZERO, ZERO])
        entry[1] += subtotal
        entry[2] += subtotal * _dec(line.get("hidden_low_pct")) / 100
        entry[3] += subtotal * _dec(line.get("hidden_high_pct")) / 100
    return {part: tuple(entry) for part, entry in sums.items()}


def _estimate_checks(shop: Shop, estimate_ids: list[int]) -> None:
    versions: dict[int, list[dict]] = defaultdict(list)
    for row in (
        EstimateVersion.objects.filter(estimate__shop=shop, estimate_id__in=estimate_ids)
        .order_by("estimate_id", "number")
        .values(
            "estimate_id",
            "result",
            "created_at",
            "estimate__generation__model__make__name",
            "estimate__generation__model__name",
        )
    ):
        versions[row["estimate_id"]].append(row)
    checks = []
    for estimate_id, rows in versions.items():
        if len(rows) < 2:
            continue
        first, last = rows[0], rows[-1]
        model = (
            f"{first['estimate__generation__model__make__name']} "
            f"{first['estimate__generation__model__name']}"
        )
        day = last["created_at"].astimezone(shop.tzinfo).date()
        before = _dec(first["result"].get("subtotal_rub"))
        after = _dec(last["result"].get("subtotal_rub"))
        if before:
            checks.append(
                EstimateCheck(
                    shop=shop,
                    estimate_id=estimate_id,
                    local_date=day,
                    model_name=model,
                    part="",
                    promised_low_pct=_dec(first["result"].get("hidden_low_pct")),
                    promised_high_pct=_dec(first["result"].get("hidden_high_pct")),
                    found_pct=_pct(after - before, before),
                )
            )
        now_parts = _part_sums(last["result"])
        for part, (name, subtotal, low, high) in _part_sums(first["result"]).items():
            if not subtotal or part not in now_parts:
                continue
            checks.append(
                EstimateCheck(
                    shop=shop,
                    estimate_id=estimate_id,
                    local_date=day,
                    model_name=model,
                    part=part,
                    part_name=str(name)[:120],
                    promised_low_pct=_pct(low, subtotal),
                    promised_high_pct=_pct(high, subtotal),
                    found_pct=_pct(now_parts[part][1] - subtotal, subtotal),
                )
            )
    with transaction.atomic():
        EstimateCheck.objects.filter(shop=shop, estimate_id__in=estimate_ids).delete()
        EstimateCheck.objects.bulk_create(checks, ignore_conflicts=True)


# --- suppliers ----------------------------------------------------------------------------


def _supplier_days(shop: Shop, days: Iterable[dt.date]) -> None:
    tz = shop.tzinfo
    for day in sorted(set(days)):
        start = dt.datetime.combine(day, dt.time(0), tzinfo=tz)
        answers = list(
            SupplierAnswer.objects.filter(
                search__shop=shop,
                fetched_at__gte=start,
                fetched_at__lt=start + dt.timedelta(days=1),
                from_cache=False,
            )
            .exclude(state="quota_spent")
            .values("search_id", "supplier_id", "number_key", "state", "elapsed_ms", "offers")
        )
        stats: dict[int, SupplierDay] = {}
        prices: dict[tuple[int, str], dict[int, Decimal]] = defaultdict(dict)
        for answer in answers:
            supplier_id = answer["supplier_id"]
            entry = stats.setdefault(
                supplier_id, SupplierDay(shop=shop, supplier_id=supplier_id, day=day)
            )
            entry.answers += 1
            if answer["state"] in ANSWERED_STATES:
                entry.answered += 1
                entry.answered_ms_sum += answer["elapsed_ms"]
            elif answer["state"] == "timeout":
                entry.timeouts += 1
            elif answer["state"] in ERROR_STATES:
                entry.errors += 1
            same = [
                _dec(o.get("price_rub"))
                for o in answer["offers"] or []
                if o.get("number_key") == answer["number_key"] and _dec(o.get("price_rub")) > 0
            ]
            if same:
                prices[(answer["search_id"], answer["number_key"])][supplier_id] = min(same)
        for row in (
            DeliveryRecord.objects.filter(
                shop=shop, created_at__gte=start, created_at__lt=start + dt.timedelta(days=1)
            )
            .filter(Q(arrived_on__isnull=False) | Q(not_delivered=True))
            .values("supplier_id", "promised_on", "arrived_on", "claimed_in_stock", "was_in_stock")
        ):
            entry = stats.setdefault(
                row["supplier_id"], SupplierDay(shop=shop, supplier_id=row["supplier_id"], day=day)
            )
            entry.marked += 1
            entry.on_time += int(
                bool(row["arrived_on"]) and row["arrived_on"] <= row["promised_on"]
            )
            if row["claimed_in_stock"] and row["was_in_stock"] is not None:
                entry.stock_claims += 1
                entry.stock_true += int(row["was_in_stock"])
        for by_supplier in prices.values():
            if len(by_supplier) < 2:
                continue
            best = min(by_supplier.values())
            for supplier_id, price in by_supplier.items():
                entry = stats[supplier_id]
                entry.compared += 1
                entry.cheapest += int(price == best)
                entry.above_cheapest_pct_sum += _pct(price - best, best)
        with transaction.atomic():
            SupplierDay.objects.filter(shop=shop, day=day).delete()
            SupplierDay.objects.bulk_create(stats.values(), ignore_conflicts=True)


# --- the runs -----------------------------------------------------------------------------


def _chunks(ids: list[int]) -> Iterable[list[int]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


def _refresh(
    shop: Shop,
    lead_ids: Iterable[int],
    estimate_ids: Iterable[int],
    days: Iterable[dt.date],
    now: dt.datetime,
) -> int:
    ids = sorted(set(lead_ids))
    for chunk in _chunks(ids):
        _lead_facts(shop, chunk, now)
    for chunk in _chunks(sorted(set(estimate_ids))):
        _estimate_checks(shop, chunk)
    _supplier_days(shop, days)
    RefreshState.objects.update_or_create(shop=shop, defaults={"refreshed_at": now})
    return len(ids)


def _answer_days(shop: Shop, since: dt.datetime | None) -> set[dt.date]:
    """Days (shop's time zone) with supplier answers, or deliveries ordered or marked,
    since `since` (every such day when None)."""
    answers = SupplierAnswer.objects.filter(search__shop=shop, from_cache=False)
    deliveries = DeliveryRecord.objects.filter(shop=shop)
    if since is not None:
        answers = answers.filter(fetched_at__gte=since)
        deliveries = deliveries.filter(Q(created_at__gte=since) | Q(marked_at__gte=since))
    tz = shop.tzinfo
    moments = list(answers.values_list("fetched_at", flat=True))
    moments += list(deliveries.values_list("created_at", flat=True))
    return {moment.astimezone(tz).date() for moment in moments}


def facts_rebuild(*, shop: Shop, now: dt.datetime | None = None) -> int:
    """Every lead, revised estimate and supplier day of the shop, from scratch (the demo,
    the tests, and after an upgrade that changes what a fact means)."""
    now = now or timezone.now()
    revised = (
        Estimate.objects.filter(shop=shop)
        .annotate(n=Count("versions"))
        .filter(n__gte=2)
        .values_list("pk", flat=True)
    )
    return _refresh(
        shop,
        Lead.objects.filter(shop=shop).values_list("pk", flat=True),
        revised,
        _answer_days(shop, None),
        now,
    )


def facts_refresh(*, shop: Shop, now: dt.datetime | None = None) -> int:
    """What changed since the previous run: leads created, answered, moved, assigned, offered,
    accepted, taken in, or whose deadline passed unanswered; estimates revised; supplier
    answers received. The first run of a shop rebuilds everything."""
    now = now or timezone.now()
    state = RefreshState.objects.filter(shop=shop).first()
    if state is None:
        return facts_rebuild(shop=shop, now=now)
    since = state.refreshed_at - OVERLAP
    lead_ids = set(
        Lead.objects.filter(shop=shop)
        .filter(
            Q(created_at__gte=since)
            | Q(status_changed_at__gte=since)
            | Q(first_response_at__gte=since)
            | Q(first_response_at__isnull=True, sla_due_at__gte=since, sla_due_at__lte=now)
        )
        .values_list("pk", flat=True)
    )
    lead_ids |= set(
        LeadEvent.objects.filter(lead__shop=shop, created_at__gte=since).values_list(
            "lead_id", flat=True
        )
    )
    lead_ids |= set(
        OfferVersion.objects.filter(offer__shop=shop)
        .filter(Q(sent_at__gte=since) | Q(accepted_at__gte=since))
        .values_list("offer__lead_id", flat=True)
    )
    lead_ids |= set(
        IntakeRecord.objects.filter(
            shop=shop, sealed_at__gte=since, lead_id__isnull=False
        ).values_list("lead_id", flat=True)
    )
    estimate_ids = set(
        EstimateVersion.objects.filter(
            estimate__shop=shop, created_at__gte=since, number__gte=2
        ).values_list("estimate_id", flat=True)
    )
    return _refresh(shop, lead_ids, estimate_ids, _answer_days(shop, since), now)


def facts_refresh_all(*, now: dt.datetime | None = None) -> int:
    """Beat: every active shop."""
    return sum(facts_refresh(shop=shop, now=now) for shop in Shop.objects.filter(is_active=True))
