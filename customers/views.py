"""The staff customer card, the customers list, the search from anywhere, and the driver's
own page by private link (with the link asked for again by phone and a one-time code)."""

from __future__ import annotations

import re

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from autoservice.access import AccessAction, personal_data_access_record
from autoservice.consent import client_ip, consent_withdrawn
from autoservice.models import Shop
from autoservice.tenancy import get_for_shop, staff_required

from . import card, codes
from .forms import CodeForm, ContactsForm, CustomerSearchForm, LinkRequestForm, NoteForm
from .links import driver_page_path, prefill_token
from .models import Customer
from .panels import render_card_panels, render_driver_panels

# --- staff ---------------------------------------------------------------------------------


def _page_number(request: HttpRequest) -> int:
    raw = request.GET.get("page", "1")
    return int(raw) if raw.isascii() and raw.isdigit() and 0 < int(raw) < 10_000 else 1


@staff_required
def customer_list(request: HttpRequest) -> HttpResponse:
    form = CustomerSearchForm(request.GET or None)
    q = form.cleaned_data["q"] if form.is_valid() else ""
    page = _page_number(request)
    customers, has_more = card.customer_list(shop=request.shop, q=q, page=page)
    personal_data_access_record(
        request=request, action=AccessAction.CUSTOMERS_LISTED, object_type="customer_list"
    )
    return render(
        request,
        "customers/list.html",
        {"form": form, "customers": customers, "q": q, "page": page, "has_more": has_more},
    )


@staff_required
def search(request: HttpRequest) -> HttpResponse:
    """The search box of the staff top bar: customers and requests by phone, name, plate or
    VIN, a fixed number of queries whatever matches."""
    form = CustomerSearchForm(request.GET or None)
    q = form.cleaned_data["q"].strip() if form.is_valid() else ""
    customers = card.customer_search(shop=request.shop, q=q) if q else []
    sections = card.render_search_sections(request, q) if q else []
    if q:
        personal_data_access_record(
            request=request, action=AccessAction.CUSTOMERS_LISTED, object_type="search"
        )
    return render(
        request,
        "customers/search.html",
        {"form": form, "q": q, "customers": customers, "sections": sections},
    )


def _get_customer_for_staff(request: HttpRequest, customer_id: int) -> Customer:
    return get_for_shop(request, card.customer_card(request.shop), pk=customer_id)


@staff_required
@require_http_methods(["GET", "POST"])
def customer_detail(request: HttpRequest, customer_id: int) -> HttpResponse:
    customer = _get_customer_for_staff(request, customer_id)
    member = request.membership
    staff = card.shop_staff(request.shop)
    action = request.POST.get("action") if request.method == "POST" else None
    contacts_initial = {
        "name": customer.name,
        "email": customer.email,
        "preferred_channel": customer.preferred_channel,
        "manager": customer.manager,
    }
    forms = {
        "contacts": ContactsForm(
            request.POST if action == "contacts" else None, initial=contacts_initial, staff=staff
        ),
        "note": NoteForm(request.POST if action == "note" else None),
    }
    if action in forms and forms[action].is_valid():
        data = forms[action].cleaned_data
        if action == "contacts":
            changed = card.customer_contacts_update(customer=customer, by=member, **data)
            if changed:
                messages.success(request, _("Сохранено: %(what)s.") % {"what": ", ".join(changed)})
            else:
                messages.info(request, _("Ничего не изменилось."))
        else:
            card.customer_note_add(customer=customer, by=member, text=data["text"])
            messages.success(request, _("Заметка добавлена."))
        return redirect("customers:customer_detail", customer_id=customer.pk)
    personal_data_access_record(
        request=request,
        action=AccessAction.CUSTOMER_VIEWED,
        object_type="customer",
        object_id=customer.pk,
    )
    phones = list(customer.phones.all())
    # Consent withdrawn (152-FZ art. 9 p. 2): the contacts are the manager's alone, as on
    # the lead page, until the data is destroyed.
    withdrawn = (customer.consent is not None and customer.consent.withdrawn_at is not None) or any(
        consent_withdrawn(shop=request.shop, phone=p.phone) for p in phones[:1]
    )
    return render(
        request,
        "customers/card.html",
        {
            "customer": customer,
            "phones": phones,
            "consent_withdrawn": withdrawn,
            "contacts_hidden": withdrawn and not member.is_manager,
            "cars": list(customer.cars.all()),
            "events": card.customer_events(customer),
            "forms": forms,
            "action": action,
            "panels": render_card_panels(request, customer),
            "driver_page": driver_page_path(customer),
        },
        status=400 if action else 200,
    )


