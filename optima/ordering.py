"""Parts ordered from the driver's accepted offer: one order per supplier, placed exactly
once, followed until the parts arrive.

Exactly once: the order row and its client order number are committed before any supplier
is called; a worker claims an order (status `placing` with a lease) in a short transaction
and talks to the supplier outside it. An attempt whose outcome is unknown (a timeout after
sending, a dropped connection) leaves the order `placing`; the next attempt — the poller's,
once the lease has run out — first asks the supplier for an order under our number and
places it only when there is none. The advisor's confirmation takes a row lock on the offer
version, so a double click finds the orders of the first click and places nothing.

Database work stays on the calling thread; only the supplier calls run in a thread pool,
all suppliers at once, so ordering takes about as long as the slowest supplier.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import logging
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from autoservice.models import Membership
from autoservice.money import quantize_rub
from autoservice.outbox import outbox_put
from leads.models import EventKind
from leads.services import lead_event_add

from .models import DeliveryRecord, OfferStatus, OfferVersion, Supplier, SupplierKind
from .ordering_models import (
    OPEN_STATUSES,
    OrderLineStatus,
    OrderStatus,
    SupplierOrder,
    SupplierOrderLine,
)
from .reliability import delivery_mark
from .services import pricing_settings, supplier_credentials
from .suppliers.orders import (
    ORDER_CLIENTS,
    OrderClient,
    OrderLineRequest,
    OrderProblem,
    OrderRejected,
    OrderUnknown,
    SupplierOrderState,
    order_client_for,
)

log = logging.getLogger(__name__)

NOTIFY_ORDER_EMAIL = "optima.supplier_order_email"
NOTIFY_ORDER_ALERT = "optima.supplier_order_alert"
MAX_ATTEMPTS = 5
# Statuses in the order an order moves through them; an order never moves back.
_RANK = {
    OrderStatus.DRAFT: 0,
    OrderStatus.PLACING: 1,
    OrderStatus.PLACED: 2,
    OrderStatus.CONFIRMED: 3,
    OrderStatus.PARTLY_REJECTED: 4,
    OrderStatus.SHIPPED: 5,
    OrderStatus.DELIVERED: 6,
    OrderStatus.FAILED: 7,
    OrderStatus.CANCELLED: 8,
}
_LINE_RANK = {
    OrderLineStatus.PENDING: 0,
    OrderLineStatus.ORDERED: 1,
    OrderLineStatus.CONFIRMED: 2,
    OrderLineStatus.SHIPPED: 3,
    OrderLineStatus.DELIVERED: 4,
    OrderLineStatus.REJECTED: 5,
    OrderLineStatus.CANCELLED: 6,  # the shop's decision: no supplier answer undoes it
}
_STAMP = {
    OrderStatus.PLACED: "placed_at",
    OrderStatus.CONFIRMED: "confirmed_at",
    OrderStatus.PARTLY_REJECTED: "rejected_at",
    OrderStatus.SHIPPED: "shipped_at",
    OrderStatus.DELIVERED: "delivered_at",
    OrderStatus.FAILED: "failed_at",
    OrderStatus.CANCELLED: "cancelled_at",
}


# --- the plan: what the advisor confirms --------------------------------------------------


def lot_quantity(wanted: int, min_qty: int, multiple: int) -> int:
    """What the supplier accepts for `wanted` pieces: at least its minimum (Armtek MINBM),
    rounded up to its lot (Armtek RDPRF, ABCP packing). Nonsense rules count as none."""
    min_qty, multiple = max(1, int(min_qty or 1)), max(1, int(multiple or 1))
    quantity = max(1, int(wanted), min_qty)
    return -(-quantity // multiple) * multiple


@dataclass
class PlanLine:
    position: int
    name: str
    option: dict
    qty: int  # what is ordered: the customer's quantity raised to the supplier's lot rules
    agreed_rub: Decimal
    today_rub: Decimal | None
    check: str  # the re-check's status: same, price_up, out_of_stock, supplier_error, ""
    check_message: str = ""
    qty_needed: int = 1  # what the customer's offer holds

    @property
    def min_qty(self) -> int:
        return max(1, int(self.option.get("min_qty") or 1))

    @property
    def multiple(self) -> int:
        return max(1, int(self.option.get("multiple") or 1))

    @property
    def lot_raised(self) -> bool:
        return self.qty != self.qty_needed

    @property
    def lot_rule(self) -> str:
        """The supplier's rule in words: «минимум 2 шт., кратно 2»; "" when it has none."""
        parts = []
        if self.min_qty > 1:
            parts.append(_("минимум %(n)s шт.") % {"n": self.min_qty})
        if self.multiple > 1:
            parts.append(_("кратно %(n)s") % {"n": self.multiple})
        return ", ".join(parts)

    @property
    def price_change_pct(self) -> Decimal | None:
        if self.today_rub is None or not self.agreed_rub:
            return None
        return quantize_rub((self.today_rub - self.agreed_rub) * 100 / self.agreed_rub)


