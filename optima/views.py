"""Parts search (/staff/parts/), suppliers, customer offers, and the driver's offer page."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from autoservice.tenancy import get_for_shop, manager_required, staff_required
from leads.models import Lead

from . import offers, reliability, selectors, services
from .forms import (
    DeliveryMarkForm,
    LabourFormSet,
    MarkupFormSet,
    PriceListUploadForm,
    PricingSettingsForm,
    SearchForm,
    SupplierDiscountFormSet,
    SupplierForm,
)
from .models import (
    CustomerOffer,
    DeliveryRecord,
    MarkupRule,
    OfferStatus,
    OfferVersion,
    Search,
    Supplier,
)


@staff_required
@require_http_methods(["GET", "POST"])
def parts_search(request: HttpRequest) -> HttpResponse:
    initial = {"lead": request.GET.get("lead"), "numbers": request.GET.get("numbers", "")}
    form = SearchForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        lead = None
        if form.cleaned_data.get("lead"):
            lead = get_for_shop(request, Lead, pk=form.cleaned_data["lead"])
        search = services.search_start(
            shop=request.shop,
            by=request.membership,
            numbers=form.cleaned_data["numbers"],
            lead=lead,
        )
        return redirect("parts_results", search_id=search.pk)
    recent = Search.objects.filter(shop=request.shop).select_related("lead")[:10]
    has_suppliers = Supplier.objects.filter(shop=request.shop, is_active=True).exists()
    return render(
        request,
        "optima/search.html",
        {"form": form, "recent": recent, "has_suppliers": has_suppliers},
        status=400 if request.method == "POST" else 200,
    )


def _table_context(request: HttpRequest, search: Search) -> dict:
    sort = request.GET.get("sort", "price")
    tier = request.GET.get("tier", "")
    in_stock = request.GET.get("in_stock") == "1"
    blocks, states = selectors.search_table(search, sort=sort, tier=tier, in_stock=in_stock)
    return {
        "search": search,
        "blocks": blocks,
        "states": states,
        "sort": sort,
        "tier": tier,
        "in_stock": in_stock,
        "query": request.GET.urlencode(),
    }


@staff_required
def parts_results(request: HttpRequest, search_id: int) -> HttpResponse:
    search = get_for_shop(request, Search.objects.select_related("shop", "lead"), pk=search_id)
    return render(request, "optima/results.html", _table_context(request, search))


@staff_required
@never_cache
def parts_table(request: HttpRequest, search_id: int) -> HttpResponse:
    """The table alone, polled by the results page until every supplier has answered."""
    search = get_for_shop(request, Search.objects.select_related("shop", "lead"), pk=search_id)
    return render(request, "optima/_table.html", _table_context(request, search))


@manager_required
@require_http_methods(["GET", "POST"])
def suppliers(request: HttpRequest) -> HttpResponse:
    rules = services.pricing_settings(request.shop)
    settings_form = PricingSettingsForm(request.POST or None, instance=rules, prefix="rules")
    markups = MarkupFormSet(
        request.POST or None,
        queryset=MarkupRule.objects.filter(shop=request.shop),
        prefix="markup",
    )
    if request.method == "POST" and settings_form.is_valid() and markups.is_valid():
        settings_form.save()
        for form in markups.forms:
            if form in markups.deleted_forms:
                if form.instance.pk:
                    form.instance.delete()
            elif form.has_changed() and form.cleaned_data:
                rule = form.save(commit=False)
                rule.shop = request.shop
                rule.save()
        messages.success(request, _("Правила цен сохранены."))
        return redirect("suppliers")
    return render(
        request,
        "optima/suppliers.html",
        {
            "scorecard": reliability.supplier_scorecard(request.shop),
            "settings_form": settings_form,
            "markups": markups,
        },
        status=400 if request.method == "POST" else 200,
    )


@manager_required
@require_http_methods(["GET", "POST"])
def supplier_edit(request: HttpRequest, supplier_id: int | None = None) -> HttpResponse:
    supplier = get_for_shop(request, Supplier, pk=supplier_id) if supplier_id else None
    action = request.POST.get("action", "save") if request.method == "POST" else None
    form = SupplierForm(request.POST if action == "save" else None, instance=supplier)
    discounts = SupplierDiscountFormSet(
        request.POST if action == "save" else None,
        instance=supplier or Supplier(shop=request.shop),
        prefix="discount",
    )
    upload = PriceListUploadForm(
        request.POST if action == "pricelist" else None,
        request.FILES if action == "pricelist" else None,
    )
    pricelist_errors: list[tuple[int, str]] = []
    if action == "save" and form.is_valid() and discounts.is_valid():
        saved = form.save(commit=False)
        saved.shop = request.shop
        saved.save()
        discounts.instance = saved
        discounts.save()
        messages.success(request, _("Поставщик сохранён."))
        return redirect("suppliers")
    if action == "pricelist" and supplier is not None and upload.is_valid():
        file = upload.cleaned_data["file"]
        count, pricelist_errors = services.pricelist_load(
            supplier=supplier,
            content=file.read(),
            filename=file.name,
            confirm=request.POST.get("confirm") == "1",
        )
        if count is not None:
            messages.success(request, _("Загружено строк прайса: %(n)s.") % {"n": count})
            return redirect("supplier_edit", supplier_id=supplier.pk)
    return render(
        request,
        "optima/supplier_form.html",
        {
            "form": form,
            "supplier": supplier,
            "discounts": discounts,
            "upload": upload,
            "pricelist_errors": pricelist_errors,
        },
        status=400 if request.method == "POST" else 200,
    )


@staff_required
@require_POST
def offer_build(request: HttpRequest, search_id: int) -> HttpResponse:
    search = get_for_shop(request, Search.objects.select_related("lead"), pk=search_id)
    if search.lead is None:
        messages.error(
            request, _("Этот поиск не привязан к заявке: начните его со страницы заявки.")
        )
        return redirect("parts_results", search_id=search.pk)
    version = offers.offer_build(lead=search.lead, search=search, by=request.membership)
    return redirect("offer_detail", version_id=version.pk)


@staff_required
@require_http_methods(["GET", "POST"])
def offer_detail(request: HttpRequest, version_id: int) -> HttpResponse:
    version = get_object_or_404(
        OfferVersion.objects.select_related("offer__lead", "author__user"),
        pk=version_id,
        offer__shop=request.shop,
    )
    action = request.POST.get("action") if request.method == "POST" else None
    labour = LabourFormSet(
        request.POST if action == "labour" else None,
        prefix="labour",
        initial=version.labour,
    )
    mark = DeliveryMarkForm(request.POST if action == "mark" else None)
    if action == "send":
        try:
            offers.offer_send(version=version, by=request.membership)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Предложение отправлено: ссылка ниже."))
        return redirect("offer_detail", version_id=version.pk)
    if action == "labour" and version.status == OfferStatus.DRAFT and labour.is_valid():
        version.labour = [
            {"name": f.cleaned_data["name"], "price_rub": str(f.cleaned_data["price_rub"])}
            for f in labour
            if f.cleaned_data.get("name") and not f.cleaned_data.get("DELETE")
        ]
        version.save(update_fields=["labour"])
        messages.success(request, _("Работы сохранены."))
        return redirect("offer_detail", version_id=version.pk)
    if action == "mark" and mark.is_valid():
        record = get_object_or_404(
            DeliveryRecord, pk=mark.cleaned_data["record"], version=version, shop=request.shop
        )
        stock = {"yes": True, "no": False}.get(mark.cleaned_data["was_in_stock"])
        arrived = (
            mark.cleaned_data["arrived_on"] if mark.cleaned_data["outcome"] == "arrived" else None
        )
        reliability.delivery_mark(record=record, arrived_on=arrived, was_in_stock=stock)
        messages.success(request, _("Поставка отмечена."))
        return redirect("offer_detail", version_id=version.pk)
    link = request.build_absolute_uri(
        reverse("offer_public", args=[request.shop.slug, version.offer.token])
    )
    lead = version.offer.lead
    message_text = _(
        "Здравствуйте, %(name)s! Предложение по ремонту %(vehicle)s от «%(shop)s»: %(link)s"
    ) % {
        "name": lead.customer_name,
        "vehicle": lead.vehicle,
        "shop": request.shop.name,
        "link": link,
    }
    return render(
        request,
        "optima/offer_detail.html",
        {
            "version": version,
            "lead": lead,
            "link": link,
            "message_text": message_text,
            "state": offers.offer_state(version),
            "versions": version.offer.versions.order_by("number"),
            "labour_formset": labour,
            "mark_form": mark,
            "deliveries": version.deliveries.select_related("supplier"),
        },
        status=400 if action in ("labour", "mark") else 200,
    )


def _public_offer(slug: str, token: str) -> tuple[CustomerOffer, OfferVersion]:
    offer = get_object_or_404(
        CustomerOffer.objects.select_related("shop", "lead"),
        token=token,
        shop__slug=slug,
        shop__is_active=True,
    )
    version = offers.offer_latest(offer)
    if version is None:
        from django.http import Http404

        raise Http404
    return offer, version


@csrf_exempt
@require_http_methods(["GET", "POST"])
def offer_public(request: HttpRequest, slug: str, token: str) -> HttpResponse:
    """The driver's page: options side by side, the reasons, accept or ask a question."""
    offer, version = _public_offer(slug, token)
    error = ""
    choice = {}
    if request.method == "POST":
        choice = {
            key.removeprefix("pos_"): int(value)
            for key, value in request.POST.items()
            if key.startswith("pos_") and value.isdigit()
        }
        if request.POST.get("set"):
            choice = offers.choice_for_set(version, request.POST["set"])
        if request.POST.get("action") == "question":
            question = request.POST.get("question", "").strip()[:2000]
            if question:
                version.question = question
                version.save(update_fields=["question"])
                offers.offer_question(version=version)
                messages.success(request, _("Вопрос отправлен мастеру: он свяжется с вами."))
                return redirect("offer_public", slug=slug, token=token)
            error = _("Напишите вопрос.")
        else:
            try:
                offers.offer_accept(version=version, choice=choice, request=request)
            except ValidationError as exc:
                error = " ".join(exc.messages)
            else:
                return redirect("offer_public", slug=slug, token=token)
    state = offers.offer_state(version)
    return render(
        request,
        "optima/offer_public.html",
        {
            "shop": offer.shop,
            "offer": offer,
            "version": version,
            "state": state,
            "error": error,
            "choice": choice,
            "labour_total": offers.option_total(version, {}),
            "set_labels": [
                label
                for label in offers.OPTION_LABELS.values()
                if any(o["label"] == label for p in version.positions for o in p["options"])
            ],
        },
        status=400 if error else 200,
    )


def lead_panel(request: HttpRequest, lead: Lead) -> str:
    """Offers of the lead and a link to search parts for it (registered with leads.panels)."""
    versions = list(
        OfferVersion.objects.filter(offer__lead=lead).select_related("offer").order_by("-number")
    )
    return render_to_string(
        "optima/_lead_panel.html",
        {
            "lead": lead,
            "versions": versions,
            "estimate_numbers": "\n".join(offers.estimate_numbers(lead)),
        },
        request=request,
    )
