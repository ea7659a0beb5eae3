"""The acceptance act (акт приёма-передачи): what the customer signs, shown on the signing
screen and rendered as a PDF on the server, both from `act_summary`."""

from __future__ import annotations

import base64

from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.safestring import mark_safe

from autoservice import storage
from autoservice.pdf import render_pdf
from leads.services import withdrawal_url
from smartcalc.selectors import damage_descriptions, damage_diagram_svg

from .models import IntakeRecord


def _data_uri(name: str) -> str:
    if not name:
        return ""
    data = storage.read_bytes(name)
    if data is None:
        return ""
    kind = "png" if name.endswith(".png") else "jpeg"
    return f"data:image/{kind};base64," + base64.b64encode(data).decode()


def act_summary(record: IntakeRecord) -> dict:
    """Everything the signatures cover: the car's state, its damages, the belongings, the
    lit lamps and the shots (with the reasons of the skipped ones)."""
    shots = list(record.shots.select_related("spec").order_by("spec__position", "received_at"))
    accepted = [shot for shot in shots if shot.accepted]
    return {
        "damages": damage_descriptions(record.body_type, record.damages),
        "lamps": record.warning_lamp_labels(),
        "accepted_shots": accepted,
        "shot_count": len(accepted),
        "skips": list(record.skips.select_related("spec").order_by("spec__position")),
    }


def act_context(record: IntakeRecord) -> dict:
    summary = act_summary(record)
    return {
        "record": record,
        "shop": record.shop,
        **summary,
        "shots": [(shot, _data_uri(shot.thumb.name)) for shot in summary["accepted_shots"]],
        "addenda": list(record.addenda.all()),
        "customer_signature": _data_uri(record.customer_signature.name),
        "advisor_signature": _data_uri(record.advisor_signature.name),
        "diagram_svg": mark_safe(  # noqa: S308 (smartcalc's own drawing, known part codes)
            damage_diagram_svg(record.body_type, record.damages)
        ),
        "withdraw_url": act_withdrawal_url(record),
    }


def act_withdrawal_url(record: IntakeRecord) -> str:
    """The customer's link to withdraw consent, printed on the act and put in its e-mail."""
    return withdrawal_url(shop=record.shop, consent_ids=[record.consent_id], lead_id=record.lead_id)


def act_html(record: IntakeRecord) -> str:
    with translation.override("ru"), timezone.override(record.shop.tzinfo):
        return render_to_string("intake/act.html", act_context(record))


def act_pdf_bytes(record: IntakeRecord) -> bytes:
    return render_pdf(act_html(record), base_url="http://localhost/")
