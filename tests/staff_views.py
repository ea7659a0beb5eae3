"""Registry of every staff view, for the tenancy tests.

Each entry builds the URL kwargs for an object that belongs to the given shop (an empty
dict for views without an object). `tests/autoservice/test_tenancy.py` fails when a view
under /staff/ is missing here, so every new staff view gets its cross-shop test.
"""

from __future__ import annotations

from collections.abc import Callable

from autoservice.models import Shop

from .factories import LeadFactory, LeadPhotoFactory, MembershipFactory

StaffViewKwargs = Callable[[Shop], dict]
STAFF_VIEWS: dict[str, StaffViewKwargs | None] = {}
PLAIN_KWARGS: dict[str, dict] = {}
POST_ONLY: set[str] = set()
GET_ONLY: set[str] = set()


def register(
    name: str,
    build: StaffViewKwargs | None = None,
    *,
    kwargs: dict | None = None,
    post_only: bool = False,
    get_only: bool = False,
) -> None:
    """`build` makes an object of the given shop and returns the URL kwargs naming it;
    `kwargs` are fixed URL arguments of a view without an object; `post_only` views are
    opened with POST."""
    STAFF_VIEWS[name] = build
    if kwargs:
        PLAIN_KWARGS[name] = kwargs
    if post_only:
        POST_ONLY.add(name)
    if get_only:
        GET_ONLY.add(name)


def method_for(name: str) -> str:
    return "post" if name in POST_ONLY else "get"


def methods_for(name: str) -> tuple[str, ...]:
    """The methods a view answers (another method gets 405 before any lookup)."""
    if name in POST_ONLY:
        return ("post",)
    if name in GET_ONLY:
        return ("get",)
    return ("get", "post")


def kwargs_for(name: str, shop: Shop) -> dict:
    build = STAFF_VIEWS[name]
    return build(shop) if build else dict(PLAIN_KWARGS.get(name, {}))


def object_views() -> list[str]:
    return sorted(name for name, build in STAFF_VIEWS.items() if build)


register("autoservice:staff_home")
register("autoservice:shop_settings")
register("autoservice:team")
register("autoservice:member_create")
register("autoservice:member_edit", lambda shop: {"member_id": MembershipFactory(shop=shop).pk})
register("autoservice:api_tokens")
register("autoservice:access_log")
register("leads:inbox")
register("leads:inbox_poll")
register("leads:lead_detail", lambda shop: {"lead_id": LeadFactory(shop=shop).pk})
register("leads:lead_row", lambda shop: {"lead_id": LeadFactory(shop=shop).pk}, get_only=True)
register("leads:lead_live", lambda shop: {"lead_id": LeadFactory(shop=shop).pk}, get_only=True)
register(
    "leads:lead_photo",
    lambda shop: _photo_kwargs(LeadPhotoFactory(lead=LeadFactory(shop=shop))),
)


def _photo_kwargs(photo) -> dict:
    return {"lead_id": photo.lead_id, "photo_id": photo.pk, "kind": "thumb"}


def _estimate_kwargs(shop) -> dict:
    from .factories import EstimateFactory

    return {"estimate_id": EstimateFactory(shop=shop).pk}


def _version_kwargs(shop) -> dict:
    return {**_estimate_kwargs(shop), "number": 1}


register("smartcalc:estimate_list")
register("smartcalc:estimate_detail", _estimate_kwargs)
register("smartcalc:estimate_print", _version_kwargs)
register("smartcalc:estimate_pdf", _version_kwargs)
register(
    "smartcalc:estimate_export",
    lambda shop: {**_version_kwargs(shop), "fmt": "xlsx"},
    get_only=True,
)
register("smartcalc:calc_settings")
register("smartcalc:price_list")
register("smartcalc:price_export", kwargs={"fmt": "csv"})


def _search_kwargs(shop) -> dict:
    from optima.models import Search

    from .factories import OptimaSearchFactory

    search: Search = OptimaSearchFactory(shop=shop)
    return {"search_id": search.pk}


