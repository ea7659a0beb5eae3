"""Seals that can be trusted without trusting the database: keyed seals, the published log of
seal heads, immutable template versions, and each tampering named by `verify_intake`.

Every tampering is done the way someone with write access to the database (and the media
folder) would do it, without the seal key; `verify_intake` must exit with status 1 and name
what changed.
"""

from __future__ import annotations

import uuid
from io import StringIO

import pytest
from django.apps import apps as django_apps
from django.core import mail
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.urls import reverse

from autoservice.models import OutboxMessage
from intake import sealing, seallog, services
from intake.models import (
    Addendum,
    IntakeRecord,
    IntakeShot,
    SealHead,
    ShotSkip,
    ShotSpec,
    ShotTemplate,
)
from intake.tasks import seal_digest_daily
from tests.factories import MembershipFactory, UserFactory
from tests.intake.test_sealing import (
    new_record,
    platform_template,
    sealed_record,
    shoot_required,
    signature_data_url,
)

OLD_KEY = ("2025", "old-secret-" + "o" * 40)
NEW_KEY = ("2026", "new-secret-" + "n" * 40)


@pytest.fixture(autouse=True)
def _keys(settings):
    settings.INTAKE_SEAL_KEYS = [OLD_KEY]


@pytest.fixture
def record(shop, advisor) -> IntakeRecord:
    return sealed_record(shop, advisor)


@pytest.fixture
def chain(shop, advisor) -> list[IntakeRecord]:
    return [sealed_record(shop, advisor, family="service", plate=f"В00{i}ОР77") for i in (1, 2, 3)]


def verify_fails(*, shop=None) -> str:
    """Run verify_intake, require exit status 1, return everything it said."""
    out = StringIO()
    args = ["--shop", shop.slug] if shop else []
    with pytest.raises(CommandError) as failed:
        call_command("verify_intake", *args, stdout=out)
    assert failed.value.returncode == 1, str(failed.value)
    return out.getvalue() + str(failed.value)


def verify_passes() -> str:
    out = StringIO()
    call_command("verify_intake", stdout=out)
    assert "изменений нет" in out.getvalue(), out.getvalue()
    return out.getvalue()


# --- sealing with a key ---------------------------------------------------------------------


def test_a_new_seal_is_an_hmac_with_the_newest_key_and_its_id(record):
    record.refresh_from_db()

    assert (record.seal_kind, record.seal_key_id) == ("hmac-sha256", "2025")
    assert record.seal_sha256 == sealing.keyed_digest(
        OLD_KEY[1].encode(), "hmac-sha256", "2025", sealing.GENESIS, record.manifest_sha256
    )
    assert record.seal_sha256 != sealing.sha256_bytes(
        (sealing.GENESIS + record.manifest_sha256).encode()
    )
    assert "№1: не изменялась (печать HMAC-SHA256, ключ «2025»)" in verify_passes()


def test_records_sealed_with_an_old_key_verify_after_a_new_key_is_put_first(
    shop, advisor, settings
):
    old = sealed_record(shop, advisor, family="service")
    settings.INTAKE_SEAL_KEYS = [NEW_KEY, OLD_KEY]
    new = sealed_record(shop, advisor, family="service")
    old.refresh_from_db()
    new.refresh_from_db()

    assert old.seal_key_id == "2025" and new.seal_key_id == "2026"
    assert new.previous_seal == old.seal_sha256
    text = verify_passes()
    assert "ключ «2025»" in text and "ключ «2026»" in text


def test_a_record_whose_key_was_removed_cannot_be_verified_and_says_which_key(
    shop, advisor, settings
):
    sealed_record(shop, advisor, family="service")
    settings.INTAKE_SEAL_KEYS = [NEW_KEY]

    assert "Ключ печати «2025» не задан в INTAKE_SEAL_KEYS" in verify_fails()


# --- each tampering is named by verify_intake -----------------------------------------------


def _edit_shot(record):
    IntakeShot.objects.filter(record=record, spec__code="front").update(accepted=False)


