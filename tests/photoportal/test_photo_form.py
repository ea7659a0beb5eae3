"""The driver's photo request, as a phone without JavaScript and with the uploader's calls."""

from __future__ import annotations

import hashlib
import io
import re
import uuid

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from autoservice.models import ConsentRecord
from leads.models import Lead, LeadPhoto
from leads.services import DRIVER_LEADS_PER_HOUR_PER_ADDRESS
from tests.factories import driver_requests_sent
from tests.photos import jpeg_bytes, png_bytes


def _token(client, shop) -> str:
    html = client.get(reverse("photoportal:photo_form", args=[shop.slug])).content.decode()
    return re.search(r'name="form_token" value="([^"]+)"', html).group(1)


def _fields(token: str, **overrides) -> dict:
    data = {
        "form_token": token,
        "description": "Задел столб, вмятина на задней двери",
        "vehicle_make": "Hyundai",
        "vehicle_model": "Solaris",
        "vehicle_year": "2019",
        "plate": "a123bc77",
        "customer_name": "Иван",
        "phone": "8 (912) 345-67-89",
        "email": "",
        "preferred_contact": "whatsapp",
        "consent": "on",
    }
    data.update(overrides)
    return data


def _file(name: str, content: bytes, content_type: str = "image/jpeg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


def test_driver_sends_photos_without_javascript_and_gets_a_number(client, shop):
    token = _token(client, shop)
    data = _fields(token)
    data["photos"] = [
        _file("front.jpg", jpeg_bytes(gps=True, orientation=6)),
        _file("side.png", png_bytes(), "image/png"),
    ]
    response = client.post(
        reverse("photoportal:photo_form", args=[shop.slug]), data, REMOTE_ADDR="10.1.2.3"
    )
    assert response.status_code == 302
    lead = Lead.objects.get(shop=shop)
    assert response["Location"] == reverse(
        "photoportal:photo_sent", args=[shop.slug, lead.public_token]
    )
    assert lead.phone == "+79123456789"
    assert lead.plate == "А123ВС77"
    assert lead.preferred_contact == "whatsapp"
    assert lead.channel == "photo"
    assert lead.photos.count() == 2
    consent = lead.consent
    assert consent.ip_address == "10.1.2.3"
    assert consent.text.version >= 1
    thanks = client.get(response["Location"]).content.decode()
    assert f"Заявка №{lead.number} отправлена" in thanks
    assert shop.phone in thanks


def test_renditions_are_rotated_and_carry_no_gps(
    client, shop, settings, django_capture_on_commit_callbacks
):
    token = _token(client, shop)
    data = _fields(token)
    data["photos"] = [_file("gps.jpg", jpeg_bytes((1200, 900), gps=True, orientation=6))]
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("photoportal:photo_form", args=[shop.slug]), data)
    photo = LeadPhoto.objects.get()
    assert photo.state == "ready"  # tasks run inline in tests
    for field in (photo.web, photo.thumb):
        with default_storage.open(field.name, "rb") as handle:
            raw = handle.read()
        assert b"Exif" not in raw and b"GPS" not in raw
        with Image.open(io.BytesIO(raw)) as image:
            assert image.height > image.width  # orientation 6 applied
            assert not image.getexif()
    with default_storage.open(photo.original.name, "rb") as handle:
        original = handle.read()
    assert hashlib.sha256(original).hexdigest() == photo.sha256


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("empty.jpg", b"", "empty.jpg"),
        ("text.jpg", "просто текст, не фото".encode(), "text.jpg"),
        ("doc.jpg", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n", "doc.jpg"),
        ("half.jpg", jpeg_bytes()[:4000], "half.jpg"),
    ],
)
def test_bad_file_is_refused_by_name_and_nothing_else_is_lost(
    client, shop, name, content, expected
):
    token = _token(client, shop)
    data = _fields(token)
    data["photos"] = [_file(name, content)]
    response = client.post(reverse("photoportal:photo_form", args=[shop.slug]), data)
    assert response.status_code == 400
    html = response.content.decode()
    assert expected in html
    assert 'value="Solaris"' in html and "Задел столб" in html and 'value="Иван"' in html
    assert Lead.objects.count() == 0
    assert ConsentRecord.objects.count() == 0


