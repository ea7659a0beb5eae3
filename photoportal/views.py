"""The driver's side: the shop's public page and the photo request form."""

from __future__ import annotations

import logging
import uuid

from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from autoservice import images, pagecache
from autoservice.consent import client_ip
from autoservice.embedding import shop_frame_policy
from autoservice.http import json_error
from autoservice.models import Shop
from autoservice.params import streams_uploads
from booking.selectors import booking_for_lead, lead_progress
from customers.links import Prefill, prefill_read
from customers.models import Customer
from leads.forms import DriverRequestPage, form_token_read
from leads.models import Channel, Lead, LeadPhoto
from leads.services import (
    PhotoUploadHandler,
    photo_delete_files,
    photo_upload_quota_take,
    photo_upload_store,
    withdrawal_path_for_lead,
)

from .forms import PhotoRequestForm

log = logging.getLogger(__name__)


def _get_public_shop(slug: str) -> Shop:
    """An active shop by its public slug; unknown or closed shops are a branded 404."""
    return get_object_or_404(Shop, slug=slug, is_active=True)


@shop_frame_policy
def shop_page(request: HttpRequest, slug: str) -> HttpResponse:
    shop = request.public_shop = _get_public_shop(slug)
    # Shows the shop's row alone: from the page cache.
    return pagecache.cached_page(
        request,
        shop=shop,
        parts=("photoportal/shop_page.html",),
        render=lambda: render(
            request,
            "photoportal/shop_page.html",
            {"shop": shop, "csrf_token": pagecache.CSRF_TOKEN},
        ),
    )


def shop_logo(request: HttpRequest, slug: str) -> HttpResponse:
    """The shop's logo is public branding, served by the app (other media stay private)."""
    shop = _get_public_shop(slug)
    if not shop.logo:
        raise Http404
    return FileResponse(shop.logo.open("rb"))


# Public forms are csrf-exempt on purpose: inside the shop's own website (a third-party
# iframe) the browser withholds our cookies, so a CSRF cookie cannot work. The signed,
# shop-bound form token carries the form's identity instead, and nothing here acts on
# behalf of a logged-in person.
@streams_uploads
@csrf_exempt
@shop_frame_policy
@require_http_methods(["GET", "POST"])
def photo_form(request: HttpRequest, slug: str) -> HttpResponse:
    DriverRequestPage.prepare(request)
    shop = request.public_shop = _get_public_shop(slug)
    page = DriverRequestPage(request, shop, token_required=True)
    # «Отправить новые фото» on the driver's own page: a signed, expiring key (never the
    # phone in the URL) fills in who and which car.
    prefill_key = request.POST.get("prefill") or request.GET.get("prefill", "")
    prefill = prefill_read(prefill_key, shop_id=shop.pk)
    form = PhotoRequestForm(request.POST or None, initial=prefill.initial() if prefill else None)
    if request.method == "POST":
        # A double tap, a refresh or a retry of a form already sent: show its result.
        sent = page.sent_lead()
        if sent is not None:
            return redirect("photoportal:photo_sent", slug=shop.slug, token=sent.public_token)
        page.receive_photos()
        if not page.photos() and not page.photo_errors:
            page.photo_errors.append(_("Добавьте хотя бы одно фото повреждений."))
        if form.is_valid() and page.is_valid:
            done = page.submit(
                channel=Channel.PHOTO,
                contact=form.lead_input(),
                marketing_consent=form.cleaned_data["marketing_consent"],
                attach=_customer_attach(prefill),
            )
            if done is not None:
                return redirect(
                    "photoportal:photo_sent", slug=shop.slug, token=done.lead.public_token
                )
    return page.render(
        "photoportal/photo_form.html",
        {"shop": shop, "form": form, "prefill": prefill_key if prefill else ""},
        status=400 if request.method == "POST" else 200,
        # The blank form, the same for every driver: from the page cache.
        cache_parts=None if prefill_key else (),
    )


