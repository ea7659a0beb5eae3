"""Ordering pages under /staff/parts/: confirm the order of an accepted offer, the list of
supplier orders, one order. Thin: the services in `ordering` do the work."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Prefetch, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from autoservice.params import id_param
from autoservice.tenancy import staff_required

from . import ordering
from .models import OfferStatus, OfferVersion
from .ordering_models import OrderLineStatus, SupplierOrder, SupplierOrderLine


def _version_for_shop(request: HttpRequest, version_id: int) -> OfferVersion:
    return get_object_or_404(
        OfferVersion.objects.select_related("offer__lead", "offer__shop"),
        pk=version_id,
        offer__shop=request.shop,
    )


@staff_required
@require_http_methods(["GET", "POST"])
def order_confirm(request: HttpRequest, version_id: int) -> HttpResponse:
    version = _version_for_shop(request, version_id)
    errors: list[str] = []
    if request.method == "POST":
        try:
            orders, created = ordering.orders_confirm(
                version=version,
                by=request.membership,
                lots_accepted=request.POST.get("lots_accepted") == "on",
            )
        except ValidationError as exc:
            errors = exc.messages
        else:
            if created:
                messages.success(request, _("Заказ отправляется поставщикам."))
            else:
                messages.info(request, _("Этот заказ уже отправлен: повторно не заказываем."))
            return redirect("optima:order_confirm", version_id=version.pk)
    orders = list(version.supplier_orders.select_related("supplier").prefetch_related("lines"))
    plan = ordering.order_plan(version) if not orders else []
    return render(
        request,
        "optima/order_confirm.html",
        {
            "version": version,
            "lead": version.offer.lead,
            "plan": plan,
            "lots": any(group.lot_raised for group in plan),
            "lots_accepted": request.POST.get("lots_accepted") == "on",
            "orders": orders,
            "accepted": version.status == OfferStatus.ACCEPTED,
            "errors": errors,
        },
        status=400 if errors else 200,
    )


@staff_required
@require_GET
def orders_list(request: HttpRequest) -> HttpResponse:
    orders = (
        SupplierOrder.objects.filter(shop=request.shop)
        .select_related("supplier", "version__offer__lead")
        .annotate(
            n_lines=Count("lines"),
            n_rejected=Count("lines", filter=Q(lines__status=OrderLineStatus.REJECTED)),
        )
        .order_by("-created_at")[:200]
    )
    waiting = (
        OfferVersion.objects.filter(
            offer__shop=request.shop, status=OfferStatus.ACCEPTED, supplier_orders__isnull=True
        )
        .exclude(positions=[])
        .select_related("offer__lead")
        .order_by("-accepted_at")[:50]
    )
    return render(request, "optima/orders.html", {"orders": orders, "waiting": waiting})


def _order_for_shop(request: HttpRequest, order_id: int) -> SupplierOrder:
    return get_object_or_404(
        SupplierOrder.objects.select_related("supplier", "version__offer__lead"),
        pk=order_id,
        shop=request.shop,
    )


@staff_required
@require_POST
def order_cancel(request: HttpRequest, order_id: int) -> HttpResponse:
    """Cancel the order, or the lines ticked (`line`), with an optional reason."""
    order = _order_for_shop(request, order_id)
    line_ids = [id_param(raw, name="line") for raw in request.POST.getlist("line")]
    try:
        cancelled = ordering.order_cancel(
            order=order,
            by=request.membership,
            line_ids=[i for i in line_ids if i is not None] or None,
            reason=request.POST.get("reason", ""),
        )
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        if not cancelled:
            messages.info(request, _("Эти позиции уже отменены: ничего не изменилось."))
        elif order.status == "draft":
            messages.success(request, _("Отменено до отправки поставщику."))
        else:
            messages.warning(
                request,
                _("Отменено у нас. Отмените заказ у поставщика: через его API это не делается."),
            )
    return redirect("optima:order_detail", order_id=order.pk)


@staff_required
@require_GET
def order_detail(request: HttpRequest, order_id: int) -> HttpResponse:
    order = get_object_or_404(
        SupplierOrder.objects.select_related("supplier", "version__offer__lead").prefetch_related(
            Prefetch("lines", queryset=SupplierOrderLine.objects.order_by("position"))
        ),
        pk=order_id,
        shop=request.shop,
    )
    events = order.version.offer.lead.events.filter(data__supplier_order=order.pk).order_by(
        "created_at"
    )
    cancellable = order.status not in ("placing", "shipped", "delivered", "failed", "cancelled")
    return render(
        request,
        "optima/order_detail.html",
        {"order": order, "events": events, "cancellable": cancellable},
    )
