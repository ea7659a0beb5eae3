"""Registry of every REST API route, for the cross-shop tests.

Each entry builds the URL kwargs for an object of the given shop and names the methods the
route answers. `test_cross_shop.py` fails when a route of the `api` namespace is missing here,
so every new API route gets its cross-shop test.
"""

from __future__ import annotations

from collections.abc import Callable

from autoservice.models import Shop
from tests.factories import (
    EstimateFactory,
    IntakeRecordFactory,
    LeadFactory,
    MembershipFactory,
    OfferVersionFactory,
    SupplierOrderFactory,
)

Build = Callable[[Shop], dict]

API_ROUTES: dict[str, tuple[Build | None, tuple[str, ...]]] = {
    "api:lead": (lambda shop: {"lead_id": LeadFactory(shop=shop).pk}, ("get",)),
    "api:lead_status": (lambda shop: {"lead_id": LeadFactory(shop=shop).pk}, ("post",)),
    "api:lead_assignee": (lambda shop: {"lead_id": LeadFactory(shop=shop).pk}, ("post",)),
    "api:estimate": (lambda shop: {"estimate_id": EstimateFactory(shop=shop).pk}, ("get",)),
    "api:estimate_export": (
        lambda shop: {"estimate_id": EstimateFactory(shop=shop).pk, "number": 1},
        ("get",),
    ),
    "api:order": (lambda shop: {"order_id": SupplierOrderFactory(shop=shop).pk}, ("get",)),
    "api:offer": (
        lambda shop: {"offer_id": OfferVersionFactory(offer__shop=shop).offer_id},
        ("get",),
    ),
    "api:intake_record": (
        lambda shop: {"record_id": IntakeRecordFactory(shop=shop).pk},
        ("get",),
    ),
    # Lists: the other shop's rows never appear (checked by content, not by status).
    "api:leads": (None, ("get", "post")),
    "api:estimates": (None, ("get",)),
    "api:offers": (None, ("get",)),
    "api:orders": (None, ("get",)),
    "api:intake_records": (None, ("get",)),
    # Public: the schema, its two viewers and the problem pages hold no shop data.
    "api:schema": (None, ()),
    "api:docs": (None, ()),
    "api:redoc": (None, ()),
    "api:problem": (None, ()),
    "api:not_found": (None, ()),
}


# Every API write, with a body that succeeds: `test_every_write_is_audited` performs it and
# expects the lead's timeline to name the token. A new write route must be listed here.
WRITES: dict[str, tuple[Build, Callable[[Shop], dict], dict]] = {
    "api:leads": (
        lambda shop: {},
        lambda shop: {"channel": "phone", "customer_name": "Иван", "phone": "+79123456789"},
        {"HTTP_IDEMPOTENCY_KEY": "audit-1"},
    ),
    "api:lead_status": (
        lambda shop: {"lead_id": LeadFactory(shop=shop).pk},
        lambda shop: {"status": "in_progress"},
        {},
    ),
    "api:lead_assignee": (
        lambda shop: {"lead_id": LeadFactory(shop=shop).pk},
        lambda shop: {"assignee": MembershipFactory(shop=shop).pk},
        {},
    ),
}
