"""Intake through the staff pages: start, shots, skips, sealing refusals, templates, admin."""

from __future__ import annotations

import io
import uuid

from django.contrib.admin.sites import site
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image, ImageFilter

from intake import services
from intake.models import IntakeRecord, IntakeShot, ShotTemplate
from tests.factories import IntakeRecordFactory, UserFactory
from tests.photos import jpeg_bytes


def _start_data(**overrides):
    template = ShotTemplate.objects.get(shop__isnull=True, family="body", is_current=True)
    data = {
        "template": template.pk,
        "plate": "a123bc77",
        "vin": "XTAGFK330LY123456",
        "make": "",
        "model": "Vesta",
        "year": "2020",
        "body_type": "sedan",
        "customer_name": "Ирина",
        "customer_phone": "8 916 111-22-33",
        "consent": "on",
    }
    data.update(overrides)
    return data


def test_advisor_starts_an_intake_and_the_vin_names_the_make(advisor_client, advisor):
    response = advisor_client.post(reverse("intake:intake_start"), _start_data())
    record = IntakeRecord.objects.get()
    assert response["Location"] == reverse("intake:intake_record", args=[record.pk])
    assert record.plate == "А123ВС77" and record.make == "Lada"
    assert record.customer_phone == "+79161112233" and record.consent is not None
    assert record.created_by == advisor


