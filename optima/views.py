"""Parts search (/staff/parts/), suppliers, customer offers, and the driver's offer page.

Views parse the request and call a service or a selector. A page whose forms post several
actions names them in a table (action → handler), the way django-oscar's dashboard order
page dispatches its POST actions: an unknown action is refused with 400, never ignored.
A handler returns a redirect when the action is done, or the bound forms to show again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from autoservice import pagecache
from autoservice.consent import client_ip
from autoservice.tenancy import get_for_shop, manager_required, staff_required
from leads.models import Lead
from leads.services import withdrawal_path_for_lead

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

# What a POST action handler gives back: a response (done) or the bound forms to re-show.
Outcome = HttpResponse | dict[str, Any]


def _action_handler(
    request: HttpRequest, actions: Mapping[str, Callable[..., Outcome]], default: str = ""
) -> tuple[str, Callable[..., Outcome] | None]:
    """The submitted action's name and its handler from the view's table (None: unknown)."""
    name = request.POST.get("action") or default
    return name, actions.get(name)


def _unknown_action(name: str) -> str:
    return _("Неизвестное действие «%(action)s»: обновите страницу и попробуйте ещё раз.") % {
        "action": name[:40]
    }


# --- search ----------------------------------------------------------------------------------


@staff_required
@require_http_methods(["GET", "POST"])
def parts_search(request: HttpRequest) -> HttpResponse:
    lead_id = request.POST.get("lead") or request.GET.get("lead")
    lead = None
    if lead_id and len(lead_id) <= 18 and lead_id.isascii() and lead_id.isdigit():
        lead = get_for_shop(request, Lead, pk=lead_id)
    numbers = request.GET.get("numbers", "")
    unknown: list[str] = []
    if lead is not None:
        # From a lead, the search starts with the estimate's replaced parts: the numbers
        # known, and the parts nobody numbered named, so the advisor types those in.
        known, unknown = offers.estimate_parts(lead)
        if not numbers:
            numbers = "\n".join(known)
    initial = {"lead": lead.pk if lead else None, "numbers": numbers}
    form = SearchForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        if form.cleaned_data.get("lead"):
            lead = get_for_shop(request, Lead, pk=form.cleaned_data["lead"])
        search = services.search_start(
            shop=request.shop,
            by=request.membership,
            numbers=form.cleaned_data["numbers"],
            lead=lead,
        )
        return redirect("optima:parts_results", search_id=search.pk)
    return render(
        request,
        "optima/search.html",
        {
            "form": form,
            "lead": lead,
            "unknown_parts": unknown,
            "recent": selectors.searches_recent(request.shop),
            "has_suppliers": selectors.suppliers_active_exist(request.shop),
        },
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
        "used_allowed": services.pricing_settings(request.shop).allow_used_parts,
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


# --- suppliers and pricing rules -------------------------------------------------------------


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
    if request.method == "POST" and all([settings_form.is_valid(), markups.is_valid()]):
        # commit=False: the forms only build the rows; the service saves them.
        services.pricing_rules_save(
            shop=request.shop,
            settings=settings_form.save(commit=False),
            markups=markups.save(commit=False),
            markups_removed=markups.deleted_objects,
        )
        messages.success(request, _("Правила цен сохранены."))
        return redirect("optima:suppliers")
    return render(
        request,
        "optima/suppliers.html",
        {
            "scorecard": selectors.supplier_scorecard(request.shop),
            "settings_form": settings_form,
            "markups": markups,
        },
        status=400 if request.method == "POST" else 200,
    )


def _supplier_discounts(
    request: HttpRequest, supplier: Supplier | None, data: Any = None
) -> SupplierDiscountFormSet:
    return SupplierDiscountFormSet(
        data, instance=supplier or Supplier(shop=request.shop), prefix="discount"
    )


def _supplier_save(request: HttpRequest, supplier: Supplier | None) -> Outcome:
    form = SupplierForm(request.POST, instance=supplier)
    discounts = _supplier_discounts(request, supplier, request.POST)
    if not all([form.is_valid(), discounts.is_valid()]):
        return {"form": form, "discounts": discounts}
    try:
        services.supplier_save(
            shop=request.shop,
            supplier=form.save(commit=False),
            secret=form.cleaned_data.get("secret") or None,
            discounts=discounts.save(commit=False),
            discounts_removed=discounts.deleted_objects,
        )
    except services.SupplierSecretRequired as exc:
        form.add_error("secret", exc.message)
        return {"form": form, "discounts": discounts}
    messages.success(request, _("Поставщик сохранён."))
    return redirect("optima:suppliers")


def _supplier_pricelist(request: HttpRequest, supplier: Supplier | None) -> Outcome:
    upload = PriceListUploadForm(request.POST, request.FILES)
    if supplier is None:
        messages.error(request, _("Сначала сохраните поставщика, затем загрузите его прайс."))
        return {"upload": upload}
    if not upload.is_valid():
        return {"upload": upload}
    file = upload.cleaned_data["file"]
    count, errors = services.pricelist_load(
        supplier=supplier,
        content=file.read(),
        filename=file.name,
        confirm=request.POST.get("confirm") == "1",
    )
    if count is None:
        return {"upload": upload, "pricelist_errors": errors}
    messages.success(request, _("Загружено строк прайса: %(n)s.") % {"n": count})
    return redirect("optima:supplier_edit", supplier_id=supplier.pk)


def _supplier_rossko_details(request: HttpRequest, supplier: Supplier | None) -> Outcome:
    if supplier is None:
        messages.error(request, _("Сначала сохраните поставщика с ключами KEY1 и KEY2."))
        return redirect("optima:supplier_create")
    try:
        choices = services.supplier_rossko_details_load(supplier=supplier)
    except services.SupplierDetailsError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _(
                "Росско: способов получения %(d)s, адресов %(a)s, способов оплаты %(p)s. "
                "Выберите их ниже и сохраните."
            )
            % {
                "d": len(choices["deliveries"]),
                "a": len(choices["addresses"]),
                "p": len(choices["payments"]),
            },
        )
    return redirect("optima:supplier_edit", supplier_id=supplier.pk)


SUPPLIER_ACTIONS: dict[str, Callable[[HttpRequest, Supplier | None], Outcome]] = {
    "save": _supplier_save,
    "pricelist": _supplier_pricelist,
    "rossko_details": _supplier_rossko_details,
}


@manager_required
@require_http_methods(["GET", "POST"])
def supplier_edit(request: HttpRequest, supplier_id: int | None = None) -> HttpResponse:
    supplier = get_for_shop(request, Supplier, pk=supplier_id) if supplier_id else None
    context: dict[str, Any] = {
        "supplier": supplier,
        "form": SupplierForm(instance=supplier),
        "discounts": _supplier_discounts(request, supplier),
        "upload": PriceListUploadForm(),
        "pricelist_errors": [],
    }
    if request.method == "POST":
        # The supplier form has always been the page's main form: posted without a name,
        # it is saved.
        name, handler = _action_handler(request, SUPPLIER_ACTIONS, default="save")
        if handler is None:
            messages.error(request, _unknown_action(name))
        else:
            outcome = handler(request, supplier)
            if isinstance(outcome, HttpResponse):
                return outcome
            context |= outcome
    return render(
        request,
        "optima/supplier_form.html",
        context,
        status=400 if request.method == "POST" else 200,
    )


# --- the offer, staff side -------------------------------------------------------------------


@staff_required
@require_POST
def offer_build(request: HttpRequest, search_id: int) -> HttpResponse:
    search = get_for_shop(request, Search.objects.select_related("lead"), pk=search_id)
    if search.lead is None:
        messages.error(
            request, _("Этот поиск не привязан к заявке: начните его со страницы заявки.")
        )
        return redirect("optima:parts_results", search_id=search.pk)
    version = offers.offer_build(lead=search.lead, search=search, by=request.membership)
    return redirect("optima:offer_detail", version_id=version.pk)


def _offer_send(request: HttpRequest, version: OfferVersion) -> Outcome:
    try:
        offers.offer_send(version=version, by=request.membership)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Предложение отправлено: ссылка ниже."))
    return redirect("optima:offer_detail", version_id=version.pk)


def _offer_labour(request: HttpRequest, version: OfferVersion) -> Outcome:
    labour = LabourFormSet(request.POST, prefix="labour", initial=version.labour)
    if not labour.is_valid():
        return {"labour_formset": labour}
    lines = [
        (f.cleaned_data["name"], f.cleaned_data["price_rub"], f.cleaned_data.get("source", ""))
        for f in labour
        if f.cleaned_data.get("name") and not f.cleaned_data.get("DELETE")
    ]
    try:
        offers.offer_labour_set(version=version, lines=lines)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return {"labour_formset": labour}
    messages.success(request, _("Работы сохранены."))
    return redirect("optima:offer_detail", version_id=version.pk)


def _offer_mark(request: HttpRequest, version: OfferVersion) -> Outcome:
    mark = DeliveryMarkForm(request.POST)
    if not mark.is_valid():
        return {"mark_form": mark}
    record = get_object_or_404(
        DeliveryRecord, pk=mark.cleaned_data["record"], version=version, shop=request.shop
    )
    stock = {"yes": True, "no": False}.get(mark.cleaned_data["was_in_stock"])
    arrived = mark.cleaned_data["arrived_on"] if mark.cleaned_data["outcome"] == "arrived" else None
    reliability.delivery_mark(record=record, arrived_on=arrived, was_in_stock=stock)
    messages.success(request, _("Поставка отмечена."))
    return redirect("optima:offer_detail", version_id=version.pk)


def _offer_compose(request: HttpRequest, version: OfferVersion) -> Outcome:
    """The builder's form: the estimate lines ticked, and per number the result rows ticked
    (`pick` = "<number>|<row key>")."""
    rows: dict[str, list[str]] = {}
    for value in request.POST.getlist("pick"):
        number, _sep, key = value.partition("|")
        if number and key:
            rows.setdefault(number, []).append(key)
    try:
        offers.offer_compose(
            version=version, estimate_sources=request.POST.getlist("line"), rows=rows
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Состав предложения сохранён."))
    return redirect("optima:offer_detail", version_id=version.pk)


def _offer_revise(request: HttpRequest, version: OfferVersion) -> Outcome:
    draft = offers.offer_revise(version=version, by=request.membership)
    messages.success(
        request,
        _("Новая версия %(n)s: клиент увидит её, когда вы её отправите.") % {"n": draft.number},
    )
    return redirect("optima:offer_detail", version_id=draft.pk)


OFFER_ACTIONS: dict[str, Callable[[HttpRequest, OfferVersion], Outcome]] = {
    "send": _offer_send,
    "labour": _offer_labour,
    "mark": _offer_mark,
    "compose": _offer_compose,
    "revise": _offer_revise,
}


def _builder_context(version: OfferVersion) -> dict[str, Any]:
    """What the advisor chooses from in a draft: the estimate's lines and the stored rows of
    the search, with what the draft holds now ticked."""
    if version.status != OfferStatus.DRAFT:
        return {}
    in_offer = {line.get("source") for line in version.labour}
    lines = [
        {**line, "checked": line["source"] in in_offer}
        for line in offers.estimate_lines(version.offer.lead)
    ]
    picked = {(p["number"], o.get("row_key")) for p in version.positions for o in p["options"]}
    blocks = offers.offer_blocks(version.search) if version.search_id else []
    return {
        "used_allowed": services.pricing_settings(version.offer.shop).allow_used_parts,
        "builder_lines": lines,
        "builder_blocks": [
            {
                "block": block,
                "rows": [(row, (block.number, row.key) in picked) for row in block.rows],
                "included": any(number == block.number for number, _k in picked),
            }
            for block in blocks
        ],
    }


@staff_required
@require_http_methods(["GET", "POST"])
def offer_detail(request: HttpRequest, version_id: int) -> HttpResponse:
    version = get_object_or_404(
        OfferVersion.objects.select_related("offer__lead", "author__user"),
        pk=version_id,
        offer__shop=request.shop,
    )
    forms: dict[str, Any] = {
        "labour_formset": LabourFormSet(prefix="labour", initial=version.labour),
        "mark_form": DeliveryMarkForm(),
    }
    if request.method == "POST":
        name, handler = _action_handler(request, OFFER_ACTIONS)
        if handler is None:
            messages.error(request, _unknown_action(name))
        else:
            outcome = handler(request, version)
            if isinstance(outcome, HttpResponse):
                return outcome
            forms |= outcome
    link = request.build_absolute_uri(
        reverse("optima:offer_public", args=[request.shop.slug, version.offer.token])
    )
    lead = version.offer.lead
    message_text = _(
        "Здравствуйте, %(name)s! Предложение по ремонту %(vehicle)s от %(shop)s: %(link)s"
    ) % {
        "name": lead.customer_name,
        "vehicle": lead.vehicle,
        "shop": request.shop.quoted_name,
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
            "deliveries": version.deliveries.select_related("supplier"),
            "set_totals": offers.set_totals(version),
            "labour_only": offers.offer_totals(version, {}).labour_rub,
            "accepted_totals": (
                offers.offer_totals(version, version.accepted_choice)
                if version.accepted_at
                else None
            ),
            "has_draft": version.offer.versions.filter(status=OfferStatus.DRAFT).exists(),
            **_builder_context(version),
            **forms,
        },
        status=400 if request.method == "POST" else 200,
    )


# --- the offer, the driver's side ------------------------------------------------------------


def _public_offer(slug: str, token: str) -> tuple[CustomerOffer, OfferVersion]:
    """The offer behind a driver's link and its newest version sent (one query)."""
    version = (
        OfferVersion.objects.select_related("offer__shop", "offer__lead")
        .filter(offer__token=token, offer__shop__slug=slug, offer__shop__is_active=True)
        .exclude(status=OfferStatus.DRAFT)
        .order_by("-number")
        .first()
    )
    if version is None:
        raise Http404
    return version.offer, version


