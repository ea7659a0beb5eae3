"""The driver's calculator (/s/<slug>/calc/) and the staff's estimates (/staff/calc/)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from autoservice import pagecache
from autoservice.embedding import shop_frame_policy
from autoservice.models import Shop
from autoservice.params import id_param, streams_uploads
from booking.selectors import booking_for_lead, lead_progress
from leads.forms import DriverRequestPage
from leads.models import Channel, Lead
from leads.services import withdrawal_path_for_lead

from . import engine, europrotocol, selectors, services, techdata
from .forms import CalcContactForm, parse_damages, parse_paint_type, picker_rows
from .models import Estimate, Generation, VehicleMake, VehicleModel
from .parts import DIAGRAM_FOR_BODY, BodyType, DamageKind, DamageSize, PaintType


def _get_public_shop(slug: str) -> Shop:
    return get_object_or_404(Shop, slug=slug, is_active=True)


def _vehicle(generation_id: int, body: str) -> Generation:
    generation = get_object_or_404(
        Generation.objects.select_related("model__make"), pk=generation_id
    )
    if body not in BodyType.values or body not in generation.body_types:
        raise Http404(_("У этого поколения нет такого кузова."))
    return generation


def _result_context(
    shop: Shop, result: dict | None, error: str = "", generation: Generation | None = None
) -> dict:
    """What the estimate partial needs: the result as stored (JSON), the europrotocol fit
    and the insurer's approximate payout by the Единая методика."""
    context: dict = {"result": result, "error": error, "shop": shop}
    if result:
        total = Decimal(result["total_rub"])
        today = timezone.localdate()
        limits = europrotocol.limits_in_force(region=shop.region, on=today)
        context["europrotocol"] = europrotocol.fit_limits(total, limits)
        if generation is not None:
            payout = europrotocol.insurer_payout(
                result, year_from=generation.year_from, year_to=generation.year_to, on=today
            )
            context["payout"] = payout
            context["europrotocol"] = europrotocol.fit_payout(payout, limits)
        rates = techdata.shop_rates(shop)
        context["valid_until"] = timezone.localdate() + dt.timedelta(days=rates.price_valid_days)
        context["approximate"] = any(line["price_approximate"] for line in result["lines"])
    return context


def _compute(
    shop: Shop, generation: Generation, body: str, damages, paint_type: str
) -> tuple[dict | None, str]:
    if not damages:
        return None, ""
    try:
        result = services.estimate_compute(
            shop=shop, generation=generation, body_type=body, damages=damages, paint_type=paint_type
        )
    except engine.EstimateError as exc:
        return None, exc.message
    except techdata.NoTechData:
        return None, _("Для этой машины нет данных для расчёта: пришлите фото, мастер посчитает.")
    return services.estimate_as_json(result), ""


@shop_frame_policy
def calc_vehicle(request: HttpRequest, slug: str) -> HttpResponse:
    shop = request.public_shop = _get_public_shop(slug)
    q = request.GET.get("q", "").strip()[:60]
    make = model = None
    model_id = id_param(request.GET.get("model"), name="model")
    make_id = id_param(request.GET.get("make"), name="make")
    if model_id is not None:
        model = get_object_or_404(VehicleModel.objects.select_related("make"), pk=model_id)
        make = model.make
    elif make_id is not None:
        make = get_object_or_404(VehicleMake, pk=make_id)
    return render(
        request,
        "smartcalc/calc_vehicle.html",
        {
            "shop": shop,
            "q": q,
            "make": make,
            "model": model,
            "makes": selectors.makes_with_models(q) if not make else None,
            "models": selectors.models_by_popularity(make.models.all())
            if make and not model
            else None,
            "generations": selectors.generations_of(model) if model else None,
            "popular": selectors.popular_models() if not (make or q) else None,
        },
    )


def _damage_page(
    request, shop, generation, body, damages, errors, result, error, status=200, paint_type=""
):
    return render(
        request,
        "smartcalc/calc_damage.html",
        {
            "shop": shop,
            "generation": generation,
            "body": body,
            "body_label": BodyType(body).label,
            "diagram": DIAGRAM_FOR_BODY[body],
            "rows": picker_rows(body, damages),
            "kinds": DamageKind.choices,
            "sizes": DamageSize.choices,
            "paint_types": PaintType.choices,
            "paint_type": paint_type or PaintType.UNKNOWN,
            "part_errors": errors,
            **_result_context(shop, result, error, generation),
        },
        status=status,
    )


@csrf_exempt
@shop_frame_policy
@require_http_methods(["GET", "POST"])
def calc_damage(request: HttpRequest, slug: str, generation_id: int, body: str) -> HttpResponse:
    """The diagram and the list; without JavaScript «Пересчитать» posts back here."""
    shop = request.public_shop = _get_public_shop(slug)
    generation = _vehicle(generation_id, body)
    data = request.POST if request.method == "POST" else {}
    damages, errors = parse_damages(data, body)
    paint_type = parse_paint_type(data)
    result, error = (
        _compute(shop, generation, body, damages, paint_type) if not errors else (None, "")
    )
    return _damage_page(
        request,
        shop,
        generation,
        body,
        damages,
        errors,
        result,
        error,
        status=400 if errors or error else 200,
        paint_type=paint_type,
    )


