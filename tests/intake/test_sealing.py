"""Sealing and verification of intake records, through the services, with real files.

A record of the platform "body" template gets a real generated photo for every required
shot, real drawn signatures, and is sealed; then each kind of tampering is done the way
someone with access to the server would do it, and verification has to name it.

`verify_intake` reports changes as a CommandError (exit status 1 from manage.py, 2 for an
unknown shop), so the tests catch CommandError and read its `returncode`.
"""

from __future__ import annotations

import base64
import functools
import io
import random
import uuid
from io import StringIO

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.db import connection
from PIL import Image, ImageDraw

from autoservice.models import Membership, Shop
from intake import sealing, services
from intake.models import IntakeRecord, IntakeShot, SealHead, ShotSkip, ShotSpec, ShotTemplate
from tests.factories import MembershipFactory
from tests.s3 import stored_bytes, stored_names, stored_replace

# --- real files -----------------------------------------------------------------------------


def _scene_jpeg(seed: int, size: tuple[int, int] = (1280, 720)) -> bytes:
    """A busy, sharp, evenly exposed scene; different seeds are different shots to the
    duplicate check (their hashes differ in 20+ bits of 64)."""
    rnd = random.Random(seed)
    width, height = size
    image = Image.new("RGB", size, tuple(rnd.randrange(60, 180) for _ in range(3)))
    draw = ImageDraw.Draw(image)

    def colour() -> tuple[int, int, int]:
        return (rnd.randrange(20, 236), rnd.randrange(20, 236), rnd.randrange(20, 236))

    for _ in range(25):
        x, y = rnd.uniform(-0.1, 1) * width, rnd.uniform(-0.1, 1) * height
        box = (x, y, x + rnd.uniform(0.05, 0.35) * width, y + rnd.uniform(0.05, 0.35) * height)
        (draw.rectangle if rnd.random() < 0.5 else draw.ellipse)(box, fill=colour())
    for _ in range(40):
        ends = (rnd.uniform(0, width), rnd.uniform(0, height))
        draw.line(ends + (rnd.uniform(0, width), rnd.uniform(0, height)), fill=colour(), width=5)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=88)
    return buffer.getvalue()


@functools.cache
def scene_jpegs() -> tuple[bytes, ...]:
    """One distinct photo per spec of the body template (made once per test run)."""
    return tuple(_scene_jpeg(seed) for seed in range(20))