def _picked(request: HttpRequest, version: OfferVersion) -> dict[str, int]:
    """The options picked on the page (`pos_<n>`); a tampered position or option is a
    ValidationError."""
    return offers.choice_from_fields(version, request.POST)


def _public_set(request: HttpRequest, offer: CustomerOffer, version: OfferVersion) -> Outcome:
    """A "take the whole set" tap without JavaScript: the page comes back with that set
    preselected. Nothing is accepted."""
    try:
        base = _picked(request, version)
        choice = offers.choice_for_set(version, request.POST.get("set", ""), base)
    except ValidationError as exc:
        return {"error": " ".join(exc.messages), "status": 400}
    return {"choice": choice, "status": 200}


def _public_review(request: HttpRequest, offer: CustomerOffer, version: OfferVersion) -> Outcome:
    """«Принять выбранное»: the confirm step, listing every chosen line and the total."""
    try:
        choice = _picked(request, version)
    except ValidationError as exc:
        return {"error": " ".join(exc.messages), "status": 400}
    if offers.offer_state(version) != OfferStatus.SENT:
        return {"choice": choice, "status": 400, "error": _state_error(version)}
    if not offers.offer_totals(version, choice).complete:
        return {
            "choice": choice,
            "status": 400,
            "error": _("Выберите вариант для каждой детали — тогда покажем итог."),
        }
    return {"choice": choice, "confirming": True, "status": 200}