def _add_shot(record):
    shot = IntakeShot.objects.filter(record=record, spec__code="front").first()
    shot.pk, shot.client_id = None, uuid.uuid4()
    shot.save()


def _delete_shot(record):
    IntakeShot.objects.filter(record=record, spec__code="rear").delete()


def _edit_skip(record):
    ShotSkip.objects.filter(record=record).update(reason="Клиент отказался")


def _add_skip(record):
    ShotSkip.objects.create(
        record=record, spec=record.template.specs.get(code="vin_plate"), reason="Нет таблички"
    )


def _delete_skip(record):
    ShotSkip.objects.filter(record=record).delete()


def _replace_signature(record):
    with default_storage.open(record.customer_signature.name, "wb") as handle:
        handle.write(signature_data_url(7).encode())


def _remove_signature(record):
    IntakeRecord.objects.filter(pk=record.pk).update(advisor_signature="")


def _edit_template_spec(record):
    ShotSpec.objects.filter(template=record.template, code="front").update(
        instruction="Как получится"
    )


def _add_template_spec(record):
    ShotSpec.objects.create(
        template=record.template, position=99, code="extra", name="Лишний", instruction="—"
    )


def _rename_template(record):
    ShotTemplate.objects.filter(pk=record.template_id).update(name="Кузов (новое имя)")


@pytest.mark.parametrize(
    ("tamper", "named"),
    [
        pytest.param(
            lambda r: IntakeRecord.objects.filter(pk=r.pk).update(customer_name="Пётр Петров"),
            "record.customer_name: было «Сергей Иванов», стало «Пётр Петров»",
            id="record_field",
        ),
        pytest.param(
            _edit_shot, "кадр front.accepted: было «True», стало «False»", id="shot_edited"
        ),
        pytest.param(_add_shot, "Кадр «front» добавлен после подписи.", id="shot_added"),
        pytest.param(_delete_shot, "Кадр «rear» удалён.", id="shot_deleted"),
        pytest.param(
            _edit_skip,
            "пропуск кадра roof.reason: было «Нет стремянки», стало «Клиент отказался»",
            id="skip_edited",
        ),
        pytest.param(
            _add_skip, "пропуск кадра «vin_plate» добавлен после подписи.", id="skip_added"
        ),
        pytest.param(_delete_skip, "пропуск кадра «roof» удалён.", id="skip_deleted"),
        pytest.param(_replace_signature, "signatures.customer: было", id="signature_replaced"),
        pytest.param(_remove_signature, "signatures.advisor: было «", id="signature_removed"),
        pytest.param(
            _edit_template_spec,
            "кадр шаблона front.instruction: было «Ровно спереди, по центру, с госномером в "
            "кадре», стало «Как получится»",
            id="template_spec_edited",
        ),
        pytest.param(
            _add_template_spec,
            "кадр шаблона «extra» добавлен после подписи.",
            id="template_spec_added",
        ),
        pytest.param(_rename_template, "template.name: было «", id="template_renamed"),
    ],
)
def test_verify_intake_names_each_change_to_a_sealed_record(record, tamper, named):
    verify_passes()

    tamper(record)

    text = verify_fails()
    assert f"№{record.number}: изменена" in text
    assert named in text


def _forge(record: IntakeRecord, *, seal) -> None:
    """Edit a field and rebuild the manifest and its hash as an attacker would, sealing it
    with `seal(previous, manifest_hash)` (they do not have the key)."""
    IntakeRecord.objects.filter(pk=record.pk).update(odometer_km=1000)
    forged = IntakeRecord.objects.get(pk=record.pk)
    manifest = dict(forged.manifest)
    manifest["record"] = sealing.build_manifest(forged)["record"]
    forged.manifest = manifest
    forged.manifest_sha256 = sealing.sha256_bytes(sealing.canonical(manifest))
    forged.seal_sha256 = seal(forged.previous_seal, forged.manifest_sha256)
    forged.save()
    SealHead.objects.filter(shop=forged.shop).update(seal_sha256=forged.seal_sha256)


