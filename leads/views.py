"""The advisors' inbox and the lead page."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from autoservice import storage
from autoservice.access import AccessAction, personal_data_access_record
from autoservice.models import Shop
from autoservice.tenancy import get_for_shop, staff_required

from . import selectors, services, withdrawal
from .forms import AssignForm, ContactedForm, InboxFilterForm, NoteForm, StatusForm
from .models import Lead, LeadPhoto, PhotoState
from .panels import render_panels
from .photos import photo_from_signed


def _filters(request: HttpRequest, staff) -> tuple[InboxFilterForm, selectors.InboxFilters]:
    form = InboxFilterForm(request.GET or None, staff=staff)
    return form, (form.filters() if request.GET else selectors.InboxFilters())


@staff_required
def inbox(request: HttpRequest) -> HttpResponse:
    staff = list(selectors.lead_staff(request.shop))
    form, filters = _filters(request, staff)
    cursor = request.GET.get("cursor", "")
    listed_at = timezone.now()
    leads, next_cursor = selectors.lead_list(shop=request.shop, filters=filters, cursor=cursor)
    query = request.GET.copy()
    query.pop("cursor", None)
    context = {
        "leads": leads,
        "form": form,
        "next_cursor": next_cursor,
        "is_first_page": not cursor,
        "newest": selectors.newest_cursor(leads, listed_at=listed_at) if not cursor else "",
        "filter_query": query.urlencode(),
        "unread": selectors.unread_count(request.shop),
    }
    # One entry per page of rows shown (names and phones), not one per row.
    personal_data_access_record(
        request=request, action=AccessAction.LEADS_LISTED, object_type="inbox"
    )
    if request.htmx and request.GET.get("fragment") == "rows":
        return render(request, "leads/_rows_page.html", context)
    return render(request, "leads/inbox.html", context)


@staff_required
@never_cache
def inbox_poll(request: HttpRequest) -> HttpResponse:
    """New leads since the newest one shown: rows to prepend, and the unread badge."""
    staff = list(selectors.lead_staff(request.shop))
    _form, filters = _filters(request, staff)
    newest = request.GET.get("newest", "")
    leads = selectors.leads_newer_than(shop=request.shop, filters=filters, newest=newest)
    if leads:
        personal_data_access_record(
            request=request, action=AccessAction.LEADS_LISTED, object_type="inbox"
        )
    query = request.GET.copy()
    query.pop("newest", None)
    context = {
        "leads": leads,
        "newest": selectors.newest_cursor(leads) or newest,
        "unread": selectors.unread_count(request.shop),
        "filter_query": query.urlencode(),
    }
    return render(request, "leads/_poll.html", context)


@staff_required
@never_cache
@require_http_methods(["GET"])
def lead_row(request: HttpRequest, lead_id: int) -> HttpResponse:
    """One inbox row as it is now: the live inbox swaps it in when the lead changes."""
    lead = get_for_shop(request, selectors.inbox_row(request.shop, lead_id), pk=lead_id)
    personal_data_access_record(
        request=request, action=AccessAction.LEADS_LISTED, object_type="inbox"
    )
    return render(request, "leads/_rows.html", {"leads": [lead]})


@staff_required
@never_cache
@require_http_methods(["GET"])
def lead_live(request: HttpRequest, lead_id: int) -> HttpResponse:
    """The lead page's status and timeline as they are now (the open page swaps them in
    when the lead changes). No contacts in it: the page's own view recorded the viewing."""
    lead = get_for_shop(request, selectors.lead_detail(request.shop, lead_id), pk=lead_id)
    return render(
        request, "leads/_lead_live.html", {"lead": lead, "events": list(lead.events.all())}
    )


