"""Sections other apps add to the customer's card (staff) and to the driver's own page:
requests, estimates, offers, intake acts, visits. Each app registers a function in its
AppConfig.ready, so this app knows none of them (they sit above it)."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest
from django.utils.safestring import SafeString, mark_safe

from .models import Customer

Panel = Callable[[HttpRequest, Customer], str]
CARD_PANELS: list[Panel] = []
DRIVER_PANELS: list[Panel] = []


def register_card_panel(panel: Panel) -> Panel:
    """A section of the staff card (`request.membership` is the staff member)."""
    if panel not in CARD_PANELS:
        CARD_PANELS.append(panel)
    return panel


def register_driver_panel(panel: Panel) -> Panel:
    """A section of the driver's own page (no login: show only what is the driver's own)."""
    if panel not in DRIVER_PANELS:
        DRIVER_PANELS.append(panel)
    return panel


def _render(panels: list[Panel], request: HttpRequest, customer: Customer) -> list[SafeString]:
    # Each panel renders through Django's escaping templates, so its output is safe HTML.
    return [mark_safe(html) for panel in panels if (html := panel(request, customer))]


def render_card_panels(request: HttpRequest, customer: Customer) -> list[SafeString]:
    return _render(CARD_PANELS, request, customer)


def render_driver_panels(request: HttpRequest, customer: Customer) -> list[SafeString]:
    return _render(DRIVER_PANELS, request, customer)