@dataclass
class PlanGroup:
    supplier: Supplier | None
    supplier_name: str
    lines: list[PlanLine] = field(default_factory=list)

    @property
    def total_rub(self) -> Decimal:
        return sum(
            ((line.today_rub or line.agreed_rub) * line.qty for line in self.lines), Decimal(0)
        )

    @property
    def lot_raised(self) -> bool:
        return any(line.lot_raised for line in self.lines)

    @property
    def how(self) -> str:
        if self.supplier is None:
            return "gone"
        if self.supplier.kind == SupplierKind.PRICELIST:
            return "email" if self.supplier.order_email else "no_email"
        if self.supplier.kind not in ORDER_CLIENTS:
            return "site"  # a search-only API (Parts-Soft): the advisor orders on the site
        if self.supplier.kind == SupplierKind.AUTOEURO and not (
            (self.supplier.options or {}).get("payer_key")
        ):
            return "no_payer"
        return "test" if self.supplier.order_test_mode and _has_test(self.supplier) else "api"


def _has_test(supplier: Supplier) -> bool:
    cls = ORDER_CLIENTS.get(supplier.kind)
    return bool(cls and cls.has_test_mode)


def order_plan(version: OfferVersion) -> list[PlanGroup]:
    """The accepted lines grouped by supplier, each with the price agreed and what the
    re-check after acceptance (offers.offer_recheck) found today."""
    checks = {entry.get("position"): entry for entry in version.recheck or []}
    supplier_ids = set()
    chosen = []
    for index, position in enumerate(version.positions):
        picked = (version.accepted_choice or {}).get(str(index))
        if picked is None:
            continue
        option = position["options"][picked]
        supplier_ids.add(option["supplier_id"])
        chosen.append((index, position, option))
    suppliers = Supplier.objects.filter(
        shop_id=version.offer.shop_id, pk__in=supplier_ids
    ).in_bulk()
    groups: dict[int, PlanGroup] = {}
    for index, position, option in chosen:
        supplier = suppliers.get(option["supplier_id"])
        group = groups.setdefault(
            option["supplier_id"],
            PlanGroup(supplier=supplier, supplier_name=option.get("supplier_name", "")),
        )
        check = checks.get(index, {})
        today = check.get("list_price_rub")
        needed = max(1, int(option.get("qty") or 1))
        group.lines.append(
            PlanLine(
                position=index,
                name=position.get("name") or option.get("name", ""),
                option=option,
                qty=lot_quantity(needed, option.get("min_qty", 1), option.get("multiple", 1)),
                qty_needed=needed,
                agreed_rub=Decimal(option["list_price_rub"]),
                today_rub=Decimal(today) if today else None,
                check=check.get("status", ""),
                check_message=check.get("message", ""),
            )
        )
    return list(groups.values())


def client_number_for(version: OfferVersion, supplier: Supplier) -> str:
    return f"AS{version.offer.shop_id}-{version.pk}-{supplier.pk}"


# --- confirmation -------------------------------------------------------------------------


