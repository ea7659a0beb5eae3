"""The driver's side: the shop's public page and the photo request form."""

from __future__ import annotations

import functools
import logging
import uuid
from collections.abc import Callable

from django.core.cache import cache
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from autoservice import images
from autoservice.consent import client_ip, consent_record_create, consent_text_current
from autoservice.models import Shop
from leads.models import Channel, Lead, LeadPhoto
from leads.photos import (
    MAX_PHOTOS_PER_LEAD,
    photo_delete_files,
    photo_max_bytes,
    photo_upload_store,
    photo_uploads_store_many,
)
from leads.services import lead_create

from .forms import PhotoRequestForm, form_token_issue, form_token_read

log = logging.getLogger(__name__)

UPLOADS_PER_HOUR_PER_IP = 300
LEADS_PER_HOUR_PER_IP = 30


def _get_public_shop(slug: str) -> Shop:
    """An active shop by its public slug; unknown or closed shops are a branded 404."""
    return get_object_or_404(Shop, slug=slug, is_active=True)


def shop_frame_policy(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Driver pages may be framed only by the sites the shop listed (CSP frame-ancestors)."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, slug: str, *args, **kwargs) -> HttpResponse:
        response = view(request, slug, *args, **kwargs)
        shop = getattr(request, "public_shop", None)
        origins = " ".join(shop.embed_origin_list) if shop else ""
        response["Content-Security-Policy"] = f"frame-ancestors 'self' {origins}".strip()
        if not origins:
            response["X-Frame-Options"] = "SAMEORIGIN"
        return response

    return xframe_options_exempt(wrapper)


def _over_limit(request: HttpRequest, scope: str, limit: int) -> bool:
    """A per-address hourly limit. It fails open: with the cache (Redis) down, a driver's
    request is still taken; losing a lead is worse than missing a limit for a while."""
    key = f"rl:{scope}:{client_ip(request)}"
    try:
        cache.add(key, 0, timeout=3600)
        return cache.incr(key) > limit
    except ValueError:
        return False
    except Exception as exc:
        log.warning("rate limit unavailable (%s): request let through", exc)
        return False


@shop_frame_policy
def shop_page(request: HttpRequest, slug: str) -> HttpResponse:
    shop = request.public_shop = _get_public_shop(slug)
    return render(request, "photoportal/shop_page.html", {"shop": shop})


def shop_logo(request: HttpRequest, slug: str) -> HttpResponse:
    """The shop's logo is public branding, served by the app (other media stay private)."""
    shop = _get_public_shop(slug)
    if not shop.logo:
        raise Http404
    return FileResponse(shop.logo.open("rb"))


def _stored_photos(token_data: dict) -> list[LeadPhoto]:
    return list(LeadPhoto.objects.filter(upload_token=token_data["u"], lead__isnull=True))


# Public forms are csrf-exempt on purpose: inside the shop's own website (a third-party
# iframe) the browser withholds our cookies, so a CSRF cookie cannot work. The signed,
# shop-bound form token carries the form's identity instead, and nothing here acts on
# behalf of a logged-in person.
@csrf_exempt
@shop_frame_policy
@require_http_methods(["GET", "POST"])
def photo_form(request: HttpRequest, slug: str) -> HttpResponse:
    shop = request.public_shop = _get_public_shop(slug)
    consent_text = consent_text_current(shop)
    token = request.POST.get("form_token", "")
    token_data = form_token_read(token, shop.pk) if request.method == "POST" else None
    file_errors: list[str] = []
    if token_data is None:
        if request.method == "POST":
            file_errors.append(_("Форма устарела: проверьте поля и добавьте фото ещё раз."))
        token = form_token_issue(shop.pk)
        token_data = form_token_read(token, shop.pk)
    form = PhotoRequestForm(request.POST or None)

    if request.method == "POST":
        # A double tap, a refresh or a retry of a form already sent: show its result.
        existing = Lead.objects.filter(shop=shop, submission_key=token_data["k"]).first()
        if existing is not None:
            return redirect("photo_sent", slug=shop.slug, token=existing.public_token)
        uploads = request.FILES.getlist("photos")
        if uploads:
            _stored, refused = photo_uploads_store_many(
                shop=shop,
                upload_token=token_data["u"],
                uploads=[(upload.name, upload.chunks()) for upload in uploads],
            )
            file_errors += refused
        photos = _stored_photos(token_data)
        if not photos and not file_errors:
            file_errors.append(_("Добавьте хотя бы одно фото повреждений."))
        limited = form.is_valid() and photos and _over_limit(request, "lead", LEADS_PER_HOUR_PER_IP)
        if limited:
            file_errors.append(
                _("Слишком много заявок с этого адреса за час: позвоните нам, пожалуйста.")
            )
        elif form.is_valid() and photos:
            data = form.lead_input()
            consent = consent_record_create(
                shop=shop,
                text=consent_text,
                name=data.customer_name,
                phone=data.phone,
                request=request,
            )
            lead, _created = lead_create(
                shop=shop,
                channel=Channel.PHOTO,
                data=data,
                consent=consent,
                submission_key=uuid.UUID(token_data["k"]),
                upload_token=token_data["u"],
            )
            return redirect("photo_sent", slug=shop.slug, token=lead.public_token)
    photos = _stored_photos(token_data)
    return render(
        request,
        "photoportal/photo_form.html",
        {
            "shop": shop,
            "form": form,
            "form_token": token,
            "photos": photos,
            "file_errors": file_errors,
            "consent_text": consent_text,
            "max_photos": MAX_PHOTOS_PER_LEAD,
            "max_mb": photo_max_bytes() // (1024 * 1024),
        },
        status=400 if request.method == "POST" else 200,
    )


def _json_error(message: str, status: int) -> JsonResponse:
    return JsonResponse(
        {"error": message}, status=status, json_dumps_params={"ensure_ascii": False}
    )


@csrf_exempt
@require_POST
def photo_upload(request: HttpRequest, slug: str) -> JsonResponse:
    """One photo uploaded by the form's script; retries with the same client id are safe."""
    shop = _get_public_shop(slug)
    token_data = form_token_read(request.POST.get("form_token", ""), shop.pk)
    if token_data is None:
        return _json_error(_("Форма устарела: обновите страницу и выберите фото заново."), 403)
    upload = request.FILES.get("file")
    if upload is None:
        return _json_error(_("Файл не получен: выберите фото ещё раз."), 400)
    try:
        client_id = uuid.UUID(request.POST.get("client_id", ""))
    except ValueError:
        return _json_error(_("Неверный идентификатор фото: обновите страницу."), 400)
    already = LeadPhoto.objects.filter(upload_token=token_data["u"], client_id=client_id).first()
    if already is None and _over_limit(request, "upload", UPLOADS_PER_HOUR_PER_IP):
        response = _json_error(_("Слишком много загрузок подряд: попробуйте через час."), 429)
        response["Retry-After"] = "600"
        return response
    try:
        photo = already or photo_upload_store(
            shop=shop,
            upload_token=token_data["u"],
            client_id=client_id,
            filename=upload.name,
            chunks=upload.chunks(),
        )
    except images.ImageRejected as exc:
        status = 413 if exc.code == images.ImageRejected.TOO_LARGE else 400
        return _json_error(exc.message, status)
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
    token_data = form_token_read(request.POST.get("form_token", ""), shop.pk)
    if token_data is None:
        return _json_error(_("Форма устарела: обновите страницу."), 403)
    photo = LeadPhoto.objects.filter(
        upload_token=token_data["u"], client_id=client_id, lead__isnull=True
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
        {"shop": shop, "lead": lead, "photo_count": lead.photos.count()},
    )
