"""Object storage (STORAGE=s3) against a real S3 API on loopback: moto in server mode (see
tests/s3.py). Every test here runs in any suite run (`make test` too): the `s3` fixture gives
it a bucket of its own.

The answers the code relies on are S3's documented ones (Amazon S3 API Reference, the same
protocol Yandex Object Storage, VK Cloud and Selectel implement): PutObject/GetObject for the
files, ListObjectsV2 (`Contents[].Key`) to see what a bucket holds, GetObjectAcl (`Grants[]`)
for who may read it, an anonymous GetObject on a private object answered "403 Access Denied",
and presigned GET URLs (query authentication: `X-Amz-Expires`, `X-Amz-Signature`, and the
`response-content-type` / `response-cache-control` overrides of the answer's headers).
"""

from __future__ import annotations

import re
import urllib.error
import urllib.request
import uuid
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from autoservice import personal_data, storage
from intake.models import IntakeShot
from leads import photos as lead_photos
from leads.models import Lead, LeadPhoto
from leads.tasks import process_photo
from tests.factories import IntakeRecordFactory, LeadFactory, LeadPhotoFactory, MembershipFactory
from tests.photos import jpeg_bytes
from tests.s3 import bucket_objects, files_under, refused_endpoint, s3_storages, served_file

PHONE_TYPED = "8 (912) 345-67-89"


def _token(client, shop) -> str:
    html = client.get(reverse("photoportal:photo_form", args=[shop.slug])).content.decode()
    return re.search(r'name="form_token" value="([^"]+)"', html).group(1)


def _form(token: str) -> dict:
    return {
        "form_token": token,
        "description": "Задел столб, вмятина на задней двери",
        "vehicle_make": "Hyundai",
        "vehicle_model": "Solaris",
        "vehicle_year": "2019",
        "plate": "a123bc77",
        "customer_name": "Иван Петров",
        "phone": PHONE_TYPED,
        "email": "",
        "preferred_contact": "whatsapp",
        "consent": "on",
    }


def _photo(name: str = "door.jpg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, jpeg_bytes((1200, 900), gps=True), content_type="image/jpeg")


def _bucket_away(settings, bucket: str) -> None:
    """The bucket's service stops answering: every connection is refused."""
    settings.STORAGES = s3_storages(settings, bucket, endpoint_url=refused_endpoint())


def _bucket_back(settings, bucket: str) -> None:
    settings.STORAGES = s3_storages(settings, bucket)


def test_driver_photos_go_to_the_private_bucket_and_nothing_to_media_root(
    s3, client, shop, settings, tmp_path, django_capture_on_commit_callbacks
):
    data = _form(_token(client, shop))
    data["photos"] = [_photo()]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("photoportal:photo_form", args=[shop.slug]), data)

    assert response.status_code == 302
    photo = LeadPhoto.objects.get(lead__shop=shop)
    assert photo.state == "ready"
    assert sorted(bucket_objects(s3)) == sorted(
        [photo.original.name, photo.web.name, photo.thumb.name]
    )
    assert storage.sha256(photo.original.name)[0] == photo.sha256
    assert files_under(tmp_path / "media") == []
    # Private: only the owner is granted anything, and an anonymous GET is refused.
    client_s3 = default_storage.connection.meta.client
    grants = client_s3.get_object_acl(Bucket=s3, Key=photo.web.name)["Grants"]
    assert [grant["Permission"] for grant in grants] == ["FULL_CONTROL"]
    assert all(grant["Grantee"]["Type"] == "CanonicalUser" for grant in grants)
    endpoint = settings.STORAGES["default"]["OPTIONS"]["endpoint_url"]
    with pytest.raises(urllib.error.HTTPError) as anonymous:
        urllib.request.urlopen(f"{endpoint}/{s3}/{photo.web.name}", timeout=10)  # noqa: S310
    assert anonymous.value.code == 403