@staff_required
@require_http_methods(["GET", "POST"])
def lead_detail(request: HttpRequest, lead_id: int) -> HttpResponse:
    lead = get_for_shop(request, selectors.lead_detail(request.shop, lead_id), pk=lead_id)
    member = request.membership
    staff = selectors.lead_staff(request.shop)
    action = request.POST.get("action") if request.method == "POST" else None
    forms = {
        "assign": AssignForm(request.POST if action == "assign" else None, lead=lead, staff=staff),
        "status": StatusForm(request.POST if action == "status" else None, lead=lead),
        "note": NoteForm(request.POST if action == "note" else None),
        "contacted": ContactedForm(request.POST if action == "contacted" else None),
    }
    if action in forms and forms[action].is_valid():
        data = forms[action].cleaned_data
        try:
            if action == "assign":
                services.lead_assign(lead=lead, assignee=data["assignee"], by=member)
                messages.success(request, _("Ответственный назначен."))
            elif action == "status":
                if data["status"] == lead.status:
                    messages.info(request, _("Статус не изменился: выберите новый в списке."))
                else:
                    services.lead_change_status(
                        lead=lead, status=data["status"], by=member, reason=data["reason"]
                    )
                    messages.success(request, _("Статус изменён."))
            elif action == "note":
                services.lead_add_note(lead=lead, by=member, text=data["text"])
            elif action == "contacted":
                services.lead_mark_contacted(lead=lead, by=member, note=data["note"])
                messages.success(request, _("Отмечено: вы связались с клиентом."))
        except ValidationError as exc:
            forms[action].add_error(None, exc)
        else:
            return redirect("leads:lead_detail", lead_id=lead.pk)
    elif request.method == "GET":
        services.lead_open(lead=lead, by=member)
    personal_data_access_record(
        request=request,
        action=AccessAction.LEAD_VIEWED,
        object_type="lead",
        object_id=lead.pk,
        lead_number=lead.number,
    )
    return render(
        request,
        "leads/lead_detail.html",
        {
            "lead": lead,
            "photos": list(lead.photos.all()),
            "events": list(lead.events.all()),
            "forms": forms,
            "action": action,
            # Processing stopped: no parts search, offer or intake is started from here.
            "panels": [] if lead.is_consent_withdrawn else render_panels(request, lead),
        },
        status=400 if action else 200,
    )


def _rendition_response(photo: LeadPhoto, kind: str) -> HttpResponse:
    field = photo.thumb if kind == "thumb" else photo.web
    if photo.state != PhotoState.READY or not field.name:
        raise Http404(_("Фото ещё обрабатывается."))
    return storage.served(field.name, content_type="image/jpeg")


@staff_required
def lead_photo(request: HttpRequest, lead_id: int, photo_id: int, kind: str) -> HttpResponse:
    """A rendition, to the shop's staff only. Originals (which may carry GPS) are never shown."""
    lead = get_for_shop(request, Lead, pk=lead_id)
    photo = LeadPhoto.objects.filter(lead=lead, pk=photo_id).first()
    if photo is None or kind not in ("web", "thumb"):
        raise Http404
    response = _rendition_response(photo, kind)
    if kind == "web":
        # Opening a photo; the thumbnails are part of the lead page, logged with it.
        personal_data_access_record(
            request=request,
            action=AccessAction.PHOTO_VIEWED,
            object_type="lead_photo",
            object_id=photo.pk,
            lead_number=lead.number,
        )
    return response


def photo_signed(request: HttpRequest, token: str) -> HttpResponse:
    """The link in a notification e-mail: opens one rendition for 7 days, then 404."""
    found = photo_from_signed(token)
    if found is None:
        raise Http404
    return _rendition_response(*found)


@never_cache
@require_http_methods(["GET", "POST"])
def consent_withdraw(request: HttpRequest, slug: str, token: str) -> HttpResponse:
    """The driver withdraws consent by the link from a page or an e-mail: an explanation, a
    button, the confirmation. Works for a closed shop too: withdrawal must stay possible."""
    shop = get_object_or_404(Shop, slug=slug)
    subject = withdrawal.withdrawal_subject(shop=shop, token=token)
    if subject is None:
        raise Http404
    if request.method == "POST":
        withdrawal.consent_withdraw(subject=subject)
        return redirect("leads:consent_withdraw", slug=shop.slug, token=token)
    return render(
        request,
        "leads/consent_withdraw.html",
        {"shop": shop, "done": withdrawal.subject_withdrawn(subject)},
    )