@transaction.atomic
def orders_confirm(
    *, version: OfferVersion, by: Membership | None, lots_accepted: bool = False
) -> tuple[list[SupplierOrder], bool]:
    """The advisor confirms the order: one supplier order per supplier, written with its
    client order number before anything is sent. Returns (orders, created); a second
    confirmation (a double click, a resent form) returns the first one's orders.

    A line whose supplier sells only in lots (a minimum, a multiple) is ordered in the
    quantity the supplier accepts, and only when the advisor accepted that
    (`lots_accepted`): the shop buys the extra pieces, the customer's price stays as
    offered."""
    version = (
        OfferVersion.objects.select_for_update()
        .select_related("offer__shop", "offer__lead")
        .get(pk=version.pk)
    )
    existing = list(version.supplier_orders.all())
    if existing:
        return existing, False
    if version.status != OfferStatus.ACCEPTED:
        raise ValidationError(_("Заказать можно только принятое клиентом предложение."))
    plan = order_plan(version)
    if not plan:
        raise ValidationError(_("В принятом предложении нет деталей для заказа."))
    problems = []
    for group in plan:
        if group.how == "gone":
            problems.append(
                _("Поставщик «%(name)s» удалён: выберите деталь у другого поставщика.")
                % {"name": group.supplier_name}
            )
        elif group.how == "no_email":
            problems.append(
                _(
                    "У поставщика «%(name)s» не указан адрес для заказов: добавьте его "
                    "в настройках поставщика."
                )
                % {"name": group.supplier_name}
            )
        elif group.how == "site" and group.supplier.kind == SupplierKind.PARTSSOFT:
            problems.append(
                _(
                    "Поставщик «%(name)s» на Parts-Soft не принимает заказы через API: "
                    "закажите на сайте поставщика."
                )
                % {"name": group.supplier_name}
            )
        elif group.how == "site":
            problems.append(
                _("Поставщик «%(name)s» не принимает заказы через API.")
                % {"name": group.supplier_name}
            )
        elif group.how == "no_payer":
            problems.append(
                _(
                    "У поставщика «%(name)s» (Автоевро) не указан плательщик (payer_key): "
                    "укажите его в настройках поставщика или закажите на сайте поставщика."
                )
                % {"name": group.supplier_name}
            )
        if not lots_accepted:
            for line in group.lines:
                if line.lot_raised:
                    problems.append(
                        _(
                            "«%(name)s»: поставщик продаёт партиями (%(rule)s), закажем "
                            "%(qty)s шт. вместо %(needed)s. Отметьте «Заказать партиями», "
                            "цена для клиента не изменится."
                        )
                        % {
                            "name": line.name,
                            "rule": line.lot_rule,
                            "qty": line.qty,
                            "needed": line.qty_needed,
                        }
                    )
    if problems:
        raise ValidationError(problems)
    orders = []
    for group in plan:
        supplier = group.supplier
        order = SupplierOrder.objects.create(
            shop=version.offer.shop,
            supplier=supplier,
            version=version,
            client_number=client_number_for(version, supplier),
            test_mode=group.how == "test",
            created_by=by,
        )
        SupplierOrderLine.objects.bulk_create(
            SupplierOrderLine(
                order=order,
                position=line.position,
                brand=line.option["brand"],
                number=line.option["number"],
                number_key=line.option.get("number_key", ""),
                name=(line.option.get("name") or line.name)[:200],
                qty=line.qty,
                qty_needed=line.qty_needed,
                price_agreed_rub=line.agreed_rub,
                order_ref=line.option.get("order_ref") or {},
            )
            for line in group.lines
        )
        orders.append(order)
    text = _("Запчасти заказываются у поставщиков: %(names)s") % {
        "names": ", ".join(f"«{o.supplier.name}» ({o.client_number})" for o in orders)
    }
    raised = [line for group in plan for line in group.lines if line.lot_raised]
    if raised:
        text += " " + _("Партиями поставщика: %(lines)s.") % {
            "lines": "; ".join(
                _("«%(name)s» %(qty)s шт. вместо %(needed)s (%(rule)s)")
                % {
                    "name": line.name,
                    "qty": line.qty,
                    "needed": line.qty_needed,
                    "rule": line.lot_rule,
                }
                for line in raised
            )
        }
    lead_event_add(
        lead=version.offer.lead,
        kind=EventKind.NOTE,
        actor=by,
        text=text,
        supplier_orders=[o.pk for o in orders],
    )
    ids = [o.pk for o in orders]
    transaction.on_commit(lambda: _enqueue_place(ids))
    return orders, True


