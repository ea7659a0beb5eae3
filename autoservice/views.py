from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from . import services
from .forms import MemberCreateForm, MemberUpdateForm, ShopProfileForm, WorkingHoursForm
from .models import Membership, Shop
from .tenancy import get_for_shop, manager_required, staff_required


def landing(request: HttpRequest) -> HttpResponse:
    """The product's public front page: what it is, a demo shop, the staff login."""
    shops = Shop.objects.filter(is_active=True).only("name", "slug", "address")[:12]
    return render(request, "autoservice/landing.html", {"shops": shops})


@staff_required
def staff_home(request: HttpRequest) -> HttpResponse:
    return render(request, "autoservice/staff_home.html")


@manager_required
@require_http_methods(["GET", "POST"])
def shop_settings(request: HttpRequest) -> HttpResponse:
    shop: Shop = request.shop
    profile = ShopProfileForm(
        request.POST or None, request.FILES or None, instance=shop, prefix="profile"
    )
    hours = WorkingHoursForm(request.POST or None, shop=shop, prefix="hours")
    if request.method == "POST" and profile.is_valid() and hours.is_valid():
        shop = profile.save(commit=False)
        shop.working_hours = hours.cleaned_data["working_hours"]
        shop.save()
        messages.success(request, _("Настройки автосервиса сохранены."))
        return redirect("shop_settings")
    return render(request, "autoservice/settings.html", {"profile": profile, "hours": hours})


@manager_required
def team(request: HttpRequest) -> HttpResponse:
    members = request.shop.memberships.select_related("user").order_by(
        "-user__is_active", "user__last_name"
    )
    return render(request, "autoservice/team.html", {"members": members})


@manager_required
@require_http_methods(["GET", "POST"])
def member_create(request: HttpRequest) -> HttpResponse:
    form = MemberCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        membership = services.member_create(shop=request.shop, **form.cleaned_data)
        services.member_send_invitation(membership=membership, request=request)
        messages.success(
            request,
            _("Сотрудник добавлен, приглашение отправлено на %(email)s.")
            % {"email": membership.user.email},
        )
        return redirect("team")
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
        return redirect("team")
    return render(request, "autoservice/member_form.html", {"form": form, "membership": membership})
