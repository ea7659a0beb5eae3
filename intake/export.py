"""One intake record as data: the CRM JSON (also served by the API) and the ZIP archive the
shop hands to a customer, an insurer or a court.

The ZIP is streamed: `zipfile` writes into a non-seekable sink whose buffer the generator
empties after every 64 KB chunk, so memory does not grow with the number or the size of
the shots. A non-seekable sink makes `zipfile` put each entry's sizes and CRC in a data
descriptor after its data instead of seeking back to the local header.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass

from django.core.files.storage import default_storage
from django.db.models import Prefetch, QuerySet, prefetch_related_objects
from django.http import HttpRequest, StreamingHttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from autoservice.access import AccessAction, personal_data_access_record
from autoservice.tenancy import get_for_shop, staff_required

from . import sealing
from .models import Addendum, IntakeRecord, IntakeShot, ShotSkip

CHUNK_BYTES = 64 * 1024

_PREFETCH = (
    Prefetch(
        "shots",
        queryset=IntakeShot.objects.select_related("spec").order_by(
            "spec__position", "received_at", "id"
        ),
    ),
    Prefetch("skips", queryset=ShotSkip.objects.select_related("spec").order_by("spec__position")),
    Prefetch("addenda", queryset=Addendum.objects.order_by("created_at", "id")),
)

# Leading bytes of the formats `autoservice.images` accepts: shots are stored under a .jpg
# name whatever the phone sent, the archive names them by what they are.
_SIGNATURES = (
    (b"\xff\xd8\xff", "jpg"),
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"RIFF", "webp"),
)

README = """\
Акт приёма-передачи автомобиля №{number}: выгрузка из цифровой стойки автосервиса.

act.pdf           акт, как его видит клиент
record.json       данные акта: автомобиль, клиент, пробег, повреждения, кадры, дополнения
manifest.json     манифест, опечатанный при подписании, и его печать
shots/            оригиналы фотографий, байт в байт как их прислал телефон
signatures/       подписи клиента и мастера

Как проверить, что ничего не изменено после подписания:
1. SHA-256 каждого файла из shots/ и signatures/ совпадает со значением в разделе
   "files" файла manifest.json (и с хешами кадров и подписей в "manifest").
2. SHA-256 от "manifest", записанного как JSON с сортировкой ключей, без пробелов
   (разделители "," и ":"), UTF-8 без экранирования, равен "manifest_sha256".
3. "seal_sha256" — печать: HMAC-SHA256 с секретным ключом платформы (его id — "seal_key_id")
   от строки "hmac-sha256|seal_key_id|previous_seal|manifest_sha256"; previous_seal равен
   печати предыдущего опечатанного акта этого автосервиса. Печать без ключа не пересчитать:
   её проверяет платформа (manage.py verify_intake). У актов, опечатанных до ключевых печатей
   ("seal_kind": "sha256"), печать — SHA-256 от строки previous_seal + manifest_sha256.