@pytest.mark.parametrize(
    "seal",
    [
        pytest.param(lambda prev, h: sealing.sha256_bytes((prev + h).encode()), id="sha256"),
        pytest.param(
            lambda prev, h: sealing.keyed_digest(
                b"guessed-key-" + b"x" * 40, "hmac-sha256", "2025", prev, h
            ),
            id="wrong_key",
        ),
    ],
)
def test_a_seal_recomputed_without_the_key_is_caught(record, seal):
    _forge(record, seal=seal)

    text = verify_fails()

    assert "Печать акта не соответствует манифесту и предыдущей печати" in text
    assert f"Акт №{record.number}: печать не совпадает с опубликованной в журнале." in text


def test_a_seal_downgraded_to_the_old_unkeyed_kind_is_caught(chain):
    first = IntakeRecord.objects.get(pk=chain[0].pk)
    manifest = {k: v for k, v in first.manifest.items() if k not in ("seal_kind", "key_id")}
    manifest["record"]["odometer_km"] = 1
    IntakeRecord.objects.filter(pk=first.pk).update(
        odometer_km=1,
        manifest=manifest,
        manifest_sha256=sealing.sha256_bytes(sealing.canonical(manifest)),
        seal_kind="sha256",
        seal_key_id="",
    )
    first.refresh_from_db()
    IntakeRecord.objects.filter(pk=first.pk).update(
        seal_sha256=sealing.sha256_bytes((first.previous_seal + first.manifest_sha256).encode())
    )

    text = verify_fails()

    assert f"Акт №{chain[1].number}: цепочка печатей нарушена перед ним." in text
    assert f"Акт №{chain[0].number}: печать не совпадает с опубликованной в журнале." in text


def test_deleting_the_newest_record_and_rewinding_the_head_is_caught_by_the_published_log(chain):
    newest = chain[2]
    IntakeRecord.objects.filter(pk=newest.pk).delete()
    SealHead.objects.filter(shop=newest.shop).update(index=2, seal_sha256=chain[1].seal_sha256)
    # Against a log that ends where the rewound database does, nothing shows:
    _verdicts, db_only = sealing.verify_shop(
        newest.shop,
        published=seallog.PublishedLog(
            {newest.shop_id: seallog.seals_published().by_shop[newest.shop_id][:2]}, [], True
        ),
    )
    assert db_only == []

    text = verify_fails()

    assert f"акт id {newest.pk}" in text
    assert "новейший опечатанный акт удалён, запись о последней печати отмотана назад" in text


# --- the published log ----------------------------------------------------------------------


def test_every_seal_appends_one_line_and_keeps_what_was_there(shop, advisor, settings):
    path = settings.INTAKE_SEAL_LOG
    path.write_text("written before\n")
    first = sealed_record(shop, advisor, family="service")
    second = sealed_record(shop, advisor, family="service")

    lines = path.read_text().splitlines()

    assert lines[0] == "written before"
    assert [line.split("\t")[1:] for line in lines[1:]] == [
        [str(shop.pk), str(first.pk), first.seal_sha256, "2025"],
        [str(shop.pk), str(second.pk), second.seal_sha256, "2025"],
    ]
    assert lines[1].split("\t")[0].endswith("+00:00")


def test_a_keyed_seal_missing_from_the_log_is_reported(record, settings):
    settings.INTAKE_SEAL_LOG = settings.INTAKE_SEAL_LOG.with_name("another-log.txt")

    assert "нет ни одной печати этого автосервиса" in verify_fails()


def test_a_seal_that_cannot_be_published_is_not_made(shop, advisor, settings, tmp_path):
    settings.INTAKE_SEAL_LOG = tmp_path / "a-file" / "log.txt"
    (tmp_path / "a-file").write_text("not a folder")
    draft = new_record(shop, advisor, family="service")
    shoot_required(draft)

    with pytest.raises(OSError):
        services.record_sign_and_seal(
            record=draft,
            by=advisor,
            customer_signature=signature_data_url(1),
            advisor_signature=signature_data_url(2),
        )

    assert not IntakeRecord.objects.get(pk=draft.pk).is_sealed
    assert not SealHead.objects.filter(shop=shop).exists()