def test_staff_get_a_redirect_to_a_short_lived_link_and_other_shops_a_404(
    s3, client, advisor_client, shop, settings
):
    photo = LeadPhotoFactory(lead=LeadFactory(shop=shop))
    url = reverse("leads:lead_photo", args=[photo.lead_id, photo.pk, "web"])

    response = advisor_client.get(url)

    assert response.status_code == 302
    assert response["Cache-Control"] == "private, no-store"
    link = urlsplit(response["Location"])
    query = parse_qs(link.query)
    assert query["X-Amz-Expires"] == [str(settings.MEDIA_PRESIGNED_SECONDS)] == ["300"]
    assert "X-Amz-Signature" in query
    assert link.path == f"/{s3}/{photo.web.name}"
    content, headers = served_file(response)
    with default_storage.open(photo.web.name, "rb") as stored:
        assert content == stored.read()
    assert headers["content-type"] == "image/jpeg"
    assert headers["cache-control"].startswith("private")
    # Another shop's advisor learns nothing, not even a link.
    stranger = MembershipFactory()
    client.force_login(stranger.user)
    assert client.get(url).status_code == 404


def test_bucket_away_refuses_the_photo_in_russian_keeps_the_form_and_writes_nothing(
    s3, client, shop, settings, django_capture_on_commit_callbacks
):
    token = _token(client, shop)
    _bucket_away(settings, s3)
    data = _form(token)
    data["photos"] = [_photo("door.jpg")]

    response = client.post(reverse("photoportal:photo_form", args=[shop.slug]), data)

    assert response.status_code == 400
    html = response.content.decode()
    assert "Фото «door.jpg» не сохранено: хранилище временно недоступно" in html
    assert 'value="Иван Петров"' in html and "Задел столб" in html
    assert LeadPhoto.objects.count() == 0 and Lead.objects.count() == 0

    # The service is back: the same form, sent again, goes through whole.
    _bucket_back(settings, s3)
    token = re.search(r'name="form_token" value="([^"]+)"', html).group(1)
    data = _form(token)
    data["photos"] = [_photo("door.jpg")]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("photoportal:photo_form", args=[shop.slug]), data)
    assert response.status_code == 302
    photo = LeadPhoto.objects.get()
    assert photo.lead.customer_name == "Иван Петров" and photo.state == "ready"
    assert photo.original.name in bucket_objects(s3)


def test_uploader_hears_503_with_retry_after_while_the_bucket_is_away(s3, client, shop, settings):
    token = _token(client, shop)
    url = reverse("photoportal:photo_upload", args=[shop.slug])
    client_id = str(uuid.uuid4())
    _bucket_away(settings, s3)

    response = client.post(url, {"form_token": token, "client_id": client_id, "file": _photo()})

    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert "хранилище временно недоступно" in response.json()["error"]
    assert LeadPhoto.objects.count() == 0

    _bucket_back(settings, s3)
    again = client.post(url, {"form_token": token, "client_id": client_id, "file": _photo()})
    assert again.status_code == 201
    assert LeadPhoto.objects.get().original.name in bucket_objects(s3)


def test_renditions_wait_for_the_bucket_and_are_made_when_it_is_back(s3, shop, settings):
    photo = lead_photos.photo_upload_store(
        shop=shop,
        upload_token="t-1",
        client_id=uuid.uuid4(),
        filename="door.jpg",
        chunks=[jpeg_bytes((1200, 900))],
    )
    assert bucket_objects(s3) == [photo.original.name]
    _bucket_away(settings, s3)

    # The task retries on it (Celery autoretry with backoff), and the photo stays
    # "processing" for the sweep, never "failed".
    assert issubclass(storage.StorageUnavailable, process_photo.autoretry_for)
    with pytest.raises(storage.StorageUnavailable):
        lead_photos.photo_process(photo.pk)
    photo.refresh_from_db()
    assert photo.state == "processing" and not photo.web.name
    assert bucket_objects(s3) == [photo.original.name]

    _bucket_back(settings, s3)
    process_photo.apply(args=[photo.pk]).get()
    photo.refresh_from_db()
    assert photo.state == "ready"
    assert sorted(bucket_objects(s3)) == sorted(
        [photo.original.name, photo.web.name, photo.thumb.name]
    )