@csrf_exempt
@require_POST
def calc_estimate(request: HttpRequest, slug: str, generation_id: int, body: str) -> HttpResponse:
    """The estimate partial, recomputed by htmx on every change of the picker."""
    shop = _get_public_shop(slug)
    generation = _vehicle(generation_id, body)
    damages, errors = parse_damages(request.POST, body)
    if errors:
        error = next(iter(errors.values()))
        return render(request, "smartcalc/_estimate.html", _result_context(shop, None, error))
    paint_type = parse_paint_type(request.POST)

    def estimate() -> HttpResponse:
        result, error = _compute(shop, generation, body, damages, paint_type)
        return render(
            request, "smartcalc/_estimate.html", _result_context(shop, result, error, generation)
        )

    # The same damages on the same car give the same estimate until the shop's rates or
    # prices, or the norms, change (registered with the page cache in apps.py); the date
    # is in the key for the estimate's validity and the europrotocol limits in force.
    return pagecache.cached_page(
        request,
        shop=shop,
        parts=(
            generation.pk,
            body,
            tuple(damages),
            paint_type,
            timezone.localdate(),
        ),
        render=estimate,
    )


@csrf_exempt
@shop_frame_policy
@streams_uploads
@require_POST
def calc_send(request: HttpRequest, slug: str, generation_id: int, body: str) -> HttpResponse:
    """Step 3: contact, consent and optional photos; then the lead with its estimate."""
    DriverRequestPage.prepare(request)
    shop = request.public_shop = _get_public_shop(slug)
    generation = _vehicle(generation_id, body)
    damages, errors = parse_damages(request.POST, body)
    paint_type = parse_paint_type(request.POST)
    result, error = (
        _compute(shop, generation, body, damages, paint_type) if not errors else (None, "")
    )
    if errors or error or not damages:
        if not damages and not errors and not error:
            error = _("Отметьте хотя бы одно повреждение на схеме или в списке.")
        return _damage_page(
            request, shop, generation, body, damages, errors, result, error, 400, paint_type
        )

    # The damage step posts here without a token and gets the contact step with one.
    page = DriverRequestPage(request, shop, token_required=False)
    sent = page.sent_lead()
    if sent is not None:  # a double tap or a retry: the estimate it made already
        estimate = selectors.estimate_of_lead(sent)
        if estimate is not None:
            return redirect("smartcalc:calc_result", slug=shop.slug, token=estimate.public_token)
        page.renew()  # the token of another form (the photo form's) sent here
    form = CalcContactForm(request.POST if page.has_input else None)
    page.receive_photos()
    if page.is_sent and form.is_valid() and page.is_valid:
        engine_result = services.estimate_compute(
            shop=shop,
            generation=generation,
            body_type=body,
            damages=damages,
            paint_type=paint_type,
        )

        def attach(lead: Lead) -> Estimate:
            return services.estimate_save(
                shop=shop,
                generation=generation,
                body_type=body,
                damages=damages,
                result=engine_result,
                lead=lead,
            )

        done = page.submit(
            channel=Channel.CALCULATOR,
            contact=form.lead_input(generation),
            attach=attach,
            marketing_consent=form.cleaned_data["marketing_consent"],
        )
        if done is not None:
            estimate = done.attached if done.created else selectors.estimate_of_lead(done.lead)
            if estimate is not None:
                return redirect(
                    "smartcalc:calc_result", slug=shop.slug, token=estimate.public_token
                )
            page.renew()
    return page.render(
        "smartcalc/calc_contact.html",
        {
            "shop": shop,
            "generation": generation,
            "body": body,
            "body_label": BodyType(body).label,
            "damages": damages,
            "paint_type": paint_type,
            "form": form,
            **_result_context(shop, result, generation=generation),
        },
        status=400 if page.has_input else 200,
    )


@shop_frame_policy
def calc_result(request: HttpRequest, slug: str, token: str) -> HttpResponse:
    """The driver's private link: their estimate exactly as they saw it, and the shop."""
    shop = request.public_shop = _get_public_shop(slug)
    estimate = get_object_or_404(
        Estimate.objects.select_related("generation__model__make", "lead"),
        shop=shop,
        public_token=token,
    )
    first = estimate.versions.order_by("number").first()
    context = _result_context(shop, first.result, generation=estimate.generation)
    context["valid_until"] = timezone.localtime(first.created_at).date() + dt.timedelta(
        days=int(first.inputs["rates"]["price_valid_days"])
    )
    return render(
        request,
        "smartcalc/calc_result.html",
        {
            **context,
            "estimate": estimate,
            "version": first,
            "lead": estimate.lead,
            "withdraw_url": withdrawal_path_for_lead(estimate.lead) if estimate.lead else "",
            "progress": lead_progress(estimate.lead) if estimate.lead else [],
            "booking": booking_for_lead(estimate.lead) if estimate.lead else None,
        },
    )


def lead_panel(request: HttpRequest, lead: Lead) -> str:
    """The estimate on the lead page (registered with leads.panels)."""
    estimate = getattr(lead, "estimate", None)
    if estimate is None:
        return ""
    versions = list(estimate.versions.order_by("number"))
    latest = versions[-1]
    return render_to_string(
        "smartcalc/_lead_panel.html",
        {
            "estimate": estimate,
            "versions": versions,
            "latest": latest,
            "result": latest.result,
            "damaged": {d["part"]: d for d in latest.inputs["damages"]},
            "diagram": DIAGRAM_FOR_BODY[estimate.body_type],
        },
        request=request,
    )
