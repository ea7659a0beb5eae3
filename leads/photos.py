"""Photos attached to leads: upload (streamed, validated by decoding), renditions, links.

The image work itself is `autoservice.images`; this module decides where files live,
records them and serves them only to the shop's staff or through signed, expiring links.
"""

from __future__ import annotations

import logging
import math
import os
import time
import uuid
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.core.files.uploadhandler import TemporaryFileUploadHandler
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from autoservice import images, storage
from autoservice.logcontext import log_bound
from autoservice.metrics import photo_processing_seconds
from autoservice.models import Shop

from .models import LeadPhoto, PhotoState

log = logging.getLogger(__name__)

MAX_PHOTOS_PER_LEAD = 20
# Files one post may carry, on the uploader's path (one each) and the plain form's alike.
MAX_FILES_PER_POST = MAX_PHOTOS_PER_LEAD
UPLOAD_LIMIT_WINDOW_S = 3600
LINK_SALT = "leads.photo-link"
LINK_MAX_AGE_SECONDS = 7 * 24 * 3600


def photo_max_bytes() -> int:
    return int(getattr(settings, "PHOTO_MAX_BYTES", 20 * 1024 * 1024))


def photo_max_decoded_bytes() -> int:
    return int(getattr(settings, "PHOTO_MAX_DECODED_BYTES", images.DEFAULT_MAX_DECODED_BYTES))


def uploads_per_hour_per_address() -> int:
    return int(getattr(settings, "PHOTO_UPLOADS_PER_HOUR_PER_ADDRESS", 300))


@dataclass(frozen=True)
class UploadQuota:
    """How many of the files an address sends now may be taken. When not all: the Russian
    refusal of each file left over and, in the same minutes, the Retry-After seconds."""

    allowed: int
    refused: list[str]
    retry_after_s: int | None


