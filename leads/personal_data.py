"""Personal data the inbox holds: requests, their timeline, the drivers' photos and the log
of leads an admin deleted. Registered with autoservice's registry in LeadsConfig.ready()."""

from __future__ import annotations

import datetime as dt
import secrets

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from autoservice.models import Shop
from autoservice.personal_data import (
    ErasureReport,
    Found,
    Scope,
    export_row,
    file_names,
    outbox_collect_for,
)

from .models import Lead, LeadDeletion, LeadEvent, LeadPhoto, Status

LEADS = ("leads", _("заявки"))
EVENTS = ("lead_events", _("записи истории заявок"))
PHOTOS = ("lead_photos", _("фото заявок"))
DELETIONS = ("lead_deletions", _("журнал удалённых заявок"))
LEAD_FIELDS = [
    "number",
    "channel",
    "status",
    "customer_name",
    "phone",
    "email",
    "preferred_contact",
    "vehicle_make",
    "vehicle_model",
    "vehicle_year",
    "plate",
    "description",
    "lost_reason",
    "created_at",
]


def _months_before(moment: dt.datetime, months: int) -> dt.datetime:
    return moment - dt.timedelta(days=round(months * 30.44))


def _subject_q(scope: Scope, phone: str, email: str) -> Q | None:
    match = Q(**{f"{phone}__in": scope.phones}) if scope.phones else Q()
    for value in scope.emails:
        match |= Q(**{f"{email}__iexact": value})
    return match if (scope.phones or scope.emails) else None


class LeadsProvider:
    name = "leads"

    def collect(self, scope: Scope) -> None:
        leads = Lead.objects.filter(shop=scope.shop)
        deletions = LeadDeletion.objects.filter(shop=scope.shop).exclude(snapshot__has_key="erased")
        if scope.is_retention:
            # Requests that never became a job: kept the shop's period after they were lost.
            before = _months_before(scope.now, scope.policy.lost_lead_months)
            leads = leads.filter(status=Status.LOST, status_changed_at__lt=before).exclude(
                customer_name="", phone="", plate="", description=""
            )
            deletions = deletions.filter(deleted_at__lt=before)
        else:
            match = _subject_q(scope, "phone", "email")
            snapshot = _subject_q(scope, "snapshot__phone", "snapshot__email")
            if match is None:
                return
            leads, deletions = leads.filter(match), deletions.filter(snapshot)
        ids = set(leads.values_list("pk", flat=True))
        scope.add("leads.Lead", ids)
        outbox_collect_for(scope=scope, lead_id=ids)
        scope.add("leads.LeadDeletion", deletions.values_list("pk", flat=True))
        if not scope.is_retention:
            consent_ids = Lead.objects.filter(pk__in=ids, consent__isnull=False)
            scope.add("autoservice.ConsentRecord", consent_ids.values_list("consent_id", flat=True))

    def _leads(self, scope: Scope):
        return Lead.objects.filter(shop=scope.shop, pk__in=scope.ids("leads.Lead"))

    def find(self, scope: Scope) -> list[Found]:
        leads = list(self._leads(scope).order_by("created_at"))
        events = LeadEvent.objects.filter(lead__in=leads).order_by("lead_id", "created_at")
        photos = LeadPhoto.objects.filter(shop=scope.shop, lead__in=leads)
        deletions = LeadDeletion.objects.filter(
            shop=scope.shop, pk__in=scope.ids("leads.LeadDeletion")
        )
        photo_rows, photo_files = [], []
        for photo in photos:
            names = file_names(photo.original, photo.web, photo.thumb)
            photo_files += names
            photo_rows.append(
                export_row(
                    photo,
                    ["original_name", "sha256", "format", "width", "height", "taken_at"],
                    lead_number=photo.lead.number if photo.lead else None,
                    files=[f"files/{name}" for name in names],
                )
            )
        return [
            Found(*LEADS, [export_row(lead, LEAD_FIELDS) for lead in leads]),
            Found(
                *EVENTS,
                [
                    export_row(e, ["kind", "text", "data", "created_at"], lead_id=e.lead_id)
                    for e in events
                ],
            ),
            Found(*PHOTOS, photo_rows, photo_files),
            Found(
                *DELETIONS,
                [export_row(d, ["lead_number", "snapshot", "deleted_at"]) for d in deletions],
            ),
        ]

    def erase(self, scope: Scope, report: ErasureReport) -> None:
        leads = self._leads(scope)
        ids = set(leads.values_list("pk", flat=True))
        photos = LeadPhoto.objects.filter(shop=scope.shop, lead_id__in=ids)
        for photo in photos:
            report.delete_files(file_names(photo.original, photo.web, photo.thumb))
        # Deleting the rows makes every signed photo link (it names the row) answer 404.
        report.count(*PHOTOS, photos.delete()[0])
        events = LeadEvent.objects.filter(lead_id__in=ids).exclude(text="", data={})
        report.count(*EVENTS, events.update(text="", data={}))
        for lead in leads:
            # The row stays for the shop's figures (counts, response times); the person goes,
            # and a new token kills the driver's status link.
            lead.customer_name = ""
            lead.phone = ""
            lead.email = ""
            lead.plate = ""
            lead.description = ""
            lead.lost_reason = ""
            lead.vehicle_year = None
            lead.submission_key = None
            lead.public_token = secrets.token_urlsafe(18)
            lead.save()
        report.count(*LEADS, len(ids))
        deletions = LeadDeletion.objects.filter(
            shop=scope.shop, pk__in=scope.ids("leads.LeadDeletion")
        )
        for deletion in deletions:
            deletion.snapshot = {"erased": True, "number": deletion.lead_number}
            deletion.save(update_fields=["snapshot"])
        report.count(*DELETIONS, len(deletions))

    def withdrawn_phones(self) -> dict[int, set[str]]:
        """Leads frozen by a withdrawal that still hold a phone (a lead taken by phone has no
        consent record to say so)."""
        found: dict[int, set[str]] = {}
        rows = (
            Lead.objects.filter(consent_withdrawn_at__isnull=False)
            .exclude(phone="")
            .values_list("shop_id", "phone")
        )
        for shop_id, phone in rows:
            found.setdefault(shop_id, set()).add(phone)
        return found

    def active_phones(self, shop: Shop, since: dt.datetime) -> set[str]:
        return set(
            Lead.objects.filter(shop=shop)
            .filter(Q(created_at__gte=since) | Q(status_changed_at__gte=since))
            .exclude(phone="")
            .values_list("phone", flat=True)
        )