def test_a_bad_field_keeps_the_photos_already_sent(client, shop):
    token = _token(client, shop)
    data = _fields(token, phone="12345")
    data["photos"] = [_file("ok.jpg", jpeg_bytes())]
    response = client.post(reverse("photoportal:photo_form", args=[shop.slug]), data)
    assert response.status_code == 400
    html = response.content.decode()
    assert "Проверьте номер" in html
    assert "ok.jpg" in html  # the stored photo is listed; the driver does not pick it again
    assert Lead.objects.count() == 0
    # Fix the phone and send again without files: the stored photo goes with the lead.
    response = client.post(reverse("photoportal:photo_form", args=[shop.slug]), _fields(token))
    assert response.status_code == 302
    assert Lead.objects.get().photos.count() == 1


def test_no_photo_and_no_consent_are_explained(client, shop):
    token = _token(client, shop)
    data = _fields(token)
    data.pop("consent")
    html = client.post(reverse("photoportal:photo_form", args=[shop.slug]), data).content.decode()
    assert "хотя бы одно фото" in html
    assert "Без согласия" in html


def test_double_submit_creates_one_lead(client, shop):
    token = _token(client, shop)
    data = _fields(token)
    data["photos"] = [_file("a.jpg", jpeg_bytes())]
    first = client.post(reverse("photoportal:photo_form", args=[shop.slug]), data)
    second = client.post(reverse("photoportal:photo_form", args=[shop.slug]), _fields(token))
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert Lead.objects.count() == 1
    assert ConsentRecord.objects.count() == 1


def test_too_many_requests_from_one_address_wait_with_429_and_keep_the_form(client, shop):
    driver_requests_sent(shop, DRIVER_LEADS_PER_HOUR_PER_ADDRESS, ip="10.1.2.3", minutes_ago=20)
    url = reverse("photoportal:photo_form", args=[shop.slug])
    token = _token(client, shop)
    data = _fields(token)
    data["photos"] = [_file("front.jpg", jpeg_bytes())]

    response = client.post(url, data, REMOTE_ADDR="10.1.2.3")

    assert response.status_code == 429
    # The oldest of those requests leaves the hour in 40 minutes: the text and the header
    # name the same moment.
    assert response["Retry-After"] == str(40 * 60)
    html = response.content.decode()
    assert "Новую можно отправить через 40 мин." in html
    assert shop.phone in html
    assert 'value="Solaris"' in html and "Задел столб" in html and 'value="Иван"' in html
    assert "front.jpg" in html  # the photo is kept for the next try
    assert Lead.objects.filter(shop=shop).count() == DRIVER_LEADS_PER_HOUR_PER_ADDRESS
    assert ConsentRecord.objects.filter(shop=shop).count() == DRIVER_LEADS_PER_HOUR_PER_ADDRESS
    # The same form from another address (the driver switched to Wi-Fi) goes through.
    response = client.post(url, _fields(token), REMOTE_ADDR="10.1.2.4")
    assert response.status_code == 302
    assert Lead.objects.get(shop=shop, phone="+79123456789").photos.count() == 1


def test_uploader_endpoint_is_idempotent_per_client_id(client, shop):
    token = _token(client, shop)
    url = reverse("photoportal:photo_upload", args=[shop.slug])
    client_id = str(uuid.uuid4())
    payload = {"form_token": token, "client_id": client_id}
    first = client.post(url, {**payload, "file": _file("a.jpg", jpeg_bytes())})
    again = client.post(url, {**payload, "file": _file("a.jpg", jpeg_bytes())})
    assert first.status_code == 201 and again.status_code == 200
    assert first.json()["id"] == again.json()["id"]
    assert LeadPhoto.objects.count() == 1
    response = client.post(reverse("photoportal:photo_form", args=[shop.slug]), _fields(token))
    assert response.status_code == 302
    assert Lead.objects.get().photos.count() == 1


def test_uploader_refusal_is_json_in_russian(client, shop):
    token = _token(client, shop)
    response = client.post(
        reverse("photoportal:photo_upload", args=[shop.slug]),
        {"form_token": token, "client_id": str(uuid.uuid4()), "file": _file("x.jpg", b"nope")},
    )
    assert response.status_code == 400
    assert "x.jpg" in response.json()["error"]


