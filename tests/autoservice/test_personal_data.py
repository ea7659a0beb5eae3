"""Personal data under 152-FZ: a driver's whole footprint in a shop (a photo request with
photos, an estimate, an offer accepted, a signed intake act with shots and signatures, the
consent, the outbox, the deletion log) is found, exported and erased, through the services
and the real database, files and commands.

"Nothing left" is proved the blunt way: the whole database is dumped (`dumpdata`) and every
byte under MEDIA_ROOT is read, and neither may contain the phone (in any format), the name,
the e-mail or the plate.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import uuid
import zipfile
from io import StringIO

import pytest
from django.conf import settings
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from autoservice import personal_data
from autoservice.consent import consent_text_current
from autoservice.models import (
    ConsentRecord,
    DestructionAct,
    DestructionReason,
    OutboxMessage,
    PersonalDataPolicy,
)
from customers.models import Car, Customer, CustomerEvent, CustomerPhone
from customers.services import car_update as customer_car_update
from customers.services import customer_manager_adopt
from intake import sealing
from intake.models import IntakeRecord
from leads import photos as lead_photos
from leads.models import Lead, LeadDeletion, LeadPhoto, Status
from leads.services import (
    LeadInput,
    driver_request_submit,
    lead_add_note,
    lead_change_status,
    lead_create,
)
from optima import offers
from optima.models import OfferVersion
from smartcalc.models import Estimate
from tests.factories import EstimateFactory, LeadPhotoFactory, OfferVersionFactory
from tests.intake.test_sealing import sealed_record
from tests.photos import jpeg_bytes
from tests.s3 import served_bytes, stored_bytes, stored_names

PHONE = "+79161112233"
PHONE_FORMS = ("+79161112233", "79161112233", "9161112233", "916 111-22-33", "916-111-22-33")
NAME = "Евлампий Подберёзкин"
SURNAME = "Подберёзкин"
EMAIL = "evlampiy.pd@example.ru"
PLATE = "М707ОР77"
VIN = "XW8ZZZ61ZJG707707"
IP = "198.51.100.77"


def _secrets() -> list[str]:
    return [*PHONE_FORMS, SURNAME, "Евлампий", EMAIL, PLATE, VIN, IP]


def _driver_request(shop, *, photos: int = 2) -> Lead:
    """The photo form, as a driver sends it: photos under the upload token, then the form."""
    token = uuid.uuid4().hex
    for n in range(photos):
        photo = lead_photos.photo_upload_store(
            shop=shop,
            upload_token=token,
            client_id=uuid.uuid4(),
            filename=f"{SURNAME}-{n}.jpg",
            chunks=[jpeg_bytes((1200, 900), gps=True, seed=n + 1)],
        )
        lead_photos.photo_process(photo.pk)
    return driver_request_submit(
        shop=shop,
        channel="photo",
        contact=LeadInput(
            customer_name=NAME,
            phone=PHONE,
            email=EMAIL,
            plate=PLATE,
            description=f"Помял дверь, звоните {PHONE}",
        ),
        consent_text=consent_text_current(shop),
        submission_key=uuid.uuid4(),
        upload_token=token,
        ip=IP,
        user_agent="Mozilla/5.0 (Evlampiy phone)",
    ).lead


def _footprint(shop, manager, *, hold_passed: bool = True) -> dict:
    """Everything a shop can hold about one driver."""
    lead = _driver_request(shop)
    lead_add_note(lead=lead, by=manager, text=f"Перезвонить {NAME}, {PHONE}")
    # The customer base: the person, the phone, the car with its plate and VIN, a timeline.
    customer_car_update(car=lead.car, vin=VIN, mileage_km=120300)
    customer_manager_adopt(customer=lead.customer, member=manager)
    estimate = EstimateFactory(shop=shop)
    estimate.lead = lead
    estimate.save()
    version = OfferVersionFactory(offer__shop=shop, offer__lead=lead)
    offers.offer_send(version=version, by=manager)
    offers.offer_accept(
        version=version,
        choice={"0": 1},
        confirmed_total_rub=offers.option_total(version, {"0": 1}),
        ip=IP,
        user_agent="Mozilla/5.0 (Evlampiy phone)",
    )
    record = sealed_record(
        shop,
        manager,
        customer_phone=PHONE,
        customer_name=NAME,
        customer_email=EMAIL,
        plate=PLATE,
        vin=VIN,
    )
    if hold_passed:
        # The hold of this act has run out (the date as the retention run would have set it).
        IntakeRecord.objects.filter(pk=record.pk).update(
            legal_hold_until=timezone.localdate() - dt.timedelta(days=1)
        )
    LeadDeletion.objects.create(
        shop=shop,
        lead_number=999,
        snapshot={"customer_name": NAME, "phone": PHONE, "plate": PLATE, "description": "…"},
        deleted_by=manager.user,
    )
    return {
        "lead": Lead.objects.get(pk=lead.pk),
        "estimate": estimate,
        "version": OfferVersion.objects.get(pk=version.pk),
        "record": IntakeRecord.objects.get(pk=record.pk),
    }


def _database_dump() -> str:
    out = StringIO()
    call_command("dumpdata", "--natural-foreign", stdout=out)
    # Re-dumped without escapes, so that Cyrillic is greppable as typed.
    return json.dumps(json.loads(out.getvalue()), ensure_ascii=False)


def _media_bytes() -> dict[str, bytes]:
    """Every stored byte, in the folder or the bucket alike."""
    return {name: stored_bytes(name) for name in stored_names("")}


def _leftovers(text: str) -> list[str]:
    return [secret for secret in _secrets() if secret in text]


def _files_of(found) -> set[str]:
    return {name for item in found for name in item.files}


# --- find and export -------------------------------------------------------------------------


def test_find_reports_every_category_of_the_driver(shop, manager):
    _footprint(shop, manager)
    found = {
        item.category: item.count
        for item in personal_data.subject_find(
            shop=shop, phones=frozenset({PHONE}), emails=frozenset()
        )
    }
    assert found["leads"] == 1
    assert found["lead_photos"] == 2
    assert found["lead_events"] >= 3  # created, note, status changes
    assert found["lead_deletions"] == 1
    assert found["estimates"] == 1 and found["estimate_versions"] == 1
    assert found["offers"] == 1 and found["offer_versions"] == 1
    assert found["intake_records"] == 1 and found["intake_shots"] >= 10
    assert found["consents"] == 1
    assert found["outbox"] >= 2  # the shop's new-request mail, offer sent/accepted, the act


def test_finding_by_email_is_case_insensitive(shop, manager):
    _footprint(shop, manager)
    found = personal_data.subject_find(
        shop=shop, phones=frozenset(), emails=frozenset({EMAIL.upper().lower()})
    )
    upper = personal_data.subject_parse(email=EMAIL.upper())
    assert upper == (frozenset(), frozenset({EMAIL}))
    categories = {item.category for item in found}
    assert {"leads", "intake_records", "offers", "estimates"} <= categories


def test_export_zip_holds_every_item_and_every_file(shop, manager, other_shop):
    made = _footprint(shop, manager)
    stranger = _driver_request(other_shop, photos=1)  # the same phone in another shop
    buffer = io.BytesIO()
    personal_data.subject_export_write(
        shop=shop, phones=frozenset({PHONE}), emails=frozenset(), out=buffer
    )
    archive = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    document = json.loads(archive.read("subject.json"))
    by_category = {c["category"]: c for c in document["categories"]}
    lead = by_category["leads"]["items"][0]
    assert lead["phone"] == PHONE and lead["customer_name"] == NAME and lead["plate"] == PLATE
    assert by_category["offer_versions"]["items"][0]["accepted_ip"] == IP
    assert by_category["consents"]["items"][0]["ip_address"] == IP
    assert by_category["intake_records"]["items"][0]["vin"] == VIN
    assert any(NAME in (event["text"] or "") for event in by_category["lead_events"]["items"])
    assert by_category["lead_deletions"]["items"][0]["snapshot"]["phone"] == PHONE
    assert by_category["estimate_versions"]["items"][0]["result"]
    # Every photo rendition, every shot rendition and both signatures are in the archive.
    names = set(archive.namelist())
    record = made["record"]
    expected = set()
    for photo in LeadPhoto.objects.filter(lead=made["lead"]):
        expected |= {photo.original.name, photo.web.name, photo.thumb.name}
    for shot in record.shots.all():
        expected |= {shot.file.name, shot.web.name, shot.thumb.name}
    expected |= {record.customer_signature.name, record.advisor_signature.name}
    assert {f"files/{name}" for name in expected} <= names
    for name in expected:
        assert archive.read(f"files/{name}") == stored_bytes(name)
    # Nothing of the other shop: not its lead, not its photo.
    assert len(by_category["leads"]["items"]) == 1
    for photo in LeadPhoto.objects.filter(lead=stranger):
        assert f"files/{photo.original.name}" not in names


# --- erase -----------------------------------------------------------------------------------


def test_erasure_leaves_no_trace_in_the_database_or_the_files(shop, manager):
    made = _footprint(shop, manager)
    before = personal_data.subject_find(shop=shop, phones=frozenset({PHONE}), emails=frozenset())
    files = _files_of(before)
    assert len(files) >= 30
    assert _leftovers(_database_dump()), "the test must see the data before erasure"

    act = personal_data.subject_erase(
        shop=shop, phones=frozenset({PHONE}), emails=frozenset({EMAIL}), by=manager.user
    )

    dump = _database_dump()
    assert _leftovers(dump) == []
    media = _media_bytes()
    assert not files & set(media), sorted(files & set(media))[:5]
    for name, data in media.items():
        for secret in _secrets():
            assert secret.encode() not in data, (name, secret)
    # The act: who, why, counts per category, files; no personal data of its own.
    counts = {row["category"]: row["count"] for row in act.categories}
    assert counts["leads"] == 1 and counts["lead_photos"] == 2 and counts["intake_records"] == 1
    assert counts["consents"] == 1 and counts["outbox"] >= 2 and counts["offers"] == 1
    assert counts["customers"] == 1 and counts["customer_phones"] == 1
    assert counts["customer_cars"] == 1 and counts["customer_events"] >= 3
    assert not Customer.objects.filter(shop=shop).exists()
    assert not CustomerPhone.objects.filter(shop=shop).exists()
    assert not Car.objects.filter(shop=shop).exists()
    assert not CustomerEvent.objects.filter(customer__shop=shop).exists()
    assert act.files_count == len(files)
    assert act.reason == DestructionReason.SUBJECT_REQUEST
    assert str(manager.user.pk) in act.performed_by_label
    assert act.subject_hash == personal_data.subject_hash({PHONE}, {EMAIL})
    # The lead stays for the shop's figures, without the person.
    lead = Lead.objects.get(pk=made["lead"].pk)
    assert (lead.customer_name, lead.phone, lead.email, lead.plate) == ("", "", "", "")
    assert not OutboxMessage.objects.filter(shop=shop).exists()


def test_erasure_is_idempotent(shop, manager):
    _footprint(shop, manager)
    subject = {"shop": shop, "phones": frozenset({PHONE}), "emails": frozenset()}
    assert personal_data.subject_erase(**subject) is not None
    assert personal_data.subject_erase(**subject) is None
    assert personal_data.subject_find(**subject) == []
    assert DestructionAct.objects.filter(shop=shop).count() == 1


def test_private_links_answer_404_after_erasure(client, shop, manager):
    made = _footprint(shop, manager)
    lead, estimate, version, record = (made[k] for k in ("lead", "estimate", "version", "record"))
    photo = LeadPhoto.objects.filter(lead=lead).first()
    urls = [
        reverse("photoportal:photo_sent", args=[shop.slug, lead.public_token]),
        reverse("smartcalc:calc_result", args=[shop.slug, estimate.public_token]),
        reverse("optima:offer_public", args=[shop.slug, version.offer.token]),
        reverse("intake:intake_public_act", args=[shop.slug, record.public_token]),
        lead_photos.photo_signed_url(photo, "web").removeprefix(settings.SITE_URL),
    ]
    assert [client.get(url).status_code for url in urls[:-1]] == [200] * (len(urls) - 1)
    assert served_bytes(client.get(urls[-1])).startswith(b"\xff\xd8")  # or a presigned 302
    personal_data.subject_erase(shop=shop, phones=frozenset({PHONE}), emails=frozenset())
    assert [client.get(url).status_code for url in urls] == [404] * len(urls)


def test_another_shops_data_with_the_same_phone_is_untouched(shop, manager, other_shop):
    _footprint(shop, manager)
    theirs = _driver_request(other_shop, photos=1)
    their_files = [
        name
        for photo in LeadPhoto.objects.filter(lead=theirs)
        for name in (photo.original.name, photo.web.name, photo.thumb.name)
    ]
    their_outbox = OutboxMessage.objects.filter(shop=other_shop).count()
    personal_data.subject_erase(shop=shop, phones=frozenset({PHONE}), emails=frozenset())
    theirs.refresh_from_db()
    assert (theirs.customer_name, theirs.phone, theirs.plate) == (NAME, PHONE, PLATE)
    assert all(default_storage.exists(name) for name in their_files)
    assert ConsentRecord.objects.get(shop=other_shop).subject_phone == PHONE
    assert OutboxMessage.objects.filter(shop=other_shop).count() == their_outbox


# --- the legal hold of a signed act ----------------------------------------------------------


def test_signed_act_within_its_hold_is_kept_and_named_in_the_act(shop, manager):
    made = _footprint(shop, manager, hold_passed=False)
    record = made["record"]
    act = personal_data.subject_erase(shop=shop, phones=frozenset({PHONE}), emails=frozenset())
    record.refresh_from_db()
    assert record.customer_phone == PHONE and record.personal_data_erased_at is None
    assert record.legal_hold_until == timezone.localdate(record.sealed_at).replace(
        year=record.sealed_at.year + 3
    )
    assert "ГК РФ ст. 196" in record.legal_hold_reason
    assert [h["ref"] for h in act.held] == [f"№{record.number}"]
    assert not record.personal_data_hidden
    assert sealing.verify_record(record).intact
    # Asked again: nothing more to destroy, the hold is already recorded, so no second act.
    again = personal_data.subject_erase(shop=shop, phones=frozenset({PHONE}), emails=frozenset())
    assert again is None and DestructionAct.objects.filter(shop=shop).count() == 1
    # Everything else is gone.
    assert Lead.objects.get(pk=made["lead"].pk).phone == ""


def test_after_the_hold_staff_see_it_hidden_and_the_retention_run_erases_it(
    shop, manager, manager_client
):
    record = _footprint(shop, manager, hold_passed=False)["record"]
    personal_data.subject_erase(shop=shop, phones=frozenset({PHONE}), emails=frozenset())
    record.refresh_from_db()
    IntakeRecord.objects.filter(pk=record.pk).update(
        legal_hold_until=timezone.localdate() - dt.timedelta(days=1)
    )
    record.refresh_from_db()
    assert record.personal_data_hidden
    page = manager_client.get(reverse("intake:intake_record", args=[record.pk]))
    text = page.content.decode()
    assert "скрыто: срок хранения истёк" in text
    assert PLATE not in text and SURNAME not in text

    act = personal_data.retention_run_shop(shop)
    record.refresh_from_db()
    assert record.personal_data_erased_at is not None
    assert record.customer_phone == "" and record.plate == ""
    assert not record.shots.exclude(file="").exists()
    assert {row["category"] for row in act.categories} >= {"intake_records", "intake_shots"}
    assert act.performed_by_label == personal_data.AUTO_ACTOR


def test_erased_sealed_records_still_verify_and_the_chain_holds(shop, manager):
    record = _footprint(shop, manager)["record"]
    later = sealed_record(shop, manager)  # sealed after it: chained to its seal
    personal_data.subject_erase(shop=shop, phones=frozenset({PHONE}), emails=frozenset())
    record.refresh_from_db()
    assert record.personal_data_erased_at is not None
    assert SURNAME not in json.dumps(record.manifest, ensure_ascii=False)
    verdicts, chain = sealing.verify_shop(shop)
    assert chain == []
    assert all(v.intact for v in verdicts), [v.problems for v in verdicts]
    assert {v.record.pk for v in verdicts} == {record.pk, later.pk}
    out = StringIO()
    call_command("verify_intake", "--shop", shop.slug, stdout=out)
    # An erased record whose seal is forged is still caught.
    IntakeRecord.objects.filter(pk=record.pk).update(seal_sha256="f" * 64)
    record.refresh_from_db()
    assert not sealing.verify_record(record).intact


# --- retention -------------------------------------------------------------------------------


def test_retention_erases_only_lost_leads_past_their_period(shop, manager):
    now = timezone.now()
    old_lost, fresh_lost, old_won = (_driver_request(shop, photos=1) for _ in range(3))
    for lead in (old_lost, fresh_lost):
        lead_change_status(lead=lead, status=Status.LOST, by=manager, reason="Дорого")
    Lead.objects.filter(pk=old_lost.pk).update(status_changed_at=now - dt.timedelta(days=400))
    Lead.objects.filter(pk=fresh_lost.pk).update(status_changed_at=now - dt.timedelta(days=300))
    Lead.objects.filter(pk=old_won.pk).update(
        status=Status.WON, status_changed_at=now - dt.timedelta(days=900)
    )
    old_photo = LeadPhoto.objects.get(lead=old_lost)

    act = personal_data.retention_run_shop(shop, now=now)

    assert act.reason == DestructionReason.RETENTION and act.subject_hash == ""
    assert {row["category"]: row["count"] for row in act.categories}["leads"] == 1
    old_lost.refresh_from_db(), fresh_lost.refresh_from_db(), old_won.refresh_from_db()
    assert old_lost.phone == "" and old_lost.customer_name == ""
    assert fresh_lost.phone == PHONE and old_won.phone == PHONE
    assert not default_storage.exists(old_photo.original.name)
    # A second run the same day destroys nothing and writes no act.
    assert personal_data.retention_run_shop(shop, now=now) is None


def test_retention_period_is_the_shops_own(shop, manager):
    now = timezone.now()
    lead = _driver_request(shop, photos=0)
    lead_change_status(lead=lead, status=Status.LOST, by=manager, reason="Дорого")
    Lead.objects.filter(pk=lead.pk).update(status_changed_at=now - dt.timedelta(days=100))
    assert personal_data.retention_run_shop(shop, now=now) is None
    PersonalDataPolicy.objects.create(shop=shop, lost_lead_months=3)
    assert personal_data.retention_run_shop(shop, now=now) is not None


def test_retention_blanks_consent_evidence_after_the_claim_period(shop):
    now = timezone.now()
    lead = _driver_request(shop, photos=0)
    ConsentRecord.objects.filter(pk=lead.consent_id).update(
        accepted_at=now - dt.timedelta(days=3 * 365 + 10)
    )
    Lead.objects.filter(pk=lead.pk).update(
        created_at=now - dt.timedelta(days=3 * 365 + 10),
        status_changed_at=now - dt.timedelta(days=3 * 365 + 5),
        status=Status.WON,
    )
    recent = _driver_request(shop, photos=0)  # same phone: still processed, so kept
    personal_data.retention_run_shop(shop, now=now)
    assert ConsentRecord.objects.get(pk=lead.consent_id).ip_address == IP
    Lead.objects.filter(pk=recent.pk).update(
        created_at=now - dt.timedelta(days=3 * 365 + 10),
        status_changed_at=now - dt.timedelta(days=3 * 365 + 5),
    )
    ConsentRecord.objects.filter(pk=recent.consent_id).update(
        accepted_at=now - dt.timedelta(days=3 * 365 + 10)
    )
    act = personal_data.retention_run_shop(shop, now=now)
    consent = ConsentRecord.objects.get(pk=lead.consent_id)
    assert (consent.ip_address, consent.user_agent, consent.subject_phone) == (None, "", "")
    assert {row["category"]: row["count"] for row in act.categories}["consents"] == 2


def test_withdrawn_consent_is_erased_at_the_next_run_with_one_act(shop, manager):
    _footprint(shop, manager)
    other = _driver_request(shop, photos=0)
    Lead.objects.filter(pk=other.pk).update(phone="+79035550000")
    ConsentRecord.objects.filter(pk=other.consent_id).update(subject_phone="+79035550000")
    ConsentRecord.objects.filter(subject_phone=PHONE).update(withdrawn_at=timezone.now())
    acts = personal_data.withdrawn_consents_run()
    assert len(acts) == 1 and acts[0].reason == DestructionReason.CONSENT_WITHDRAWN
    assert not Lead.objects.filter(phone=PHONE).exists()
    assert Lead.objects.filter(phone="+79035550000").exists()
    assert personal_data.withdrawn_consents_run() == []


def test_a_lead_taken_by_phone_is_erased_after_its_driver_withdraws_by_the_link(shop, manager):
    """No consent record (the advisor took the call), so only the lead knows of the withdrawal."""
    from leads.withdrawal import consent_withdraw, withdrawal_subject, withdrawal_token

    lead, _created = lead_create(
        shop=shop,
        channel="phone",
        data=LeadInput(customer_name=NAME, phone=PHONE, plate=PLATE, description="Звонок"),
    )
    kept, _created = lead_create(
        shop=shop, channel="phone", data=LeadInput(customer_name="Ива", phone="+79035550000")
    )
    assert lead.consent_id is None
    subject = withdrawal_subject(shop=shop, token=withdrawal_token(shop=shop, lead_id=lead.pk))
    assert consent_withdraw(subject=subject) == 1
    acts = personal_data.withdrawn_consents_run()
    assert len(acts) == 1 and acts[0].reason == DestructionReason.CONSENT_WITHDRAWN
    lead.refresh_from_db()
    assert (lead.phone, lead.customer_name, lead.plate) == ("", "", "")
    assert Lead.objects.get(pk=kept.pk).phone == "+79035550000"
    assert personal_data.withdrawn_consents_run() == []


def test_login_logs_older_than_six_months_are_destroyed(db):
    from axes.models import AccessAttempt, AccessLog

    now = timezone.now()
    old = AccessLog.objects.create(
        username="a@example.ru", ip_address="203.0.113.1", user_agent="x", attempt_time=now
    )
    AccessLog.objects.filter(pk=old.pk).update(attempt_time=now - dt.timedelta(days=200))
    AccessLog.objects.create(
        username="b@example.ru", ip_address="203.0.113.2", user_agent="x", attempt_time=now
    )
    AccessAttempt.objects.create(
        username="c@example.ru",
        ip_address="203.0.113.3",
        user_agent="x",
        failures_since_start=1,
        attempt_time=now,
    )
    act = personal_data.login_logs_purge(now=now)
    assert act.shop is None
    assert {row["category"]: row["count"] for row in act.categories} == {"login_log": 1}
    assert list(AccessLog.objects.values_list("username", flat=True)) == ["b@example.ru"]


def test_the_retention_task_runs_every_shop(shop, manager):
    from autoservice.tasks import personal_data_retention, personal_data_withdrawn_consents

    lead = _driver_request(shop, photos=0)
    lead_change_status(lead=lead, status=Status.LOST, by=manager, reason="Дорого")
    Lead.objects.filter(pk=lead.pk).update(
        status_changed_at=timezone.now() - dt.timedelta(days=400)
    )
    assert personal_data_retention.apply().get() == 1
    assert personal_data_withdrawn_consents.apply().get() == 0


# --- commands --------------------------------------------------------------------------------


def test_export_and_erase_commands(shop, manager, tmp_path):
    _footprint(shop, manager)
    out_file = tmp_path / "subject.zip"
    out = StringIO()
    call_command(
        "export_subject",
        "--shop",
        shop.slug,
        "--phone",
        "8 916 111-22-33",
        "--out",
        str(out_file),
        stdout=out,
    )
    document = json.loads(zipfile.ZipFile(out_file).read("subject.json"))
    assert document["subject"]["phones"] == [PHONE]
    assert any(c["category"] == "lead_photos" for c in document["categories"])

    out = StringIO()
    call_command("erase_subject", "--shop", shop.slug, "--phone", PHONE, "--yes", stdout=out)
    act = DestructionAct.objects.get(shop=shop)
    assert act.number in out.getvalue()
    assert not Lead.objects.filter(phone=PHONE).exists()


def test_commands_refuse_a_malformed_phone_and_an_unknown_shop(shop):
    with pytest.raises(CommandError, match="Проверьте номер"):
        call_command("erase_subject", "--shop", shop.slug, "--phone", "12345", "--yes")
    with pytest.raises(CommandError, match="Нет автосервиса"):
        call_command("export_subject", "--shop", "no-such-shop", "--phone", PHONE)


def test_lead_deletion_log_keeps_no_personal_data_after_erasure(shop, manager):
    _footprint(shop, manager)
    personal_data.subject_erase(shop=shop, phones=frozenset({PHONE}), emails=frozenset())
    snapshot = LeadDeletion.objects.get(shop=shop).snapshot
    assert snapshot == {"erased": True, "number": 999}


def test_photo_factory_files_are_found_by_the_lead_phone(shop):
    photo = LeadPhotoFactory(lead__shop=shop, lead__phone=PHONE)
    found = personal_data.subject_find(shop=shop, phones=frozenset({PHONE}), emails=frozenset())
    assert {photo.original.name, photo.web.name, photo.thumb.name} <= _files_of(found)


def test_estimate_has_no_personal_data_of_its_own(shop):
    # The estimate names the request by id only: erasing the request's fields is enough.
    estimate = EstimateFactory(shop=shop)
    fields = {f.name for f in Estimate._meta.get_fields()}
    assert not fields & {"phone", "customer_name", "email", "plate"}
    assert estimate.versions.count() == 1


def test_admin_deleting_a_lead_removes_its_photo_files(
    client, shop, django_capture_on_commit_callbacks
):
    from django.contrib.auth import get_user_model

    photo = LeadPhotoFactory(lead__shop=shop)
    names = [photo.original.name, photo.web.name, photo.thumb.name]
    assert all(default_storage.exists(name) for name in names)
    superuser = get_user_model().objects.create_superuser("root@example.ru", "r@example.ru", "x")
    client.force_login(superuser)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:leads_lead_delete", args=[photo.lead_id]), {"post": "yes"}
        )
    assert response.status_code == 302
    assert not any(default_storage.exists(name) for name in names)


def test_crm_api_reads_no_personal_data_after_the_hold(shop, manager, client):
    from autoservice.apitokens import token_create

    record = _footprint(shop, manager, hold_passed=True)["record"]
    _token_row, token = token_create(shop=shop, name="CRM")
    response = client.get(
        reverse("intake:api_intake_record", args=[record.pk]),
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert json.loads(body)["personal_data_hidden"] is True
    assert PLATE not in body and SURNAME not in body and VIN not in body