def _supplier_kwargs(shop) -> dict:
    from .factories import SupplierFactory

    return {"supplier_id": SupplierFactory(shop=shop).pk}


def _offer_kwargs(shop) -> dict:
    from .factories import OfferVersionFactory

    return {"version_id": OfferVersionFactory(offer__shop=shop).pk}


register("optima:parts_search")
register("optima:parts_results", _search_kwargs)
register("optima:parts_table", _search_kwargs)
register("optima:offer_build", _search_kwargs, post_only=True)
register("optima:suppliers")
register("optima:supplier_create")
register("optima:supplier_edit", _supplier_kwargs)
register("optima:offer_detail", _offer_kwargs)


def _record_kwargs(shop) -> dict:
    from .factories import IntakeRecordFactory

    return {"record_id": IntakeRecordFactory(shop=shop).pk}


def _shot_kwargs(shop) -> dict:
    import uuid

    from intake import services

    from .factories import IntakeRecordFactory
    from .photos import jpeg_bytes

    record = IntakeRecordFactory(shop=shop)
    spec = record.template.specs.first()
    shot = services.shot_store(
        record=record,
        spec=spec,
        client_id=uuid.uuid4(),
        filename="a.jpg",
        chunks=[jpeg_bytes((1600, 1200))],
    )
    return {"record_id": record.pk, "shot_id": shot.pk}


def _template_kwargs(shop) -> dict:
    from intake.models import ShotTemplate

    template = ShotTemplate.objects.get(shop__isnull=True, family="service", is_current=True)
    copy = ShotTemplate.objects.create(shop=shop, family="service", version=1, name="Копия")
    for spec in template.specs.all():
        spec.pk = None
        spec.template = copy
        spec.save()
    return {"template_id": copy.pk}


register("intake:intake_list")
register("intake:intake_start")
register("intake:intake_vin")
register("intake:intake_templates")
register("intake:intake_template_edit", _template_kwargs)
register("intake:intake_record", _record_kwargs)
register("intake:intake_shot_upload", _record_kwargs, post_only=True)
register("intake:intake_shot_discard", _shot_kwargs, post_only=True)
register("intake:intake_shot_image", lambda shop: {**_shot_kwargs(shop), "kind": "thumb"})
register("intake:intake_skip", _record_kwargs, post_only=True)
register("intake:intake_sign", _record_kwargs)
register("intake:intake_act", _record_kwargs)
register("intake:intake_verify", _record_kwargs)
register("intake:intake_addendum", _record_kwargs, post_only=True)
register("intake:intake_return", _record_kwargs, post_only=True)
register("intake:intake_compare", _record_kwargs)
register("intake:intake_export", _record_kwargs, get_only=True)


def _accepted_version_kwargs(shop) -> dict:
    from optima.models import OfferStatus

    from .factories import OfferVersionFactory

    version = OfferVersionFactory(
        offer__shop=shop, status=OfferStatus.ACCEPTED, accepted_choice={"0": 0}
    )
    return {"version_id": version.pk}


def _supplier_order_kwargs(shop) -> dict:
    from optima.models import OfferStatus
    from optima.ordering_models import SupplierOrder

    from .factories import OfferVersionFactory, SupplierFactory

    version = OfferVersionFactory(
        offer__shop=shop, status=OfferStatus.ACCEPTED, accepted_choice={"0": 0}
    )
    order = SupplierOrder.objects.create(
        shop=shop,
        supplier=SupplierFactory(shop=shop),
        version=version,
        client_number=f"AS{shop.pk}-{version.pk}",
    )
    return {"order_id": order.pk}


register("optima:order_confirm", _accepted_version_kwargs)
register("optima:orders", get_only=True)
register("optima:order_detail", _supplier_order_kwargs, get_only=True)
register("optima:order_cancel", _supplier_order_kwargs, post_only=True)


