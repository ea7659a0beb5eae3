"""Vehicle intake (/staff/intake/): start, shoot by the template, details, sign, seal, verify,
hand-over set, act PDF; and the shop's shot-list templates."""

from __future__ import annotations

import json
import uuid

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from autoservice import images, storage
from autoservice.access import AccessAction, personal_data_access_record
from autoservice.consent import consent_record_create, consent_text_current
from autoservice.http import json_error
from autoservice.params import ParamError, id_param
from autoservice.tenancy import get_for_shop, manager_required, staff_required
from leads.models import Lead
from smartcalc import selectors as catalogue
from smartcalc.services import body_part_codes

from . import sealing, services, templates_admin
from .act import act_pdf_bytes, act_summary
from .forms import DetailsForm, SkipForm, StartForm
from .models import IntakeRecord, IntakeShot, ShotSpec, ShotTemplate


def _record(request: HttpRequest, record_id: int, *, hidden_ok: bool = False) -> IntakeRecord:
    """The shop's record; one whose personal data is hidden (its legal hold is over, or it
    was erased) only for the pages that show it masked (the record page, verification)."""
    record = get_for_shop(
        request,
        IntakeRecord.objects.select_related("template", "consent__text", "lead", "return_of"),
        pk=record_id,
    )
    if record.personal_data_hidden and not hidden_ok:
        raise Http404(_("Персональные данные акта скрыты: срок хранения истёк."))
    return record


def _log_access(request: HttpRequest, action: str, record: IntakeRecord) -> None:
    personal_data_access_record(
        request=request,
        action=action,
        object_type="intake_record",
        object_id=record.pk,
        lead_number=record.lead.number if record.lead_id else None,
    )


@staff_required
def intake_list(request: HttpRequest) -> HttpResponse:
    records = IntakeRecord.objects.filter(shop=request.shop).select_related("template")[:100]
    personal_data_access_record(
        request=request, action=AccessAction.INTAKE_LISTED, object_type="intake_list"
    )
    return render(request, "intake/list.html", {"records": records})


