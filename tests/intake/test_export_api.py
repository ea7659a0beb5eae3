"""The record's ZIP archive (streamed), the staff download, and the CRM's token API."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import io
import json
import zipfile

import pytest
from django.conf import settings
from django.core.files.storage import default_storage
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from autoservice.apitokens import token_create
from intake import export, sealing, services
from intake.models import IntakeRecord
from tests.factories import MembershipFactory
from tests.intake.test_sealing import new_record, sealed_record, shoot_required


@pytest.fixture
def record(shop, advisor) -> IntakeRecord:
    return sealed_record(shop, advisor)


def _unzip(chunks) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(b"".join(chunks)))


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- the archive ----------------------------------------------------------------------------


def test_zip_holds_every_original_the_signatures_the_manifest_the_data_and_the_act(record):
    archive = _unzip(export.record_zip_stream(record))

    names = archive.namelist()
    shot_names = sorted(n for n in names if n.startswith("shots/"))
    assert shot_names[:3] == [
        "shots/01-front_left_45-1.jpg",
        "shots/02-front_right_45-1.jpg",
        "shots/03-rear_left_45-1.jpg",
    ]
    assert len(shot_names) == 17
    assert {"signatures/customer.png", "signatures/advisor.png"} <= set(names)
    assert {"manifest.json", "record.json", "README.txt"} <= set(names)
    assert archive.read("act.pdf").startswith(b"%PDF")
    assert archive.testzip() is None  # every CRC checks out
    assert archive.getinfo(shot_names[0]).compress_type == zipfile.ZIP_STORED
    assert archive.getinfo("record.json").compress_type == zipfile.ZIP_DEFLATED


def test_each_file_in_the_zip_hashes_to_its_sealed_sha256(record):
    archive = _unzip(export.record_zip_stream(record))
    manifest = json.loads(archive.read("manifest.json"))

    sealed = {shot["sha256"] for shot in manifest["manifest"]["shots"]}
    for shot in record.shots.select_related("spec"):
        name = next(n for n, h in manifest["files"].items() if h == shot.sha256)
        assert name.startswith(f"shots/{shot.spec.position:02d}-{shot.spec.code}-")
        assert _sha256(archive.read(name)) == shot.sha256
    assert {_sha256(archive.read(n)) for n in archive.namelist() if n.startswith("shots/")} == (
        sealed
    )
    for who in ("customer", "advisor"):
        data = archive.read(f"signatures/{who}.png")
        assert _sha256(data) == manifest["manifest"]["signatures"][who]
    assert manifest["missing_files"] == []


def test_manifest_json_carries_the_seal_and_rehashes_to_it(record):
    manifest = json.loads(_unzip(export.record_zip_stream(record)).read("manifest.json"))

    assert manifest["sealed"] is True
    assert manifest["manifest"] == record.manifest
    assert manifest["seal_index"] == 1
    assert manifest["previous_seal"] == sealing.GENESIS
    assert manifest["manifest_sha256"] == record.manifest_sha256
    assert sealing.sha256_bytes(sealing.canonical(manifest["manifest"])) == record.manifest_sha256
    assert manifest["seal_kind"] == "hmac-sha256"
    key = dict(settings.INTAKE_SEAL_KEYS)[manifest["seal_key_id"]].encode()
    assert (
        manifest["seal_sha256"]
        == record.seal_sha256
        == hmac.new(
            key,
            "|".join(
                [
                    "hmac-sha256",
                    manifest["seal_key_id"],
                    manifest["previous_seal"],
                    manifest["manifest_sha256"],
                ]
            ).encode(),
            hashlib.sha256,
        ).hexdigest()
    )


def test_zip_of_an_unsealed_record_has_the_current_manifest_and_no_seal(shop, advisor):
    record = new_record(shop, advisor, family="service")
    shoot_required(record)

    archive = _unzip(export.record_zip_stream(record))

    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["sealed"] is False
    assert manifest["seal_sha256"] is None and manifest["seal_index"] is None
    assert [s["spec"] for s in manifest["manifest"]["shots"]] == [
        "front_left_45",
        "rear_right_45",
        "odometer",
    ]
    assert not any(n.startswith("signatures/") for n in archive.namelist())
    assert json.loads(archive.read("record.json"))["sealed"] is False


def test_zip_streams_in_chunks_of_about_64_kb(record):
    chunks = list(export.record_zip_stream(record))

    assert len(chunks) > 17
    assert max(len(chunk) for chunk in chunks) <= export.CHUNK_BYTES + 1024
    assert all(chunks)


def test_a_photo_missing_on_disk_is_listed_and_the_rest_is_exported(record):
    shot = record.shots.get(spec__code="boot")
    default_storage.delete(shot.file.name)

    archive = _unzip(export.record_zip_stream(record))

    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["missing_files"] == ["shots/14-boot-1.jpg"]
    assert len([n for n in archive.namelist() if n.startswith("shots/")]) == 16


# --- the staff download ---------------------------------------------------------------------


def _download(client, membership, record_id):
    client.force_login(membership.user)
    return client.get(reverse("intake:intake_export", args=[record_id]))


def test_advisor_downloads_the_zip_as_an_attachment(client, advisor, record):
    response = _download(client, advisor, record.pk)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"] == f'attachment; filename="akt-{record.number}.zip"'
    archive = _unzip(response.streaming_content)
    assert "manifest.json" in archive.namelist()


def test_anonymous_visitor_is_sent_to_log_in(client, record):
    response = client.get(reverse("intake:intake_export", args=[record.pk]))

    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_advisor_of_other_shop_gets_404(client, other_shop, record):
    response = _download(client, MembershipFactory(shop=other_shop), record.pk)

    assert response.status_code == 404


# --- the API --------------------------------------------------------------------------------


@pytest.fixture
def api(client, shop):
    _token, raw = token_create(shop=shop, name="CRM")

    def get(url, **params):
        return client.get(url, params, HTTP_AUTHORIZATION=f"Bearer {raw}")

    return get


def _list_url() -> str:
    return reverse("intake:api_intake_records")


def _record_url(record_id: int) -> str:
    return reverse("intake:api_intake_record", args=[record_id])


def test_api_lives_under_api_v1():
    assert _list_url() == "/api/v1/intake/"
    assert _record_url(7) == "/api/v1/intake/7/"


@pytest.mark.parametrize("header", [None, "Bearer sto_wrong", "Token abc"])
def test_api_without_a_valid_token_is_401_with_www_authenticate(client, shop, header):
    extra = {"HTTP_AUTHORIZATION": header} if header else {}
    record = new_record(shop, MembershipFactory(shop=shop), family="service")

    for url in (_list_url(), _record_url(record.pk)):
        response = client.get(url, **extra)
        assert response.status_code == 401
        assert response["WWW-Authenticate"] == "Bearer"
        assert "токен" in response.json()["error"]


def test_api_token_of_another_shop_sees_no_record_of_this_shop(client, other_shop, record):
    _token, raw = token_create(shop=other_shop, name="чужая CRM")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}

    listing = client.get(_list_url(), **auth)
    one = client.get(_record_url(record.pk), **auth)

    assert listing.status_code == 200 and listing.json()["results"] == []
    assert one.status_code == 404
    assert one.json() == {"error": f"Акт с id {record.pk} не найден в вашем автосервисе."}
    assert one["Content-Type"] == "application/json"


def test_api_unknown_record_is_404_json(api, shop):
    response = api(_record_url(999999))

    assert response.status_code == 404
    assert "не найден" in response.json()["error"]


def test_api_record_has_the_crm_fields(api, record, advisor):
    services.addendum_add(record=record, by=advisor, text="Скол на лобовом стекле")
    handover = services.return_create(record=record, by=advisor)

    data = api(_record_url(record.pk)).json()

    assert data["id"] == record.pk and data["number"] == record.number
    assert data["kind"] == "intake"
    assert (data["plate"], data["vin"], data["make"], data["model"], data["year"]) == (
        "А123ВС777",
        "XW8ZZZ61ZJG000001",
        "Kia",
        "Rio",
        2018,
    )
    assert data["customer"] == {
        "name": "Сергей Иванов",
        "phone": "+79161234567",
        "email": "ivanov@example.ru",
    }
    assert data["odometer_km"] == 45210 and data["fuel_level"] == 4
    assert data["warning_lamps"] == ["check_engine"]
    assert data["belongings"] == "Детское кресло"
    assert data["complaint"] == "Вмятина на задней левой двери"
    assert data["damages"] == [{"part": "door_rear_left", "kind": "dent", "size": "2"}]
    assert data["sealed"] is True
    assert data["seal_sha256"] == record.seal_sha256
    assert data["manifest_sha256"] == record.manifest_sha256
    assert data["template"] == {"name": "Приёмка на кузовной ремонт", "version": 1}
    assert len(data["shots"]) == 17
    first = data["shots"][0]
    assert set(first) == {
        "spec",
        "name",
        "sha256",
        "received_at",
        "captured_at",
        "accepted",
        "width",
        "height",
        "damage_part",
    }
    assert (first["spec"], first["name"]) == ("front_left_45", "Перед слева под 45°")
    assert (first["width"], first["height"], first["accepted"]) == (1280, 720, True)
    assert data["skips"] == [{"spec": "roof", "reason": "Нет стремянки"}]
    assert [a["text"] for a in data["addenda"]] == ["Скол на лобовом стекле"]
    assert len(data["addenda"][0]["sha256"]) == 64
    assert data["return_record"] == handover.pk and data["return_of"] is None
    for moment in (data["created_at"], data["sealed_at"], first["received_at"]):
        parsed = dt.datetime.fromisoformat(moment)
        assert parsed.utcoffset() is not None  # ISO 8601 with the shop's offset
    assert data["sealed_at"].endswith("+03:00")  # the shop's zone, Moscow


def test_api_never_shows_file_paths_or_the_customers_private_link(api, record):
    body = api(_record_url(record.pk)).content.decode()
    listing = api(_list_url()).content.decode()

    for text in (body, listing):
        assert "intake/" not in text  # storage names look like intake/<shop>/<record>/...
        assert ".jpg" not in text and ".png" not in text
        assert record.public_token not in text
        assert str(record.shots.first().client_id) not in text


def test_api_lists_newest_first_and_pages_with_after(api, shop, advisor):
    ids = [new_record(shop, advisor, family="service").pk for _ in range(5)]

    first = api(_list_url(), limit=2).json()
    second = api(_list_url(), limit=2, after=first["next_after"]).json()
    third = api(_list_url(), limit=2, after=second["next_after"]).json()

    assert [r["id"] for r in first["results"]] == ids[::-1][:2]
    assert [r["id"] for r in second["results"]] == ids[::-1][2:4]
    assert [r["id"] for r in third["results"]] == ids[::-1][4:]
    assert (first["has_more"], second["has_more"], third["has_more"]) == (True, True, False)
    assert third["next_after"] is None and third["next"] is None
    assert first["next"].endswith(f"/api/v1/intake/?limit=2&after={ids[3]}")


def test_api_limit_defaults_to_50_and_is_capped_at_200(api, shop, advisor):
    template = services.current_templates(shop)[0]
    IntakeRecord.objects.bulk_create(
        IntakeRecord(shop=shop, number=n, template=template, customer_name="К", customer_phone="+7")
        for n in range(1, 206)
    )

    assert len(api(_list_url()).json()["results"]) == 50
    assert len(api(_list_url(), limit=1000).json()["results"]) == 200


@pytest.mark.parametrize(
    ("params", "word"),
    [
        ({"limit": "0"}, "limit"),
        ({"limit": "abc"}, "limit"),
        ({"after": "-1"}, "after"),
        ({"sealed": "yes"}, "sealed"),
        ({"updated_since": "вчера"}, "updated_since"),
    ],
)
def test_api_explains_a_bad_parameter_with_400(api, params, word):
    response = api(_list_url(), **params)

    assert response.status_code == 400
    assert word in response.json()["error"]


def test_api_filters_sealed_records(api, shop, advisor, record):
    draft = new_record(shop, advisor, family="service")

    assert [r["id"] for r in api(_list_url(), sealed=1).json()["results"]] == [record.pk]
    assert [r["id"] for r in api(_list_url(), sealed=0).json()["results"]] == [draft.pk]


def test_api_updated_since_returns_records_created_sealed_or_amended_since(
    api, shop, advisor, record
):
    old = new_record(shop, advisor, family="service")
    amended = new_record(shop, advisor, family="service")
    long_ago = timezone.now() - dt.timedelta(days=30)
    IntakeRecord.objects.filter(pk__in=[record.pk, old.pk, amended.pk]).update(created_at=long_ago)
    IntakeRecord.objects.filter(pk=record.pk).update(sealed_at=long_ago)
    moment = timezone.now() - dt.timedelta(days=1)
    fresh = new_record(shop, advisor, family="service")
    IntakeRecord.objects.filter(pk=amended.pk).update(sealed_at=timezone.now())

    since = moment.astimezone(shop.tzinfo).isoformat()  # "+03:00", sent unencoded below
    response = api(_list_url() + f"?updated_since={since}")

    assert response.status_code == 200, response.json()
    assert [r["id"] for r in response.json()["results"]] == [fresh.pk, amended.pk]
    services.addendum_add(record=record, by=advisor, text="Дополнение")
    assert [r["id"] for r in api(_list_url(), updated_since=since).json()["results"]] == [
        fresh.pk,
        amended.pk,
        record.pk,
    ]


def test_api_list_takes_the_same_number_of_queries_for_one_or_many_records(api, shop, advisor):
    sealed_record(shop, advisor, family="service")
    api(_list_url())  # the token's last use is written at most once a minute
    with CaptureQueriesContext(connection) as one:
        api(_list_url())
    for _ in range(3):
        sealed_record(shop, advisor, family="service")

    with CaptureQueriesContext(connection) as four:
        response = api(_list_url())

    assert len(response.json()["results"]) == 4
    assert len(four) == len(one)


def test_api_answers_only_get(client, shop):
    _token, raw = token_create(shop=shop, name="CRM")

    response = client.post(_list_url(), HTTP_AUTHORIZATION=f"Bearer {raw}")

    assert response.status_code == 405