def _act_kwargs(shop) -> dict:
    from autoservice.models import DestructionAct

    act = DestructionAct.objects.create(
        shop=shop,
        performed_by_label="автоматически по сроку хранения",
        reason="retention",
        categories=[{"category": "leads", "label": "заявки", "count": 1}],
    )
    return {"act_id": act.pk}


register("autoservice:personal_data")
register("autoservice:personal_data_export", post_only=True)
register("autoservice:personal_data_erase")
register("autoservice:destruction_act", _act_kwargs)
register("autoservice:destruction_act_pdf", _act_kwargs, get_only=True)


def _crm_connection_kwargs(shop: Shop) -> dict:
    from crm.models import CrmConnection

    connection, _created = CrmConnection.objects.get_or_create(shop=shop, kind="bitrix24")
    return {"connection_id": connection.pk}


register("crm:crm_settings", get_only=True)
register("crm:crm_save", kwargs={"kind": "bitrix24"}, post_only=True)
register("crm:crm_check", _crm_connection_kwargs, post_only=True)
register("crm:crm_test", _crm_connection_kwargs, post_only=True)


def _webhook_endpoint_kwargs(shop) -> dict:
    from webhooks.services import endpoint_create

    endpoint, _secret = endpoint_create(
        shop=shop, url="https://crm.example.ru/hooks", events=["lead.created"]
    )
    return {"endpoint_id": endpoint.pk}


register("webhooks:endpoints")
register("webhooks:endpoint", _webhook_endpoint_kwargs)
register("webhooks:docs", get_only=True)


register("analytics:analytics")
register("analytics:analytics_refresh", post_only=True)
register("analytics:analytics_export", kwargs={"key": "funnel", "fmt": "csv"}, get_only=True)
register("sms:settings")
register("sms:test", post_only=True)
register("messengers:settings", get_only=True)
register("messengers:bot_action", kwargs={"kind": "telegram"}, post_only=True)
register("messengers:profile", get_only=True)
register("messengers:profile_action", kwargs={"kind": "telegram"}, post_only=True)


def _booking_kwargs(shop) -> dict:
    import datetime as dt

    from django.utils import timezone

    from booking.models import Booking

    start = timezone.now() + dt.timedelta(days=3)
    booking = Booking.objects.create(
        shop=shop,
        lead=LeadFactory(shop=shop),
        post=1,
        starts_at=start,
        ends_at=start + dt.timedelta(minutes=30),
    )
    return {"booking_id": booking.pk}


register("booking:board")
register("booking:staff_book")
register("booking:staff_booking", _booking_kwargs)
register("booking:board_move", _booking_kwargs, post_only=True)
register("booking:capacity")


def _campaign_kwargs(shop) -> dict:
    from campaigns.models import Campaign

    campaign = Campaign.objects.create(shop=shop, name="Весна", text="{имя}: {ссылка}")
    return {"pk": campaign.pk}


def _rule_kwargs(shop) -> dict:
    from campaigns.models import ReminderRule

    rule = ReminderRule.objects.create(
        shop=shop, name="ТО", kind="maintenance", text="{имя}: {ссылка}"
    )
    return {"pk": rule.pk}


register("campaigns:list", get_only=True)
register("campaigns:rule_new")
register("campaigns:rule_edit", _rule_kwargs)
register("campaigns:campaign_new")
register("campaigns:campaign", _campaign_kwargs, get_only=True)
register("campaigns:campaign_edit", _campaign_kwargs)
register("campaigns:campaign_send", _campaign_kwargs, post_only=True)
register("analytics:analytics_campaigns", get_only=True)


def _customer_kwargs(shop: Shop) -> dict:
    from tests.customers.card_helpers import make_customer

    return {"customer_id": make_customer(shop, phones=(), cars=()).pk}


register("customers:customer_list")
register("customers:search")
register("customers:customer_detail", _customer_kwargs)