def _png_data_url(image: Image.Image) -> str:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def signature_data_url(seed: int = 0) -> str:
    """A signature as the pad sends it: a dark stroke on a transparent sheet."""
    image = Image.new("RGBA", (600, 200), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    points = [(40 + i * 26, 100 + (35 + seed * 5) * (-1) ** i) for i in range(20)]
    draw.line(points, fill=(10, 10, 60, 255), width=5, joint="curve")
    return _png_data_url(image)


BLANK_SIGNATURE = _png_data_url(Image.new("RGBA", (600, 200), (0, 0, 0, 0)))


# --- records through the services -----------------------------------------------------------


def platform_template(family: str = "body") -> ShotTemplate:
    return ShotTemplate.objects.get(shop=None, family=family, is_current=True)


def new_record(shop: Shop, by: Membership, *, family: str = "body", **vehicle) -> IntakeRecord:
    data = {
        "plate": "А123ВС777",
        "vin": "XW8ZZZ61ZJG000001",
        "make": "Kia",
        "model": "Rio",
        "year": 2018,
        "body_type": "sedan",
        "customer_name": "Сергей Иванов",
        "customer_phone": "+79161234567",
        "customer_email": "ivanov@example.ru",
    }
    data.update(vehicle)
    return services.record_create(
        shop=shop,
        by=by,
        template=platform_template(family),
        data=services.VehicleData(**data),
        consent=None,
    )


def store_shot(record: IntakeRecord, spec: ShotSpec, photo: bytes) -> IntakeShot:
    return services.shot_store(
        record=record,
        spec=spec,
        client_id=uuid.uuid4(),
        filename=f"{spec.code}.jpg",
        chunks=[photo[i : i + 65536] for i in range(0, len(photo), 65536)],
    )


def shoot_required(record: IntakeRecord) -> list[IntakeShot]:
    """A distinct photo for every required spec; each must pass the quality check."""
    specs = [spec for spec in record.template.specs.order_by("position") if spec.required]
    shots = [store_shot(record, spec, scene_jpegs()[i]) for i, spec in enumerate(specs)]
    rejected = {shot.spec.code: shot.quality for shot in shots if not shot.accepted}
    assert not rejected, rejected
    return shots


def sealed_record(shop: Shop, by: Membership, *, family: str = "body", **vehicle) -> IntakeRecord:
    record = new_record(shop, by, family=family, **vehicle)
    services.record_update_details(
        record=record,
        odometer_km=45210,
        fuel_level=4,
        warning_lamps=["check_engine"],
        belongings="Детское кресло",
        complaint="Вмятина на задней левой двери",
        damages=[{"part": "door_rear_left", "kind": "dent", "size": "2"}],
    )
    shoot_required(record)
    if family == "body":
        services.shot_skip(
            record=record, spec=record.template.specs.get(code="roof"), reason="Нет стремянки"
        )
    return services.record_sign_and_seal(
        record=record,
        by=by,
        customer_signature=signature_data_url(1),
        advisor_signature=signature_data_url(2),
    )


def problems(record: IntakeRecord) -> list[str]:
    return sealing.verify_record(IntakeRecord.objects.get(pk=record.pk)).problems


@pytest.fixture
def record(shop, advisor) -> IntakeRecord:
    return sealed_record(shop, advisor)


@pytest.fixture
def chain(shop, advisor) -> list[IntakeRecord]:
    """Three sealed records of one shop (the short service template: the chain is the same)."""
    return [sealed_record(shop, advisor, family="service", plate=f"В00{i}ОР77") for i in (1, 2, 3)]


# --- sealing --------------------------------------------------------------------------------


def test_record_with_every_required_shot_and_signatures_is_sealed_and_verifies_intact(
    record, advisor
):
    required = platform_template().specs.filter(required=True)
    assert record.shots.count() == required.count() == 17
    assert record.shots.filter(accepted=True).count() == 17
    assert record.is_sealed and record.sealed_by == advisor
    assert record.seal_index == 1 and record.previous_seal == sealing.GENESIS
    assert record.manifest_sha256 == sealing.sha256_bytes(sealing.canonical(record.manifest))
    assert record.seal_kind == "hmac-sha256" and record.seal_key_id == "dev"
    assert record.seal_sha256 == sealing.keyed_digest(
        dict(settings.INTAKE_SEAL_KEYS)["dev"].encode(),
        "hmac-sha256",
        "dev",
        sealing.GENESIS,
        record.manifest_sha256,
    )
    assert record.manifest["record"]["odometer_km"] == 45210
    assert record.manifest["skips"] == [{"spec": "roof", "reason": "Нет стремянки"}]
    assert all(record.manifest["signatures"].values())
    assert SealHead.objects.get(shop=record.shop).seal_sha256 == record.seal_sha256

    verdict = sealing.verify_record(IntakeRecord.objects.get(pk=record.pk))

    assert verdict.intact, verdict.problems


def test_each_seal_links_to_the_previous_seal_of_the_shop(chain, other_shop):
    first, second, third = (IntakeRecord.objects.get(pk=r.pk) for r in chain)

    assert [r.seal_index for r in (first, second, third)] == [1, 2, 3]
    assert first.previous_seal == sealing.GENESIS
    assert second.previous_seal == first.seal_sha256
    assert third.previous_seal == second.seal_sha256
    assert second.manifest["previous_seal"] == first.seal_sha256
    verdicts, chain_problems = sealing.verify_shop(first.shop)
    assert chain_problems == [] and all(v.intact for v in verdicts)
    # Another shop's chain starts on its own.
    other = sealed_record(other_shop, MembershipFactory(shop=other_shop), family="service")
    assert other.seal_index == 1 and other.previous_seal == sealing.GENESIS


def test_sealing_with_a_required_shot_missing_is_refused_naming_it(shop, advisor):
    record = new_record(shop, advisor)
    shots = shoot_required(record)
    odometer = next(shot for shot in shots if shot.spec.code == "odometer")
    services.shot_discard(shot=odometer)

    with pytest.raises(ValidationError) as refused:
        services.record_sign_and_seal(
            record=record,
            by=advisor,
            customer_signature=signature_data_url(1),
            advisor_signature=signature_data_url(2),
        )

    assert "Не хватает обязательных кадров: Одометр." in refused.value.messages[0]
    assert not IntakeRecord.objects.get(pk=record.pk).is_sealed
    assert not SealHead.objects.filter(shop=shop).exists()


def test_blank_signature_is_refused(shop, advisor):
    record = new_record(shop, advisor, family="service")
    shoot_required(record)

    with pytest.raises(ValidationError) as refused:
        services.record_sign_and_seal(
            record=record,
            by=advisor,
            customer_signature=BLANK_SIGNATURE,
            advisor_signature=signature_data_url(2),
        )

    assert "Подпись пустая: клиент должен расписаться" in refused.value.messages[0]
    fresh = IntakeRecord.objects.get(pk=record.pk)
    assert not fresh.is_sealed and not fresh.customer_signature


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(
            lambda r: store_shot(r, r.template.specs.get(code="roof"), scene_jpegs()[19]),
            id="shot_store",
        ),
        pytest.param(
            lambda r: services.shot_skip(
                record=r, spec=r.template.specs.get(code="damage"), reason="Повреждений нет"
            ),
            id="shot_skip",
        ),
        pytest.param(
            lambda r: services.record_update_details(record=r, odometer_km=1000, complaint="—"),
            id="record_update_details",
        ),
    ],
)
def test_sealed_record_refuses_every_change_and_keeps_its_data(record, change):
    files_before = stored_names(f"intake/{record.shop_id}")

    with pytest.raises(ValidationError) as refused:
        change(IntakeRecord.objects.get(pk=record.pk))

    assert "опечатан" in refused.value.messages[0]
    assert "дополнение" in refused.value.messages[0]
    fresh = IntakeRecord.objects.get(pk=record.pk)
    assert fresh.odometer_km == 45210 and fresh.complaint == "Вмятина на задней левой двери"
    assert fresh.shots.count() == 17
    assert list(ShotSkip.objects.filter(record=record).values_list("spec__code", flat=True)) == [
        "roof"
    ]
    files_after = stored_names(f"intake/{record.shop_id}")
    assert files_after == files_before
    assert sealing.verify_record(fresh).intact