def _state_error(version: OfferVersion) -> str:
    if offers.offer_state(version) == OfferStatus.ACCEPTED:
        return _("Вы уже приняли это предложение — мы его получили.")
    return _("Предложение больше не действует. Позвоните нам — подготовим новое.")


def _public_confirm(request: HttpRequest, offer: CustomerOffer, version: OfferVersion) -> Outcome:
    """The confirm step's button: records exactly the lines and the total it listed."""
    try:
        choice = _picked(request, version)
    except ValidationError as exc:
        return {"error": " ".join(exc.messages), "status": 400}
    total = request.POST.get("total", "")
    if request.POST.get("version") != str(version.number) or not _plain_decimal(total):
        return {
            "choice": choice,
            "status": 400,
            "error": _("Предложение изменилось: проверьте выбранное и подтвердите ещё раз."),
        }
    try:
        offers.offer_accept(
            version=version,
            choice=choice,
            confirmed_total_rub=Decimal(total),
            ip=client_ip(request),
            user_agent=request.META.get("HTTP_USER_AGENT", ""),
        )
    except ValidationError as exc:
        return {"choice": choice, "error": " ".join(exc.messages), "status": 400}
    response = redirect("optima:offer_public", slug=offer.shop.slug, token=offer.token)
    response.status_code = 303
    return response