def test_bad_vin_and_plate_are_explained_and_input_kept(advisor_client):
    response = advisor_client.post(
        reverse("intake:intake_start"), _start_data(vin="XTAGFK33OLY12345", plate="Ж123ЖЖ")
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "без I, O и Q" in html and "Номер не похож на российский" in html
    assert 'value="Vesta"' in html and 'value="Ирина"' in html
    assert IntakeRecord.objects.count() == 0


def test_plate_or_vin_is_required(advisor_client):
    response = advisor_client.post(reverse("intake:intake_start"), _start_data(vin="", plate=""))
    assert "госномер или VIN" in response.content.decode()


def _upload(client, record, spec, content, *, client_id=None, name="shot.jpg"):
    return client.post(
        reverse("intake:intake_shot_upload", args=[record.pk]),
        {
            "spec": spec.pk,
            "client_id": str(client_id or uuid.uuid4()),
            "file": SimpleUploadedFile(name, content, content_type="image/jpeg"),
        },
        headers={"Accept": "application/json"},
    )


def test_shot_upload_checks_the_file_and_quality(advisor_client, advisor):
    record = IntakeRecordFactory(shop=advisor.shop)
    spec = record.template.specs.get(code="front")
    bad = _upload(advisor_client, record, spec, b"not a photo", name="doc.jpg")
    assert bad.status_code == 400 and "doc.jpg" in bad.json()["error"]
    client_id = uuid.uuid4()
    good = _upload(advisor_client, record, spec, jpeg_bytes((1600, 1200)), client_id=client_id)
    assert good.status_code == 201 and good.json()["accepted"] is True
    again = _upload(advisor_client, record, spec, jpeg_bytes((1600, 1200)), client_id=client_id)
    assert again.json()["id"] == good.json()["id"]
    buffer = io.BytesIO()
    sharp = Image.open(io.BytesIO(jpeg_bytes((1600, 1200), seed=9)))
    sharp.filter(ImageFilter.GaussianBlur(12)).save(buffer, "JPEG")
    blurred = _upload(
        advisor_client, record, record.template.specs.get(code="rear"), buffer.getvalue()
    )
    assert blurred.json()["accepted"] is False
    assert any("размыт" in p for p in blurred.json()["problems"])
    assert IntakeShot.objects.filter(record=record).count() == 2


def test_plain_form_upload_comes_back_to_the_record(advisor_client, advisor):
    record = IntakeRecordFactory(shop=advisor.shop)
    spec = record.template.specs.get(code="front")
    response = advisor_client.post(
        reverse("intake:intake_shot_upload", args=[record.pk]),
        {"spec": spec.pk, "file": SimpleUploadedFile("a.jpg", jpeg_bytes((1600, 1200)))},
    )
    assert response["Location"] == reverse("intake:intake_record", args=[record.pk])
    assert record.shots.count() == 1


def test_skip_needs_a_reason_and_signing_names_what_is_missing(advisor_client, advisor):
    record = IntakeRecordFactory(shop=advisor.shop)
    spec = record.template.specs.get(code="roof")
    advisor_client.post(
        reverse("intake:intake_skip", args=[record.pk]), {"spec": spec.pk, "reason": ""}
    )
    assert record.skips.count() == 0
    advisor_client.post(
        reverse("intake:intake_skip", args=[record.pk]),
        {"spec": spec.pk, "reason": "Нет стремянки"},
    )
    assert record.skips.get().reason == "Нет стремянки"
    response = advisor_client.post(reverse("intake:intake_sign", args=[record.pk]), {})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Не хватает обязательных кадров" in html and "Перед слева под 45°" in html


def _sealed(shop, advisor, **fields):
    """A sealed record on the short service template (every required shot taken)."""
    from intake.demo import _shot_bytes, _signature

    template = ShotTemplate.objects.get(shop__isnull=True, family="service", is_current=True)
    record = IntakeRecordFactory(shop=shop, template=template, **fields)
    for index, spec in enumerate(template.specs.filter(required=True)):
        shot = services.shot_store(
            record=record,
            spec=spec,
            client_id=uuid.uuid4(),
            filename="s.jpg",
            chunks=[_shot_bytes(500 + index)],
        )
        assert shot.accepted, shot.quality
    return services.record_sign_and_seal(
        record=record, by=advisor, customer_signature=_signature(1), advisor_signature=_signature(2)
    )


def test_a_sealed_record_cannot_be_changed_through_the_pages(advisor_client, advisor):
    record = _sealed(advisor.shop, advisor)
    spec = record.template.specs.first()
    upload = _upload(advisor_client, record, spec, jpeg_bytes((1600, 1200)))
    assert upload.status_code == 409 and "опечатан" in upload.json()["error"]
    advisor_client.post(reverse("intake:intake_record", args=[record.pk]), {"odometer_km": "1"})
    record.refresh_from_db()
    assert record.odometer_km is None
    advisor_client.post(
        reverse("intake:intake_addendum", args=[record.pk]), {"text": "Скол на стекле"}
    )
    assert record.addenda.get().text == "Скол на стекле"
    verify = advisor_client.get(reverse("intake:intake_verify", args=[record.pk])).content.decode()
    assert "Не изменялась" in verify


def test_admin_shows_a_sealed_record_read_only(advisor, rf):
    record = _sealed(advisor.shop, advisor)
    admin = site._registry[IntakeRecord]
    request = rf.get("/")
    request.user = UserFactory(is_staff=True, is_superuser=True)
    assert "odometer_km" in admin.get_readonly_fields(request, record)
    assert admin.has_delete_permission(request, record) is False


def test_customer_act_link_only_for_sealed_records_of_that_shop(client, advisor, other_shop):
    record = _sealed(advisor.shop, advisor)
    url = reverse("intake:intake_public_act", args=[advisor.shop.slug, record.public_token])
    assert client.get(url)["Content-Type"] == "application/pdf"
    assert (
        client.get(
            reverse("intake:intake_public_act", args=[other_shop.slug, record.public_token])
        ).status_code
        == 404
    )
    draft = IntakeRecordFactory(shop=advisor.shop)
    assert (
        client.get(
            reverse("intake:intake_public_act", args=[advisor.shop.slug, draft.public_token])
        ).status_code
        == 404
    )


def test_manager_edits_a_template_into_a_new_version(manager_client, manager):
    template = ShotTemplate.objects.get(shop__isnull=True, family="service", is_current=True)
    specs = list(template.specs.all())
    data = {
        "name": "Сервис: наша приёмка",
        "form-TOTAL_FORMS": str(len(specs)),
        "form-INITIAL_FORMS": str(len(specs)),
    }
    for i, spec in enumerate(specs):
        data.update(
            {
                f"form-{i}-code": spec.code,
                f"form-{i}-name": spec.name,
                f"form-{i}-instruction": spec.instruction,
                f"form-{i}-guide": spec.guide,
                f"form-{i}-min_count": spec.min_count,
                f"form-{i}-position": spec.position,
            }
        )
        if spec.required:
            data[f"form-{i}-required"] = "on"
    data["form-0-DELETE"] = "on"
    response = manager_client.post(reverse("intake:intake_template_edit", args=[template.pk]), data)
    assert response.status_code == 302
    own = ShotTemplate.objects.get(shop=manager.shop, family="service", is_current=True)
    assert own.version == 1 and own.specs.count() == len(specs) - 1
    template.refresh_from_db()
    assert template.specs.count() == len(specs)  # the platform template is untouched


def test_a_retry_of_a_stored_shot_after_sealing_gets_the_shot_back(advisor_client, advisor):
    record = _sealed(advisor.shop, advisor)
    shot = record.shots.first()
    retry = _upload(
        advisor_client, record, shot.spec, jpeg_bytes((1600, 1200)), client_id=shot.client_id
    )
    assert retry.status_code == 201 and retry.json()["id"] == shot.pk


def test_the_signed_act_is_e_mailed_to_the_customer_with_the_pdf(
    advisor, django_capture_on_commit_callbacks
):
    from django.core import mail

    with django_capture_on_commit_callbacks(execute=True):
        record = _sealed(advisor.shop, advisor, customer_email="i@example.ru")
    assert len(mail.outbox) == 1
    letter = mail.outbox[0]
    assert letter.to == ["i@example.ru"] and f"№{record.number}" in letter.subject
    assert letter.attachments[0][0] == f"akt-{record.number}.pdf"
    assert record.public_token in letter.body


def test_lead_page_offers_to_take_the_car_in_prefilled(advisor_client, advisor):
    from tests.factories import LeadFactory

    lead = LeadFactory(shop=advisor.shop, plate="В777ОР77", customer_name="Олег")
    page = advisor_client.get(reverse("leads:lead_detail", args=[lead.pk])).content.decode()
    assert f"{reverse('intake:intake_start')}?lead={lead.pk}" in page
    form = advisor_client.get(reverse("intake:intake_start"), {"lead": lead.pk}).content.decode()
    assert 'value="В777ОР77"' in form and 'value="Олег"' in form


def test_vin_lookup_names_the_make_and_its_models(advisor_client):
    known = advisor_client.get(reverse("intake:intake_vin"), {"vin": "xtagfk330ly123456"})
    assert known.json()["make"] == "Lada"
    assert "Vesta" in known.json()["models"]
    unknown = advisor_client.get(reverse("intake:intake_vin"), {"vin": "QQQ"})
    assert unknown.json() == {"make": "", "models": ""}


def test_a_close_up_keeps_only_a_part_of_the_record_s_body(advisor_client, advisor):
    record = IntakeRecordFactory(shop=advisor.shop, body_type="sedan")
    spec = record.template.specs.get(is_damage=True)

    def close_up(part: str) -> IntakeShot:
        response = advisor_client.post(
            reverse("intake:intake_shot_upload", args=[record.pk]),
            {
                "spec": spec.pk,
                "client_id": str(uuid.uuid4()),
                "damage_part": part,
                "file": SimpleUploadedFile("c.jpg", jpeg_bytes((1600, 1200)), "image/jpeg"),
            },
            headers={"Accept": "application/json"},
        )
        assert response.status_code == 201
        return IntakeShot.objects.get(pk=response.json()["id"])

    assert close_up("boot_lid").damage_part == "boot_lid"
    assert close_up("tailgate").damage_part == ""  # a sedan has a boot lid, not a tailgate
    assert close_up("<script>").damage_part == ""


def test_upload_refusal_is_answered_in_the_advisor_s_language(advisor_client, advisor):
    record = IntakeRecordFactory(shop=advisor.shop)
    spec = record.template.specs.get(code="front")

    response = advisor_client.post(
        reverse("intake:intake_shot_upload", args=[record.pk]),
        {"spec": spec.pk, "client_id": str(uuid.uuid4())},
        headers={"Accept": "application/json", "Accept-Language": "en"},
    )

    assert response.status_code == 400
    assert response.json() == {"error": "Photo not received: take the shot again."}


def test_admin_never_lets_the_seal_be_edited(advisor, rf):
    record = IntakeRecordFactory(shop=advisor.shop)
    admin = site._registry[IntakeRecord]
    request = rf.get("/")
    request.user = UserFactory(is_staff=True, is_superuser=True)

    readonly = admin.get_readonly_fields(request, record)

    assert set(IntakeRecord.SEAL_FIELDS) | {"public_token"} == set(readonly)
    assert {"manifest", "seal_sha256", "sealed_at", "sealed_by"} <= set(IntakeRecord.SEAL_FIELDS)


def test_sealing_writes_exactly_the_seal_fields(advisor):
    record = _sealed(advisor.shop, advisor)

    assert all(getattr(record, name) not in (None, "") for name in IntakeRecord.SEAL_FIELDS)


def test_the_act_e_mail_is_written_on_the_lead_s_timeline(
    advisor, django_capture_on_commit_callbacks
):
    from leads.models import EventKind
    from tests.factories import LeadFactory

    lead = LeadFactory(shop=advisor.shop)
    with django_capture_on_commit_callbacks(execute=True):
        record = _sealed(advisor.shop, advisor, lead=lead, customer_email="o@example.ru")

    [event] = lead.events.filter(kind=EventKind.NOTIFIED)
    assert event.text == f"Акт приёма-передачи №{record.number} отправлен клиенту на o@example.ru"