# --- tampering ------------------------------------------------------------------------------


def test_photo_file_with_one_byte_flipped_is_reported_naming_the_shot(record):
    shot = record.shots.get(spec__code="front")
    data = bytearray(stored_bytes(shot.file.name))
    data[len(data) // 2] ^= 0x01
    stored_replace(shot.file.name, bytes(data))

    assert problems(record) == ["Файл кадра «Перед» изменён: SHA-256 не совпадает."]


def test_photo_file_deleted_from_disk_is_reported(record):
    shot = record.shots.get(spec__code="boot")
    default_storage.delete(shot.file.name)

    assert problems(record) == ["Файл кадра «Багажник» пропал."]


def test_field_edited_in_the_database_is_reported_with_old_and_new_values(record):
    IntakeRecord.objects.filter(pk=record.pk).update(odometer_km=12000)

    assert problems(record) == ["record.odometer_km: было «45210», стало «12000»"]


def test_signature_file_replaced_is_reported(record):
    stored_replace(
        record.customer_signature.name,
        base64.b64decode(signature_data_url(7).split(",", 1)[1]),
    )

    [problem] = problems(record)
    assert problem.startswith("signatures.customer: было «")


def test_shot_added_after_sealing_is_reported(record):
    spec = record.template.specs.get(code="damage")
    name = f"intake/{record.shop_id}/{record.pk}/late.jpg"
    default_storage.save(name, io.BytesIO(scene_jpegs()[19]))
    IntakeShot.objects.create(
        record=record,
        spec=spec,
        client_id=uuid.uuid4(),
        file=name,
        original_name="late.jpg",
        sha256=sealing.file_sha256(name),
        size_bytes=len(scene_jpegs()[19]),
        width=1280,
        height=720,
    )

    assert problems(record) == ["Кадр «damage» добавлен после подписи."]


def test_shot_row_deleted_after_sealing_is_reported(record):
    record.shots.filter(spec__code="wheel_rear_right").delete()

    assert problems(record) == ["Кадр «wheel_rear_right» удалён."]


def test_manifest_edited_in_the_database_fails_its_hash(record):
    manifest = IntakeRecord.objects.get(pk=record.pk).manifest
    manifest["record"]["odometer_km"] = 12000
    IntakeRecord.objects.filter(pk=record.pk).update(manifest=manifest)

    found = problems(record)

    assert "Манифест изменён после опечатывания: его хеш не совпадает." in found
    assert "record.odometer_km: было «12000», стало «45210»" in found


def test_deleting_a_sealed_record_in_the_middle_of_the_chain_is_reported(chain):
    middle = chain[1]
    middle.shots.all().delete()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM intake_intakerecord WHERE id = %s", [middle.pk])

    verdicts, chain_problems = sealing.verify_shop(chain[0].shop)

    assert [v.record.number for v in verdicts] == [chain[0].number, chain[2].number]
    assert all(v.intact for v in verdicts)
    assert chain_problems == ["Нет опечатанных актов с порядковыми номерами 2–2: они удалены."]


def test_deleting_the_newest_sealed_record_is_caught_by_the_seal_head(chain):
    IntakeRecord.objects.filter(pk=chain[2].pk).delete()  # its shots go with it

    verdicts, chain_problems = sealing.verify_shop(chain[0].shop)

    assert len(verdicts) == 2 and all(v.intact for v in verdicts)
    assert chain_problems == ["Последние опечатанные акты (порядковые номера 3–3) удалены."]


def test_replacing_a_sealed_record_with_a_resealed_copy_breaks_the_link(chain):
    # Someone with the key unseals record 2, edits it and seals it again "by hand": the new
    # seal is consistent with its manifest, but record 3 still points at the old one, and
    # the published log holds the old seal.
    second = IntakeRecord.objects.get(pk=chain[1].pk)
    second.manifest["record"]["odometer_km"] = 1
    second.manifest_sha256 = sealing.sha256_bytes(sealing.canonical(second.manifest))
    second.seal_sha256 = sealing.seal_of(
        kind=second.seal_kind,
        key_id=second.seal_key_id,
        previous=second.previous_seal,
        manifest_hash=second.manifest_sha256,
    )
    second.save()
    IntakeRecord.objects.filter(pk=second.pk).update(odometer_km=1)

    verdicts, chain_problems = sealing.verify_shop(second.shop)

    assert all(v.intact for v in verdicts)
    assert chain_problems == [
        f"Акт №{chain[2].number}: цепочка печатей нарушена перед ним.",
        f"Акт №{second.number}: печать не совпадает с опубликованной в журнале.",
    ]


# --- gaps found in review, fixed: each of these failed before its fix ------------------------


@pytest.mark.parametrize("field", ["created_at", "sealed_at"])
def test_time_of_the_record_edited_in_the_database_is_reported(record, field):
    moved = getattr(record, field).replace(year=2020)
    IntakeRecord.objects.filter(pk=record.pk).update(**{field: moved})

    assert problems(record)


def test_second_sign_submit_leaves_a_sealed_record_untouched(shop, advisor):
    record = new_record(shop, advisor, family="service")
    shoot_required(record)
    stale = IntakeRecord.objects.get(pk=record.pk)  # the second request loaded it too
    services.record_sign_and_seal(
        record=record,
        by=advisor,
        customer_signature=signature_data_url(1),
        advisor_signature=signature_data_url(2),
    )

    try:
        services.record_sign_and_seal(
            record=stale,
            by=advisor,
            customer_signature=signature_data_url(3),
            advisor_signature=signature_data_url(4),
        )
    except ValidationError:
        pass

    assert problems(record) == []


def test_upload_racing_the_seal_is_refused(shop, advisor):
    record = new_record(shop, advisor, family="service")
    shoot_required(record)
    uploading = IntakeRecord.objects.get(pk=record.pk)
    services.record_sign_and_seal(
        record=record,
        by=advisor,
        customer_signature=signature_data_url(1),
        advisor_signature=signature_data_url(2),
    )

    with pytest.raises(ValidationError):
        store_shot(uploading, uploading.template.specs.get(code="vin_plate"), scene_jpegs()[10])


def test_deleting_the_newest_record_and_the_seal_head_is_reported(chain):
    IntakeRecord.objects.filter(pk=chain[2].pk).delete()
    SealHead.objects.filter(shop=chain[0].shop).delete()

    _verdicts, chain_problems = sealing.verify_shop(chain[0].shop)

    assert chain_problems


def test_addendum_edited_after_the_fact_is_reported(record, advisor):
    addendum = services.addendum_add(record=record, by=advisor, text="Царапина на крыше")
    type(addendum).objects.filter(pk=addendum.pk).update(text="Крыша без повреждений")

    assert problems(record)


# --- more races and a lost seal head, fixed after review --------------------------------------


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(
            lambda r, shot: services.record_update_details(record=r, odometer_km=1),
            id="record_update_details",
        ),
        pytest.param(
            lambda r, shot: services.shot_skip(
                record=r, spec=r.template.specs.get(code="vin_plate"), reason="Нет таблички"
            ),
            id="shot_skip",
        ),
        pytest.param(lambda r, shot: services.shot_discard(shot=shot), id="shot_discard"),
    ],
)
def test_change_racing_the_seal_leaves_the_sealed_record_untouched(shop, advisor, change):
    record = new_record(shop, advisor, family="service")
    shoot_required(record)
    stale = IntakeRecord.objects.get(pk=record.pk)  # loaded by the other request
    stale_shot = IntakeShot.objects.select_related("record").filter(record=record).first()
    services.record_sign_and_seal(
        record=record,
        by=advisor,
        customer_signature=signature_data_url(1),
        advisor_signature=signature_data_url(2),
    )

    try:
        change(stale, stale_shot)
    except ValidationError:
        pass

    assert problems(record) == []


