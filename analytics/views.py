"""The analytics page (`/staff/analytics/`): managers see the shop, advisors their own leads."""

from __future__ import annotations

import csv
import datetime as dt
import io

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from autoservice.params import ParamError, date_param, int_param
from autoservice.spreadsheets import cell_safe, row_safe
from autoservice.tenancy import manager_required, staff_required
from campaigns.models import Campaign, ReminderRule
from campaigns.selectors import campaign_figures, rule_figures

from . import panels, selectors, services

PRESETS = (30, 90, 180, 365)
DEFAULT_DAYS = 90
MAX_DAYS = 3 * 366


def _period(request: HttpRequest) -> selectors.Period:
    """The period picked: `days` back from today, or `from`–`to` (shop's dates)."""
    today = timezone.localdate(timezone=request.shop.tzinfo)
    start = date_param(request.GET.get("from"), name="from")
    end = date_param(request.GET.get("to"), name="to")
    if start or end:
        end = end or today
        start = start or end - dt.timedelta(days=DEFAULT_DAYS - 1)
        if start > end:
            raise ParamError(_("Начало периода позже конца: поменяйте даты местами."))
        if (end - start).days >= MAX_DAYS:
            raise ParamError(_("Период не длиннее трёх лет: выберите даты ближе друг к другу."))
        return selectors.Period(start, end)
    days = int_param(request.GET.get("days"), name="days", min=1, max=MAX_DAYS)
    days = days or DEFAULT_DAYS
    return selectors.Period(today - dt.timedelta(days=days - 1), today)


def _scope(request: HttpRequest) -> selectors.Scope:
    membership = request.membership
    return selectors.Scope(
        shop=request.shop,
        period=_period(request),
        advisor=None if membership.is_manager else membership,
    )


@staff_required
@require_GET
def analytics_page(request: HttpRequest) -> HttpResponse:
    scope = _scope(request)
    data = selectors.dashboard(scope)
    query = request.GET.urlencode()
    return render(
        request,
        "analytics/page.html",
        {
            "scope": scope,
            "kpis": panels.kpis(data),
            "sections": panels.sections(data),
            "refreshed_at": data["refreshed_at"],
            "presets": PRESETS,
            "days": request.GET.get("days", "" if request.GET.get("from") else str(DEFAULT_DAYS)),
            "query": query,
        },
    )


@staff_required
@require_GET
def analytics_export(request: HttpRequest, key: str, fmt: str) -> HttpResponse:
    if fmt not in ("csv", "xlsx"):
        raise Http404
    scope = _scope(request)
    panel = panels.panel_by_key(selectors.dashboard(scope), key)
    if panel is None:
        raise Http404
    name = f"{key}-{scope.period.start:%Y%m%d}-{scope.period.end:%Y%m%d}.{fmt}"
    if fmt == "xlsx":
        content = _xlsx(panel)
        kind = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        content = _csv(panel)
        kind = "text/csv; charset=utf-8"
    response = HttpResponse(content, content_type=kind)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _csv_cell(value) -> str:
    """Numbers with a decimal comma and dates as 2026-03-01: what Russian Excel reads."""
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        return value
    return str(value).replace(".", ",")


def _csv(panel: panels.Panel) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    writer.writerow(row_safe(panel.columns))
    for row in panel.rows:
        writer.writerow(_csv_cell(cell_safe(cell.raw)) for cell in row)
    # A BOM: Excel opens UTF-8 with Cyrillic correctly only with it.
    return ("\ufeff" + buffer.getvalue()).encode()


def _xlsx(panel: panels.Panel) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = panel.key[:31]
    sheet.append([panel.title])
    sheet.append(row_safe(panel.columns))
    for row in panel.rows:
        sheet.append(row_safe(cell.raw for cell in row))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


@manager_required
@require_POST
def analytics_refresh(request: HttpRequest) -> HttpResponse:
    """The manager does not wait for the next scheduled run."""
    count = services.facts_refresh(shop=request.shop)
    messages.success(request, _("Аналитика обновлена: пересчитано заявок — %(n)s.") % {"n": count})
    return redirect(f"{reverse('analytics:analytics')}?{request.GET.urlencode()}")


@staff_required
@require_GET
def analytics_campaigns(request: HttpRequest) -> HttpResponse:
    """What the reminders and campaigns brought: sent, delivered, opened, requests, accepted
    offers and their money (read from the campaigns app)."""
    shop = request.shop
    campaigns = list(Campaign.objects.filter(shop=shop).order_by("-created_at", "-pk")[:100])
    rules = list(ReminderRule.objects.filter(shop=shop).order_by("name", "pk"))
    by_campaign = campaign_figures(campaigns)
    by_rule = rule_figures(rules)
    rows = [(c.name, c.sent_at, by_campaign.get(c.pk)) for c in campaigns] + [
        (_("Напоминание: %(name)s") % {"name": r.name}, None, by_rule.get(r.pk)) for r in rules
    ]
    return render(request, "analytics/campaigns.html", {"rows": rows})