def _plain_decimal(text: str) -> bool:
    """A sum as the confirm step writes it: digits, a dot, two decimals ("18500.00")."""
    whole, dot, cents = text.partition(".")
    return (
        0 < len(whole) <= 10
        and whole.isascii()
        and whole.isdigit()
        and dot == "."
        and len(cents) == 2
        and cents.isascii()
        and cents.isdigit()
    )


def _public_change(request: HttpRequest, offer: CustomerOffer, version: OfferVersion) -> Outcome:
    """«Изменить выбор» on the confirm step: back to the options, as picked."""
    try:
        return {"choice": _picked(request, version), "status": 200}
    except ValidationError as exc:
        return {"error": " ".join(exc.messages), "status": 400}


def _public_ask(request: HttpRequest, offer: CustomerOffer, version: OfferVersion) -> Outcome:
    try:
        offers.offer_ask(version=version, question=request.POST.get("question", ""))
    except ValidationError as exc:
        try:
            choice = _picked(request, version)
        except ValidationError:
            choice = {}  # the question's own error is the one to show
        return {"choice": choice, "error": " ".join(exc.messages), "status": 400}
    messages.success(request, _("Вопрос отправлен мастеру: он свяжется с вами."))
    return redirect("optima:offer_public", slug=offer.shop.slug, token=offer.token)