def _customer_attach(prefill: Prefill | None):
    """In the request's transaction: a request sent from the driver's own page belongs to
    that customer (and car) when it came from one of the customer's phones."""
    if prefill is None:
        return None

    def attach(lead: Lead) -> None:
        if lead.customer_id is not None:
            return
        phones = set(prefill.customer.phones.values_list("phone", flat=True))
        if lead.phone not in phones:
            return
        lead.customer, lead.car = prefill.customer, prefill.car
        lead.save(update_fields=["customer", "car"])
        Customer.objects.filter(pk=prefill.customer.pk).update(last_seen_at=lead.created_at)

    return attach


@streams_uploads
@csrf_exempt
@require_POST
def photo_upload(request: HttpRequest, slug: str) -> JsonResponse:
    """One photo uploaded by the form's script; retries with the same client id are safe."""
    PhotoUploadHandler.install(request)
    shop = _get_public_shop(slug)
    token = form_token_read(request.POST.get("form_token", ""), shop.pk)
    if token is None:
        return json_error(_("Форма устарела: обновите страницу и выберите фото заново."), 403)
    upload = request.FILES.get("file")
    if upload is None:
        dropped = PhotoUploadHandler.refused_of(request)
        if dropped:  # over the size cap: dropped as it arrived
            return json_error(dropped[0], 413)
        return json_error(_("Файл не получен: выберите фото ещё раз."), 400)
    try:
        client_id = uuid.UUID(request.POST.get("client_id", ""))
    except ValueError:
        return json_error(_("Неверный идентификатор фото: обновите страницу."), 400)
    already = LeadPhoto.objects.filter(
        shop=shop, upload_token=token.upload_token, client_id=client_id
    ).first()
    if already is None:
        quota = photo_upload_quota_take(ip=client_ip(request), filenames=[upload.name])
        if quota.retry_after_s is not None:
            response = json_error(quota.refused[0], 429)
            response["Retry-After"] = str(quota.retry_after_s)
            return response
    try:
        photo = already or photo_upload_store(
            shop=shop,
            upload_token=token.upload_token,
            client_id=client_id,
            filename=upload.name,
            chunks=upload.chunks(),
        )
    except images.ImageRejected as exc:
        if exc.code == images.ImageRejected.STORAGE_UNAVAILABLE:
            # Not the photo's fault: the uploader sends it again after a pause.
            response = json_error(exc.message, 503)
            response["Retry-After"] = "30"
            return response
        status = 413 if exc.code == images.ImageRejected.TOO_LARGE else 400
        return json_error(exc.message, status)
    return JsonResponse(
        {
            "id": photo.pk,
            "client_id": str(photo.client_id),
            "name": photo.original_name,
            "size": photo.size_bytes,
        },
        status=200 if already else 201,
    )


@csrf_exempt
@require_POST
def photo_upload_delete(request: HttpRequest, slug: str, client_id: uuid.UUID) -> JsonResponse:
    """The driver removes a photo before sending; photos of a sent request stay."""
    shop = _get_public_shop(slug)
    token = form_token_read(request.POST.get("form_token", ""), shop.pk)
    if token is None:
        return json_error(_("Форма устарела: обновите страницу."), 403)
    photo = LeadPhoto.objects.filter(
        shop=shop, upload_token=token.upload_token, client_id=client_id, lead__isnull=True
    ).first()
    if photo is not None:
        photo_delete_files(photo)
        photo.delete()
    return JsonResponse({"deleted": photo is not None})


@shop_frame_policy
def photo_sent(request: HttpRequest, slug: str, token: str) -> HttpResponse:
    shop = request.public_shop = _get_public_shop(slug)
    lead = get_object_or_404(Lead, shop=shop, public_token=token)
    return render(
        request,
        "photoportal/photo_sent.html",
        {
            "shop": shop,
            "lead": lead,
            "photo_count": lead.photos.count(),
            "withdraw_url": withdrawal_path_for_lead(lead),
            "progress": lead_progress(lead),
            "booking": booking_for_lead(lead),
        },
    )
