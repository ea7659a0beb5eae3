"""Personal data in intake records: the customer, the car's plate and VIN, the shots, the
signatures, addenda and skip reasons.

A signed (sealed) act is the shop's and the customer's evidence in a dispute about damage, so
an erasure request does not destroy it at once: it is kept under a legal hold until the
shop's hold period after signing has passed (ГК РФ ст. 196; 152-FZ art. 21 p. 5 allows
keeping data another law needs), with the date and the reason recorded on the record. After
that date staff no longer see its personal data, and the next retention run erases it.

Erasure and the seal: the seal is an HMAC over the manifest's hash and the previous seal, and
the chain links seals, not data. An erased record keeps its manifest hash, seal and chain
position but not the manifest itself (it held the data); `verify_intake` then checks that its
seal is genuine for that hash and that the chain is unbroken, and reports the record as erased
instead of comparing data that no longer exists.
"""

from __future__ import annotations

import datetime as dt
import secrets

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from autoservice.models import Shop
from autoservice.personal_data import (
    ErasureReport,
    Found,
    Held,
    Scope,
    export_row,
    file_names,
    outbox_collect_for,
    policy_for,
)

from .models import Addendum, IntakeRecord, IntakeShot, ShotSkip
from .sealing import RECORD_FIELDS as SEALED_FIELDS

RECORDS = ("intake_records", _("акты приёма-передачи"))
SHOTS = ("intake_shots", _("кадры приёмки"))
SIGNATURES = ("intake_signatures", _("подписи"))
ADDENDA = ("intake_addenda", _("дополнения к актам"))
HELD_LABEL = _("акт приёма-передачи")
HOLD_REASON = _(
    "Акт подписан клиентом: доказательство состояния автомобиля при споре о повреждениях "
    "(срок исковой давности, ГК РФ ст. 196)."
)
# The sealed data of a record (what its manifest covers), plus its dates, signatures and hold.
RECORD_FIELDS = [
    *SEALED_FIELDS,
    "created_at",
    "sealed_at",
    "customer_signature",
    "advisor_signature",
    "legal_hold_until",
    "legal_hold_reason",
]
# What the manifest of an erased record keeps: what the seal check reads, and no data.
MANIFEST_KEPT = ("index", "previous_seal", "seal_kind", "key_id", "sealed_at")


