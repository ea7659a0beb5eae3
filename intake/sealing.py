"""Tamper evidence: the manifest of a signed record, its hash chained to the shop's previous
sealed record, and the verification that recomputes everything.

The manifest holds every hash, time, field, the template version and the signatures' hashes;
its SHA-256 over a canonical JSON form is chained: seal = SHA-256(previous seal + manifest
hash). Changing a field, a photo file or a signature, or deleting a sealed record, breaks
either the manifest, a file hash or the chain, and `verify_record` / `verify_shop` say what.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from autoservice.models import Membership, Shop

from .models import IntakeRecord, SealHead

GENESIS = "0" * 64
RECORD_FIELDS = (
    "number",
    "kind",
    "plate",
    "vin",
    "make",
    "model",
    "year",
    "customer_name",
    "customer_phone",
    "customer_email",
    "odometer_km",
    "fuel_level",
    "warning_lamps",
    "belongings",
    "complaint",
    "damages",
    "body_type",
)


def canonical(data: dict) -> bytes:
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_sha256(name: str) -> str | None:
    if not name:
        return None
    path = Path(default_storage.path(name))
    if not path.exists():
        return None
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def addendum_digest(previous: str, created_at: str, text: str) -> str:
    """Addenda chain to the record's seal and to each other, so an edited or removed one
    shows."""
    return sha256_bytes(f"{previous}|{created_at}|{text}".encode())


def build_manifest(record: IntakeRecord) -> dict:
    """Everything the customer signed, as stored now (hashes of files as stored on arrival)."""
    template = record.template
    return {
        "record": {name: getattr(record, name) for name in RECORD_FIELDS},
        "return_of": record.return_of.seal_sha256 if record.return_of_id else None,
        "created_at": record.created_at.isoformat(),
        "template": {"family": template.family, "version": template.version, "name": template.name},
        "consent": (
            {
                "text_version": record.consent.text.version,
                "accepted_at": record.consent.accepted_at.isoformat(),
                "ip": record.consent.ip_address,
            }
            if record.consent_id
            else None
        ),
        "shots": [
            {
                "spec": shot.spec.code,
                "client_id": str(shot.client_id),
                "sha256": shot.sha256,
                "size_bytes": shot.size_bytes,
                "received_at": shot.received_at.isoformat(),
                "captured_at": shot.captured_at.isoformat() if shot.captured_at else None,
                "accepted": shot.accepted,
                "damage_part": shot.damage_part,
            }
            for shot in record.shots.select_related("spec").order_by(
                "spec__position", "received_at", "id"
            )
        ],
        "skips": [
            {"spec": skip.spec.code, "reason": skip.reason}
            for skip in record.skips.select_related("spec").order_by("spec__position")
        ],
        "signatures": {
            "customer": file_sha256(record.customer_signature.name),
            "advisor": file_sha256(record.advisor_signature.name),
        },
    }


@transaction.atomic
def seal(record: IntakeRecord, *, by: Membership) -> IntakeRecord:
    """Seal a signed record: after this nothing in it can be changed by staff."""
    Shop.objects.select_for_update().filter(pk=record.shop_id).first()
    record = IntakeRecord.objects.select_for_update().get(pk=record.pk)
    if record.is_sealed:
        return record
    head = SealHead.objects.filter(shop_id=record.shop_id).first()
    if (
        head is None
        and IntakeRecord.objects.filter(shop_id=record.shop_id, seal_index__isnull=False).exists()
    ):
        # Starting the chain again would hide that its head was removed: refuse instead.
        raise ValidationError(
            _(
                "Цепочка печатей автосервиса повреждена (нет записи о последней печати): "
                "подписать акт нельзя. Обратитесь к администратору платформы."
            )
        )
    previous, index = (head.seal_sha256, head.index + 1) if head else (GENESIS, 1)
    now = timezone.now()
    manifest = build_manifest(record)
    manifest["sealed_at"] = now.isoformat()
    manifest["sealed_by"] = by.display_name if by else ""
    manifest["index"] = index
    manifest["previous_seal"] = previous
    manifest_hash = sha256_bytes(canonical(manifest))
    record.manifest = manifest
    record.manifest_sha256 = manifest_hash
    record.previous_seal = previous
    record.seal_sha256 = sha256_bytes((previous + manifest_hash).encode())
    record.seal_index = index
    record.sealed_at = now
    record.sealed_by = by
    record.save(update_fields=IntakeRecord.SEAL_FIELDS)
    SealHead.objects.update_or_create(
        shop_id=record.shop_id, defaults={"index": index, "seal_sha256": record.seal_sha256}
    )
    return record


@dataclass
class Verdict:
    record: IntakeRecord | None
    problems: list[str] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.problems


def _diff(stored, now, path: str = "") -> list[str]:
    if isinstance(stored, dict) and isinstance(now, dict):
        changes = []
        for key in sorted(set(stored) | set(now)):
            changes += _diff(stored.get(key), now.get(key), f"{path}.{key}" if path else key)
        return changes
    if stored != now:
        return [
            _("%(path)s: было «%(before)s», стало «%(after)s»")
            % {"path": path, "before": stored, "after": now}
        ]
    return []


def verify_record(record: IntakeRecord) -> Verdict:
    """Recompute the manifest from the database and the files; say exactly what changed."""
    verdict = Verdict(record)
    if not record.is_sealed or not record.manifest:
        verdict.problems.append(_("Акт не опечатан: проверять нечего."))
        return verdict
    stored = record.manifest
    if sha256_bytes(canonical(stored)) != record.manifest_sha256:
        verdict.problems.append(_("Манифест изменён после опечатывания: его хеш не совпадает."))
    if sha256_bytes((record.previous_seal + record.manifest_sha256).encode()) != record.seal_sha256:
        verdict.problems.append(_("Печать акта не соответствует манифесту и предыдущей печати."))
    now = build_manifest(record)
    for key in ("record", "template", "consent", "return_of", "skips", "signatures"):
        verdict.problems += _diff(stored.get(key), now.get(key), key)
    verdict.problems += _diff(stored.get("created_at"), now["created_at"], "created_at")
    sealed_at = record.sealed_at.isoformat() if record.sealed_at else None
    verdict.problems += _diff(stored.get("sealed_at"), sealed_at, "sealed_at")
    previous = record.seal_sha256
    for addendum in record.addenda.order_by("created_at", "id"):
        expected = addendum_digest(previous, addendum.created_at.isoformat(), addendum.text)
        if expected != addendum.sha256:
            verdict.problems.append(
                _("Дополнение от %(when)s изменено, или перед ним удалено другое.")
                % {"when": f"{addendum.created_at:%d.%m.%Y %H:%M}"}
            )
        previous = addendum.sha256
    stored_shots = {s["client_id"]: s for s in stored.get("shots", [])}
    now_shots = {s["client_id"]: s for s in now["shots"]}
    for client_id in sorted(set(stored_shots) - set(now_shots)):
        verdict.problems.append(
            _("Кадр «%(spec)s» удалён.") % {"spec": stored_shots[client_id]["spec"]}
        )
    for client_id in sorted(set(now_shots) - set(stored_shots)):
        verdict.problems.append(
            _("Кадр «%(spec)s» добавлен после подписи.") % {"spec": now_shots[client_id]["spec"]}
        )
    for shot in record.shots.select_related("spec"):
        entry = stored_shots.get(str(shot.client_id))
        if entry is None:
            continue
        verdict.problems += _diff(
            entry, now_shots[str(shot.client_id)], _("кадр %(code)s") % {"code": shot.spec.code}
        )
        actual = file_sha256(shot.file.name)
        if actual is None:
            verdict.problems.append(_("Файл кадра «%(name)s» пропал.") % {"name": shot.spec.name})
        elif actual != entry["sha256"]:
            verdict.problems.append(
                _("Файл кадра «%(name)s» изменён: SHA-256 не совпадает.") % {"name": shot.spec.name}
            )
    return verdict


def verify_shop(shop: Shop) -> tuple[list[Verdict], list[str]]:
    """Every sealed record of the shop, and the chain: a gap or a broken link means a sealed
    record was deleted or replaced."""
    records = list(
        IntakeRecord.objects.filter(shop=shop, seal_index__isnull=False)
        .select_related("template", "consent__text", "return_of")
        .order_by("seal_index")
    )
    verdicts = [verify_record(record) for record in records]
    chain: list[str] = []
    expected_previous, expected_index = GENESIS, 1
    for record in records:
        if record.seal_index != expected_index:
            chain.append(
                _("Нет опечатанных актов с порядковыми номерами %(first)s–%(last)s: они удалены.")
                % {"first": expected_index, "last": record.seal_index - 1}
            )
        elif record.previous_seal != expected_previous:
            chain.append(
                _("Акт №%(number)s: цепочка печатей нарушена перед ним.")
                % {"number": record.number}
            )
        expected_previous, expected_index = record.seal_sha256, record.seal_index + 1
    head = SealHead.objects.filter(shop=shop).first()
    if head is None and records:
        chain.append(_("Нет записи о последней печати: последние опечатанные акты могли удалить."))
    if head and head.index >= expected_index:
        chain.append(
            _("Последние опечатанные акты (порядковые номера %(first)s–%(last)s) удалены.")
            % {"first": expected_index, "last": head.index}
        )
    elif head and records and head.seal_sha256 != records[-1].seal_sha256:
        chain.append(_("Последняя печать не совпадает с последним актом."))
    return verdicts, chain