PUBLIC_OFFER_ACTIONS: dict[str, Callable[[HttpRequest, CustomerOffer, OfferVersion], Outcome]] = {
    "set": _public_set,
    "review": _public_review,
    "confirm": _public_confirm,
    "change": _public_change,
    "question": _public_ask,
}


@require_http_methods(["GET", "POST"])
def offer_public(request: HttpRequest, slug: str, token: str) -> HttpResponse:
    """The driver's page: options side by side, the reasons, a total that follows the picks;
    «Принять выбранное» leads to a confirm step that lists every chosen line and the total,
    and only its button accepts. The form carries a CSRF token: the page is opened from a
    link in a messenger, never inside another site."""
    offer, version = _public_offer(slug, token)
    outcome: dict[str, Any] = {"choice": offers.choice_default(version), "error": ""}
    status = 200
    if request.method == "POST":
        # A set button posts no action of its own: it preselects the set.
        name, handler = _action_handler(
            request, PUBLIC_OFFER_ACTIONS, default="set" if "set" in request.POST else ""
        )
        if handler is None:
            outcome["error"] = _unknown_action(name)
            status = 400
        else:
            result = handler(request, offer, version)
            if isinstance(result, HttpResponse):
                return result
            status = result.pop("status", 200)
            outcome |= result
    if request.method == "GET":
        # The offer as sent, the same for whoever opens the link, until its version, its
        # status or the date changes (or the shop's offers do: optima/apps.py).
        return pagecache.cached_page(
            request,
            shop=offer.shop,
            parts=(
                offer.pk,
                version.pk,
                version.status,
                version.valid_until,
                timezone.localdate(),
            ),
            render=lambda: _offer_page(
                request, offer, version, outcome, status, csrf_token=pagecache.CSRF_TOKEN
            ),
        )
    return _offer_page(request, offer, version, outcome, status)


def _offer_page(
    request: HttpRequest,
    offer: CustomerOffer,
    version: OfferVersion,
    outcome: dict[str, Any],
    status: int,
    csrf_token: str | None = None,
) -> HttpResponse:
    choice = outcome["choice"]
    totals = offers.offer_totals(version, choice)
    context = {
        "shop": offer.shop,
        "offer": offer,
        "version": version,
        "state": offers.offer_state(version),
        "error": outcome["error"],
        "choice": choice,
        "confirming": outcome.get("confirming", False),
        "chosen": offers.chosen_lines(version, choice),
        "totals": totals,
        # Plain decimal strings ("18500.00") for the page's script, never localised.
        "labour_total": str(totals.labour_rub),
        "total_plain": str(totals.total_rub),
        "set_labels": offers.set_labels(version),
        "withdraw_url": withdrawal_path_for_lead(offer.lead),
    }
    if csrf_token is not None:
        context["csrf_token"] = csrf_token
    return render(request, "optima/offer_public.html", context, status=status)


def lead_panel(request: HttpRequest, lead: Lead) -> str:
    """Offers of the lead and a link to search parts for it (registered with leads.panels)."""
    return render_to_string(
        "optima/_lead_panel.html",
        {
            "lead": lead,
            "versions": selectors.offer_versions_for_lead(lead),
            "estimate_numbers": "\n".join(offers.estimate_numbers(lead)),
        },
        request=request,
    )
