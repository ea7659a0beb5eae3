"""Tamper evidence: the manifest of a signed record, its seal chained to the shop's previous
sealed record, the published head of the chain, and the verification that recomputes it all.

The manifest holds every hash, time, field, the exact template version with its shot list
and the signatures' hashes. Its SHA-256 over a canonical JSON form is sealed with a key the
database does not hold: seal = HMAC-SHA256(key, "hmac-sha256|key id|previous seal|manifest
hash"), the key chosen by id from settings.INTAKE_SEAL_KEYS (the first one seals, every
listed one verifies, so keys rotate). Someone who can edit the database cannot recompute a
seal, and every seal is also appended to a log outside the database (`seallog`), so
deleting the newest records and rewinding `SealHead` shows too.

Records sealed before keys existed keep their plain seal, SHA-256(previous + manifest
hash): they verify as before and are reported as such. A plain seal after a keyed one in a
chain cannot be genuine and is reported.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from autoservice import storage
from autoservice.models import Membership, Shop

from . import seallog
from .models import IntakeRecord, SealHead, SealKind

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


def seal_keys() -> dict[str, bytes]:
    return {key_id: secret.encode() for key_id, secret in settings.INTAKE_SEAL_KEYS}


def signing_key() -> tuple[str, bytes]:
    """The newest key: the one new seals are made with."""
    if not settings.INTAKE_SEAL_KEYS:
        raise ImproperlyConfigured("INTAKE_SEAL_KEYS: нет ни одного ключа печати.")
    key_id, secret = settings.INTAKE_SEAL_KEYS[0]
    return key_id, secret.encode()


def keyed_digest(secret: bytes, *parts: str) -> str:
    return hmac.new(secret, "|".join(parts).encode(), hashlib.sha256).hexdigest()


def seal_of(*, kind: str, key_id: str, previous: str, manifest_hash: str) -> str | None:
    """The seal a record of this kind must carry; None when its key is not configured."""
    if kind == SealKind.SHA256:
        return sha256_bytes((previous + manifest_hash).encode())
    if kind != SealKind.HMAC:
        return None
    secret = seal_keys().get(key_id)
    if secret is None:
        return None
    return keyed_digest(secret, kind, key_id, previous, manifest_hash)


def file_sha256(name: str) -> str | None:
    if not name:
        return None
    found = storage.sha256(name)
    return found[0] if found else None


def addendum_digest(previous: str, created_at: str, text: str, key_id: str = "") -> str | None:
    """Addenda chain to the record's seal and to each other, so an edited or removed one
    shows. Keyed with the seal keys (an empty key id: plain SHA-256, addenda made before
    keys); None when the key is not configured."""
    if not key_id:
        return sha256_bytes(f"{previous}|{created_at}|{text}".encode())
    secret = seal_keys().get(key_id)
    if secret is None:
        return None
    return keyed_digest(secret, "addendum", key_id, previous, created_at, text)


def template_specs(template) -> list[dict]:
    """The exact shot list of the template version the record was shot against."""
    return [
        {
            "position": spec.position,
            "code": spec.code,
            "name": spec.name,
            "instruction": spec.instruction,
            "guide": spec.guide,
            "required": spec.required,
            "min_count": spec.min_count,
            "is_damage": spec.is_damage,
        }
        for spec in template.specs.order_by("position", "code")
    ]


def build_manifest(record: IntakeRecord) -> dict:
    """Everything the customer signed, as stored now (hashes of files as stored on arrival)."""
    template = record.template
    return {
        "record": {name: getattr(record, name) for name in RECORD_FIELDS},
        "return_of": record.return_of.seal_sha256 if record.return_of_id else None,
        "created_at": record.created_at.isoformat(),
        "template": {"family": template.family, "version": template.version, "name": template.name},
        "template_specs": template_specs(template),
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
    key_id, _secret = signing_key()
    now = timezone.now()
    manifest = build_manifest(record)
    manifest["sealed_at"] = now.isoformat()
    manifest["sealed_by"] = by.display_name if by else ""
    manifest["index"] = index
    manifest["previous_seal"] = previous
    manifest["seal_kind"] = SealKind.HMAC.value
    manifest["key_id"] = key_id
    manifest_hash = sha256_bytes(canonical(manifest))
    record.manifest = manifest
    record.manifest_sha256 = manifest_hash
    record.previous_seal = previous
    record.seal_kind = SealKind.HMAC
    record.seal_key_id = key_id
    record.seal_sha256 = seal_of(
        kind=SealKind.HMAC, key_id=key_id, previous=previous, manifest_hash=manifest_hash
    )
    record.seal_index = index
    record.sealed_at = now
    record.sealed_by = by
    record.save(update_fields=IntakeRecord.SEAL_FIELDS)
    SealHead.objects.update_or_create(
        shop_id=record.shop_id, defaults={"index": index, "seal_sha256": record.seal_sha256}
    )
    # Last: published only once everything above is written (a failure rolls it all back).
    seallog.seal_publish(
        shop_id=record.shop_id, record_id=record.pk, seal=record.seal_sha256, key_id=key_id
    )
    return record


@dataclass
class Verdict:
    record: IntakeRecord | None
    problems: list[str] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.problems

    @property
    def unkeyed(self) -> bool:
        """Sealed before keyed seals: intact means only that nobody changed it carelessly."""
        return self.record is not None and self.record.seal_kind == SealKind.SHA256


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


def _diff_rows(stored: list[dict], now: list[dict], *, what: str) -> list[str]:
    """Rows of a list keyed by their spec code: which one was added, removed or changed."""
    before = {row["spec"] if "spec" in row else row["code"]: row for row in stored or []}
    after = {row["spec"] if "spec" in row else row["code"]: row for row in now or []}
    changes = []
    for code in sorted(set(before) - set(after)):
        changes.append(_("%(what)s «%(code)s» удалён.") % {"what": what, "code": code})
    for code in sorted(set(after) - set(before)):
        changes.append(
            _("%(what)s «%(code)s» добавлен после подписи.") % {"what": what, "code": code}
        )
    for code in sorted(set(before) & set(after)):
        changes += _diff(before[code], after[code], f"{what} {code}")
    return changes


def _check_seal(record: IntakeRecord, verdict: Verdict) -> None:
    stored = record.manifest
    # An erased record keeps the manifest's hash but not the manifest (it held the personal
    # data): its seal is still checked over that hash, and its place in the chain.
    erased = record.personal_data_erased_at is not None
    if not erased and sha256_bytes(canonical(stored)) != record.manifest_sha256:
        verdict.problems.append(_("Манифест изменён после опечатывания: его хеш не совпадает."))
    kind, key_id = record.seal_kind, record.seal_key_id
    if kind == SealKind.HMAC and (
        stored.get("seal_kind") != kind or stored.get("key_id") != key_id
    ):
        verdict.problems.append(_("Вид или ключ печати изменён после опечатывания."))
    if kind == SealKind.SHA256 and "seal_kind" in stored:
        verdict.problems.append(
            _("Акт опечатан ключом, а помечен как старая печать без ключа: печать подменена.")
        )
    if kind not in SealKind.values:
        verdict.problems.append(_("Неизвестный вид печати «%(kind)s».") % {"kind": kind})
        return
    expected = seal_of(
        kind=kind,
        key_id=key_id,
        previous=record.previous_seal,
        manifest_hash=record.manifest_sha256,
    )
    if expected is None:
        verdict.problems.append(
            _("Ключ печати «%(key)s» не задан в INTAKE_SEAL_KEYS: печать проверить нельзя.")
            % {"key": key_id}
        )
    elif not hmac.compare_digest(expected, record.seal_sha256):
        verdict.problems.append(
            _(
                "Печать акта не соответствует манифесту и предыдущей печати "
                "(манифест пересчитан без ключа печати или печать подменена)."
            )
        )


def verify_record(record: IntakeRecord) -> Verdict:
    """Recompute the manifest from the database and the files; say exactly what changed."""
    verdict = Verdict(record)
    if not record.is_sealed or not record.manifest:
        verdict.problems.append(_("Акт не опечатан: проверять нечего."))
        return verdict
    stored = record.manifest
    _check_seal(record, verdict)
    if record.personal_data_erased_at is not None:
        # The data was destroyed (152-FZ, after its legal hold); nothing is left to compare.
        return verdict
    now = build_manifest(record)
    keyed = record.seal_kind != SealKind.SHA256
    for key in ("record", "template", "consent", "return_of", "signatures"):
        verdict.problems += _diff(stored.get(key), now.get(key), key)
    # Unkeyed manifests predate the shot list in the manifest: they are compared as before.
    if keyed or "template_specs" in stored:
        verdict.problems += _diff_rows(
            stored.get("template_specs"), now["template_specs"], what=_("кадр шаблона")
        )
    if keyed:
        verdict.problems += _diff_rows(stored.get("skips"), now["skips"], what=_("пропуск кадра"))
    else:
        verdict.problems += _diff(stored.get("skips"), now.get("skips"), "skips")
    verdict.problems += _diff(stored.get("created_at"), now["created_at"], "created_at")
    sealed_at = record.sealed_at.isoformat() if record.sealed_at else None
    verdict.problems += _diff(stored.get("sealed_at"), sealed_at, "sealed_at")
    previous = record.seal_sha256
    for addendum in record.addenda.order_by("created_at", "id"):
        when = f"{addendum.created_at:%d.%m.%Y %H:%M}"
        if keyed and not addendum.key_id:
            verdict.problems.append(
                _("Дополнение от %(when)s без ключа при ключевой печати акта: оно подменено.")
                % {"when": when}
            )
        expected = addendum_digest(
            previous, addendum.created_at.isoformat(), addendum.text, addendum.key_id
        )
        if expected is None:
            verdict.problems.append(
                _("Ключ «%(key)s» дополнения от %(when)s не задан в INTAKE_SEAL_KEYS.")
                % {"key": addendum.key_id, "when": when}
            )
        elif not hmac.compare_digest(expected, addendum.sha256):
            verdict.problems.append(
                _("Дополнение от %(when)s изменено, или перед ним удалено другое.") % {"when": when}
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


def _check_published(
    shop: Shop,
    records: list[IntakeRecord],
    head: SealHead | None,
    published: seallog.PublishedLog,
) -> list[str]:
    """The database against the log outside it: the newest published seal must still be the
    head, and every keyed seal must be the one published for its record."""
    problems: list[str] = []
    lines = published.by_shop.get(shop.pk, [])
    keyed = [r for r in records if r.seal_kind == SealKind.HMAC]
    if not lines:
        if keyed:
            problems.append(
                _(
                    "В журнале печатей %(path)s нет ни одной печати этого автосервиса, а в базе "
                    "есть акты с ключевой печатью: журнал подменён или не тот."
                )
                % {"path": seallog.log_location()}
            )
        return problems
    last = lines[-1]
    by_id = {r.pk: r for r in records}
    if head is None or head.seal_sha256 != last.seal:
        newest = by_id.get(last.record_id)
        if newest is None:
            problems.append(
                _(
                    "Последняя опубликованная печать (%(at)s, акт id %(id)s, строка %(line)s "
                    "журнала) — акта с ней в базе нет: новейший опечатанный акт удалён, "
                    "запись о последней печати отмотана назад."
                )
                % {"at": last.at, "id": last.record_id, "line": last.line}
            )
        elif newest.seal_sha256 != last.seal:
            problems.append(
                _("Акт №%(number)s: печать не совпадает с опубликованной (строка %(line)s).")
                % {"number": newest.number, "line": last.line}
            )
        else:
            problems.append(
                _(
                    "Запись о последней печати не совпадает с последней опубликованной "
                    "(акт №%(number)s, строка %(line)s журнала): она отмотана или подменена."
                )
                % {"number": newest.number, "line": last.line}
            )
    seals = {line.record_id: line.seal for line in lines}
    for record in records:
        # A published record stays as published, whatever kind of seal it now claims.
        if record.pk not in seals:
            if record.seal_kind == SealKind.HMAC:
                problems.append(
                    _("Акт №%(number)s: его печать не публиковалась в журнале печатей.")
                    % {"number": record.number}
                )
        elif seals[record.pk] != record.seal_sha256:
            problems.append(
                _("Акт №%(number)s: печать не совпадает с опубликованной в журнале.")
                % {"number": record.number}
            )
    return problems


def verify_shop(
    shop: Shop, *, published: seallog.PublishedLog | None = None
) -> tuple[list[Verdict], list[str]]:
    """Every sealed record of the shop, and the chain: a gap or a broken link means a sealed
    record was deleted or replaced; the published log shows a rewound head."""
    records = list(
        IntakeRecord.objects.filter(shop=shop, seal_index__isnull=False)
        .select_related("template", "consent__text", "return_of")
        .order_by("seal_index")
    )
    verdicts = [verify_record(record) for record in records]
    chain: list[str] = []
    expected_previous, expected_index = GENESIS, 1
    keyed_seen = False
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
        if record.seal_kind == SealKind.HMAC:
            keyed_seen = True
        elif keyed_seen:
            chain.append(
                _("Акт №%(number)s: печать без ключа после ключевых печатей — она подменена.")
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
    chain += _check_published(
        shop, records, head, published if published is not None else seallog.seals_published()
    )
    return verdicts, chain
