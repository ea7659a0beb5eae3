"""The manager's subject-request page (152-FZ): find a person's data by phone or e-mail,
export it as a ZIP, erase it, and read the destruction acts."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from . import personal_data
from .forms import PersonalDataPolicyForm, SubjectEraseForm, SubjectSearchForm
from .models import DestructionAct, PersonalDataPolicy
from .tenancy import get_for_shop, manager_required


def _get_act_for_shop(request: HttpRequest, act_id: int) -> DestructionAct:
    return get_for_shop(request, DestructionAct, pk=act_id)


def _held_total(found) -> list:
    return [held for item in found for held in item.held]


@manager_required
@require_http_methods(["GET", "POST"])
def subject_search(request: HttpRequest) -> HttpResponse:
    shop = request.shop
    policy = PersonalDataPolicy.objects.filter(shop=shop).first() or PersonalDataPolicy(shop=shop)
    policy_form = PersonalDataPolicyForm(
        request.POST if request.method == "POST" else None, instance=policy, prefix="policy"
    )
    if request.method == "POST" and policy_form.is_valid():
        policy_form.save()
        messages.success(request, _("Сроки хранения сохранены."))
        return redirect("autoservice:personal_data")
    searched = bool(request.GET.get("phone") or request.GET.get("email"))
    form = SubjectSearchForm(request.GET if searched else None)
    found = None
    if searched and form.is_valid():
        found = personal_data.subject_find(shop=shop, phones=form.phones, emails=form.emails)
    acts = DestructionAct.objects.filter(shop=shop).select_related("performed_by")[:20]
    bad = (searched and not form.is_valid()) or (request.method == "POST")
    return render(
        request,
        "autoservice/personal_data.html",
        {
            "form": form,
            "found": found,
            "held": _held_total(found or []),
            "query": urlencode({k: request.GET.get(k, "") for k in ("phone", "email")}),
            "policy_form": policy_form,
            "acts": acts,
        },
        status=400 if bad else 200,
    )


@manager_required
@require_POST
def subject_export(request: HttpRequest) -> HttpResponse:
    form = SubjectSearchForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Не удалось выгрузить: проверьте телефон или e-mail."))
        query = urlencode({k: request.POST.get(k, "") for k in ("phone", "email")})
        return redirect(reverse("autoservice:personal_data") + "?" + query)
    archive = personal_data.subject_export_tempfile(
        shop=request.shop, phones=form.phones, emails=form.emails
    )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return FileResponse(
        archive,
        as_attachment=True,
        filename=f"personal-data-{request.shop.slug}-{stamp}.zip",
        content_type="application/zip",
    )


@manager_required
@require_http_methods(["GET", "POST"])
def subject_erase(request: HttpRequest) -> HttpResponse:
    data = request.POST if request.method == "POST" else request.GET
    form = SubjectEraseForm(data if (data.get("phone") or data.get("email")) else None)
    found = []
    valid_subject = False
    if form.is_bound:
        form.is_valid()
        valid_subject = hasattr(form, "phones") and not (
            form.has_error("phone") or form.has_error("email")
        )
        if valid_subject:
            found = personal_data.subject_find(
                shop=request.shop, phones=form.phones, emails=form.emails
            )
    if request.method == "POST" and form.is_bound and form.is_valid():
        act = personal_data.subject_erase(
            shop=request.shop, phones=form.phones, emails=form.emails, by=request.user
        )
        if act is None:
            messages.info(request, _("Данных этого человека в автосервисе нет: удалять нечего."))
            return redirect("autoservice:personal_data")
        messages.success(request, _("Данные удалены, составлен акт %(n)s.") % {"n": act.number})
        return redirect("autoservice:destruction_act", act_id=act.pk)
    if request.method == "GET" and form.is_bound:
        form.errors.pop("confirm", None)  # nothing typed yet: no complaint on first view
    return render(
        request,
        "autoservice/personal_data_erase.html",
        {
            "form": form,
            "found": found,
            "held": _held_total(found),
            "valid_subject": valid_subject,
        },
        status=400 if request.method == "POST" else 200,
    )


@manager_required
def destruction_act(request: HttpRequest, act_id: int) -> HttpResponse:
    act = _get_act_for_shop(request, act_id)
    return render(request, "autoservice/destruction_act.html", {"act": act})


@manager_required
def destruction_act_pdf(request: HttpRequest, act_id: int) -> HttpResponse:
    act = _get_act_for_shop(request, act_id)
    response = HttpResponse(personal_data.pdf_act(act), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="act-{act.pk}.pdf"'
    return response
