"""A manager sees on every staff page that a CRM stopped taking the shop's leads: the CRM
page is not a place one visits daily, and nothing reaches the CRM until the key is fixed."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from .models import CrmConnection, CrmState


def crm_alerts(request: HttpRequest) -> dict[str, Any]:
    path = request.path
    if not path.startswith("/staff/") or path.startswith("/staff/settings/crm/"):
        return {}
    membership = getattr(request, "membership", None)

    def broken() -> list[CrmConnection]:
        if not membership or not membership.is_manager:
            return []
        # Read only when the staff layout shows the banner: one indexed query per page.
        return list(
            CrmConnection.objects.filter(
                shop_id=membership.shop_id, enabled=True, state=CrmState.ERROR
            ).only("kind", "error_at")
        )

    return {"crm_broken": SimpleLazyObject(broken)}
