"""Every URL of the project answers hostile query and form values with less than 500.

The walk covers every pattern of the resolver (namespaces and the admin included). Path
arguments name real objects of a test shop: the staff registry builds those of the staff
pages, `PUBLIC` those of the drivers' pages, the API and the accounts. The parameters tried
on a view are the ones it reads (recorded on the request's QueryDicts while it runs) and the
fields its page renders; each gets every hostile value, as anonymous, advisor and manager,
by GET and by POST.
"""

from __future__ import annotations

import datetime as dt
import re
import traceback
from collections.abc import Callable
from contextlib import contextmanager

import pytest
from django.http import QueryDict
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from autoservice.models import Shop
from tests.api.routes import API_ROUTES
from tests.factories import (
    EstimateFactory,
    IntakeRecordFactory,
    LeadFactory,
    LeadPhotoFactory,
    MembershipFactory,
    OfferVersionFactory,
)
from tests.staff_views import STAFF_VIEWS, kwargs_for

HOSTILE = [
    "²",
    "-1",
    "99999999999999999999",
    "1e5",
    "",
    "\x00",
    "%00",
    "9999-12-31T23:59:59-23:59",
    "x" * 10_000,
]
# The fields of a page that are not the view's input (the page's own furniture).
NOT_INPUT = {"viewport", "description", "theme-color", "color-scheme", "referrer", "robots"}


# --- the patterns --------------------------------------------------------------------------


def _patterns(entries=None, prefix: str = "", namespace: str = ""):
    """(name with namespaces, route, URL kwargs names) of every pattern, once each."""
    for entry in entries if entries is not None else get_resolver().url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _patterns(entry.url_patterns, route, inner)
        elif isinstance(entry, URLPattern):
            names = set(entry.pattern.regex.groupindex)
            yield (namespace + entry.name if entry.name else None), route, names


ALL_PATTERNS = sorted({(n or "", r, tuple(sorted(k))) for n, r, k in _patterns()})


# --- the objects the path names -------------------------------------------------------------


def _generation_kwargs(shop: Shop) -> dict:
    from smartcalc.models import Generation

    generation = Generation.objects.get(
        model__make__name="Hyundai", model__name="Solaris", popular=True
    )
    return {"slug": shop.slug, "generation_id": generation.pk, "body": "sedan"}


def _offer_kwargs(shop: Shop) -> dict:
    version = OfferVersionFactory(
        offer__shop=shop,
        status="sent",
        sent_at=timezone.now(),
        valid_until=timezone.localdate() + dt.timedelta(days=7),
    )
    return {"slug": shop.slug, "token": version.offer.token}


def _photo_signed_kwargs(shop: Shop) -> dict:
    from leads.photos import photo_signed_url

    photo = LeadPhotoFactory(lead=LeadFactory(shop=shop))
    return {"token": photo_signed_url(photo, "thumb").rstrip("/").rsplit("/", 1)[-1]}


def _public_act_kwargs(shop: Shop) -> dict:
    from tests.intake.test_sealing import sealed_record

    record = sealed_record(shop, MembershipFactory(shop=shop))
    return {"slug": shop.slug, "token": record.public_token}


def _password_reset_kwargs(shop: Shop) -> dict:
    from django.contrib.auth.tokens import default_token_generator
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    user = MembershipFactory(shop=shop).user
    return {
        "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
        "token": default_token_generator.make_token(user),
    }


def _withdraw_kwargs(shop: Shop) -> dict:
    from leads.withdrawal import withdrawal_token

    lead = LeadFactory(shop=shop)
    return {"slug": shop.slug, "token": withdrawal_token(shop=shop, lead_id=lead.pk)}


def _booking_kwargs(shop: Shop) -> dict:
    from booking.models import Booking
    from tests.staff_views import _booking_kwargs as staff_booking_kwargs

    booking = Booking.objects.get(pk=staff_booking_kwargs(shop)["booking_id"])
    return {"slug": shop.slug, "token": booking.token}


def _campaign_message_kwargs(shop: Shop) -> dict:
    from campaigns.models import Campaign, CampaignMessage
    from tests.campaigns.conftest import make_customer

    customer = make_customer(shop, phone="+79160000001")
    campaign = Campaign.objects.create(shop=shop, name="Весна", text="{ссылка}")
    message = CampaignMessage.objects.create(
        shop=shop, customer=customer, campaign=campaign, phone="+79160000001", text="Весна"
    )
    return {"token": message.token}


_CUSTOMER_PHONES = iter(range(10**7))


