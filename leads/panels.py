"""Sections other apps add to the lead page (an estimate, an offer, an intake record)
without the leads app knowing them: each app registers a function in its AppConfig.ready."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest
from django.utils.safestring import SafeString, mark_safe

from .models import Lead

Panel = Callable[[HttpRequest, Lead], str]
PANELS: list[Panel] = []


def register_panel(panel: Panel) -> Panel:
    if panel not in PANELS:
        PANELS.append(panel)
    return panel


def render_panels(request: HttpRequest, lead: Lead) -> list[SafeString]:
    # Each panel renders through Django's escaping templates, so its output is safe HTML.
    return [mark_safe(html) for panel in PANELS if (html := panel(request, lead))]
