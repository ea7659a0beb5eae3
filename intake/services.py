"""Actions on intake records. Nothing in a sealed record changes: corrections are addenda."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import io
import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _
from PIL import Image

from autoservice import events, images, storage
from autoservice.models import ConsentRecord, Membership, Shop
from autoservice.outbox import outbox_put
from customers.services import car_update
from leads.models import Lead

from . import quality, sealing
from .models import (
    Addendum,
    IntakeRecord,
    IntakeShot,
    RecordKind,
    SealHead,
    ShotSkip,
    ShotSpec,
    ShotTemplate,
)

logger = logging.getLogger(__name__)

SHOT_MAX_BYTES = 25 * 1024 * 1024
NOTIFY_ACT = "intake.act_email"
NOTIFY_SEAL_DIGEST = "intake.seal_digest"


class SealedError(ValidationError):
    def __init__(self):
        super().__init__(
            _("Акт уже подписан и опечатан: изменить его нельзя, добавьте дополнение к акту.")
        )


def _editable(record: IntakeRecord) -> None:
    """Refuse changes to a sealed record, looking at the row itself under a lock: the
    caller's copy may have been loaded before another request sealed it."""
    if record.is_sealed:
        raise SealedError()
    rows = IntakeRecord.objects.filter(pk=record.pk, sealed_at__isnull=False)
    if transaction.get_connection().in_atomic_block:
        rows = rows.select_for_update()
    if rows.exists():
        raise SealedError()


def current_templates(shop: Shop) -> list[ShotTemplate]:
    """The shop's own current templates, then the platform's that it has not copied."""
    own = list(ShotTemplate.objects.filter(shop=shop, is_current=True))
    copied = {t.family for t in own}
    platform = ShotTemplate.objects.filter(shop__isnull=True, is_current=True).exclude(
        family__in=copied
    )
    return own + list(platform)


def default_template(shop: Shop, templates: list[ShotTemplate]) -> ShotTemplate | None:
    """The shot list a new record starts with: the one of the shop's kind (a body shop's
    full walk-around, a service's short list), the shop's own copy first."""
    for template in templates:
        if template.family == shop.kind:
            return template
    return templates[0] if templates else None


def draft_for_lead(lead: Lead) -> IntakeRecord | None:
    """The lead's intake still being shot (not signed yet), if there is one."""
    return (
        IntakeRecord.objects.filter(
            shop=lead.shop_id, lead=lead, kind=RecordKind.INTAKE, sealed_at__isnull=True
        )
        .order_by("created_at")
        .first()
    )


@dataclass(frozen=True)
class VehicleData:
    plate: str
    vin: str
    make: str
    model: str
    year: int | None
    body_type: str
    customer_name: str
    customer_phone: str
    customer_email: str = ""


@transaction.atomic
def record_create(
    *,
    shop: Shop,
    by: Membership,
    template: ShotTemplate,
    data: VehicleData,
    consent: ConsentRecord | None,
    lead: Lead | None = None,
) -> IntakeRecord:
    """A new record; for a lead that already has a draft, that draft (a second «start»,
    a double tap or two advisors at once resume it instead of making a duplicate)."""
    if lead is not None:
        # Two starts for one lead queue up here; the second then finds the first's draft.
        Lead.objects.select_for_update().filter(pk=lead.pk).first()
        draft = draft_for_lead(lead)
        if draft is not None:
            return draft
    Shop.objects.select_for_update().filter(pk=shop.pk).first()
    number = (IntakeRecord.objects.filter(shop=shop).aggregate(n=Max("number"))["n"] or 0) + 1
    if lead is not None and lead.car_id is not None:
        # What the advisor reads off the car at intake (VIN, plate) completes the customer's car.
        car_update(
            car=lead.car,
            vin=data.vin,
            plate=data.plate,
            make=data.make,
            model=data.model,
            year=data.year,
        )
    return IntakeRecord.objects.create(
        shop=shop,
        number=number,
        template=template,
        lead=lead,
        consent=consent,
        created_by=by,
        **data.__dict__,
    )


