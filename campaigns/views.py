from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from autoservice.tenancy import for_shop, get_for_shop, manager_required

from . import services
from .forms import CampaignForm, ReminderRuleForm
from .models import (
    DEFAULT_TEXTS,
    Campaign,
    CampaignMessage,
    CampaignResponse,
    CampaignStatus,
    ReminderRule,
)
from .selectors import campaign_figures


@manager_required
@require_GET
def campaign_list(request: HttpRequest) -> HttpResponse:
    shop = request.shop
    campaigns = list(for_shop(Campaign, shop).order_by("-created_at", "-pk")[:50])
    figures = campaign_figures(campaigns)
    return render(
        request,
        "campaigns/list.html",
        {
            "rules": for_shop(ReminderRule, shop).order_by("name", "pk"),
            "campaigns": [(c, figures.get(c.pk)) for c in campaigns],
        },
    )


@manager_required
@require_http_methods(["GET", "POST"])
def rule_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    rule = get_for_shop(request, ReminderRule, pk=pk) if pk else ReminderRule(shop=request.shop)
    initial = {}
    if pk is None:
        kind = request.GET.get("kind") or "maintenance"
        initial = {"kind": kind, "text": DEFAULT_TEXTS.get(kind, DEFAULT_TEXTS["maintenance"])}
    form = ReminderRuleForm(request.POST or None, instance=rule, initial=initial)
    if request.method == "POST":
        if form.is_valid():
            form.save()
            messages.success(request, _("Правило «%(name)s» сохранено.") % {"name": rule.name})
            return redirect("campaigns:list")
        return render(request, "campaigns/rule_form.html", {"form": form, "rule": rule}, status=400)
    return render(request, "campaigns/rule_form.html", {"form": form, "rule": rule})


@manager_required
@require_http_methods(["GET", "POST"])
def campaign_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    campaign = get_for_shop(request, Campaign, pk=pk) if pk else Campaign(shop=request.shop)
    if campaign.status == CampaignStatus.SENT:
        return redirect("campaigns:campaign", pk=campaign.pk)
    initial = {} if pk else {"text": DEFAULT_TEXTS["maintenance"]}
    form = CampaignForm(request.POST or None, instance=campaign, initial=initial)
    if request.method == "POST":
        if form.is_valid():
            campaign = form.save(commit=False)
            if campaign.created_by_id is None:
                campaign.created_by = request.membership
            campaign.save()
            return redirect("campaigns:campaign", pk=campaign.pk)
        return render(
            request,
            "campaigns/campaign_form.html",
            {"form": form, "campaign": campaign},
            status=400,
        )
    return render(request, "campaigns/campaign_form.html", {"form": form, "campaign": campaign})


@manager_required
@require_GET
def campaign_detail(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = get_for_shop(request, Campaign, pk=pk)
    context: dict = {"campaign": campaign}
    if campaign.status == CampaignStatus.DRAFT:
        context["count"], context["sample"] = services.campaign_preview(campaign)
    else:
        context["figures"] = campaign_figures([campaign]).get(campaign.pk)
        context["recent"] = (
            CampaignMessage.objects.filter(campaign=campaign)
            .select_related("customer", "response__lead")
            .order_by("-pk")[:30]
        )
    return render(request, "campaigns/campaign_detail.html", context)


@manager_required
@require_POST
def campaign_send(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = get_for_shop(request, Campaign, pk=pk)
    sent = services.campaign_send(campaign=campaign, by=request.membership)
    if sent:
        messages.success(request, _("Рассылка отправлена: %(n)s сообщений.") % {"n": sent})
    else:
        messages.info(request, _("Рассылка уже отправлена или список пуст."))
    return redirect("campaigns:campaign", pk=campaign.pk)


# --- the driver's pages: no login, the signed token is the key -------------------------------


def _message_or_404(token: str) -> CampaignMessage:
    message = services.message_by_token(token)
    if message is None:
        raise Http404
    return message


@require_http_methods(["GET", "POST"])
def landing(request: HttpRequest, token: str) -> HttpResponse:
    message = _message_or_404(token)
    context: dict = {
        "shop": message.shop,
        "message": message,
        "car": message.customer.cars.order_by("-pk").first(),
    }
    if request.method == "POST":
        context["lead"] = services.message_respond(message=message)
    else:
        services.message_clicked(message)
        answered = CampaignResponse.objects.filter(message=message).select_related("lead").first()
        if answered is not None:
            context["lead"] = answered.lead
    return render(request, "campaigns/landing.html", context)


@csrf_exempt  # one tap from an SMS or a mail client's one-click unsubscribe (RFC 8058)
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    message = _message_or_404(token)
    services.message_unsubscribe(message=message)
    return render(request, "campaigns/unsubscribed.html", {"shop": message.shop})