def _years_after(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def hold_until(record: IntakeRecord, years: int) -> dt.date | None:
    if not record.is_sealed:
        return None
    return record.legal_hold_until or _years_after(
        timezone.localdate(record.sealed_at, record.shop.tzinfo), years
    )


class IntakeProvider:
    name = "intake"

    def collect(self, scope: Scope) -> None:
        records = IntakeRecord.objects.filter(shop=scope.shop, personal_data_erased_at__isnull=True)
        if scope.is_retention:
            policy = scope.policy
            today = timezone.localdate(scope.now, scope.shop.tzinfo)
            sealed_before = scope.now - dt.timedelta(days=365 * policy.intake_hold_years)
            draft_before = scope.now - dt.timedelta(days=round(30.44 * policy.lost_lead_months))
            records = records.filter(
                Q(legal_hold_until__lt=today)
                | Q(legal_hold_until__isnull=True, sealed_at__lt=sealed_before)
                | Q(sealed_at__isnull=True, created_at__lt=draft_before)
            )
        else:
            match = Q(customer_phone__in=scope.phones) | Q(lead_id__in=scope.ids("leads.Lead"))
            for value in scope.emails:
                match |= Q(customer_email__iexact=value)
            records = records.filter(match)
        ids = set(records.values_list("pk", flat=True))
        scope.add("intake.IntakeRecord", ids)
        outbox_collect_for(scope=scope, record_id=ids)
        if not scope.is_retention:
            scope.add(
                "autoservice.ConsentRecord",
                records.filter(consent__isnull=False).values_list("consent_id", flat=True),
            )

    def _records(self, scope: Scope):
        return (
            IntakeRecord.objects.filter(shop=scope.shop, pk__in=scope.ids("intake.IntakeRecord"))
            .select_related("shop")
            .order_by("number")
        )

    def _held(self, scope: Scope, record: IntakeRecord, years: int) -> Held | None:
        until = hold_until(record, years)
        today = timezone.localdate(scope.now, scope.shop.tzinfo)
        if until is None or until < today:
            return None
        return Held(
            RECORDS[0],
            str(HELD_LABEL),
            f"№{record.number}",
            until,
            record.legal_hold_reason or str(HOLD_REASON),
        )

    def find(self, scope: Scope) -> list[Found]:
        years = policy_for(scope.shop).intake_hold_years
        records = list(self._records(scope))
        shots = IntakeShot.objects.filter(record__in=records).select_related("spec")
        rows, files, held = [], [], []
        for record in records:
            names = file_names(record.customer_signature, record.advisor_signature)
            files += names
            rows.append(
                export_row(
                    record,
                    RECORD_FIELDS,
                    addenda=[
                        {"text": a.text, "created_at": a.created_at.isoformat()}
                        for a in record.addenda.all()
                    ],
                    skips=[{"spec": s.spec.code, "reason": s.reason} for s in record.skips.all()],
                    files=[f"files/{name}" for name in names],
                )
            )
            hold = self._held(scope, record, years)
            if hold:
                held.append(hold)
        shot_rows, shot_files = [], []
        for shot in shots:
            names = file_names(shot.file, shot.web, shot.thumb)
            shot_files += names
            shot_rows.append(
                export_row(
                    shot,
                    ["original_name", "sha256", "received_at", "captured_at", "damage_part"],
                    record_number=shot.record.number,
                    spec=shot.spec.code,
                    files=[f"files/{name}" for name in names],
                )
            )
        return [
            Found(*RECORDS, rows, files, held),
            Found(*SHOTS, shot_rows, shot_files),
        ]

    def erase(self, scope: Scope, report: ErasureReport) -> None:
        years = (scope.policy or policy_for(scope.shop)).intake_hold_years
        erased_ids = set()
        for record in self._records(scope):
            hold = self._held(scope, record, years)
            if hold:
                if not record.legal_hold_until:
                    record.legal_hold_until = hold.until
                    record.legal_hold_reason = hold.reason
                    record.save(update_fields=["legal_hold_until", "legal_hold_reason"])
                    report.new_holds += 1
                report.held.append(hold)
                continue
            self._erase_record(scope, record, report)
            erased_ids.add(record.pk)
        report.count(*RECORDS, len(erased_ids))

    def _erase_record(self, scope: Scope, record: IntakeRecord, report: ErasureReport) -> None:
        shots = IntakeShot.objects.filter(record=record)
        for shot in shots:
            report.delete_files(file_names(shot.file, shot.web, shot.thumb))
        report.count(*SHOTS, shots.update(file="", web="", thumb="", original_name=""))
        signatures = file_names(record.customer_signature, record.advisor_signature)
        report.delete_files(signatures)
        report.count(*SIGNATURES, len(signatures))
        ShotSkip.objects.filter(record=record).update(reason="")
        report.count(*ADDENDA, Addendum.objects.filter(record=record).update(text=""))
        if record.manifest:
            record.manifest = {
                key: record.manifest[key] for key in MANIFEST_KEPT if key in record.manifest
            } | {"erased": True}
        for name in ("plate", "vin", "customer_name", "customer_phone", "customer_email"):
            setattr(record, name, "")
        record.belongings = ""
        record.complaint = ""
        record.year = None
        record.customer_signature = ""
        record.advisor_signature = ""
        record.public_token = secrets.token_urlsafe(24)
        record.personal_data_erased_at = scope.now
        record.save()
        if record.is_sealed:
            report.log.append(
                f"акт приёма-передачи №{record.number}: данные уничтожены, печать и место "
                "в цепочке сохранены"
            )

    def active_phones(self, shop: Shop, since: dt.datetime) -> set[str]:
        return set(
            IntakeRecord.objects.filter(shop=shop, created_at__gte=since)
            .exclude(customer_phone="")
            .values_list("customer_phone", flat=True)
        )