# --- records sealed before keys -------------------------------------------------------------


def _as_unkeyed(record: IntakeRecord) -> IntakeRecord:
    """The record as sealed before keys: the old manifest and the plain SHA-256 seal."""
    record = IntakeRecord.objects.get(pk=record.pk)
    manifest = {
        k: v
        for k, v in record.manifest.items()
        if k not in ("seal_kind", "key_id", "template_specs")
    }
    manifest_hash = sealing.sha256_bytes(sealing.canonical(manifest))
    seal = sealing.sha256_bytes((record.previous_seal + manifest_hash).encode())
    IntakeRecord.objects.filter(pk=record.pk).update(
        manifest=manifest,
        manifest_sha256=manifest_hash,
        seal_sha256=seal,
        seal_kind="",
        seal_key_id="",
    )
    SealHead.objects.filter(shop=record.shop).update(seal_sha256=seal)
    return IntakeRecord.objects.get(pk=record.pk)


def test_records_sealed_before_keys_keep_their_seal_and_verify_as_before(
    shop, advisor, settings, tmp_path
):
    old = _as_unkeyed(sealed_record(shop, advisor, family="service"))
    settings.INTAKE_SEAL_LOG = tmp_path / "log-started-after.txt"  # the log came with keys
    migration = __import__("intake.migrations.0003_keyed_seals", fromlist=["x"])
    migration.mark_existing_seals(django_apps, None)
    old.refresh_from_db()
    assert old.seal_kind == "sha256" and old.seal_sha256 == sealing.sha256_bytes(
        (old.previous_seal + old.manifest_sha256).encode()
    )
    new = sealed_record(shop, advisor, family="service")

    text = verify_passes()

    assert new.previous_seal == old.seal_sha256 and new.seal_kind == "hmac-sha256"
    assert f"№{old.number}: не изменялась (старая печать SHA-256 без ключа" in text
    assert f"№{new.number}: не изменялась (печать HMAC-SHA256" in text

    IntakeRecord.objects.filter(pk=old.pk).update(odometer_km=3)
    assert "record.odometer_km: было «45210», стало «3»" in verify_fails()


# --- template versions ----------------------------------------------------------------------


@pytest.fixture
def superuser_client(client, db):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def _template_post(template: ShotTemplate, *, name: str, change: dict | None = None) -> dict:
    specs = list(template.specs.order_by("position"))
    data = {
        "name": name,
        "specs-TOTAL_FORMS": str(len(specs)),
        "specs-INITIAL_FORMS": str(len(specs)),
        "specs-MIN_NUM_FORMS": "0",
        "specs-MAX_NUM_FORMS": "1000",
    }
    for i, spec in enumerate(specs):
        row = {
            "id": spec.pk,
            "template": template.pk,
            "position": spec.position,
            "code": spec.code,
            "name": spec.name,
            "instruction": spec.instruction,
            "guide": spec.guide,
            "min_count": spec.min_count,
        }
        if spec.required:
            row["required"] = "on"
        if spec.is_damage:
            row["is_damage"] = "on"
        row.update((change or {}).get(spec.code, {}))
        data.update({f"specs-{i}-{k}": v for k, v in row.items()})
    return data