def _enqueue_place(order_ids: list[int]) -> None:
    from .tasks import place_supplier_orders

    try:
        place_supplier_orders.delay(order_ids)
    except Exception as exc:  # broker down: the poller retries the orders left in draft
        log.warning("orders %s not queued (%s); the poller will place them", order_ids, exc)


# --- placing ------------------------------------------------------------------------------


@dataclass
class _Job:
    order_id: int
    client_number: str
    client: OrderClient
    lines: list[OrderLineRequest]
    find_first: bool


@dataclass
class _Outcome:
    state: SupplierOrderState | None = None
    problem: OrderProblem | None = None


def orders_place(order_ids: Iterable[int]) -> list[SupplierOrder]:
    """Place the given orders, all suppliers at once. Idempotent: an order already placed,
    or being placed by another worker, is left alone."""
    order_ids = list(order_ids)
    # Every supplier is called at once, and each answer is recorded as it arrives: the
    # advisor waits for the slowest supplier, not for the sum.
    jobs = _claim(order_ids)
    if not jobs:
        return list(SupplierOrder.objects.filter(pk__in=order_ids))
    with ThreadPoolExecutor(max_workers=min(16, len(jobs))) as pool:
        running = {pool.submit(_talk, job): job for job in jobs}
        for future in as_completed(running):
            _record(running[future], future.result())
    return list(SupplierOrder.objects.filter(pk__in=order_ids))


def _claim(order_ids: list[int]) -> list[_Job]:
    """Take the orders that are free to place (drafts, and attempts whose lease ran out) in
    one short transaction: a few queries whatever the number of suppliers."""
    now = timezone.now()
    with transaction.atomic():
        orders = list(
            SupplierOrder.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("supplier", "shop")
            .filter(pk__in=order_ids)
            .filter(
                Q(status=OrderStatus.DRAFT)
                | Q(status=OrderStatus.PLACING, lease_until__isnull=True)
                | Q(status=OrderStatus.PLACING, lease_until__lt=now)
            )
        )
        if not orders:
            return []
        lines: dict[int, list[OrderLineRequest]] = {}
        for line in SupplierOrderLine.objects.filter(order__in=orders).order_by("position"):
            lines.setdefault(line.order_id, []).append(
                OrderLineRequest(
                    position=line.position,
                    brand=line.brand,
                    number=line.number,
                    number_key=line.number_key,
                    qty=line.qty,
                    price_rub=line.price_agreed_rub,
                    order_ref=line.order_ref,
                )
            )
        jobs = []
        for order in orders:
            supplier = order.supplier
            order.attempts += 1
            if order.status == OrderStatus.DRAFT:
                order.placing_at = now
            order.status = OrderStatus.PLACING
            if supplier.kind == SupplierKind.PRICELIST:
                _place_by_email(order)
                continue
            timeout_s = float(supplier.timeout_s)
            # Two exchanges at most (find, place), plus slack: past the lease another worker
            # may take the order, and it will look for it at the supplier first.
            order.lease_until = now + dt.timedelta(seconds=2 * timeout_s + 10)
            client = order_client_for(
                supplier.kind,
                base_url=supplier.base_url,
                credentials=supplier_credentials(supplier),
                timeout_s=timeout_s,
                test_mode=order.test_mode,
            )
            # Any attempt after the first may follow one that reached the supplier.
            jobs.append(
                _Job(
                    order.pk,
                    order.client_number,
                    client,
                    lines.get(order.pk, []),
                    find_first=order.attempts > 1,
                )
            )
        claimed = [o for o in orders if o.supplier.kind != SupplierKind.PRICELIST]
        if claimed:
            # One statement for all: the lease of the slowest supplier's budget for each.
            SupplierOrder.objects.filter(pk__in=[o.pk for o in claimed]).update(
                attempts=F("attempts") + 1,
                status=OrderStatus.PLACING,
                placing_at=Coalesce("placing_at", Value(now)),
                lease_until=max(o.lease_until for o in claimed),
            )
    return jobs