def _customer(shop: Shop):
    from tests.customers.card_helpers import make_customer

    return make_customer(shop, phones=(f"+7917{next(_CUSTOMER_PHONES):07d}",), cars=())


PUBLIC: dict[str, Callable[[Shop], dict]] = {
    "campaigns:landing": _campaign_message_kwargs,
    "campaigns:unsubscribe": _campaign_message_kwargs,
    "leads:photo_signed": _photo_signed_kwargs,
    "leads:consent_withdraw": _withdraw_kwargs,
    "smartcalc:calc_vehicle": lambda shop: {"slug": shop.slug},
    "smartcalc:calc_damage": _generation_kwargs,
    "smartcalc:calc_estimate": _generation_kwargs,
    "smartcalc:calc_send": _generation_kwargs,
    "smartcalc:calc_result": lambda shop: {
        "slug": shop.slug,
        "token": EstimateFactory(shop=shop).public_token,
    },
    "optima:offer_public": _offer_kwargs,
    "intake:intake_public_act": _public_act_kwargs,
    "intake:api_intake_record": lambda shop: {"record_id": IntakeRecordFactory(shop=shop).pk},
    "password_reset_confirm": _password_reset_kwargs,
    "photoportal:shop_page": lambda shop: {"slug": shop.slug},
    "photoportal:shop_logo": lambda shop: {"slug": shop.slug},
    "photoportal:photo_form": lambda shop: {"slug": shop.slug},
    "photoportal:photo_upload": lambda shop: {"slug": shop.slug},
    "photoportal:photo_upload_delete": lambda shop: {
        "slug": shop.slug,
        "client_id": "0b0f5c1e-4d6b-4c43-9a0e-1f2a3b4c5d6e",
    },
    "photoportal:photo_sent": lambda shop: {
        "slug": shop.slug,
        "token": LeadFactory(shop=shop).public_token,
    },
    "api:problem": lambda shop: {"slug": "validation"},
    "booking:book": lambda shop: {"slug": shop.slug, "token": LeadFactory(shop=shop).public_token},
    "booking:visit": _booking_kwargs,
    "customers:driver_page": lambda shop: {"token": _customer(shop).page_token},
    "customers:link_request": lambda shop: {"slug": shop.slug},
    "booking:visit_ics": _booking_kwargs,
    "booking:visit_move": _booking_kwargs,
    "booking:visit_cancel": _booking_kwargs,
}
# The REST API's object routes, built as for their cross-shop tests.
PUBLIC |= {name: build for name, (build, _methods) in API_ROUTES.items() if build}


def _admin_kwargs(route: str, names: tuple[str, ...]) -> dict:
    """The admin's own arguments: an app it lists, the first object of a model."""
    kwargs: dict = {}
    for name in names:
        if name == "app_label":
            kwargs[name] = re.search(r"\(\?P<app_label>([^|)]+)", route).group(1)
        elif name == "content_type_id":
            kwargs[name] = 1
        else:  # object_id, id
            kwargs[name] = "1"
    return kwargs


def _url(name: str, route: str, names: tuple[str, ...], shop: Shop) -> str:
    if not name:  # an unnamed pattern (the admin's object redirects, its catch-all)
        path = re.sub(r"<[^>]+>", "1", route).replace("(?P<url>.*)$", "nowhere/")
        return "/" + path.lstrip("^").rstrip("$")
    if not names:
        return reverse(name)
    if name in STAFF_VIEWS:
        return reverse(name, kwargs=kwargs_for(name, shop))
    if name in PUBLIC:
        return reverse(name, kwargs=PUBLIC[name](shop))
    if name.startswith("admin:"):
        return reverse(name, kwargs=_admin_kwargs(route, names))
    raise AssertionError(f"{name} ({route}): add how to build its path to PUBLIC")


def _is_admin(name: str, route: str) -> bool:
    return name.startswith("admin:") or route.startswith("admin/")


def test_every_pattern_with_path_arguments_has_a_builder():
    unknown = [
        name or route
        for name, route, names in ALL_PATTERNS
        if names and name not in STAFF_VIEWS and name not in PUBLIC and not _is_admin(name, route)
    ]
    assert not unknown, f"URLs whose path the hostile-input walk cannot fill: {unknown}"


# --- what a view reads ------------------------------------------------------------------------


@contextmanager
def _recording_reads():
    """The keys looked up on any QueryDict (request.GET, request.POST) while inside."""
    read: set[str] = set()
    originals = {
        attr: getattr(QueryDict, attr) for attr in ("get", "__getitem__", "__contains__", "getlist")
    }

    def recorder(attr):
        original = originals[attr]

        def method(self, key, *args, **kwargs):
            if isinstance(key, str):
                read.add(key)
            return original(self, key, *args, **kwargs)

        return method

    for attr in originals:
        setattr(QueryDict, attr, recorder(attr))
    try:
        yield read
    finally:
        for attr, original in originals.items():
            setattr(QueryDict, attr, original)


