"""The acceptance act (акт приёма-передачи) as a PDF, rendered on the server."""

from __future__ import annotations

import base64
from pathlib import Path

from django.core.files.storage import default_storage
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.safestring import mark_safe

from autoservice.pdf import render_pdf
from leads.services import withdrawal_url
from smartcalc.selectors import damage_diagram_svg

from .models import IntakeRecord


def _data_uri(name: str) -> str:
    if not name:
        return ""
    path = Path(default_storage.path(name))
    if not path.exists():
        return ""
    kind = "png" if name.endswith(".png") else "jpeg"
    return f"data:image/{kind};base64," + base64.b64encode(path.read_bytes()).decode()


def act_context(record: IntakeRecord) -> dict:
    shots = list(record.shots.select_related("spec").order_by("spec__position", "received_at"))
    return {
        "record": record,
        "shop": record.shop,
        "shots": [(shot, _data_uri(shot.thumb.name)) for shot in shots if shot.accepted],
        "skips": list(record.skips.select_related("spec")),
        "addenda": list(record.addenda.all()),
        "customer_signature": _data_uri(record.customer_signature.name),
        "advisor_signature": _data_uri(record.advisor_signature.name),
        "diagram_svg": mark_safe(  # noqa: S308 (smartcalc's own drawing, known part codes)
            damage_diagram_svg(record.body_type, record.damages)
        ),
        "damaged": {d["part"]: d for d in record.damages},
        "withdraw_url": act_withdrawal_url(record),
    }


def act_withdrawal_url(record: IntakeRecord) -> str:
    """The customer's link to withdraw consent, printed on the act and put in its e-mail."""
    return withdrawal_url(shop=record.shop, consent_ids=[record.consent_id], lead_id=record.lead_id)


def act_pdf_bytes(record: IntakeRecord) -> bytes:
    with translation.override("ru"), timezone.override(record.shop.tzinfo):
        html = render_to_string("intake/act.html", act_context(record))
    return render_pdf(html, base_url="http://localhost/")