def _talk(job: _Job) -> _Outcome:
    """The supplier calls of one attempt (no database here: this runs in a pool thread)."""
    try:
        if job.find_first and not job.client.test_mode:
            found = job.client.find(job.client_number)
            if found is not None:
                return _Outcome(state=found)
        return _Outcome(state=job.client.place(job.client_number, job.lines))
    except OrderProblem as problem:
        return _Outcome(problem=problem)
    except Exception as exc:  # our own parsing bug: the outcome is unknown, look first
        log.exception("order %s: unexpected failure", job.order_id)
        return _Outcome(problem=OrderUnknown(f"Ответ поставщика не удалось обработать ({exc})"))


@transaction.atomic
def _record(job: _Job, outcome: _Outcome) -> None:
    order = (
        SupplierOrder.objects.select_for_update()
        .select_related("supplier", "shop", "version__offer__lead")
        .get(pk=job.order_id)
    )
    if order.status != OrderStatus.PLACING:
        return
    lead = order.version.offer.lead
    if outcome.state is not None:
        order.supplier_number = outcome.state.supplier_number[:60]
        order.lease_until = None
        order.last_error = ""
        order.save(update_fields=["supplier_number", "lease_until", "last_error"])
        _set_status(order, OrderStatus.PLACED)
        _apply_lines(order, outcome.state, initial=True)
        return
    problem = outcome.problem
    order.last_error = problem.message[:300]
    if isinstance(problem, OrderRejected) or order.attempts >= MAX_ATTEMPTS:
        order.lease_until = None
        order.save(update_fields=["last_error", "lease_until"])
        _set_status(order, OrderStatus.FAILED)
        _alert(
            order,
            _("Заказ %(number)s у «%(supplier)s» не размещён: %(reason)s")
            % {
                "number": order.client_number,
                "supplier": order.supplier.name,
                "reason": problem.message,
            },
        )
        return
    # Not sent, or unknown: the order stays `placing`; the lease ends now so that the next
    # attempt (the poller's) can take it, and that attempt looks for it first.
    order.lease_until = timezone.now()
    order.save(update_fields=["last_error", "lease_until"])
    lead_event_add(
        lead=lead,
        kind=EventKind.NOTE,
        text=_(
            "Заказ %(number)s у «%(supplier)s»: %(reason)s; повторим, проверив сначала, "
            "не принят ли он"
        )
        % {
            "number": order.client_number,
            "supplier": order.supplier.name,
            "reason": problem.message,
        },
        supplier_order=order.pk,
    )


def _place_by_email(order: SupplierOrder) -> None:
    """A price-list supplier orders by e-mail: the outbox sends it once (its dedupe key)."""
    order.lease_until = None
    order.save(update_fields=["attempts", "status", "placing_at", "lease_until"])
    outbox_put(
        shop=order.shop,
        kind=NOTIFY_ORDER_EMAIL,
        dedupe_key=f"supplier-order-email:{order.pk}",
        payload={"order_id": order.pk},
    )
    order.lines.update(status=OrderLineStatus.ORDERED)
    _set_status(
        order,
        OrderStatus.PLACED,
        note=_("отправлен письмом на %(to)s") % {"to": order.supplier.order_email},
    )


# --- following ----------------------------------------------------------------------------


def orders_poll(*, shop_id: int | None = None) -> dict[str, int]:
    """Beat: place what is waiting (drafts whose queueing failed, attempts whose lease ran
    out), then ask the suppliers for the state of every open order."""
    now = timezone.now()
    scope = (
        SupplierOrder.objects.all()
        if shop_id is None
        else SupplierOrder.objects.filter(shop_id=shop_id)
    )
    waiting = list(
        scope.filter(
            Q(status=OrderStatus.DRAFT, created_at__lt=now - dt.timedelta(seconds=30))
            | Q(status=OrderStatus.PLACING, lease_until__isnull=True)
            | Q(status=OrderStatus.PLACING, lease_until__lt=now)
        ).values_list("pk", flat=True)[:200]
    )
    if waiting:
        orders_place(waiting)
    open_orders = list(
        scope.filter(status__in=OPEN_STATUSES, test_mode=False)
        .exclude(supplier__kind=SupplierKind.PRICELIST)
        .select_related("supplier")
        .order_by("polled_at")[:200]
    )
    jobs = []
    for order in open_orders:
        client = order_client_for(
            order.supplier.kind,
            base_url=order.supplier.base_url,
            credentials=supplier_credentials(order.supplier),
            timeout_s=float(order.supplier.timeout_s),
        )
        jobs.append((order, client))

    def ask(job) -> SupplierOrderState | OrderProblem:
        order, client = job
        try:
            return client.state(order.supplier_number, order.client_number)
        except OrderProblem as problem:
            return problem

    changed = 0
    if jobs:
        with ThreadPoolExecutor(max_workers=min(16, len(jobs))) as pool:
            answers = list(pool.map(ask, jobs))
        for (order, _client), answer in zip(jobs, answers, strict=True):
            if isinstance(answer, OrderProblem):
                SupplierOrder.objects.filter(pk=order.pk).update(
                    polled_at=timezone.now(), last_error=answer.message[:300]
                )
                continue
            changed += int(order_state_apply(order_id=order.pk, state=answer))
    return {"placed": len(waiting), "polled": len(jobs), "changed": changed}