def test_intake_shot_with_the_bucket_away_is_refused_and_leaves_no_row(
    s3, advisor_client, advisor, settings
):
    record = IntakeRecordFactory(shop=advisor.shop)
    spec = record.template.specs.get(code="front")
    url = reverse("intake:intake_shot_upload", args=[record.pk])
    shot = {"spec": spec.pk, "client_id": str(uuid.uuid4())}
    _bucket_away(settings, s3)

    response = advisor_client.post(
        url,
        {**shot, "file": SimpleUploadedFile("front.jpg", jpeg_bytes((1600, 1200)))},
        headers={"Accept": "application/json"},
    )

    assert response.status_code == 503
    assert "хранилище временно недоступно" in response.json()["error"]
    assert IntakeShot.objects.count() == 0

    _bucket_back(settings, s3)
    response = advisor_client.post(
        url,
        {**shot, "file": SimpleUploadedFile("front.jpg", jpeg_bytes((1600, 1200)))},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 201
    stored = IntakeShot.objects.get()
    assert sorted(bucket_objects(s3)) == sorted(
        [stored.file.name, stored.web.name, stored.thumb.name]
    )


def test_signing_with_the_bucket_away_is_refused_and_nothing_is_sealed(s3, advisor, settings):
    from django.core.exceptions import ValidationError

    from intake import services
    from tests.intake.test_sealing import signature_data_url

    record = IntakeRecordFactory(shop=advisor.shop)
    for spec in record.template.specs.filter(required=True):
        services.shot_skip(record=record, spec=spec, reason="Машина у стены, кадр не снять")
    signatures = {
        "customer_signature": signature_data_url(1),
        "advisor_signature": signature_data_url(2),
    }
    _bucket_away(settings, s3)

    with pytest.raises(ValidationError) as refused:
        services.record_sign_and_seal(record=record, by=advisor, **signatures)

    assert "Подписи не сохранены: хранилище временно недоступно" in refused.value.messages[0]
    record.refresh_from_db()
    assert not record.is_sealed and not record.customer_signature.name

    _bucket_back(settings, s3)
    sealed = services.record_sign_and_seal(record=record, by=advisor, **signatures)
    assert sealed.is_sealed
    assert {sealed.customer_signature.name, sealed.advisor_signature.name} <= set(
        bucket_objects(s3)
    )


def test_erasure_deletes_the_subjects_files_from_the_bucket(s3, shop, manager):
    theirs = LeadPhotoFactory(lead=LeadFactory(shop=shop, phone="+79123456789"))
    kept = LeadPhotoFactory(lead=LeadFactory(shop=shop, phone="+79035550000"))
    names = [theirs.original.name, theirs.web.name, theirs.thumb.name]
    assert set(names) <= set(bucket_objects(s3))

    act = personal_data.subject_erase(
        shop=shop, phones=frozenset({"+79123456789"}), emails=frozenset(), by=manager.user
    )

    assert act is not None
    left = set(bucket_objects(s3))
    assert not set(names) & left
    assert {kept.original.name, kept.web.name, kept.thumb.name} <= left


def test_local_storage_behind_nginx_answers_x_accel_redirect(
    advisor_client, shop, settings, tmp_path
):
    settings.STORAGE = "local"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "nginx-media")},
        },
    }
    settings.MEDIA_X_ACCEL_PREFIX = "/protected-media/"
    photo = LeadPhotoFactory(lead=LeadFactory(shop=shop))

    response = advisor_client.get(
        reverse("leads:lead_photo", args=[photo.lead_id, photo.pk, "thumb"])
    )

    assert response.status_code == 200
    assert response["X-Accel-Redirect"] == f"/protected-media/{photo.thumb.name}"
    assert response["Content-Type"] == "image/jpeg"
    assert response["Cache-Control"].startswith("private")
    assert response.content == b""