@transaction.atomic
def return_create(*, record: IntakeRecord, by: Membership) -> IntakeRecord:
    """The hand-over set: the same template shot again, to compare angle by angle."""
    if not record.is_sealed:
        raise ValidationError(_("Сначала подпишите и опечатайте акт приёмки."))
    existing = getattr(record, "return_record", None)
    if existing is not None:
        return existing
    fields = {
        name: getattr(record, name)
        for name in (
            "plate",
            "vin",
            "make",
            "model",
            "year",
            "body_type",
            "customer_name",
            "customer_phone",
            "customer_email",
        )
    }
    Shop.objects.select_for_update().filter(pk=record.shop_id).first()
    number = (
        IntakeRecord.objects.filter(shop=record.shop).aggregate(n=Max("number"))["n"] or 0
    ) + 1
    return IntakeRecord.objects.create(
        shop=record.shop,
        number=number,
        kind=RecordKind.RETURN,
        return_of=record,
        template=record.template,
        lead=record.lead,
        consent=record.consent,
        created_by=by,
        **fields,
    )


def shot_store(
    *,
    record: IntakeRecord,
    spec: ShotSpec,
    client_id: uuid.UUID,
    filename: str,
    chunks: Iterable[bytes],
    damage_part: str = "",
) -> IntakeShot:
    """Store a shot with its SHA-256 and receive time, check its quality against the
    record's other shots. Idempotent per client id. A shot failing the check is kept as
    not accepted (the advisor is asked to retake it)."""
    # A retry of a stored shot gets that shot back, even when the record was sealed since.
    existing = IntakeShot.objects.filter(record=record, client_id=client_id).first()
    if existing is not None:
        return existing
    _editable(record)
    if spec.template_id != record.template_id:
        raise ValidationError(_("Этого кадра нет в шаблоне акта."))
    name = f"intake/{record.shop_id}/{record.pk}/{uuid.uuid4().hex}.jpg"
    base = name.rsplit(".", 1)[0]
    web_name, thumb_name = f"{base}.web.jpg", f"{base}.thumb.jpg"
    others = list(
        IntakeShot.objects.filter(record=record, accepted=True)
        .exclude(phash="")
        .values_list("phash", flat=True)
    )
    # The shot and its renditions are stored before the row that names them: a storage
    # outage leaves no shot pointing at a missing file.
    try:
        with storage.staged(name) as path:
            stored = images.store_upload(chunks, path, filename=filename, max_bytes=SHOT_MAX_BYTES)
            info = images.inspect_image(path, filename=filename)
            report = quality.check_shot(path, others=others)
            with storage.staged(web_name) as web, storage.staged(thumb_name) as thumb:
                images.make_renditions(path, web_dest=web, thumb_dest=thumb)
    except storage.StorageUnavailable:
        for one in (name, web_name, thumb_name):
            _delete_quietly(one)
        raise images.ImageRejected(
            _(
                "Кадр «%(name)s» не сохранён: хранилище временно недоступно. "
                "Снимите или отправьте его ещё раз через минуту."
            )
            % {"name": filename[:80]},
            code=images.ImageRejected.STORAGE_UNAVAILABLE,
        ) from None
    except BaseException:
        for one in (name, web_name, thumb_name):
            _delete_quietly(one)
        raise
    taken = info.taken_at
    if taken is not None and timezone.is_naive(taken):
        taken = timezone.make_aware(taken, record.shop.tzinfo)
    try:
        with transaction.atomic():
            # An upload under way while the record was being sealed must not slip in.
            if (
                IntakeRecord.objects.select_for_update()
                .filter(pk=record.pk, sealed_at__isnull=False)
                .exists()
            ):
                raise SealedError()
            shot = IntakeShot.objects.create(
                record=record,
                spec=spec,
                client_id=client_id,
                file=name,
                web=web_name,
                thumb=thumb_name,
                original_name=filename[:255],
                sha256=stored.sha256,
                size_bytes=stored.size_bytes,
                width=info.width,
                height=info.height,
                captured_at=taken,
                phash=report.phash,
                quality={
                    "ok": report.ok,
                    "codes": list(report.codes),
                    # In the advisor's language at the time of the shot.
                    "problems": list(report.problems),
                    "sharpness": round(report.sharpness, 1),
                    "brightness": round(report.brightness, 1),
                },
                accepted=report.ok,
                damage_part=damage_part,
            )
    except SealedError:
        for one in (name, web_name, thumb_name):
            _delete_quietly(one)
        raise
    except IntegrityError:
        for one in (name, web_name, thumb_name):
            _delete_quietly(one)
        return IntakeShot.objects.get(record=record, client_id=client_id)
    return shot