@staff_required
@require_http_methods(["GET", "POST"])
def intake_start(request: HttpRequest) -> HttpResponse:
    templates = services.current_templates(request.shop)
    lead = None
    lead_id = id_param(request.GET.get("lead") or request.POST.get("lead"), name="lead")
    if lead_id is not None:
        lead = get_for_shop(request, Lead, pk=lead_id)
        draft = services.draft_for_lead(lead)
        if draft is not None:
            messages.info(request, _("У заявки уже есть начатая приёмка: продолжаем её."))
            return redirect("intake:intake_record", record_id=draft.pk)
    default = services.default_template(request.shop, templates)
    initial = {"template": default.pk if default else None}
    if lead is not None:
        initial |= {
            "lead": lead.pk,
            "plate": lead.plate,
            "make": lead.vehicle_make,
            "model": lead.vehicle_model,
            "year": lead.vehicle_year,
            "customer_name": lead.customer_name,
            "customer_phone": lead.phone,
            "customer_email": lead.email,
        }
        if lead.is_consent_withdrawn:
            # The driver withdrew consent: their contacts are not handed on; at the desk
            # they give them (and their consent) again.
            for field in ("customer_name", "customer_phone", "customer_email"):
                initial.pop(field)
    form = StartForm(request.POST or None, templates=templates, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        make = data["make"]
        if not make and data["vin"]:
            wmi = catalogue.make_for_vin(data["vin"])
            make = wmi.make.name if wmi else ""
        consent = consent_record_create(
            shop=request.shop,
            text=consent_text_current(request.shop),
            name=data["customer_name"],
            phone=data["customer_phone"],
            request=request,
        )
        record = services.record_create(
            shop=request.shop,
            by=request.membership,
            template=data["template"],
            data=services.VehicleData(
                plate=data["plate"],
                vin=data["vin"],
                make=make,
                model=data["model"],
                year=data["year"],
                body_type=data["body_type"],
                customer_name=data["customer_name"],
                customer_phone=data["customer_phone"],
                customer_email=data["customer_email"],
            ),
            consent=consent,
            lead=lead,
        )
        if record.consent_id != consent.pk:
            messages.info(request, _("У заявки уже есть начатая приёмка: продолжаем её."))
        return redirect("intake:intake_record", record_id=record.pk)
    return render(
        request,
        "intake/start.html",
        {"form": form, "consent_text": consent_text_current(request.shop)},
        status=400 if request.method == "POST" else 200,
    )


@staff_required
@require_GET
def vin_lookup(request: HttpRequest) -> JsonResponse:
    """The make (and models) a VIN's manufacturer code is known for, to prefill the form."""
    wmi = catalogue.make_for_vin(request.GET.get("vin", ""))
    if wmi is None:
        return JsonResponse({"make": "", "models": ""})
    return JsonResponse(
        {"make": wmi.make.name, "models": wmi.models_text, "confirmed": wmi.confirmed},
        json_dumps_params={"ensure_ascii": False},
    )


def _specs_context(record: IntakeRecord) -> list[dict]:
    shots_by_spec: dict[int, list[IntakeShot]] = {}
    for shot in record.shots.all():
        shots_by_spec.setdefault(shot.spec_id, []).append(shot)
    skips = {skip.spec_id: skip for skip in record.skips.all()}
    rows = []
    for spec in record.template.specs.all():
        shots = shots_by_spec.get(spec.pk, [])
        accepted = sum(1 for s in shots if s.accepted)
        rows.append(
            {
                "spec": spec,
                "shots": shots,
                "accepted": accepted,
                "done": accepted >= max(spec.min_count, 1) or spec.pk in skips,
                "skip": skips.get(spec.pk),
            }
        )
    return rows


@staff_required
@require_http_methods(["GET", "POST"])
def intake_record(request: HttpRequest, record_id: int) -> HttpResponse:
    record = _record(request, record_id, hidden_ok=True)
    if record.personal_data_hidden:
        return render(request, "intake/record_hidden.html", {"record": record})
    details = DetailsForm(
        request.POST or None,
        initial={
            "odometer_km": record.odometer_km,
            "fuel_level": record.fuel_level,
            "warning_lamps": record.warning_lamps,
            "belongings": record.belongings,
            "complaint": record.complaint,
        },
    )
    damages = record.damages
    part_errors: dict = {}
    if request.method == "POST":
        damages, part_errors = catalogue.damages_from_picker(request.POST, record.body_type)
        if details.is_valid() and not part_errors:
            try:
                services.record_update_details(
                    record=record, damages=damages, **details.cleaned_data
                )
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
            else:
                messages.success(request, _("Данные акта сохранены."))
            return redirect("intake:intake_record", record_id=record.pk)
    _log_access(request, AccessAction.INTAKE_VIEWED, record)
    return render(
        request,
        "intake/record.html",
        {
            "record": record,
            "specs": _specs_context(record),
            "missing": services.missing_shots(record) if not record.is_sealed else [],
            "details": details,
            **catalogue.damage_picker(record.body_type, damages),
            "part_errors": part_errors,
            "addenda": record.addenda.all(),
            "return_record": getattr(record, "return_record", None),
        },
        status=400 if request.method == "POST" else 200,
    )


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


@staff_required
@require_POST
def shot_upload(request: HttpRequest, record_id: int) -> HttpResponse:
    """One shot from the camera page (JSON for the script; without JavaScript the plain form
    comes back to the record page with a message). Retries with the same client id are safe."""
    response = _shot_upload(request, record_id)
    if _wants_json(request):
        return response
    data = json.loads(response.content)
    if "error" in data:
        messages.error(request, data["error"])
    elif not data["accepted"]:
        messages.warning(request, _("Переснимите кадр: %(p)s") % {"p": " ".join(data["problems"])})
    else:
        messages.success(request, _("Кадр сохранён."))
    return redirect("intake:intake_record", record_id=record_id)


def _shot_upload(request: HttpRequest, record_id: int) -> JsonResponse:
    record = _record(request, record_id)
    try:
        spec_id = id_param(request.POST.get("spec"), name="spec")
    except ParamError:
        spec_id = None  # answered below as a shot the template does not have
    spec = ShotSpec.objects.filter(pk=spec_id or 0, template=record.template).first()
    upload = request.FILES.get("file")
    if spec is None:
        return json_error(_("Такого кадра нет в шаблоне акта."))
    if upload is None:
        return json_error(_("Фото не получено: снимите кадр ещё раз."))
    try:
        client_id = uuid.UUID(request.POST.get("client_id") or str(uuid.uuid4()))
    except ValueError:
        return json_error(_("Неверный идентификатор кадра: обновите страницу."))
    damage_part = request.POST.get("damage_part", "")
    if damage_part not in body_part_codes(record.body_type):
        damage_part = ""
    try:
        shot = services.shot_store(
            record=record,
            spec=spec,
            client_id=client_id,
            filename=upload.name,
            chunks=upload.chunks(),
            damage_part=damage_part,
        )
    except images.ImageRejected as exc:
        if exc.code == images.ImageRejected.STORAGE_UNAVAILABLE:
            response = json_error(exc.message, status=503)
            response["Retry-After"] = "30"
            return response
        return json_error(exc.message)
    except ValidationError as exc:
        return json_error(" ".join(exc.messages), status=409)
    return JsonResponse(
        {
            "id": shot.pk,
            "spec": spec.pk,
            "accepted": shot.accepted,
            "problems": shot.quality.get("problems", []),
            "thumb": request.build_absolute_uri(
                f"/staff/intake/{record.pk}/shots/{shot.pk}/thumb/"
            ),
        },
        status=201,
        json_dumps_params={"ensure_ascii": False},
    )


@staff_required
@require_POST
def shot_discard(request: HttpRequest, record_id: int, shot_id: int) -> HttpResponse:
    record = _record(request, record_id)
    shot = get_object_or_404(IntakeShot, pk=shot_id, record=record)
    try:
        services.shot_discard(shot=shot)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("intake:intake_record", record_id=record.pk)


@staff_required
def shot_image(request: HttpRequest, record_id: int, shot_id: int, kind: str) -> HttpResponse:
    record = _record(request, record_id)
    shot = get_object_or_404(IntakeShot, pk=shot_id, record=record)
    field = {"thumb": shot.thumb, "web": shot.web}.get(kind)
    if field is None or not field.name:
        raise Http404
    return storage.served(field.name, content_type="image/jpeg")


@staff_required
@require_POST
def shot_skip(request: HttpRequest, record_id: int) -> HttpResponse:
    record = _record(request, record_id)
    form = SkipForm(request.POST)
    if form.is_valid():
        spec = get_object_or_404(ShotSpec, pk=form.cleaned_data["spec"], template=record.template)
        try:
            services.shot_skip(record=record, spec=spec, reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(
                request, _("Кадр «%(name)s» пропущен с причиной.") % {"name": spec.name}
            )
    else:
        messages.error(request, _("Напишите, почему кадр не снят: причина попадёт в акт."))
    return redirect("intake:intake_record", record_id=record.pk)


@staff_required
@require_http_methods(["GET", "POST"])
def intake_sign(request: HttpRequest, record_id: int) -> HttpResponse:
    record = _record(request, record_id)
    if record.is_sealed:
        return redirect("intake:intake_record", record_id=record.pk)
    error = ""
    if request.method == "POST":
        try:
            services.record_sign_and_seal(
                record=record,
                by=request.membership,
                customer_signature=request.POST.get("customer_signature", ""),
                advisor_signature=request.POST.get("advisor_signature", ""),
            )
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            messages.success(request, _("Акт подписан и опечатан."))
            return redirect("intake:intake_record", record_id=record.pk)
    return render(
        request,
        "intake/sign.html",
        {
            "record": record,
            "error": error,
            "missing": services.missing_shots(record),
            **act_summary(record),
        },
        status=400 if error else 200,
    )


@staff_required
def intake_act(request: HttpRequest, record_id: int) -> HttpResponse:
    record = _record(request, record_id)
    response = HttpResponse(act_pdf_bytes(record), content_type="application/pdf")
    _log_access(request, AccessAction.INTAKE_ACT_DOWNLOADED, record)
    response["Content-Disposition"] = f'inline; filename="akt-{record.number}.pdf"'
    return response


def public_act(request: HttpRequest, slug: str, token: str) -> HttpResponse:
    """The customer's copy of a signed act, by the private link they were given."""
    record = get_object_or_404(
        IntakeRecord.objects.select_related("shop"),
        shop__slug=slug,
        public_token=token,
        sealed_at__isnull=False,
    )
    response = HttpResponse(act_pdf_bytes(record), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="akt-{record.number}.pdf"'
    return response


@staff_required
def intake_verify(request: HttpRequest, record_id: int) -> HttpResponse:
    record = _record(request, record_id, hidden_ok=True)
    verdict = sealing.verify_record(record)
    return render(request, "intake/verify.html", {"record": record, "verdict": verdict})


@staff_required
@require_POST
def intake_addendum(request: HttpRequest, record_id: int) -> HttpResponse:
    record = _record(request, record_id)
    try:
        services.addendum_add(
            record=record, by=request.membership, text=request.POST.get("text", "")
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Дополнение добавлено к акту."))
    return redirect("intake:intake_record", record_id=record.pk)


@staff_required
@require_POST
def intake_return(request: HttpRequest, record_id: int) -> HttpResponse:
    record = _record(request, record_id)
    try:
        returned = services.return_create(record=record, by=request.membership)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("intake:intake_record", record_id=record.pk)
    return redirect("intake:intake_record", record_id=returned.pk)


@staff_required
def intake_compare(request: HttpRequest, record_id: int) -> HttpResponse:
    """The intake and the hand-over shots side by side, angle by angle."""
    record = _record(request, record_id)
    intake = record.return_of if record.return_of_id else record
    returned = getattr(intake, "return_record", None)
    if returned is None:
        return render(request, "intake/compare.html", {"intake": intake, "returned": None})
    pairs = []
    before = {}
    for shot in intake.shots.filter(accepted=True).select_related("spec"):
        before.setdefault(shot.spec_id, []).append(shot)
    after = {}
    for shot in returned.shots.filter(accepted=True).select_related("spec"):
        after.setdefault(shot.spec_id, []).append(shot)
    for spec in intake.template.specs.all():
        if spec.pk in before or spec.pk in after:
            pairs.append((spec, before.get(spec.pk, []), after.get(spec.pk, [])))
    return render(
        request, "intake/compare.html", {"intake": intake, "returned": returned, "pairs": pairs}
    )


@manager_required
def template_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "intake/templates.html",
        {"templates": services.current_templates(request.shop)},
    )


@manager_required
@require_http_methods(["GET", "POST"])
def template_edit(request: HttpRequest, template_id: int) -> HttpResponse:
    template = get_object_or_404(ShotTemplate, pk=template_id, is_current=True)
    if template.shop_id not in (None, request.shop.pk):
        raise Http404
    formset = templates_admin.SpecFormSet(
        request.POST or None, initial=templates_admin.initial(template)
    )
    if request.method == "POST" and formset.is_valid():
        saved = templates_admin.save_new_version(
            shop=request.shop,
            template=template,
            name=request.POST.get("name", template.name),
            formset=formset,
        )
        messages.success(request, _("Сохранена версия %(v)s шаблона.") % {"v": saved.version})
        return redirect("intake:intake_templates")
    return render(
        request,
        "intake/template_edit.html",
        {"template": template, "formset": formset},
        status=400 if request.method == "POST" else 200,
    )


def lead_panel(request: HttpRequest, lead: Lead) -> str:
    """Intake records of the lead and the way to take the car in (a panel of the lead page)."""
    records = IntakeRecord.objects.filter(lead=lead).order_by("-created_at")
    return render_to_string(
        "intake/_lead_panel.html",
        {"lead": lead, "records": records, "draft": services.draft_for_lead(lead)},
        request=request,
    )