"""


def record_queryset() -> QuerySet[IntakeRecord]:
    """Records with everything `record_json` and the archive read, in a fixed number of
    queries whatever the number of records and shots."""
    return IntakeRecord.objects.select_related(
        "shop", "template", "return_of", "return_record"
    ).prefetch_related(*_PREFETCH)


def _iso(moment: dt.datetime | None, tz: dt.tzinfo) -> str | None:
    return timezone.localtime(moment, tz).isoformat(timespec="seconds") if moment else None


def record_json(record: IntakeRecord) -> dict:
    """The CRM representation of a record: data and hashes, never a file path or the
    customer's private link."""
    prefetch_related_objects([record], *_PREFETCH)  # no-op for a record_queryset() row
    tz = record.shop.tzinfo
    shots = list(record.shots.all())
    addenda = list(record.addenda.all())
    returned = getattr(record, "return_record", None)
    updates = [record.created_at, record.sealed_at, returned and returned.created_at]
    updates += [addendum.created_at for addendum in addenda]
    data = {
        "id": record.pk,
        "number": record.number,
        "kind": record.kind,
        "plate": record.plate,
        "vin": record.vin,
        "make": record.make,
        "model": record.model,
        "year": record.year,
        "customer": {
            "name": record.customer_name,
            "phone": record.customer_phone,
            "email": record.customer_email,
        },
        "odometer_km": record.odometer_km,
        "fuel_level": record.fuel_level,
        "warning_lamps": record.warning_lamps,
        "belongings": record.belongings,
        "complaint": record.complaint,
        "damages": record.damages,
        "created_at": _iso(record.created_at, tz),
        "updated_at": _iso(max(moment for moment in updates if moment), tz),
        "sealed": record.is_sealed,
        "sealed_at": _iso(record.sealed_at, tz),
        "seal_sha256": record.seal_sha256 or None,
        "manifest_sha256": record.manifest_sha256 or None,
        "template": {"name": record.template.name, "version": record.template.version},
        "shots": [
            {
                "spec": shot.spec.code,
                "name": shot.spec.name,
                "sha256": shot.sha256,
                "received_at": _iso(shot.received_at, tz),
                "captured_at": _iso(shot.captured_at, tz),
                "accepted": shot.accepted,
                "width": shot.width,
                "height": shot.height,
                "damage_part": shot.damage_part,
            }
            for shot in shots
        ],
        "skips": [{"spec": skip.spec.code, "reason": skip.reason} for skip in record.skips.all()],
        "addenda": [
            {"text": a.text, "created_at": _iso(a.created_at, tz), "sha256": a.sha256}
            for a in addenda
        ],
        "return_of": record.return_of_id,
        "return_record": returned.pk if returned else None,
        "personal_data_hidden": record.personal_data_hidden,
    }
    if record.personal_data_hidden:
        # Past its legal hold (or erased): the CRM no longer reads the person's data either.
        data.update(plate=None, vin=None, belongings=None, complaint=None)
        data["customer"] = {"name": None, "phone": None, "email": None}
        data["skips"] = [{**skip, "reason": None} for skip in data["skips"]]
        data["addenda"] = [{**a, "text": None} for a in data["addenda"]]
    return data


# --- the archive ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Entry:
    name: str
    moment: dt.datetime
    stored: str | None = None  # a stored file's name: streamed from storage, kept as it is
    data: bytes = b""  # small, built in memory
    compress_type: int = zipfile.ZIP_DEFLATED