@transaction.atomic
def order_state_apply(*, order_id: int, state: SupplierOrderState) -> bool:
    """What the supplier says now: line statuses and prices, alerts, the order's status
    and its line on the timeline. Returns whether the order's status changed."""
    order = (
        SupplierOrder.objects.select_for_update()
        .select_related("supplier", "shop", "version__offer__lead")
        .get(pk=order_id)
    )
    before = order.status
    order.polled_at = timezone.now()
    order.last_error = ""
    order.save(update_fields=["polled_at", "last_error"])
    _apply_lines(order, state, initial=False)
    return order.status != before


def _match(lines: list[SupplierOrderLine], state: SupplierOrderState) -> list[tuple]:
    by_position = {line.position: line for line in lines}
    unmatched = list(lines)
    pairs = []
    for reported in state.lines:
        line = by_position.get(reported.position) if reported.position is not None else None
        if line is None or line not in unmatched:
            line = next((x for x in unmatched if x.number_key == reported.number_key), None)
        if line is None:
            continue
        unmatched.remove(line)
        pairs.append((line, reported))
    return pairs


def _apply_lines(order: SupplierOrder, state: SupplierOrderState, *, initial: bool) -> None:
    tolerance = pricing_settings(order.shop).order_price_tolerance_pct
    lines = list(order.lines.all())
    for line, reported in _match(lines, state):
        if line.status == OrderLineStatus.CANCELLED:
            continue  # cancelled by the shop: what the supplier still says of it is moot
        new_status = reported.state
        if _LINE_RANK[new_status] < _LINE_RANK[line.status] and line.status != "pending":
            new_status = line.status  # a late or stale answer never moves a line back
        if new_status == OrderLineStatus.REJECTED and line.status != OrderLineStatus.REJECTED:
            line.reject_reason = (reported.reason or _("отклонено поставщиком"))[:300]
            _alert(
                order,
                _("Поставщик «%(supplier)s» отказал по позиции %(brand)s %(number)s: %(reason)s")
                % {
                    "supplier": order.supplier.name,
                    "brand": line.brand,
                    "number": line.number,
                    "reason": line.reject_reason,
                },
            )
        if reported.price_rub is not None and reported.price_rub != line.price_confirmed_rub:
            line.price_confirmed_rub = quantize_rub(reported.price_rub)
            change = abs(line.price_confirmed_rub - line.price_agreed_rub)
            if line.price_agreed_rub and change * 100 > tolerance * line.price_agreed_rub:
                _alert(
                    order,
                    _(
                        "Поставщик «%(supplier)s» изменил цену %(brand)s %(number)s: "
                        "%(old)s ₽ → %(new)s ₽ (больше допустимых %(pct)s %%)"
                    )
                    % {
                        "supplier": order.supplier.name,
                        "brand": line.brand,
                        "number": line.number,
                        "old": line.price_agreed_rub,
                        "new": line.price_confirmed_rub,
                        "pct": tolerance.normalize(),
                    },
                )
        if reported.supplier_line_ref:
            line.supplier_line_ref = reported.supplier_line_ref[:60]
        if new_status == OrderLineStatus.DELIVERED and line.status != OrderLineStatus.DELIVERED:
            line.delivery = _delivered(order, line)
        line.status = new_status
        line.save()
    _set_status(order, _order_status(lines))


