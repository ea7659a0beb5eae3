from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import RequestDataTooBig, TooManyFilesSent
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from . import services
from .access import AccessFilters, access_log_page
from .apitokens import token_create, token_revoke
from .consent import consent_text_current
from .forms import (
    AccessLogFilterForm,
    ApiTokenForm,
    LeadSettingsForm,
    MemberCreateForm,
    MemberUpdateForm,
    ShopProfileForm,
    WorkingHoursForm,
)
from .models import ApiToken, Membership, Shop
from .params import ParamError, id_param
from .tenancy import get_for_shop, manager_required, staff_required


def landing(request: HttpRequest) -> HttpResponse:
    """The product's public front page: what it is, a demo shop, the staff login."""
    shops = Shop.objects.filter(is_active=True).only("name", "slug", "address")[:12]
    return render(request, "autoservice/landing.html", {"shops": shops})


@staff_required
def staff_home(request: HttpRequest) -> HttpResponse:
    """Staff start in the inbox: every request in one place."""
    return redirect("leads:inbox")


@manager_required
@require_http_methods(["GET", "POST"])
def shop_settings(request: HttpRequest) -> HttpResponse:
    shop: Shop = request.shop
    profile = ShopProfileForm(
        request.POST or None, request.FILES or None, instance=shop, prefix="profile"
    )
    hours = WorkingHoursForm(request.POST or None, shop=shop, prefix="hours")
    leads_form = LeadSettingsForm(
        request.POST or None, instance=shop, prefix="leads", consent=consent_text_current(shop)
    )
    forms_valid = all([profile.is_valid(), hours.is_valid(), leads_form.is_valid()])
    if request.method == "POST" and forms_valid:
        services.shop_settings_save(
            shop=shop,
            profile=profile,
            working_hours=hours.cleaned_data["working_hours"],
            leads=leads_form,
        )
        messages.success(request, _("Настройки автосервиса сохранены."))
        return redirect("autoservice:shop_settings")
    embed_url = f"{settings.SITE_URL}{reverse('photoportal:photo_form', args=[shop.slug])}"
    return render(
        request,
        "autoservice/settings.html",
        {
            "profile": profile,
            "hours": hours,
            "leads_form": leads_form,
            "public_url": settings.SITE_URL + reverse("photoportal:shop_page", args=[shop.slug]),
            "embed_snippet": (
                f'<iframe src="{embed_url}" title="{shop.name}" loading="lazy" '
                'style="width:100%;min-height:1100px;border:0" allow="camera"></iframe>'
            ),
        },
        status=400 if request.method == "POST" else 200,
    )


@manager_required
def team(request: HttpRequest) -> HttpResponse:
    members = request.shop.memberships.select_related("user").order_by(
        "-user__is_active", "user__last_name"
    )
    return render(request, "autoservice/team.html", {"members": members})


@manager_required
@require_http_methods(["GET", "POST"])
def member_create(request: HttpRequest) -> HttpResponse:
    form = MemberCreateForm(request.POST or None, shop=request.shop)
    if request.method == "POST" and form.is_valid():
        services.member_invite(shop=request.shop, request=request, **form.cleaned_data)
        # The same words whether or not the address already had an account elsewhere.
        messages.success(
            request,
            _("Сотрудник добавлен, приглашение отправлено на %(email)s.")
            % {"email": form.cleaned_data["email"]},
        )
        return redirect("autoservice:team")
    return render(request, "autoservice/member_form.html", {"form": form})


@manager_required
@require_http_methods(["GET", "POST"])
def member_edit(request: HttpRequest, member_id: int) -> HttpResponse:
    membership = get_for_shop(request, Membership.objects.select_related("user"), pk=member_id)
    form = MemberUpdateForm(request.POST or None, membership=membership, acting=request.membership)
    if request.method == "POST" and form.is_valid():
        services.member_update(
            membership=membership,
            role=form.cleaned_data["role"],
            is_active=form.cleaned_data["is_active"],
        )
        messages.success(request, _("Изменения сохранены."))
        return redirect("autoservice:team")
    return render(request, "autoservice/member_form.html", {"form": form, "membership": membership})