class _Sink:
    """Write-only and not seekable: collects what `zipfile` writes until it is drained."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self._position = 0

    def write(self, data: bytes) -> int:
        self._parts.append(bytes(data))
        self._position += len(data)
        return len(data)

    def tell(self) -> int:
        return self._position

    def flush(self) -> None:
        pass

    def drain(self) -> bytes:
        data = b"".join(self._parts)
        self._parts.clear()
        return data


def _extension(name: str) -> str:
    with default_storage.open(name, "rb") as handle:
        head = handle.read(12)
    for magic, extension in _SIGNATURES:
        if head.startswith(magic):
            return extension
    return "heic" if head[4:8] == b"ftyp" else "jpg"


def _json(data: dict) -> bytes:
    return json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True).encode()


def _entries(record: IntakeRecord) -> list[_Entry]:
    tz = record.shop.tzinfo
    now = timezone.now()
    stamp = record.sealed_at or now
    files: list[_Entry] = []
    hashes: dict[str, str] = {}
    missing: list[str] = []
    sealed_shots = {
        entry["client_id"]: entry["sha256"] for entry in (record.manifest or {}).get("shots", [])
    }
    per_spec: dict[str, int] = {}
    for shot in record.shots.all():
        per_spec[shot.spec.code] = per_spec.get(shot.spec.code, 0) + 1
        stem = f"shots/{shot.spec.position:02d}-{shot.spec.code}-{per_spec[shot.spec.code]}"
        if not default_storage.exists(shot.file.name):
            missing.append(f"{stem}.jpg")
            continue
        name = f"{stem}.{_extension(shot.file.name)}"
        hashes[name] = sealed_shots.get(str(shot.client_id), shot.sha256)
        files.append(
            _Entry(name, shot.received_at, shot.file.name, compress_type=zipfile.ZIP_STORED)
        )
    sealed_signatures = (record.manifest or {}).get("signatures", {})
    for who in ("customer", "advisor"):
        field = getattr(record, f"{who}_signature")
        if not field.name:
            continue
        name = f"signatures/{who}.png"
        if not default_storage.exists(field.name):
            missing.append(name)
            continue
        hashes[name] = sealed_signatures.get(who) or sealing.file_sha256(field.name)
        files.append(_Entry(name, stamp, field.name, compress_type=zipfile.ZIP_STORED))

    manifest = {
        "sealed": record.is_sealed,
        "manifest": record.manifest if record.is_sealed else sealing.build_manifest(record),
        "manifest_sha256": record.manifest_sha256 or None,
        "seal_sha256": record.seal_sha256 or None,
        "seal_kind": record.seal_kind or None,
        "seal_key_id": record.seal_key_id or None,
        "previous_seal": record.previous_seal or None,
        "seal_index": record.seal_index,
        "files": hashes,
        "missing_files": missing,
        "exported_at": now.isoformat(),
    }
    small = [
        _Entry("README.txt", now, data=README.format(number=record.number).encode("utf-8-sig")),
        _Entry("manifest.json", stamp, data=_json(manifest)),
        _Entry("record.json", now, data=_json(record_json(record))),
    ]
    try:
        from intake.act import act_pdf_bytes
    except ModuleNotFoundError as exc:  # the act module is not there yet: no PDF
        if exc.name != "intake.act":
            raise
    else:
        # A PDF's streams and images are compressed already.
        pdf = act_pdf_bytes(record)
        small.append(_Entry("act.pdf", now, data=pdf, compress_type=zipfile.ZIP_STORED))
    return [
        _Entry(e.name, timezone.localtime(e.moment, tz), e.stored, e.data, e.compress_type)
        for e in small + files
    ]


def _zip_info(entry: _Entry) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(entry.name, date_time=entry.moment.timetuple()[:6])
    info.compress_type = entry.compress_type
    info.external_attr = 0o644 << 16
    return info


def _stream(entries: list[_Entry]) -> Iterator[bytes]:
    sink = _Sink()
    with zipfile.ZipFile(sink, "w") as archive:
        for entry in entries:
            info = _zip_info(entry)
            if entry.stored is None:
                source, zip64 = io.BytesIO(entry.data), False
                info.file_size = len(entry.data)
            else:
                # The size is known only once copied: a file may outgrow its stat.
                source, zip64 = default_storage.open(entry.stored, "rb"), True
            with source, archive.open(info, "w", force_zip64=zip64) as target:
                while chunk := source.read(CHUNK_BYTES):
                    target.write(chunk)
                    if data := sink.drain():
                        yield data
            if data := sink.drain():
                yield data
    if data := sink.drain():  # the central directory
        yield data


def record_zip_stream(record: IntakeRecord) -> Iterator[bytes]:
    """The record's archive as a stream of chunks of at most about 64 KB.

    Everything that can fail (the database, the act PDF) runs here, before the first byte:
    an error is then an ordinary 500 rather than a download cut off half-way.
    """
    return _stream(_entries(record))


@require_GET
@staff_required
def record_zip(request: HttpRequest, record_id: int) -> StreamingHttpResponse:
    record = get_for_shop(request, record_queryset(), pk=record_id)
    response = StreamingHttpResponse(record_zip_stream(record), content_type="application/zip")
    personal_data_access_record(
        request=request,
        action=AccessAction.INTAKE_EXPORTED,
        object_type="intake_record",
        object_id=record.pk,
    )
    response["Content-Disposition"] = f'attachment; filename="akt-{record.number}.zip"'
    response["Cache-Control"] = "private, no-store"
    return response
