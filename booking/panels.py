"""The visit section on the advisor's lead page (registered with the leads panel registry)."""

from __future__ import annotations

from django.template.loader import render_to_string

from leads.selectors import lead_panel_register

from .selectors import booking_for_lead


@lead_panel_register
def booking_panel(request, lead) -> str:
    return render_to_string(
        "booking/_lead_panel.html",
        {"lead": lead, "booking": booking_for_lead(lead)},
        request=request,
    )