def test_signing_after_the_seal_head_was_lost_is_not_a_server_error(chain, advisor):
    SealHead.objects.filter(shop=chain[0].shop).delete()
    record = new_record(chain[0].shop, advisor, family="service")
    shoot_required(record)

    with pytest.raises(ValidationError) as refused:
        services.record_sign_and_seal(
            record=record,
            by=advisor,
            customer_signature=signature_data_url(1),
            advisor_signature=signature_data_url(2),
        )
    assert "Цепочка печатей" in " ".join(refused.value.messages)
    record.refresh_from_db()
    assert not record.is_sealed


# --- manage.py verify_intake ----------------------------------------------------------------


def test_verify_intake_reports_every_record_unchanged_and_exits_normally(chain):
    out = StringIO()

    call_command("verify_intake", stdout=out)

    text = out.getvalue()
    for sealed in chain:
        assert f"№{sealed.number}: не изменялась" in text
    assert "Цепочка печатей: не нарушена" in text
    assert "изменений нет" in text


def test_verify_intake_lists_the_problems_and_fails_with_status_1(chain, other_shop):
    IntakeRecord.objects.filter(pk=chain[0].pk).update(odometer_km=1)
    IntakeRecord.objects.filter(pk=chain[2].pk).delete()
    sealed_record(other_shop, MembershipFactory(shop=other_shop), family="service")
    out = StringIO()

    with pytest.raises(CommandError) as failed:
        call_command("verify_intake", stdout=out)

    assert failed.value.returncode == 1
    assert "автосервисов 1 из 2" in str(failed.value)
    text = out.getvalue()
    assert f"№{chain[0].number}: изменена" in text
    assert "    - record.odometer_km: было «45210», стало «1»" in text
    assert f"№{chain[1].number}: не изменялась" in text
    assert "Цепочка печатей нарушена:" in text
    assert "(порядковые номера 3–3) удалены" in text


def test_verify_intake_checks_only_the_shop_asked_for(chain, other_shop):
    IntakeRecord.objects.filter(pk=chain[0].pk).update(odometer_km=1)
    sealed_record(other_shop, MembershipFactory(shop=other_shop), family="service")
    out = StringIO()

    call_command("verify_intake", "--shop", other_shop.slug, stdout=out)

    assert other_shop.slug in out.getvalue() and chain[0].shop.slug not in out.getvalue()


def test_verify_intake_with_an_unknown_shop_fails_with_status_2(db):
    with pytest.raises(CommandError) as failed:
        call_command("verify_intake", "--shop", "no-such-shop", stdout=StringIO())

    assert failed.value.returncode == 2
    assert "«no-such-shop» не найден" in str(failed.value)
