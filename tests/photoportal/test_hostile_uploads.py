"""Uploads that try to exhaust the server, through the real views: a hostile corpus on both
upload paths, the per-post file cap, the shared hourly limit and the form token."""

from __future__ import annotations

import html as html_lib
import re
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from autoservice import images
from leads.models import Lead, LeadPhoto, PhotoState
from leads.photos import photo_process
from tests.hostile_files import hostile_corpus, png_file
from tests.photos import jpeg_bytes

pytestmark = pytest.mark.django_db


def _token(client, shop) -> str:
    html = client.get(reverse("photoportal:photo_form", args=[shop.slug])).content.decode()
    return re.search(r'name="form_token" value="([^"]+)"', html).group(1)


def _fields(token: str | None, **overrides) -> dict:
    data = {
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
    if token is not None:
        data["form_token"] = token
    data.update(overrides)
    return data


def _file(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="image/jpeg")


def _as_received(name: str) -> str:
    # Django drops unprintable characters (a right-to-left override, say) from file names.
    return "".join(char for char in name if char.isprintable())


def _assert_every_photo_renders_or_fails_cleanly(photos) -> None:
    # The full decode is the background job's: it must end READY or FAILED, never raise.
    for photo in photos:
        photo_process(photo.pk)
        photo.refresh_from_db()
        assert photo.state in (PhotoState.READY, PhotoState.FAILED), photo.original_name


def test_hostile_corpus_on_the_uploader_answers_below_500_and_names_each_refusal(client, shop):
    corpus = hostile_corpus()
    assert len(corpus) >= 60
    token = _token(client, shop)
    url = reverse("photoportal:photo_upload", args=[shop.slug])
    refused = 0
    refused_names = set()
    for name, content in corpus:
        response = client.post(
            url, {"form_token": token, "client_id": str(uuid.uuid4()), "file": _file(name, content)}
        )
        assert response.status_code < 500, name
        if response.status_code != 201:
            assert response.status_code in (400, 413), name
            assert f"«{_as_received(name)}»" in response.json()["error"], (name, response.json())
            refused += 1
            refused_names.add(name)
            # The per-lead cap of 20 is not what refused it: those are still few.
        if LeadPhoto.objects.filter(upload_token__isnull=False).count() >= 18:
            token = _token(client, shop)  # a new form, so the 20-photo cap never answers
    assert refused >= 50
    # Each of these would cost memory, or be taken as half a photo, if it got through.
    assert {
        "too-little-data.png",
        "no-iend.png",
        "zlib-bomb.png",
        "claims-49mp-16bit-rgba.png",
        "claims-65500x65500.png",
        "claims-65500x65500.jpg",
        "truncated-half.jpg",
        "header-only.jpg",
        "webp-claims-16383x16383.webp",
        "gif-65535-screen.gif",
        "document.jpg",
        "page.jpg",
        "drawing.jpg",
    } <= refused_names
    stored = list(LeadPhoto.objects.all())
    assert {photo.format for photo in stored} <= set(images.ALLOWED_FORMATS) | {"JPEG"}
    _assert_every_photo_renders_or_fails_cleanly(stored)


def test_hostile_corpus_on_the_plain_form_keeps_the_fields_and_names_each_refusal(client, shop):
    corpus = hostile_corpus()
    url = reverse("photoportal:photo_form", args=[shop.slug])
    for start in range(0, len(corpus), 20):
        batch = corpus[start : start + 20]
        token = _token(client, shop)
        data = _fields(token, consent="")  # no consent: nothing may become a lead here
        data["photos"] = [_file(name, content) for name, content in batch]

        response = client.post(url, data)

        assert response.status_code == 400
        page = html_lib.unescape(response.content.decode())
        assert 'value="Solaris"' in page and "Задел столб" in page
        names = [_as_received(name) for name, _content in batch]
        stored = set(
            LeadPhoto.objects.filter(original_name__in=names).values_list(
                "original_name", flat=True
            )
        )
        for name in names:
            assert name in page, name  # either listed as waiting or named in a refusal
            if name not in stored:
                assert re.search(rf"«{re.escape(name)}»", page), name
    assert Lead.objects.count() == 0
    _assert_every_photo_renders_or_fails_cleanly(LeadPhoto.objects.all())


def test_eight_49_megapixel_16_bit_pngs_are_refused_from_the_header(client, shop):
    # Each claims 7000 x 7000 at 16-bit RGBA: 392 MB decoded, over the 160 MiB budget.
    token = _token(client, shop)
    data = _fields(token)
    names = [f"huge-{i}.png" for i in range(8)]
    data["photos"] = [_file(n, png_file(7000, 7000, depth=16, colour=6)) for n in names]

    response = client.post(reverse("photoportal:photo_form", args=[shop.slug]), data)

    assert response.status_code == 400
    page = html_lib.unescape(response.content.decode())
    for name in names:
        assert f"Файл «{name}» слишком тяжёлый для обработки" in page
    assert "373,8 МБ" in page and "160 МБ" in page
    assert LeadPhoto.objects.count() == 0 and Lead.objects.count() == 0
    assert 'value="Иван"' in page


def test_plain_form_takes_at_most_twenty_files_per_post(client, shop):
    token = _token(client, shop)
    data = _fields(token)
    small = jpeg_bytes((64, 48))
    data["photos"] = [_file(f"p{i:02}.jpg", small) for i in range(25)]

    response = client.post(reverse("photoportal:photo_form", args=[shop.slug]), data)

    assert response.status_code == 400
    page = html_lib.unescape(response.content.decode())
    assert LeadPhoto.objects.count() == 20
    for i in range(20, 25):
        assert f"не больше 20 фото за раз: файл «p{i:02}.jpg» не принят" in page
    assert 'value="Иван"' in page and "Задел столб" in page
    assert Lead.objects.count() == 0


def test_more_files_than_django_parses_get_a_russian_page_and_store_nothing(client, shop, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FILES = 30
    token = _token(client, shop)
    data = _fields(token)
    small = jpeg_bytes((32, 24))
    data["photos"] = [_file(f"p{i:03}.jpg", small) for i in range(31)]

    response = client.post(reverse("photoportal:photo_form", args=[shop.slug]), data)

    assert response.status_code == 400
    page = html_lib.unescape(response.content.decode())
    assert "Слишком много файлов в одной отправке (больше 30)" in page
    assert "Назад" in page
    assert LeadPhoto.objects.count() == 0 and Lead.objects.count() == 0


def test_plain_form_drops_an_oversized_file_as_it_arrives(client, shop, settings):
    settings.PHOTO_MAX_BYTES = 20_000
    token = _token(client, shop)
    data = _fields(token)
    data["photos"] = [
        _file("big.jpg", jpeg_bytes((1600, 1200))),
        _file("ok.jpg", jpeg_bytes((64, 48))),
    ]

    response = client.post(reverse("photoportal:photo_form", args=[shop.slug]), data)

    assert response.status_code == 400
    page = html_lib.unescape(response.content.decode())
    assert "Файл «big.jpg» больше 0 МБ" in page or "Файл «big.jpg» больше" in page
    assert list(LeadPhoto.objects.values_list("original_name", flat=True)) == ["ok.jpg"]
    assert 'value="Иван"' in page


def _minutes(text: str) -> int:
    return int(re.search(r"через (\d+) мин\.", text).group(1))


def test_uploader_and_plain_form_share_one_hourly_limit(client, shop, settings):
    settings.PHOTO_UPLOADS_PER_HOUR_PER_ADDRESS = 3
    token = _token(client, shop)
    upload = reverse("photoportal:photo_upload", args=[shop.slug])
    small = jpeg_bytes((64, 48))
    for i in range(2):
        response = client.post(
            upload,
            {
                "form_token": token,
                "client_id": str(uuid.uuid4()),
                "file": _file(f"j{i}.jpg", small),
            },
            REMOTE_ADDR="10.7.7.7",
        )
        assert response.status_code == 201

    data = _fields(token)
    data["photos"] = [_file(f"f{i}.jpg", small) for i in range(3)]
    response = client.post(
        reverse("photoportal:photo_form", args=[shop.slug]), data, REMOTE_ADDR="10.7.7.7"
    )

    assert response.status_code == 429
    page = html_lib.unescape(response.content.decode())
    assert "f0.jpg" in page
    for name in ("f1.jpg", "f2.jpg"):
        assert f"Файл «{name}» не принят: с этого адреса за час загружено слишком много" in page
    assert int(response["Retry-After"]) == _minutes(page) * 60
    assert LeadPhoto.objects.count() == 3
    assert 'value="Иван"' in page and Lead.objects.count() == 0

    response = client.post(
        upload,
        {"form_token": token, "client_id": str(uuid.uuid4()), "file": _file("j9.jpg", small)},
        REMOTE_ADDR="10.7.7.7",
    )
    assert response.status_code == 429
    error = response.json()["error"]
    assert "j9.jpg" in error and "час" not in error.split("через")[1]
    assert int(response["Retry-After"]) == _minutes(error) * 60
    # Another address is not held back.
    response = client.post(
        upload,
        {"form_token": token, "client_id": str(uuid.uuid4()), "file": _file("w.jpg", small)},
        REMOTE_ADDR="10.7.7.8",
    )
    assert response.status_code == 201


@pytest.mark.parametrize("token", [None, "", "bogus-token", "eyJzIjoxfQ:1abc:forged"])
def test_photo_form_without_a_valid_token_makes_no_lead_and_keeps_the_input(client, shop, token):
    url = reverse("photoportal:photo_form", args=[shop.slug])
    data = _fields(token)
    data["photos"] = [_file("front.jpg", jpeg_bytes((64, 48)))]

    first = client.post(url, data)
    data["photos"] = [_file("front.jpg", jpeg_bytes((64, 48)))]
    second = client.post(url, data)

    assert Lead.objects.count() == 0
    for response in (first, second):
        assert response.status_code == 400
        page = html_lib.unescape(response.content.decode())
        assert "Форма устарела" in page
        assert 'value="Иван"' in page and 'value="Solaris"' in page and "Задел столб" in page
        assert "front.jpg" in page  # the photo waits under the new token
        new_token = re.search(r'name="form_token" value="([^"]+)"', page).group(1)
        assert new_token != token
    # The page's new token sends it, once.
    page = first.content.decode()
    new_token = re.search(r'name="form_token" value="([^"]+)"', page).group(1)
    assert client.post(url, _fields(new_token)).status_code == 302
    assert Lead.objects.count() == 1 and Lead.objects.get().photos.count() == 1