def photo_upload_quota_take(
    *, ip: str | None, filenames: list[str], now: float | None = None
) -> UploadQuota:
    """Count these uploads against the address's hourly allowance, shared by the uploader
    (JSON) and the plain form. A fixed window per clock hour: the wait is the rest of it,
    said in whole minutes and sent as the same number of seconds.

    Fails open: with the cache (Redis) down, a driver's photo is still taken; losing a lead
    is worse than missing a limit for a while. (The limits on the requests themselves are
    driver_request_submit's.)"""
    if not filenames or not ip:
        return UploadQuota(allowed=len(filenames), refused=[], retry_after_s=None)
    now = time.time() if now is None else now
    window = int(now // UPLOAD_LIMIT_WINDOW_S)
    key = f"rl:upload:{ip}:{window}"
    limit = uploads_per_hour_per_address()
    try:
        cache.add(key, 0, timeout=UPLOAD_LIMIT_WINDOW_S + 60)
        total = cache.incr(key, len(filenames))
    except ValueError:  # the key expired between add and incr: a new window
        return UploadQuota(allowed=len(filenames), refused=[], retry_after_s=None)
    except Exception as exc:
        log.warning("upload limit unavailable (%s): uploads let through", exc)
        return UploadQuota(allowed=len(filenames), refused=[], retry_after_s=None)
    allowed = max(0, min(len(filenames), limit - (total - len(filenames))))
    if allowed == len(filenames):
        return UploadQuota(allowed=allowed, refused=[], retry_after_s=None)
    minutes = max(1, math.ceil(((window + 1) * UPLOAD_LIMIT_WINDOW_S - now) / 60))
    refused = [
        _(
            "Файл «%(name)s» не принят: с этого адреса за час загружено слишком много фото. "
            "Добавьте его через %(minutes)s мин."
        )
        % {"name": _short_name(name), "minutes": minutes}
        for name in filenames[allowed:]
    ]
    return UploadQuota(allowed=allowed, refused=refused, retry_after_s=minutes * 60)


def _short_name(filename: str) -> str:
    name = filename.replace("\\", "/").rsplit("/", 1)[-1].strip() or _("без имени")
    return name if len(name) <= 80 else name[:77] + "…"


class PhotoUploadHandler(TemporaryFileUploadHandler):
    """The only upload handler of a driver's form post: files go to temporary files as
    usual, but past `max_files` files, or past `max_bytes` in one file, the rest of that
    file is read off the wire and dropped, never stored. `refused` names each file dropped
    (Russian). Install it before the view reads request.POST or request.FILES."""

    def __init__(self, request=None, *, max_files: int, max_bytes: int) -> None:
        super().__init__(request)
        self.max_files = max_files
        self.max_bytes = max_bytes
        self.files_seen = 0
        self.refused: list[str] = []
        self.dropping = False

    @classmethod
    def install(cls, request) -> PhotoUploadHandler:
        handler = cls(request, max_files=MAX_FILES_PER_POST, max_bytes=photo_max_bytes())
        request.upload_handlers = [handler]
        request.photo_upload_handler = handler
        return handler

    @classmethod
    def refused_of(cls, request) -> list[str]:
        """The files the installed handler dropped from this request (none if not installed)."""
        handler = getattr(request, "photo_upload_handler", None)
        return list(handler.refused) if handler is not None else []

    def new_file(self, field_name, file_name, *args, **kwargs) -> None:
        self.files_seen += 1
        self.dropping = self.files_seen > self.max_files
        if self.dropping:
            self.field_name, self.file_name, self.file = field_name, file_name, None
            self.refused.append(
                _("Можно отправить не больше %(max)s фото за раз: файл «%(name)s» не принят.")
                % {"max": self.max_files, "name": _short_name(file_name)}
            )
            return
        super().new_file(field_name, file_name, *args, **kwargs)

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        if self.dropping:
            return None
        if start + len(raw_data) > self.max_bytes:
            self.refused.append(images.upload_too_large(self.file_name, self.max_bytes).message)
            self.file.close()  # a temporary file: closing deletes it
            self.file, self.dropping = None, True
            return None
        return super().receive_data_chunk(raw_data, start)

    def file_complete(self, file_size: int):
        if self.dropping:
            self.dropping = False
            return None
        return super().file_complete(file_size)

    def upload_interrupted(self) -> None:
        if getattr(self, "file", None) is not None:
            super().upload_interrupted()


@dataclass(frozen=True)
class _StoredFile:
    name: str
    filename: str
    stored: images.StoredOriginal
    info: images.ImageInfo


def _store_file(*, shop: Shop, filename: str, chunks: Iterable[bytes]) -> _StoredFile:
    """The file work of one upload (stream to a file, hash, decode check, store); no
    database. A refused file, or one the storage cannot take (StorageUnavailable), leaves
    nothing stored."""
    now = timezone.now()
    name = f"leads/{shop.pk}/{now:%Y/%m}/{uuid.uuid4().hex}.orig"
    try:
        with storage.staged(name) as path:
            stored = images.store_upload(
                chunks, path, filename=filename, max_bytes=photo_max_bytes()
            )
            info = images.inspect_image(
                path, filename=filename, max_decoded_bytes=photo_max_decoded_bytes()
            )
    except storage.StorageUnavailable as exc:
        log.warning("photo %r not stored: storage unavailable (%s)", filename, exc)
        raise storage_unavailable(filename) from None
    return _StoredFile(name=name, filename=filename, stored=stored, info=info)


def _record(
    *, shop: Shop, upload_token: str, client_id: uuid.UUID | None, file: _StoredFile, position: int
) -> LeadPhoto:
    taken_at = file.info.taken_at
    if taken_at is not None and timezone.is_naive(taken_at):
        taken_at = timezone.make_aware(taken_at, shop.tzinfo)
    try:
        with transaction.atomic():
            photo = LeadPhoto.objects.create(
                shop=shop,
                upload_token=upload_token,
                client_id=client_id,
                original=file.name,
                original_name=file.filename[:255],
                sha256=file.stored.sha256,
                size_bytes=file.stored.size_bytes,
                format=file.info.format,
                width=file.info.width,
                height=file.info.height,
                taken_at=taken_at,
                position=position,
            )
    except IntegrityError:
        # The same upload raced in twice: keep the first, drop this copy.
        storage.delete(file.name)
        return LeadPhoto.objects.get(upload_token=upload_token, client_id=client_id)
    transaction.on_commit(lambda: _enqueue_processing(photo.pk))
    return photo


def storage_unavailable(filename: str) -> images.ImageRejected:
    """The refusal of a good photo that the storage could not take just now."""
    return images.ImageRejected(
        _(
            "Фото «%(name)s» не сохранено: хранилище временно недоступно. "
            "Отправьте его ещё раз через минуту — остальное в форме сохранено."
        )
        % {"name": _short_name(filename)},
        code=images.ImageRejected.STORAGE_UNAVAILABLE,
    )


def _too_many(filename: str) -> images.ImageRejected:
    return images.ImageRejected(
        _("Можно приложить не больше %(max)s фото: файл «%(name)s» лишний.")
        % {"max": MAX_PHOTOS_PER_LEAD, "name": filename},
        code="too_many_files",
    )


def photo_upload_store(
    *,
    shop: Shop,
    upload_token: str,
    client_id: uuid.UUID | None,
    filename: str,
    chunks: Iterable[bytes],
) -> LeadPhoto:
    """Store one uploaded photo under the form's upload token.

    Idempotent per (upload token, client id): a retried or resumed upload returns the
    photo already stored. Raises images.ImageRejected (with a Russian message naming the
    file) when the file is empty, too large or not a photo; nothing is kept then.
    """
    if client_id is not None:
        existing = LeadPhoto.objects.filter(upload_token=upload_token, client_id=client_id).first()
        if existing is not None:
            return existing
    count = LeadPhoto.objects.filter(upload_token=upload_token).count()
    if count >= MAX_PHOTOS_PER_LEAD:
        raise _too_many(filename)
    file = _store_file(shop=shop, filename=filename, chunks=chunks)
    return _record(
        shop=shop, upload_token=upload_token, client_id=client_id, file=file, position=count
    )


def photo_uploads_store_many(
    *, shop: Shop, upload_token: str, uploads: list[tuple[str, Iterable[bytes]]]
) -> tuple[list[LeadPhoto], list[str]]:
    """Several photos of one plain form post, checked in parallel.

    The decode check and the hash release the GIL, so the files of one request use every
    core; the database rows are written afterwards from this thread. Returns the stored
    photos and the Russian refusals (one per refused file).
    """
    count = LeadPhoto.objects.filter(upload_token=upload_token).count()
    room = max(MAX_PHOTOS_PER_LEAD - count, 0)
    errors = [_too_many(name).message for name, _chunks in uploads[room:]]
    uploads = uploads[:room]
    workers = min(len(uploads), os.cpu_count() or 1, 4)

    def work(item: tuple[str, Iterable[bytes]]) -> _StoredFile | str:
        try:
            return _store_file(shop=shop, filename=item[0], chunks=item[1])
        except images.ImageRejected as exc:
            return exc.message

    if workers > 1:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            results = list(pool.map(work, uploads))
    else:
        results = [work(item) for item in uploads]
    photos = []
    for result in results:
        if isinstance(result, str):
            errors.append(result)
            continue
        photos.append(
            _record(
                shop=shop,
                upload_token=upload_token,
                client_id=None,
                file=result,
                position=count + len(photos),
            )
        )
    return photos, errors


def _enqueue_processing(photo_id: int) -> None:
    from .tasks import process_photo

    try:
        process_photo.delay(photo_id)
    except Exception as exc:  # broker down: the periodic sweep makes the renditions later
        log.warning("photo %s not queued for processing: %s", photo_id, exc)


def photo_process(photo_id: int) -> LeadPhoto | None:
    """Make the web rendition and the thumbnail. Idempotent: a second run remakes them."""
    photo = LeadPhoto.objects.filter(pk=photo_id).first()
    if photo is None:
        return None
    base = photo.original.name.rsplit(".", 1)[0]
    web_name, thumb_name = f"{base}.web.jpg", f"{base}.thumb.jpg"
    started = time.perf_counter()
    with log_bound(shop=photo.shop_id, lead=photo.lead_id):
        try:
            with (
                storage.local_copy(photo.original.name) as original,
                storage.staged(web_name) as web,
                storage.staged(thumb_name) as thumb,
            ):
                images.make_renditions(original, web_dest=web, thumb_dest=thumb)
        except storage.StorageUnavailable:
            # The bucket is briefly away: the task retries with backoff (and the sweep
            # queues the photo again later); the photo stays "processing", not failed.
            photo_processing_seconds.labels(outcome="retried").observe(
                time.perf_counter() - started
            )
            log.warning("photo %s renditions postponed: storage unavailable", photo_id)
            raise
        except (OSError, images.ImageRejected) as exc:
            photo_processing_seconds.labels(outcome="failed").observe(time.perf_counter() - started)
            log.error("photo %s rendition failed: %s", photo_id, exc)
            LeadPhoto.objects.filter(pk=photo_id).update(state=PhotoState.FAILED)
            return photo
        photo_processing_seconds.labels(outcome="ready").observe(time.perf_counter() - started)
        log.info("photo %s renditions made", photo_id)
    LeadPhoto.objects.filter(pk=photo_id).update(
        web=web_name, thumb=thumb_name, state=PhotoState.READY
    )
    photo.refresh_from_db()
    return photo


def photos_pending_processing(limit: int = 200) -> list[int]:
    """Photos still without renditions two minutes after upload: their task was never
    queued (the broker was down) or its worker died."""
    cutoff = timezone.now() - timezone.timedelta(minutes=2)
    return list(
        LeadPhoto.objects.filter(state=PhotoState.PROCESSING, created_at__lte=cutoff)
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )


def photos_requeue_stuck() -> int:
    """Queue the stuck photos again (processing is idempotent); stops at a broker error."""
    from .tasks import process_photo

    queued = 0
    for photo_id in photos_pending_processing():
        try:
            process_photo.delay(photo_id)
        except Exception as exc:  # the broker is down again: the next sweep tries
            log.warning("stuck photos not queued: %s", exc)
            break
        queued += 1
    return queued


def photos_purge_abandoned(*, older_than_hours: int = 24) -> int:
    """Photos uploaded for a form that was never sent: deleted with their files."""
    cutoff = timezone.now() - timezone.timedelta(hours=older_than_hours)
    removed = 0
    for photo in LeadPhoto.objects.filter(lead__isnull=True, created_at__lt=cutoff):
        photo_delete_files(photo)
        photo.delete()
        removed += 1
    return removed


def photo_delete_files(photo: LeadPhoto) -> None:
    for field in (photo.original, photo.web, photo.thumb):
        if field.name:
            storage.delete(field.name)


def photo_signed_url(photo: LeadPhoto, kind: str, *, max_age_s: int | None = None) -> str:
    """An unguessable link that opens the rendition for 7 days (for e-mails), or for
    `max_age_s` seconds when given (the API's short-lived links)."""
    data: dict = {"p": photo.pk, "k": kind}
    if max_age_s is not None:
        data["e"] = int(time.time()) + max_age_s
    token = signing.dumps(data, salt=LINK_SALT, compress=True)
    return settings.SITE_URL + reverse("leads:photo_signed", args=[token])


def photo_from_signed(token: str) -> tuple[LeadPhoto, str] | None:
    try:
        data = signing.loads(token, salt=LINK_SALT, max_age=LINK_MAX_AGE_SECONDS)
    except signing.BadSignature:
        return None
    if "e" in data and time.time() > data["e"]:
        return None
    photo = LeadPhoto.objects.filter(pk=data.get("p")).first()
    if photo is None or data.get("k") not in ("web", "thumb"):
        return None
    return photo, data["k"]