def test_uploader_with_a_forged_token_is_refused(client, shop, other_shop):
    token = _token(client, other_shop)  # a real token, but of another shop
    response = client.post(
        reverse("photoportal:photo_upload", args=[shop.slug]),
        {"form_token": token, "client_id": str(uuid.uuid4()), "file": _file("a.jpg", jpeg_bytes())},
    )
    assert response.status_code == 403
    assert LeadPhoto.objects.count() == 0


def test_driver_removes_an_uploaded_photo(client, shop):
    token = _token(client, shop)
    client_id = str(uuid.uuid4())
    client.post(
        reverse("photoportal:photo_upload", args=[shop.slug]),
        {"form_token": token, "client_id": client_id, "file": _file("a.jpg", jpeg_bytes())},
    )
    response = client.post(
        reverse("photoportal:photo_upload_delete", args=[shop.slug, client_id]),
        {"form_token": token},
    )
    assert response.json() == {"deleted": True}
    assert LeadPhoto.objects.count() == 0


def test_twenty_one_photos_are_too_many(client, shop, settings):
    token = _token(client, shop)
    small = jpeg_bytes((64, 48))
    url = reverse("photoportal:photo_upload", args=[shop.slug])
    for _ in range(20):
        client.post(
            url,
            {"form_token": token, "client_id": str(uuid.uuid4()), "file": _file("p.jpg", small)},
        )
    response = client.post(
        url, {"form_token": token, "client_id": str(uuid.uuid4()), "file": _file("p21.jpg", small)}
    )
    assert response.status_code == 400
    assert "20" in response.json()["error"]


def test_oversize_photo_is_refused_with_the_limit(client, shop, settings):
    settings.PHOTO_MAX_BYTES = 10_000
    token = _token(client, shop)
    response = client.post(
        reverse("photoportal:photo_upload", args=[shop.slug]),
        {
            "form_token": token,
            "client_id": str(uuid.uuid4()),
            "file": _file("big.jpg", jpeg_bytes()),
        },
    )
    assert response.status_code == 413
    assert "big.jpg" in response.json()["error"]


def test_form_is_framed_only_by_the_shops_sites(client, shop):
    url = reverse("photoportal:photo_form", args=[shop.slug])
    response = client.get(url)
    assert response["Content-Security-Policy"] == "frame-ancestors 'self'"
    assert response["X-Frame-Options"] == "SAMEORIGIN"
    shop.embed_origins = "https://mysto.ru\nhttps://www.mysto.ru"
    shop.save()
    response = client.get(url)
    assert response["Content-Security-Policy"] == (
        "frame-ancestors 'self' https://mysto.ru https://www.mysto.ru"
    )
    assert "X-Frame-Options" not in response


def test_thank_you_page_of_another_shop_is_404(client, shop, other_shop):
    from tests.factories import LeadFactory

    lead = LeadFactory(shop=other_shop)
    assert (
        client.get(
            reverse("photoportal:photo_sent", args=[shop.slug, lead.public_token])
        ).status_code
        == 404
    )


def test_a_request_sent_from_the_shops_website_is_marked_as_such(client, shop):
    """The form in a frame on the shop's own site (the browser says Sec-Fetch-Dest: iframe):
    the timeline says so, and the analytics count it as the embedded form, not as «фото»."""
    from analytics.models import LeadFact, Source
    from analytics.services import facts_refresh

    url = reverse("photoportal:photo_form", args=[shop.slug])
    framed = _fields(_token(client, shop))
    framed["photos"] = [_file("front.jpg", jpeg_bytes())]
    client.post(url, framed, HTTP_SEC_FETCH_DEST="iframe")
    plain = _fields(_token(client, shop), phone="8 (912) 345-67-00")
    plain["photos"] = [_file("side.jpg", jpeg_bytes())]
    client.post(url, plain, HTTP_SEC_FETCH_DEST="document")
    framed_lead, plain_lead = Lead.objects.filter(shop=shop).order_by("number")
    created = framed_lead.events.get(kind="created")
    assert created.data.get("embedded") is True
    assert "с сайта автосервиса" in created.text
    assert "embedded" not in plain_lead.events.get(kind="created").data
    facts_refresh(shop=shop)
    sources = dict(LeadFact.objects.filter(shop=shop).values_list("lead_id", "source"))
    assert sources == {framed_lead.pk: Source.EMBEDDED, plain_lead.pk: "photo"}
