"""The managers' weekly summary: last week's key figures and a small chart, by e-mail
through the outbox (once per shop and week)."""

from __future__ import annotations

import datetime as dt
import io

from django.conf import settings
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from PIL import Image, ImageDraw, ImageFont

from autoservice.mail import send_templated
from autoservice.models import Membership, OutboxMessage, Role, Shop
from autoservice.outbox import outbox_put, register_handler

from . import panels, selectors, services
from .models import LeadFact, Stage

NOTIFY_WEEKLY = "analytics.weekly_summary"
CHART_SIZE = (560, 220)


def _last_week(shop: Shop, now: dt.datetime) -> tuple[dt.date, dt.date]:
    today = now.astimezone(shop.tzinfo).date()
    monday = today - dt.timedelta(days=today.weekday())
    return monday - dt.timedelta(days=7), monday - dt.timedelta(days=1)


def _managers(shop: Shop) -> list[str]:
    return sorted(
        {
            m.user.email
            for m in Membership.objects.filter(
                shop=shop, role=Role.MANAGER, user__is_active=True
            ).select_related("user")
            if m.user.email
        }
    )


def weekly_summaries_queue(*, now: dt.datetime | None = None) -> int:
    """One message per active shop with a manager to read it; the dedupe key makes a second
    run in the same week a no-op."""
    now = now or timezone.now()
    queued = 0
    for shop in Shop.objects.filter(is_active=True):
        if not _managers(shop):
            continue
        start, end = _last_week(shop, now)
        message = outbox_put(
            shop=shop,
            kind=NOTIFY_WEEKLY,
            dedupe_key=f"analytics-weekly:{shop.pk}:{start.isoformat()}",
            payload={"start": start.isoformat(), "end": end.isoformat()},
        )
        queued += int(message is not None)
    return queued


def _font(size: int) -> ImageFont.ImageFont:
    try:
        return ImageFont.truetype("DejaVuSans.ttf", size)
    except OSError:
        return ImageFont.load_default(size)


def summary_chart_png(days: list[tuple[dt.date, int, int]]) -> bytes:
    """Leads per day (blue) with the ones already won (green): digits only, so that any
    font draws it."""
    width, height = CHART_SIZE
    image = Image.new("RGB", CHART_SIZE, "white")
    draw = ImageDraw.Draw(image)
    font = _font(12)
    left, bottom, top = 36, height - 28, 12
    peak = max((n for _d, n, _w in days), default=0) or 1
    slot = (width - left - 10) / max(len(days), 1)
    for step in range(5):
        y = bottom - (bottom - top) * step / 4
        draw.line([(left, y), (width - 10, y)], fill=(228, 228, 228))
        draw.text((4, y - 7), f"{round(peak * step / 4)}", fill=(90, 90, 90), font=font)
    for index, (day, leads, won) in enumerate(days):
        x = left + slot * index + slot * 0.15
        bar = slot * 0.7
        h = (bottom - top) * leads / peak
        draw.rectangle([x, bottom - h, x + bar, bottom], fill=(44, 111, 187))
        w = (bottom - top) * won / peak
        if won:
            draw.rectangle([x + bar * 0.25, bottom - w, x + bar * 0.75, bottom], fill=(58, 157, 93))
        draw.text((x, bottom + 6), day.strftime("%d.%m"), fill=(60, 60, 60), font=font)
    buffer = io.BytesIO()
    image.save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


def summary_context(shop: Shop, start: dt.date, end: dt.date) -> dict:
    scope = selectors.Scope(shop=shop, period=selectors.Period(start, end))
    data = selectors.dashboard(scope)
    per_day = {
        row["local_date"]: (row["n"], row["won"])
        for row in LeadFact.objects.filter(shop=shop, local_date__gte=start, local_date__lte=end)
        .values("local_date")
        .annotate(n=Count("pk"), won=Count("pk", filter=Q(stage__gte=Stage.WON)))
    }
    days = [
        (start + dt.timedelta(days=i),) + per_day.get(start + dt.timedelta(days=i), (0, 0))
        for i in range((end - start).days + 1)
    ]
    return {
        "shop": shop,
        "start": start,
        "end": end,
        "kpis": panels.kpis(data),
        "lost_reasons": data["lost_reasons"][:3],
        "days": days,
        "page_url": settings.SITE_URL
        + reverse("analytics:analytics")
        + f"?from={start.isoformat()}&to={end.isoformat()}",
    }


@register_handler(NOTIFY_WEEKLY)
def send_weekly_summary(message: OutboxMessage) -> None:
    shop = Shop.objects.get(pk=message.shop_id)
    to = _managers(shop)
    if not to:
        return
    services.facts_refresh(shop=shop)
    start = dt.date.fromisoformat(message.payload["start"])
    end = dt.date.fromisoformat(message.payload["end"])
    context = summary_context(shop, start, end)
    send_templated(
        template="analytics/email/weekly_summary",
        context=context,
        shop=shop,
        to=to,
        message_id=f"analytics-weekly-{shop.pk}-{start.isoformat()}",
        attachments=[("leads-week.png", summary_chart_png(context["days"]), "image/png")],
    )