def test_renaming_a_platform_template_in_the_admin_makes_a_new_version_records_keep_theirs(
    superuser_client, shop, advisor, other_shop
):
    ours = sealed_record(shop, advisor, family="service")
    theirs = sealed_record(other_shop, MembershipFactory(shop=other_shop), family="service")
    used = platform_template("service")
    before, name = sealing.template_specs(used), used.name

    response = superuser_client.post(
        reverse("admin:intake_shottemplate_change", args=[used.pk]),
        _template_post(
            used,
            name="Сервис (новое)",
            change={"front_left_45": {"instruction": "Новая подсказка"}},
        ),
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    used.refresh_from_db()
    current = platform_template("service")
    assert used.name == name and not used.is_current
    assert current.pk != used.pk and current.version == used.version + 1
    assert current.name == "Сервис (новое)"
    assert current.specs.get(code="front_left_45").instruction == "Новая подсказка"
    assert current.specs.count() == used.specs.count()
    assert sealing.template_specs(used) == before
    assert IntakeRecord.objects.get(pk=ours.pk).template_id == used.pk
    assert IntakeRecord.objects.get(pk=theirs.pk).template_id == used.pk
    verify_passes()


def test_a_template_version_in_use_cannot_be_deleted_in_the_admin(superuser_client, record):
    response = superuser_client.post(
        reverse("admin:intake_shottemplate_delete", args=[record.template_id]), {"post": "yes"}
    )

    assert response.status_code == 403
    assert ShotTemplate.objects.filter(pk=record.template_id).exists()


def test_an_unused_template_version_is_edited_in_place(superuser_client, db):
    draft = ShotTemplate.objects.create(family="draft", name="Черновик")
    ShotSpec.objects.create(template=draft, position=1, code="a", name="А", instruction="—")

    response = superuser_client.post(
        reverse("admin:intake_shottemplate_change", args=[draft.pk]),
        _template_post(draft, name="Черновик 2"),
    )

    assert response.status_code == 302
    assert list(ShotTemplate.objects.filter(family="draft").values_list("name", "version")) == [
        ("Черновик 2", 1)
    ]


# --- the admin: sealed records read-only, addenda added -------------------------------------


def test_a_sealed_record_is_shown_read_only_in_the_admin_with_its_inlines(superuser_client, record):
    url = reverse("admin:intake_intakerecord_change", args=[record.pk])

    page = superuser_client.get(url).content.decode()

    assert "Нет стремянки" in page  # the skip is shown
    assert record.shots.first().sha256 in page  # and the shots
    assert 'name="skips-0-reason"' not in page and 'name="_save"' not in page
    assert 'name="customer_name"' not in page
    assert "skips-0-DELETE" not in page and "add-row" not in page


def test_posting_to_a_sealed_record_in_the_admin_changes_nothing(superuser_client, record):
    url = reverse("admin:intake_intakerecord_change", args=[record.pk])

    response = superuser_client.post(
        url,
        {
            "customer_name": "Пётр",
            "skips-TOTAL_FORMS": "1",
            "skips-INITIAL_FORMS": "1",
            "skips-0-id": record.skips.get().pk,
            "skips-0-record": record.pk,
            "skips-0-reason": "Изменено",
            "skips-0-DELETE": "on",
        },
    )

    assert response.status_code == 403
    assert record.skips.get().reason == "Нет стремянки"
    assert IntakeRecord.objects.get(pk=record.pk).customer_name == "Сергей Иванов"


def test_the_skip_of_a_sealed_record_can_be_neither_edited_nor_deleted_in_the_admin(
    superuser_client, record
):
    skip = record.skips.get()

    edited = superuser_client.post(
        reverse("admin:intake_shotskip_change", args=[skip.pk]), {"reason": "Изменено"}
    )
    deleted = superuser_client.post(
        reverse("admin:intake_shotskip_delete", args=[skip.pk]), {"post": "yes"}
    )
    bulk = superuser_client.post(
        reverse("admin:intake_shotskip_changelist"),
        {"action": "delete_selected", "_selected_action": [skip.pk], "post": "yes"},
    )

    assert edited.status_code == 403 and deleted.status_code == 403
    assert bulk.status_code in (200, 302, 403)
    assert ShotSkip.objects.get(pk=skip.pk).reason == "Нет стремянки"
    assert superuser_client.get(reverse("admin:intake_shotskip_add")).status_code == 403


def test_the_skip_of_an_unsealed_record_can_still_be_corrected_in_the_admin(
    superuser_client, shop, advisor
):
    draft = new_record(shop, advisor)
    skip = services.shot_skip(
        record=draft, spec=draft.template.specs.get(code="roof"), reason="Нет стремянки"
    )

    response = superuser_client.post(
        reverse("admin:intake_shotskip_change", args=[skip.pk]), {"reason": "Дождь, крыша мокрая"}
    )

    assert response.status_code == 302
    assert ShotSkip.objects.get(pk=skip.pk).reason == "Дождь, крыша мокрая"


def test_an_addendum_is_added_in_the_admin_chained_and_keyed(superuser_client, record):
    url = reverse("admin:intake_addendum_add")
    assert superuser_client.get(url).status_code == 200

    response = superuser_client.post(url, {"record": record.pk, "text": "Скол на лобовом"})

    assert response.status_code == 302
    addendum = Addendum.objects.get(record=record)
    assert addendum.key_id == "2025" and addendum.text == "Скол на лобовом"
    assert addendum.sha256 == sealing.addendum_digest(
        record.seal_sha256, addendum.created_at.isoformat(), "Скол на лобовом", "2025"
    )
    verify_passes()
    Addendum.objects.filter(pk=addendum.pk).update(text="Без сколов")
    assert "изменено, или перед ним удалено другое" in verify_fails()


def test_an_addendum_to_an_unsealed_record_or_an_empty_one_is_refused_in_the_admin(
    superuser_client, record, shop, advisor
):
    draft = new_record(shop, advisor)
    url = reverse("admin:intake_addendum_add")

    unsealed = superuser_client.post(url, {"record": draft.pk, "text": "Скол"})
    empty = superuser_client.post(url, {"record": record.pk, "text": "   "})

    assert unsealed.status_code == 200 and empty.status_code == 200
    assert not Addendum.objects.exists()


def test_an_addendum_cannot_be_changed_or_deleted_in_the_admin(superuser_client, record, advisor):
    addendum = services.addendum_add(record=record, by=advisor, text="Скол")

    changed = superuser_client.post(
        reverse("admin:intake_addendum_change", args=[addendum.pk]), {"text": "Без скола"}
    )
    deleted = superuser_client.post(
        reverse("admin:intake_addendum_delete", args=[addendum.pk]), {"post": "yes"}
    )

    assert changed.status_code == 403 and deleted.status_code == 403
    assert Addendum.objects.get(pk=addendum.pk).text == "Скол"


# --- the daily digest -----------------------------------------------------------------------


def test_the_daily_digest_mails_the_current_head_to_the_managers_once_a_day(
    record, shop, django_capture_on_commit_callbacks, settings
):
    manager = MembershipFactory(shop=shop, role="manager")
    manager.user.email = "boss@example.ru"
    manager.user.save()
    MembershipFactory(shop=MembershipFactory().shop, role="manager")  # another shop's manager
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        seal_digest_daily.delay()
    with django_capture_on_commit_callbacks(execute=True):
        seal_digest_daily.delay()

    assert OutboxMessage.objects.filter(kind=services.NOTIFY_SEAL_DIGEST).count() == 1
    [letter] = [m for m in mail.outbox if "Печати актов приёмки" in m.subject]
    assert letter.to == ["boss@example.ru"]
    assert record.seal_sha256 in letter.body and "Ключ печати: 2025" in letter.body
    assert f"Акт: №{record.number}" in letter.body
    schedule = settings.CELERY_BEAT_SCHEDULE["intake-seal-digest"]
    assert schedule["task"] == "intake.tasks.seal_digest_daily"
    assert seal_digest_daily.time_limit and seal_digest_daily.soft_time_limit


def test_log_lines_are_the_shop_s_and_unreadable_lines_are_listed(record, settings):
    with open(settings.INTAKE_SEAL_LOG, "a") as handle:
        handle.write("garbage\n")

    log = seallog.seals_published()

    assert log.unreadable == [2]
    assert [p.record_id for p in log.by_shop[record.shop_id]] == [record.pk]
    assert "Нечитаемые строки журнала: 2" in verify_passes()


def test_a_shop_whose_sealed_records_and_head_were_all_deleted_is_still_checked(record):
    IntakeRecord.objects.filter(pk=record.pk).delete()
    SealHead.objects.filter(shop=record.shop).delete()

    text = verify_fails()

    assert record.shop.slug in text
    assert "новейший опечатанный акт удалён" in text
