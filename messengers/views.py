"""The manager's bot settings and each staff member's own chat links."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from autoservice.tenancy import manager_required, staff_required

from . import services
from .clients import MessengerError
from .forms import BotForm
from .models import ChatLink, LinkCode, Messenger, MessengerBot


def _kind(kind: str) -> str:
    if kind not in Messenger.values:
        raise Http404
    return kind


def _settings_page(request: HttpRequest, bound: dict | None = None, status: int = 200):
    cards = []
    for kind in Messenger.values:
        bot = services.bot_for(request.shop, kind)
        form = (bound or {}).get(kind) or BotForm(bot=bot)
        cards.append({"kind": kind, "label": Messenger(kind).label, "bot": bot, "form": form})
    return render(request, "messengers/settings.html", {"cards": cards}, status=status)


@manager_required
@require_GET
def bot_settings(request: HttpRequest) -> HttpResponse:
    return _settings_page(request)


@manager_required
@require_POST
def bot_action(request: HttpRequest, kind: str) -> HttpResponse:
    kind = _kind(kind)
    bot = services.bot_for(request.shop, kind)
    label = Messenger(kind).label
    if request.POST.get("action") == "check":
        try:
            name = services.bot_check(bot)
        except MessengerError as exc:
            messages.error(
                request, _("%(m)s: бот не отвечает — %(why)s") % {"m": label, "why": exc}
            )
        else:
            messages.success(
                request, _("%(m)s: бот на связи (%(name)s).") % {"m": label, "name": name or "—"}
            )
        return redirect("messengers:settings")
    form = BotForm(request.POST, bot=bot)
    if not form.is_valid():
        return _settings_page(request, bound={kind: form}, status=400)
    services.bot_save(
        shop=request.shop,
        kind=kind,
        token=form.cleaned_data["token"],
        enabled=form.cleaned_data["enabled"],
    )
    messages.success(request, _("Настройки %(m)s сохранены.") % {"m": label})
    return redirect("messengers:settings")


@staff_required
@require_GET
def profile(request: HttpRequest) -> HttpResponse:
    membership = request.membership
    bots = {b.kind: b for b in MessengerBot.objects.filter(shop=request.shop)}
    links = {link.kind: link for link in ChatLink.objects.filter(membership=membership)}
    now = timezone.now()
    codes = {
        c.kind: c
        for c in LinkCode.objects.filter(
            membership=membership, used_at__isnull=True, expires_at__gt=now
        ).order_by("expires_at")
    }
    cards = []
    for kind in Messenger.values:
        bot = bots.get(kind)
        cards.append(
            {
                "kind": kind,
                "label": Messenger(kind).label,
                "bot": bot,
                "available": bot is not None and bot.ready,
                "link": links.get(kind),
                "code": codes.get(kind),
            }
        )
    return render(request, "messengers/profile.html", {"cards": cards})


@staff_required
@require_POST
def profile_action(request: HttpRequest, kind: str) -> HttpResponse:
    kind = _kind(kind)
    action = request.POST.get("action", "")
    membership = request.membership
    label = Messenger(kind).label
    if action == "link":
        bot = MessengerBot.objects.filter(shop=request.shop, kind=kind).first()
        if bot is None or not bot.ready:
            messages.error(request, _("%(m)s: автосервис ещё не подключил бота.") % {"m": label})
        else:
            services.link_code_create(membership=membership, kind=kind)
    elif action == "unlink":
        services.link_unlink(membership=membership, kind=kind)
        messages.success(request, _("%(m)s отвязан.") % {"m": label})
    elif action in ("duty_on", "duty_off"):
        services.link_set_on_duty(membership=membership, kind=kind, on_duty=action == "duty_on")
    else:
        messages.error(request, _("Неизвестное действие."))
    return redirect("messengers:profile")