# --- the driver's own page -----------------------------------------------------------------


def _private(response: HttpResponse, *, referrer: str = "no-referrer") -> HttpResponse:
    """The page is its link: never indexed, never leaked to another site as a referrer."""
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = referrer
    return response


def _form_page(response: HttpResponse) -> HttpResponse:
    # A page with a form posts to itself: under "no-referrer" the browser sends
    # `Origin: null` and the CSRF check refuses it, so the referrer stays on this site only.
    return _private(response, referrer="same-origin")


def _driver_customer(token: str) -> Customer:
    customer = (
        Customer.objects.select_related("shop", "manager__user").filter(page_token=token).first()
    )
    if customer is None or not customer.shop.is_active:
        raise Http404
    if customer.merged_into_id is not None:
        return customer  # the view sends the driver on to the surviving card's page
    phones = [p.phone for p in customer.phones.all()]
    # Erased (no phone left) or consent withdrawn: the page is gone.
    if not phones or any(consent_withdrawn(shop=customer.shop, phone=p) for p in phones):
        raise Http404
    return customer


@never_cache
def driver_page(request: HttpRequest, token: str) -> HttpResponse:
    customer = _driver_customer(token)
    if customer.merged_into_id is not None:
        # A merged duplicate's old link opens the surviving card's page.
        survivor = get_object_or_404(Customer, pk=customer.merged_into_id)
        return _private(redirect(driver_page_path(survivor)))
    shop = request.public_shop = customer.shop
    cars = list(customer.cars.all())
    digits = re.sub(r"\D", "", shop.phone)
    if len(digits) == 11 and digits[0] == "8":
        digits = "7" + digits[1:]
    return _private(
        render(
            request,
            "customers/driver_page.html",
            {
                "shop": shop,
                "customer": customer,
                "cars": [(car, prefill_token(customer, car)) for car in cars],
                "prefill": prefill_token(customer, cars[0] if len(cars) == 1 else None),
                "manager": customer.manager,
                "shop_phone_digits": digits,
                "panels": render_driver_panels(request, customer),
            },
        )
    )


def _public_shop(slug: str) -> Shop:
    return get_object_or_404(Shop, slug=slug, is_active=True)


@never_cache
@require_http_methods(["GET", "POST"])
def link_request(request: HttpRequest, slug: str) -> HttpResponse:
    """«Получить ссылку»: the phone, then the code from the SMS, then the page."""
    shop = request.public_shop = _public_shop(slug)
    step = request.POST.get("step") if request.method == "POST" else None
    phone_form = LinkRequestForm(request.POST if step == "phone" else None)
    code_form = CodeForm(request.POST if step == "code" else None)
    if step == "phone" and phone_form.is_valid():
        phone = phone_form.cleaned_data["phone"]
        try:
            codes.code_request(shop=shop, phone=phone, ip=client_ip(request))
        except codes.CodeRefused as exc:
            phone_form.add_error(None, exc.message)
        else:
            code_form = CodeForm(initial={"phone_signed": CodeForm.sign_phone(phone)})
            return _form_page(
                render(
                    request,
                    "customers/link_request.html",
                    {"shop": shop, "code_form": code_form, "step": "code"},
                )
            )
    if step == "code" and code_form.is_valid():
        try:
            customer = codes.code_check(
                shop=shop,
                phone=code_form.cleaned_data["phone_signed"],
                code=code_form.cleaned_data["code"],
            )
        except codes.CodeRefused as exc:
            code_form.add_error("code", exc.message)
        else:
            return _private(redirect(driver_page_path(customer)))
    return _form_page(
        render(
            request,
            "customers/link_request.html",
            {
                "shop": shop,
                "phone_form": phone_form,
                "code_form": code_form,
                "step": "code" if step == "code" else "phone",
            },
            status=400 if step else 200,
        )
    )
