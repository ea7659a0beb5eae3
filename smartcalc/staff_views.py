"""Staff pages of the calculator: estimates and their versions, print and PDF, rates, prices."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from autoservice.access import AccessAction, personal_data_access_record
from autoservice.params import int_param
from autoservice.pdf import render_pdf
from autoservice.tenancy import get_for_shop, manager_required, staff_required

from . import engine, pricelist, selectors, services, techdata
from .export import XLSX_CONTENT_TYPE
from .forms import (
    ExtraItemFormSet,
    PriceImportForm,
    RevisionNoteForm,
    ShopRatesForm,
    parse_damages,
    parse_paint_type,
    picker_rows,
)
from .models import EstimateVersion, ShopPartPrice
from .parts import DIAGRAM_FOR_BODY, DamageKind, DamageSize, Operation, PaintType

IMPORT_SESSION_KEY = "calc-price-import"


@staff_required
def estimate_list(request: HttpRequest) -> HttpResponse:
    estimates = list(selectors.estimates_for_shop(request.shop)[:200])
    for estimate in estimates:
        versions = list(estimate.versions.all())
        estimate.first_version, estimate.last_version = versions[0], versions[-1]
    personal_data_access_record(
        request=request, action=AccessAction.ESTIMATES_LISTED, object_type="estimate_list"
    )
    return render(
        request,
        "smartcalc/staff/estimate_list.html",
        {
            "estimates": estimates,
            "calibration": selectors.range_calibration(request.shop),
            "tax_regime_missing": not techdata.shop_rates(request.shop).tax_regime,
        },
    )


@staff_required
@require_http_methods(["GET", "POST"])
def estimate_detail(request: HttpRequest, estimate_id: int) -> HttpResponse:
    estimate = get_for_shop(
        request, selectors.estimate_for_shop(request.shop, estimate_id), pk=estimate_id
    )
    versions = list(estimate.versions.select_related("author__user").order_by("number"))
    latest = versions[-1]
    shown = versions[-1]
    number = int_param(request.GET.get("v"), name="v", min=1)
    if number is not None:
        shown = next((v for v in versions if v.number == number), latest)
    body = estimate.body_type
    if request.method == "POST":
        damages, errors = parse_damages(request.POST, body)
        paint_type = parse_paint_type(request.POST)
        extras_formset = ExtraItemFormSet(request.POST, prefix="extra")
        note_form = RevisionNoteForm(request.POST)
        error = ""
        if not errors and extras_formset.is_valid() and note_form.is_valid():
            extras = [f.item() for f in extras_formset if f.item() is not None]
            try:
                version = services.estimate_revise(
                    estimate=estimate,
                    by=request.membership,
                    damages=damages,
                    extras=extras,
                    note=note_form.cleaned_data["note"],
                    paint_type=paint_type,
                )
            except engine.EstimateError as exc:
                error = exc.message
            else:
                messages.success(
                    request, _("Сохранена версия %(n)s расчёта.") % {"n": version.number}
                )
                return redirect("smartcalc:estimate_detail", estimate_id=estimate.pk)
        status = 400
    else:
        damages = services.damages_from_inputs(latest.inputs)
        paint_type = latest.inputs.get("paint_type", PaintType.UNKNOWN)
        errors, error, status = {}, "", 200
        extras_formset = ExtraItemFormSet(
            prefix="extra",
            initial=[
                {k: e[k] for k in ("name", "labour_hours", "paint_hours", "part_rub")}
                for e in latest.inputs.get("extras", [])
            ],
        )
        note_form = RevisionNoteForm()
    return render(
        request,
        "smartcalc/staff/estimate_detail.html",
        {
            "estimate": estimate,
            "versions": versions,
            "shown": shown,
            "result": shown.result,
            "rows": picker_rows(body, damages),
            "diagram": DIAGRAM_FOR_BODY[body],
            "kinds": DamageKind.choices,
            "sizes": DamageSize.choices,
            "paint_types": PaintType.choices,
            "paint_type": paint_type,
            "staff": True,
            "tax_regime_missing": not techdata.shop_rates(request.shop).tax_regime,
            "operations": Operation.choices,
            "part_errors": errors,
            "error": error,
            "extras_formset": extras_formset,
            "note_form": note_form,
        },
        status=status,
    )


def _version(request: HttpRequest, estimate_id: int, number: int) -> EstimateVersion:
    estimate = get_for_shop(
        request, selectors.estimate_for_shop(request.shop, estimate_id), pk=estimate_id
    )
    return get_object_or_404(estimate.versions.select_related("author__user"), number=number)


def _print_context(request: HttpRequest, version: EstimateVersion) -> dict:
    lead = version.estimate.lead
    if lead is not None:  # the printout carries the driver's name and phone
        personal_data_access_record(
            request=request,
            action=AccessAction.ESTIMATE_VIEWED,
            object_type="estimate",
            object_id=version.estimate_id,
            lead_number=lead.number,
        )
    return {
        "estimate": version.estimate,
        "version": version,
        "result": version.result,
        "shop": request.shop,
        "lead": version.estimate.lead,
    }


@staff_required
def estimate_print(request: HttpRequest, estimate_id: int, number: int) -> HttpResponse:
    version = _version(request, estimate_id, number)
    return render(request, "smartcalc/staff/estimate_print.html", _print_context(request, version))


@staff_required
def estimate_pdf(request: HttpRequest, estimate_id: int, number: int) -> HttpResponse:
    """The same document rendered to PDF on the server (WeasyPrint)."""
    version = _version(request, estimate_id, number)
    html = render_to_string(
        "smartcalc/staff/estimate_print.html", _print_context(request, version), request=request
    )
    pdf = render_pdf(html, base_url=request.build_absolute_uri("/"))
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = (
        f'inline; filename="smeta-{version.estimate.pk}-v{version.number}.pdf"'
    )
    return response


@staff_required
def estimate_export(request: HttpRequest, estimate_id: int, number: int, fmt: str) -> HttpResponse:
    """The version in the export's line structure (EXPORT.md), as JSON or XLSX, for an
    estimating system or an insurer."""
    if fmt not in ("json", "xlsx"):
        raise Http404
    version = selectors.estimate_version_for_shop(request.shop, estimate_id, number)
    if version is None:
        raise Http404
    name = f"smeta-{estimate_id}-v{number}.{fmt}"
    if fmt == "xlsx":
        response = HttpResponse(
            services.estimate_export_xlsx(version), content_type=XLSX_CONTENT_TYPE
        )
    else:
        response = JsonResponse(
            services.estimate_export(version), json_dumps_params={"ensure_ascii": False}
        )
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@manager_required
@require_http_methods(["GET", "POST"])
def calc_settings(request: HttpRequest) -> HttpResponse:
    rates = techdata.shop_rates(request.shop)
    form = ShopRatesForm(request.POST or None, instance=rates)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Ставки калькулятора сохранены."))
        return redirect("smartcalc:calc_settings")
    return render(
        request,
        "smartcalc/staff/calc_settings.html",
        {"form": form},
        status=400 if request.method == "POST" else 200,
    )


@manager_required
@require_http_methods(["GET", "POST"])
def price_list(request: HttpRequest) -> HttpResponse:
    upload = PriceImportForm(request.POST or None, request.FILES or None)
    pending = request.session.get(IMPORT_SESSION_KEY)
    if request.method == "POST" and request.POST.get("action") == "confirm" and pending:
        count = pricelist.pricelist_import(shop=request.shop, rows=pending["rows"])
        del request.session[IMPORT_SESSION_KEY]
        messages.success(request, _("Загружено цен: %(n)s.") % {"n": count})
        return redirect("smartcalc:price_list")
    if request.method == "POST" and request.POST.get("action") == "cancel":
        request.session.pop(IMPORT_SESSION_KEY, None)
        return redirect("smartcalc:price_list")
    if request.method == "POST" and upload.is_valid():
        parsed = pricelist.pricelist_parse(upload.cleaned_data["file"])
        if parsed.errors or not parsed.rows:
            # Broken rows: show them; the good rows wait for the manager's confirmation.
            request.session[IMPORT_SESSION_KEY] = {"rows": parsed.rows, "errors": parsed.errors}
            return redirect("smartcalc:price_list")
        count = pricelist.pricelist_import(shop=request.shop, rows=parsed.rows)
        messages.success(request, _("Загружено цен: %(n)s.") % {"n": count})
        return redirect("smartcalc:price_list")
    prices = (
        ShopPartPrice.objects.filter(shop=request.shop)
        .select_related("vehicle_model__make")
        .order_by("vehicle_model__make__name", "vehicle_model__name", "part")
    )
    return render(
        request,
        "smartcalc/staff/price_list.html",
        {"upload": upload, "pending": pending, "prices": prices[:500], "count": prices.count()},
    )


@manager_required
def price_export(request: HttpRequest, fmt: str) -> HttpResponse:
    if fmt == "xlsx":
        response = HttpResponse(
            pricelist.pricelist_xlsx(request.shop),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    else:
        response = HttpResponse(pricelist.pricelist_csv(request.shop), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="price-{request.shop.slug}.{fmt}"'
    return response