def _order_status(lines: Sequence[SupplierOrderLine]) -> str:
    gone = (OrderLineStatus.REJECTED, OrderLineStatus.CANCELLED)
    live = [line for line in lines if line.status not in gone]
    if not live:
        if any(line.status == OrderLineStatus.CANCELLED for line in lines):
            return OrderStatus.CANCELLED
        return OrderStatus.FAILED
    if all(line.status == OrderLineStatus.DELIVERED for line in live):
        return OrderStatus.DELIVERED
    if all(_LINE_RANK[line.status] >= _LINE_RANK[OrderLineStatus.SHIPPED] for line in live):
        return OrderStatus.SHIPPED
    if any(line.status == OrderLineStatus.REJECTED for line in lines):
        return OrderStatus.PARTLY_REJECTED
    if all(_LINE_RANK[line.status] >= _LINE_RANK[OrderLineStatus.CONFIRMED] for line in live):
        return OrderStatus.CONFIRMED
    return OrderStatus.PLACED


def _set_status(order: SupplierOrder, status: str, *, note: str = "") -> None:
    if status == order.status or (
        _RANK[status] < _RANK[order.status] and order.status != OrderStatus.PLACING
    ):
        return
    order.status = status
    stamp = _STAMP.get(status)
    fields = ["status"]
    if stamp:
        setattr(order, stamp, timezone.now())
        fields.append(stamp)
    order.save(update_fields=fields)
    text = _("Заказ %(number)s у «%(supplier)s»: %(status)s") % {
        "number": order.client_number,
        "supplier": order.supplier.name,
        "status": order.get_status_display(),
    }
    if order.supplier_number:
        text += _(" (№ у поставщика %(n)s)") % {"n": order.supplier_number}
    if order.test_mode:
        text += _(" — тестовый заказ, поставщик ничего не отгрузит")
    if note:
        text += f": {note}"
    lead_event_add(
        lead=order.version.offer.lead,
        kind=EventKind.NOTE,
        text=text,
        supplier_order=order.pk,
        order_status=status,
    )


# --- cancelling ---------------------------------------------------------------------------

# Neither ABCP's nor Armtek's documented API (shared/reference/supplier-apis.md, the order
# contracts in tests/optima/contracts/orders/) has a call that cancels an order or a line,
# so a cancellation is recorded here and the advisor is told to cancel with the supplier.
# A supplier whose API documents one gets it as `OrderClient.cancel` when it is known.
_CANCELLABLE_LINES = (OrderLineStatus.PENDING, OrderLineStatus.ORDERED, OrderLineStatus.CONFIRMED)


