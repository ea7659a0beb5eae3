"""The manager's webhook pages: endpoints, their secret (shown once), the delivery log."""

from __future__ import annotations

from pathlib import Path

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from autoservice.params import id_param
from autoservice.tenancy import get_for_shop, manager_required

from . import services
from .forms import EndpointForm
from .models import WebhookDelivery, WebhookEndpoint

LOG_ROWS = 100
DOCS = Path(__file__).resolve().parent / "WEBHOOKS.md"


def _get_endpoint_for_shop(request: HttpRequest, endpoint_id: int) -> WebhookEndpoint:
    return get_for_shop(request, WebhookEndpoint, pk=endpoint_id)


@manager_required
@require_http_methods(["GET", "POST"])
def endpoint_list(request: HttpRequest) -> HttpResponse:
    new_secret = None
    new_endpoint = None
    form = EndpointForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        new_endpoint, new_secret = services.endpoint_create(
            shop=request.shop,
            url=form.cleaned_data["url"],
            description=form.cleaned_data["description"],
            events=form.cleaned_data["events"],
        )
        form = EndpointForm()
    return render(
        request,
        "webhooks/endpoints.html",
        {
            "endpoints": request.shop.webhook_endpoints.order_by("-created_at"),
            "form": form,
            "new_secret": new_secret,
            "new_endpoint": new_endpoint,
        },
    )


@manager_required
@require_http_methods(["GET"])
def endpoint_docs(request: HttpRequest) -> HttpResponse:
    """The receiver's documentation (events, payloads, the verification snippet), as the
    Markdown text the shop's developer copies from."""
    return HttpResponse(DOCS.read_text(encoding="utf-8"), content_type="text/plain; charset=utf-8")


@manager_required
@require_http_methods(["GET", "POST"])
def endpoint_detail(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    endpoint = _get_endpoint_for_shop(request, endpoint_id)
    initial = {"url": endpoint.url, "description": endpoint.description, "events": endpoint.events}
    form = EndpointForm(initial=initial)
    new_secret = None
    if request.method == "POST":
        action = request.POST.get("action", "")
        handler = _ACTIONS.get(action)
        if handler is None:
            messages.error(request, _("Неизвестное действие."))
            return redirect("webhooks:endpoint", endpoint_id=endpoint.pk)
        outcome = handler(request, endpoint)
        if isinstance(outcome, HttpResponse):
            return outcome
        form, new_secret = outcome
    deliveries = endpoint.deliveries.order_by("-pk")[:LOG_ROWS]
    return render(
        request,
        "webhooks/endpoint.html",
        {"endpoint": endpoint, "form": form, "new_secret": new_secret, "deliveries": deliveries},
    )


def _save(request: HttpRequest, endpoint: WebhookEndpoint):
    form = EndpointForm(request.POST)
    if not form.is_valid():
        return form, None  # the page shows the errors with everything typed kept
    services.endpoint_update(
        endpoint=endpoint,
        url=form.cleaned_data["url"],
        description=form.cleaned_data["description"],
        events=form.cleaned_data["events"],
    )
    messages.success(request, _("Адрес сохранён."))
    return redirect("webhooks:endpoint", endpoint_id=endpoint.pk)


def _rotate(request: HttpRequest, endpoint: WebhookEndpoint):
    _endpoint, secret = services.endpoint_rotate_secret(endpoint=endpoint)
    form = EndpointForm(
        initial={
            "url": endpoint.url,
            "description": endpoint.description,
            "events": endpoint.events,
        }
    )
    return form, secret


def _disable(request: HttpRequest, endpoint: WebhookEndpoint):
    services.endpoint_disable(endpoint=endpoint, reason=_("Отключён руководителем."))
    messages.success(request, _("Адрес отключён: события на него не отправляются."))
    return redirect("webhooks:endpoint", endpoint_id=endpoint.pk)


def _enable(request: HttpRequest, endpoint: WebhookEndpoint):
    services.endpoint_enable(endpoint=endpoint)
    messages.success(request, _("Адрес включён: ожидающие события уйдут в течение минуты."))
    return redirect("webhooks:endpoint", endpoint_id=endpoint.pk)


def _test(request: HttpRequest, endpoint: WebhookEndpoint):
    if not endpoint.enabled:
        messages.error(request, _("Адрес отключён: включите его, чтобы отправить проверку."))
    else:
        services.endpoint_send_test(endpoint=endpoint)
        messages.success(
            request, _("Проверочное событие webhook.test отправлено: смотрите журнал ниже.")
        )
    return redirect("webhooks:endpoint", endpoint_id=endpoint.pk)


def _resend(request: HttpRequest, endpoint: WebhookEndpoint):
    delivery_id = id_param(request.POST.get("delivery"), name="delivery")
    delivery = get_for_shop(
        request, WebhookDelivery.objects.filter(endpoint=endpoint), pk=delivery_id or 0
    )
    services.delivery_resend(delivery=delivery)
    messages.success(request, _("Событие поставлено в очередь на повторную отправку."))
    return redirect("webhooks:endpoint", endpoint_id=endpoint.pk)


# POST actions by name: a whitelist, each a small function.
_ACTIONS = {
    "save": _save,
    "rotate": _rotate,
    "disable": _disable,
    "enable": _enable,
    "test": _test,
    "resend": _resend,
}