def _delete_quietly(name: str) -> None:
    """Clean-up after a shot that was not recorded; an unreachable storage leaves an
    orphan file (named by no row), never a row without its file."""
    try:
        storage.delete(name)
    except storage.StorageUnavailable as exc:
        logger.warning("intake file %s left behind: %s", name, exc)


@transaction.atomic
def shot_discard(*, shot: IntakeShot) -> None:
    """A retaken shot replaces a failed one before signing."""
    _editable(shot.record)
    for field in (shot.file, shot.web, shot.thumb):
        if field.name:
            storage.delete(field.name)
    shot.delete()


@transaction.atomic
def shot_skip(*, record: IntakeRecord, spec: ShotSpec, reason: str) -> ShotSkip:
    _editable(record)
    reason = reason.strip()
    if len(reason) < 5:
        raise ValidationError(_("Напишите, почему кадр не снят: причина попадёт в акт."))
    skip, _created = ShotSkip.objects.update_or_create(
        record=record, spec=spec, defaults={"reason": reason[:300]}
    )
    return skip


@transaction.atomic
def record_update_details(*, record: IntakeRecord, **fields) -> IntakeRecord:
    _editable(record)
    for name, value in fields.items():
        setattr(record, name, value)
    record.save(update_fields=list(fields))
    if fields.get("odometer_km") is not None and record.lead_id and record.lead.car_id:
        car_update(car=record.lead.car, mileage_km=fields["odometer_km"])
    return record


def missing_shots(record: IntakeRecord) -> list[ShotSpec]:
    """Required shots neither taken (and accepted) nor skipped with a reason."""
    accepted: dict[int, int] = {}
    for shot in record.shots.filter(accepted=True):
        accepted[shot.spec_id] = accepted.get(shot.spec_id, 0) + 1
    skipped = set(record.skips.values_list("spec_id", flat=True))
    return [
        spec
        for spec in record.template.specs.all()
        if spec.required and spec.pk not in skipped and accepted.get(spec.pk, 0) < spec.min_count
    ]


def _signature_png(data_url: str, who: str) -> bytes:
    """A drawn signature from the pad (a PNG data URL); an empty pad is refused."""
    prefix = "data:image/png;base64,"
    if not data_url.startswith(prefix):
        raise ValidationError(
            _("Нет подписи: %(who)s должен расписаться на экране.") % {"who": who}
        )
    try:
        raw = base64.b64decode(data_url[len(prefix) :], validate=True)
        image = Image.open(io.BytesIO(raw), formats=["PNG"])
        image.load()
    except (binascii.Error, OSError, ValueError):
        raise ValidationError(_("Подпись не читается: распишитесь ещё раз.")) from None
    # Ink is whatever is dark on a white sheet, whether the pad draws on transparency or white.
    sheet = Image.new("RGBA", image.size, (255, 255, 255, 255))
    sheet.alpha_composite(image.convert("RGBA"))
    ink = sheet.convert("L").point(lambda v: 255 if v < 160 else 0).getbbox()
    if ink is None or (ink[2] - ink[0]) * (ink[3] - ink[1]) < 400:
        raise ValidationError(
            _("Подпись пустая: %(who)s должен расписаться на экране.") % {"who": who}
        )
    return raw