def _page_fields(response) -> set[str]:
    if "html" not in response.get("Content-Type", ""):
        return set()
    body = response.content.decode(errors="replace")
    return set(re.findall(r'\bname="([^"]+)"', body)) - NOT_INPUT


def _actions(response) -> set[str]:
    """The values of the page's action and set buttons, to reach the handlers behind them."""
    if "html" not in response.get("Content-Type", ""):
        return set()
    body = response.content.decode(errors="replace")
    pairs = re.findall(r'name="(action|set)"\s+value="([^"]*)"', body)
    pairs += [(n, v) for v, n in re.findall(r'value="([^"]*)"\s+name="(action|set)"', body)]
    return {value for name, value in pairs if name == "action"}


# --- the walk ---------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _quick_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def clients(shop) -> dict[str, Client]:
    from autoservice.apitokens import token_create
    from autoservice.models import ApiScope

    _token, secret = token_create(shop=shop, name="CRM", scopes=ApiScope.values)
    headers = {"Authorization": f"Bearer {secret}"}
    made = {"anonymous": Client(headers=headers)}
    for role in ("advisor", "manager"):
        made[role] = Client(headers=headers)
        made[role].force_login(MembershipFactory(shop=shop, role=role).user)
    return made


def _ask(client: Client, method: str, url: str, data: dict, failures: list, label: str):
    try:
        response = getattr(client, method)(url, data)
    except Exception as exc:  # the test client re-raises what the view raised: that is a 500
        where = traceback.extract_tb(exc.__traceback__)[-1]
        failures.append(f"{label}: {exc.__class__.__name__}: {str(exc)[:200]} at {where}")
        return None
    if response.status_code >= 500:
        failures.append(f"{label}: {response.status_code}")
    return response


def _walk(client: Client, role: str, url: str, failures: list[str]) -> None:
    """Every hostile value in every field the view reads or its page shows, by GET and POST."""
    for method in ("get", "post"):
        sent: set[tuple] = set()

        def ask(data: dict, label: str, record=None, method=method, sent=sent) -> None:
            key = tuple(sorted(data.items()))
            if key in sent:
                return
            sent.add(key)
            full = f"{role} {method.upper()} {url} {label}"
            if record is None:
                _ask(client, method, url, data, failures, full)
                return
            with _recording_reads() as read:
                _ask(client, method, url, data, failures, full)
            record |= read

        with _recording_reads() as read:
            first = _ask(client, method, url, {}, failures, f"{role} {method.upper()} {url}")
        sent.add(())
        fields = set(read)
        actions: set[str] = set()
        if first is not None and method == "get":
            fields |= _page_fields(first)
            actions = _actions(first)
        reached: set[str] = set()
        for value in HOSTILE:
            # A value can lead the view to read fields of its own: record those too.
            ask(dict.fromkeys(fields, value), f"all={value[:30]!r}", record=reached)
            fields |= reached
        for action in sorted(actions):
            for value in HOSTILE:
                data = {**dict.fromkeys(fields, value), "action": action}
                label = f"action={action} all={value[:30]!r}"
                _ask(client, "post", url, data, failures, f"{role} POST {url} {label}")
        # The fields no hostile run reached (a `set` button makes the offer page skip the
        # option radios), one at a time, so that no hostile field hides another.
        for field in sorted(fields - reached):
            for value in ("²", "99999999999999999999"):
                ask({field: value}, f"{field}={value!r}")


PAGES = [p for p in ALL_PATTERNS if not _is_admin(p[0], p[1])]
ADMIN = [p for p in ALL_PATTERNS if _is_admin(p[0], p[1])]


@pytest.mark.parametrize(("name", "route", "names"), PAGES, ids=[p[0] or p[1] for p in PAGES])
def test_hostile_values_never_make_a_500(clients, shop, name, route, names):
    failures: list[str] = []
    url = _url(name, route, names, shop)
    for role, client in clients.items():
        _walk(client, role, url, failures)
    assert not failures, "\n".join(failures[:40])


def test_hostile_values_never_make_a_500_in_the_admin(clients, shop):
    failures: list[str] = []
    for name, route, names in ADMIN:
        url = _url(name, route, names, shop)
        for role, client in clients.items():
            _walk(client, role, url, failures)
    assert not failures, "\n".join(failures[:40])