@transaction.atomic
def order_cancel(
    *,
    order: SupplierOrder,
    by: Membership | None,
    line_ids: Sequence[int] | None = None,
    reason: str = "",
) -> list[SupplierOrderLine]:
    """Cancel a supplier order, or some of its lines (`line_ids`), for the shop. Idempotent:
    lines already cancelled are left as they are, and cancelling nothing new writes
    nothing. Returns the lines cancelled now. Refused (ValidationError, Russian) while the
    order is being sent (its outcome is unknown) and once it is shipped, delivered or
    failed. The cancellation is on the lead's timeline; an order the supplier already
    holds is marked «отмените у поставщика»."""
    order = (
        SupplierOrder.objects.select_for_update()
        .select_related("supplier", "shop", "version__offer__lead")
        .get(pk=order.pk)
    )
    if order.status == OrderStatus.PLACING:
        raise ValidationError(
            _("Заказ ещё отправляется поставщику: отменить его можно, когда поставщик ответит.")
        )
    if order.status in (OrderStatus.SHIPPED, OrderStatus.DELIVERED):
        raise ValidationError(
            _("Заказ уже отгружен: отменить его нельзя, оформите возврат у поставщика.")
        )
    if order.status == OrderStatus.FAILED:
        raise ValidationError(_("Заказ не размещён: отменять нечего."))
    lines = list(order.lines.all())
    chosen = [
        line
        for line in lines
        if (line_ids is None or line.pk in set(line_ids)) and line.status in _CANCELLABLE_LINES
    ]
    if line_ids is not None and any(
        line.pk in set(line_ids) and line.status == OrderLineStatus.SHIPPED for line in lines
    ):
        raise ValidationError(_("Отгруженную позицию отменить нельзя: оформите возврат."))
    if not chosen:
        return []
    sent = order.status != OrderStatus.DRAFT
    for line in chosen:
        line.status = OrderLineStatus.CANCELLED
        line.save(update_fields=["status"])
        # Nothing will arrive for it: it is not the supplier's delivery to count.
        DeliveryRecord.objects.filter(
            shop=order.shop,
            supplier=order.supplier,
            version=order.version,
            brand=line.brand,
            number=line.number,
            arrived_on__isnull=True,
            not_delivered=False,
        ).delete()
    what = "; ".join(f"{line.brand} {line.number} × {line.qty}" for line in chosen)
    if sent:
        text = _(
            "Заказ %(number)s у «%(supplier)s»: отменены позиции %(what)s. Отмените их у "
            "поставщика: через его API заказ не отменяется."
        )
    else:
        text = _(
            "Заказ %(number)s у «%(supplier)s»: отменены позиции %(what)s до отправки поставщику."
        )
    text = text % {"number": order.client_number, "supplier": order.supplier.name, "what": what}
    reason = " ".join((reason or "").split())[:200]
    if reason:
        text += " " + _("Причина: %(reason)s") % {"reason": reason}
    lead_event_add(
        lead=order.version.offer.lead,
        kind=EventKind.NOTE,
        actor=by,
        text=text,
        supplier_order=order.pk,
        cancelled_lines=[line.pk for line in chosen],
        cancel_at_supplier=sent,
    )
    _set_status(order, _order_status(lines))
    return chosen


def _delivered(order: SupplierOrder, line: SupplierOrderLine) -> DeliveryRecord:
    """A delivered line is the supplier's delivery record, marked arrived today: the
    reliability figures count it."""
    record = DeliveryRecord.objects.filter(
        shop=order.shop,
        supplier=order.supplier,
        version=order.version,
        brand=line.brand,
        number=line.number,
        arrived_on__isnull=True,
        not_delivered=False,
    ).first()
    if record is None:
        option = order.version.positions[line.position]["options"][
            order.version.accepted_choice[str(line.position)]
        ]
        record = DeliveryRecord.objects.create(
            shop=order.shop,
            supplier=order.supplier,
            version=order.version,
            brand=line.brand,
            number=line.number,
            promised_on=dt.date.fromisoformat(option["delivery_date"]),
            claimed_in_stock=bool(option.get("in_stock")),
        )
    return delivery_mark(
        record=record,
        arrived_on=timezone.localdate(),
        was_in_stock=True if record.claimed_in_stock else None,
    )


def _alert(order: SupplierOrder, text: str) -> None:
    """The advisor must act: a line on the lead's timeline and an e-mail to the shop."""
    lead_event_add(
        lead=order.version.offer.lead,
        kind=EventKind.NOTE,
        text=_("Внимание: %(text)s") % {"text": text},
        supplier_order=order.pk,
        alert=True,
    )
    outbox_put(
        shop=order.shop,
        kind=NOTIFY_ORDER_ALERT,
        dedupe_key=f"supplier-order-alert:{order.pk}:"
        + hashlib.sha256(text.encode()).hexdigest()[:16],
        payload={"order_id": order.pk, "text": text},
    )


# --- the e-mail order for price-list suppliers -------------------------------------------


def order_xlsx(order: SupplierOrder) -> bytes:
    """The order as a spreadsheet a supplier's manager can read and import."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "Заказ"
    sheet.append([_("Заказ"), order.client_number])
    sheet.append([_("Покупатель"), order.shop.name])
    sheet.append([])
    sheet.append([_("Бренд"), _("Номер"), _("Наименование"), _("Количество"), _("Цена, ₽")])
    for line in order.lines.all():
        sheet.append([line.brand, line.number, line.name, line.qty, line.price_agreed_rub])
    for column, width in zip("ABCDE", (16, 20, 40, 12, 12), strict=True):
        sheet.column_dimensions[column].width = width
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