@manager_required
@require_http_methods(["GET", "POST"])
def api_tokens(request: HttpRequest) -> HttpResponse:
    """Tokens for the shop's CRM: the token is shown once, when made; revoking is instant."""
    new_token = None
    form = ApiTokenForm(request.POST if request.POST.get("action") == "create" else None)
    if request.method == "POST" and request.POST.get("action") == "create":
        if form.is_valid():
            _token, new_token = token_create(
                shop=request.shop,
                name=form.cleaned_data["name"].strip(),
                scopes=form.cleaned_data["scopes"],
                expires_at=form.expires_at(timezone.now()),
            )
            form = ApiTokenForm()
    elif request.method == "POST" and request.POST.get("action") == "revoke":
        token_id = id_param(request.POST.get("token"), name="token")
        token_revoke(token=get_for_shop(request, ApiToken, pk=token_id or 0))
        messages.success(request, _("Токен отозван."))
        return redirect("autoservice:api_tokens")
    return render(
        request,
        "autoservice/api_tokens.html",
        {
            "tokens": request.shop.api_tokens.order_by("-created_at"),
            "new_token": new_token,
            "form": form,
            "now": timezone.now(),
        },
    )


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Django's answer to a request it refuses (`ParamError` and the like): 400 with what is
    wrong, as JSON for the API and the pages' scripts, as a page otherwise."""
    from .http import json_error, problem_json
    from .params import ParamError

    if isinstance(exception, ParamError):
        message = exception.message
    elif isinstance(exception, TooManyFilesSent):
        # Django stops reading a form with more files than DATA_UPLOAD_MAX_NUMBER_FILES before
        # any view sees it; "Назад" brings the driver back to the form as they filled it.
        message = _(
            "Слишком много файлов в одной отправке (больше %(max)s). Вернитесь назад, "
            "выберите меньше фото и отправьте снова."
        ) % {"max": settings.DATA_UPLOAD_MAX_NUMBER_FILES}
    elif isinstance(exception, RequestDataTooBig):
        message = _("Слишком большой запрос. Вернитесь назад и отправьте меньше данных.")
    else:
        message = _("Запрос не понят: проверьте адрес или обновите страницу.")
    match = getattr(request, "resolver_match", None)
    if match is not None and match.namespace == "api":
        # REST API v1 answers every refusal as an RFC 9457 problem (api/problems.py).
        return problem_json(message, 400, slug="validation", title=_("Запрос заполнен неверно"))
    wants_json = request.path.startswith("/api/") or "application/json" in request.headers.get(
        "Accept", ""
    )
    if wants_json:
        return json_error(message, 400)
    shop = getattr(request, "public_shop", None)
    return render(request, "400.html", {"message": message, "shop": shop}, status=400)


@manager_required
def access_log(request: HttpRequest) -> HttpResponse:
    """Who saw whose personal data: the shop's audit log, newest first, filtered."""
    members = list(
        Membership.objects.filter(shop=request.shop)
        .select_related("user")
        .order_by("user__last_name", "user__first_name", "user__username")
    )
    form = AccessLogFilterForm(request.GET or None, members=members)
    rows: list = []
    next_cursor = None
    status = 200
    if form.is_bound and not form.is_valid():
        status = 400
    else:
        data = form.cleaned_data if form.is_bound else {}
        try:
            before = id_param(request.GET.get("before"), name="before")
        except ParamError as exc:
            form.add_error(None, exc.message)
            status = 400
        else:
            filters = AccessFilters(
                user_id=data.get("user"),
                action=data.get("action") or "",
                date_from=data.get("date_from"),
                date_to=data.get("date_to"),
                lead_number=data.get("lead_number"),
            )
            rows, next_cursor = access_log_page(
                shop=request.shop, filters=filters, before_id=before
            )
    query = request.GET.copy()
    query.pop("before", None)
    return render(
        request,
        "autoservice/access_log.html",
        {
            "form": form,
            "rows": rows,
            "next_cursor": next_cursor,
            "filter_query": query.urlencode(),
            "is_first_page": not request.GET.get("before"),
            "retention_days": settings.ACCESS_LOG_RETENTION_DAYS,
        },
        status=status,
    )


def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers (and the admin, which has no link to it) ask for /favicon.ico."""
    return HttpResponsePermanentRedirect(static("img/favicon.ico"))
