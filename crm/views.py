from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from autoservice.tenancy import get_for_shop, manager_required

from . import services
from .forms import AmoCrmForm, Bitrix24Form
from .models import CrmConnection, CrmKind

FORMS = {CrmKind.BITRIX24: Bitrix24Form, CrmKind.AMOCRM: AmoCrmForm}


def _connection(shop, kind: str) -> CrmConnection:
    """The saved connection, or an unsaved one to show an empty form (a GET writes nothing)."""
    return CrmConnection.objects.filter(shop=shop, kind=kind).first() or CrmConnection(
        shop=shop, kind=kind
    )


def _page(request: HttpRequest, bound: dict | None = None, status: int = 200) -> HttpResponse:
    cards = []
    for kind, form_class in FORMS.items():
        connection = (bound or {}).get(kind, (None, None))[0] or _connection(request.shop, kind)
        form = (bound or {}).get(kind, (None, None))[1] or form_class(connection=connection)
        cards.append(
            {
                "kind": kind,
                "connection": connection,
                "form": form,
                "backlog": services.connection_backlog(connection) if connection.pk else None,
            }
        )
    return render(request, "crm/settings.html", {"cards": cards}, status=status)


@manager_required
def crm_settings(request: HttpRequest) -> HttpResponse:
    return _page(request)


@manager_required
@require_http_methods(["POST"])
def crm_save(request: HttpRequest, kind: str) -> HttpResponse:
    if kind not in FORMS:
        raise Http404
    connection = _connection(request.shop, kind)
    form = FORMS[kind](request.POST, connection=connection)
    if not form.is_valid():
        return _page(request, bound={kind: (connection, form)}, status=400)
    secret_changed = form.apply()
    services.connection_save(connection=connection, secret_changed=secret_changed)
    messages.success(
        request, _("Настройки %(crm)s сохранены.") % {"crm": connection.get_kind_display()}
    )
    return redirect("crm:crm_settings")


@manager_required
@require_POST
def crm_check(request: HttpRequest, connection_id: int) -> HttpResponse:
    connection = get_for_shop(request, CrmConnection, pk=connection_id)
    ok, said = services.connection_check(connection=connection)
    (messages.success if ok else messages.warning)(request, said)
    return redirect("crm:crm_settings")


@manager_required
@require_POST
def crm_test(request: HttpRequest, connection_id: int) -> HttpResponse:
    connection = get_for_shop(request, CrmConnection, pk=connection_id)
    ok, said = services.connection_send_test(connection=connection)
    (messages.success if ok else messages.warning)(request, said)
    return redirect("crm:crm_settings")