@transaction.atomic
def record_sign_and_seal(
    *, record: IntakeRecord, by: Membership, customer_signature: str, advisor_signature: str
) -> IntakeRecord:
    # The row lock makes a second submit of the sign form wait and then see the seal.
    record = IntakeRecord.objects.select_for_update().select_related("template").get(pk=record.pk)
    _editable(record)
    missing = missing_shots(record)
    if missing:
        names = ", ".join(spec.name for spec in missing[:6])
        raise ValidationError(
            _("Не хватает обязательных кадров: %(names)s. Снимите их или укажите причину пропуска.")
            % {"names": names}
        )
    customer = _signature_png(customer_signature, _("клиент"))
    advisor = _signature_png(advisor_signature, _("мастер"))
    base = f"intake/{record.shop_id}/{record.pk}/signature"
    try:
        record.customer_signature.save(f"{base}-customer.png", ContentFile(customer), save=False)
        record.advisor_signature.save(f"{base}-advisor.png", ContentFile(advisor), save=False)
    except storage.failures() as exc:
        # The transaction rolls back: no record names a signature the storage lacks.
        logger.warning("signatures of intake record %s not stored: %s", record.pk, exc)
        raise ValidationError(
            _(
                "Подписи не сохранены: хранилище временно недоступно. "
                "Нажмите «Подписать и опечатать акт» ещё раз через минуту."
            )
        ) from None
    record.save(update_fields=["customer_signature", "advisor_signature"])
    if record.customer_email:
        # Queued before sealing, so that sealing (which publishes the seal outside the
        # database) is the last write of the transaction.
        outbox_put(
            shop=record.shop,
            kind=NOTIFY_ACT,
            dedupe_key=f"intake-act:{record.pk}",
            payload={"record_id": record.pk},
            subject_phone=record.customer_phone,
        )
    record = sealing.seal(record, by=by)
    events.event_emit(
        shop=record.shop,
        type=events.INTAKE_SEALED,
        subject=f"lead:{record.lead_id}" if record.lead_id else f"intake:{record.pk}",
        lead_id=record.lead_id,
        data={"intake_id": record.pk, "number": record.number, "lead_id": record.lead_id},
    )
    return record


def addendum_add(*, record: IntakeRecord, by: Membership | None, text: str) -> Addendum:
    """A correction beside a sealed record, chained to its seal with the signing key."""
    text = text.strip()
    if not text:
        raise ValidationError(_("Дополнение пустое."))
    if not record.is_sealed:
        raise ValidationError(_("Пока акт не подписан, исправьте его прямо в акте."))
    with transaction.atomic():
        IntakeRecord.objects.select_for_update().filter(pk=record.pk).first()
        last = record.addenda.order_by("created_at", "id").last()
        now = timezone.now()
        key_id, _secret = sealing.signing_key()
        digest = sealing.addendum_digest(
            last.sha256 if last else record.seal_sha256, now.isoformat(), text, key_id
        )
        return Addendum.objects.create(
            record=record, text=text, created_by=by, created_at=now, sha256=digest, key_id=key_id
        )


def seal_digests_queue(*, day: dt.date | None = None) -> int:
    """The daily digest: each shop's current head of the chain, queued for its managers
    through the outbox (once per shop and day, whoever runs it how many times)."""
    day = day or timezone.localdate()
    queued = 0
    for head in SealHead.objects.select_related("shop").order_by("shop_id"):
        newest = (
            IntakeRecord.objects.filter(shop_id=head.shop_id, seal_index=head.index)
            .only("pk", "number", "seal_key_id", "sealed_at")
            .first()
        )
        with transaction.atomic():
            outbox_put(
                shop=head.shop,
                kind=NOTIFY_SEAL_DIGEST,
                dedupe_key=f"intake-seal-digest:{head.shop_id}:{day.isoformat()}",
                payload={
                    "day": day.isoformat(),
                    "index": head.index,
                    "seal": head.seal_sha256,
                    "record_id": newest.pk if newest else None,
                    "number": newest.number if newest else None,
                    "key_id": newest.seal_key_id if newest else "",
                    "sealed_at": newest.sealed_at.isoformat() if newest else None,
                },
            )
        queued += 1
    return queued
