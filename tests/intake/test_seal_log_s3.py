"""The seal log in object storage (INTAKE_SEAL_LOG=s3://bucket/prefix), for installations with
two or more web nodes: every seal is an object of its own, created once and locked (S3 Object
Lock, COMPLIANCE), read back as the same published log, verified by `verify_intake` and kept
by the backups. Against the loopback S3 server (tests/s3.py), a bucket with Object Lock."""

from __future__ import annotations

import hashlib
import importlib
import re
import uuid
from io import StringIO

import pytest
from botocore.exceptions import ClientError
from django.apps import apps as django_apps
from django.core.management import call_command

from autoservice import backup, objectlog
from intake import seallog, services
from intake.models import IntakeRecord, SealHead
from tests.intake.test_keyed_seals import verify_fails, verify_passes
from tests.intake.test_sealing import new_record, sealed_record, shoot_required, signature_data_url
from tests.s3 import ACCESS_KEY, REGION, SECRET_KEY, s3_server

PREFIX = "intake-seals"


def _options() -> dict:
    return {
        "endpoint_url": s3_server().endpoint_url,
        "region_name": REGION,
        "access_key": ACCESS_KEY,
        "secret_key": SECRET_KEY,
    }


def _client():
    return objectlog._client(objectlog.Address("any", ""), _options())


@pytest.fixture
def seal_bucket(settings, tmp_path) -> str:
    """A bucket with Object Lock on the loopback server, the seal log in it, seals locked
    for a day. The local file the suite points at stays unused."""
    bucket = f"seals-{uuid.uuid4().hex[:20]}"
    _client().create_bucket(
        Bucket=bucket,
        CreateBucketConfiguration={"LocationConstraint": REGION},
        ObjectLockEnabledForBucket=True,
    )
    settings.INTAKE_SEAL_KEYS = [("2026", "seal-secret-" + "s" * 40)]
    settings.INTAKE_SEAL_LOG = f"s3://{bucket}/{PREFIX}"
    settings.INTAKE_SEAL_LOG_S3 = _options()
    settings.INTAKE_SEAL_LOG_RETENTION_DAYS = 1
    return bucket


@pytest.fixture
def chain(shop, advisor, seal_bucket) -> list[IntakeRecord]:
    return [sealed_record(shop, advisor, family="service", plate=f"В00{i}ОР77") for i in (1, 2, 3)]


def _keys(bucket: str) -> list[str]:
    listed = _client().list_objects_v2(Bucket=bucket, Prefix=PREFIX + "/")
    return sorted(item["Key"] for item in listed.get("Contents", []))


def test_every_seal_is_an_object_of_its_own_named_by_shop_time_and_record(
    chain, seal_bucket, settings
):
    shop_id = chain[0].shop_id
    keys = _keys(seal_bucket)

    assert len(keys) == 3
    for key, record in zip(keys, chain, strict=True):
        assert re.fullmatch(rf"{PREFIX}/{shop_id}/\d{{8}}T\d{{6}}\.\d{{6}}Z-{record.pk}", key)
        line = _client().get_object(Bucket=seal_bucket, Key=key)["Body"].read().decode()
        at, *rest = line.rstrip("\n").split("\t")
        assert rest == [str(shop_id), str(record.pk), record.seal_sha256, "2026"]
        assert at.endswith("+00:00")
    # Read back in the shape of the file log: one "line" per seal, in the order sealed.
    published = seallog.seals_published()
    assert published.exists and published.unreadable == []
    assert [(p.line, p.record_id, p.seal) for p in published.by_shop[shop_id]] == [
        (n, r.pk, r.seal_sha256) for n, r in enumerate(chain, start=1)
    ]
    assert seallog.log_location() == f"s3://{seal_bucket}/{PREFIX}"
    assert f"Журнал печатей: s3://{seal_bucket}/{PREFIX}" in verify_passes()


def test_a_seal_object_is_never_replaced_and_is_locked(chain, seal_bucket):
    key = _keys(seal_bucket)[-1]
    name = key.removeprefix(PREFIX + "/")
    address = seallog.log_address()

    with pytest.raises(objectlog.EntryExists):
        objectlog.entry_create(address, name, b"rewritten\n", options=_options())

    client = _client()
    kept = client.get_object(Bucket=seal_bucket, Key=key)
    assert kept["Body"].read().decode().split("\t")[2] == str(chain[-1].pk)
    assert kept["ObjectLockMode"] == "COMPLIANCE"
    # COMPLIANCE: not even the bucket's owner deletes the version before the date.
    with pytest.raises(ClientError) as refused:
        client.delete_object(Bucket=seal_bucket, Key=key, VersionId=kept["VersionId"])
    assert refused.value.response["Error"]["Code"] == "AccessDenied"


def test_deleting_the_newest_record_and_rewinding_the_head_is_caught_by_the_bucket_log(chain):
    newest = chain[2]
    IntakeRecord.objects.filter(pk=newest.pk).delete()
    SealHead.objects.filter(shop=newest.shop).update(index=2, seal_sha256=chain[1].seal_sha256)

    text = verify_fails()

    assert f"акт id {newest.pk}" in text
    assert "новейший опечатанный акт удалён, запись о последней печати отмотана назад" in text


def test_a_delete_marker_over_the_newest_seal_does_not_hide_it(chain, seal_bucket):
    """Whoever rewinds the database and also deletes the newest seal's object (without a
    version: a delete marker, all a COMPLIANCE lock allows) still gets caught."""
    newest = chain[2]
    key = _keys(seal_bucket)[-1]
    _client().delete_object(Bucket=seal_bucket, Key=key)
    assert key not in _keys(seal_bucket)
    IntakeRecord.objects.filter(pk=newest.pk).delete()
    SealHead.objects.filter(shop=newest.shop).update(index=2, seal_sha256=chain[1].seal_sha256)

    assert "новейший опечатанный акт удалён" in verify_fails()


def test_an_object_that_says_another_record_than_its_key_is_unreadable(chain, seal_bucket):
    shop_id = chain[0].shop_id
    forged = f"2026-01-01T00:00:00+00:00\t{shop_id}\t{chain[0].pk}\t{'f' * 64}\t2026\n"
    objectlog.entry_create(
        seallog.log_address(),
        f"{shop_id}/29991231T000000.000000Z-{chain[1].pk}",
        forged.encode(),
        options=_options(),
    )

    published = seallog.seals_published()

    assert published.unreadable == [4]
    assert [p.record_id for p in published.by_shop[shop_id]] == [r.pk for r in chain]


def test_a_seal_that_cannot_be_published_in_the_bucket_is_not_made(shop, advisor, settings):
    settings.INTAKE_SEAL_LOG = f"s3://no-such-bucket-{uuid.uuid4().hex[:8]}/{PREFIX}"
    settings.INTAKE_SEAL_LOG_S3 = _options()
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


def test_a_retention_needs_a_bucket_with_object_lock(shop, advisor, settings):
    bucket = f"plain-{uuid.uuid4().hex[:20]}"
    _client().create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    settings.INTAKE_SEAL_LOG = f"s3://{bucket}/{PREFIX}"
    settings.INTAKE_SEAL_LOG_S3 = _options()
    settings.INTAKE_SEAL_LOG_RETENTION_DAYS = 30

    with pytest.raises(OSError):
        sealed_record(shop, advisor, family="service")

    assert _keys(bucket) == []


@pytest.mark.django_db(transaction=True)
def test_a_backup_keeps_the_bucket_log_as_its_lines_and_the_check_compares_them(
    shop, advisor, seal_bucket, tmp_path, settings
):
    # The templates a data migration writes, gone with an earlier committing test's flush.
    importlib.import_module("intake.migrations.0002_default_templates").create(django_apps, None)
    first = sealed_record(shop, advisor, family="service")
    target = tmp_path / "backup"

    call_command("backup", to=str(target), stdout=StringIO())

    copy = (target / "intake-seal-log.txt").read_bytes()
    lines = copy.decode().splitlines()
    assert [line.split("\t")[2:4] for line in lines] == [[str(first.pk), first.seal_sha256]]
    meta = backup.read_backup(target)
    assert meta["seal_log"] == {"size": len(copy), "sha256": hashlib.sha256(copy).hexdigest()}
    assert not any("Журнал печатей" in p for p in backup.backup_check(source=target))
    # The copy as a file log reads as the bucket did.
    settings.INTAKE_SEAL_LOG = tmp_path / "restored-log.txt"
    settings.INTAKE_SEAL_LOG.write_bytes(copy)
    assert seallog.seals_published().by_shop[shop.pk][0].record_id == first.pk

    # A seal published after the backup: the bucket's log no longer matches the copy.
    settings.INTAKE_SEAL_LOG = f"s3://{seal_bucket}/{PREFIX}"
    sealed_record(shop, advisor, family="service")
    assert any(
        p.startswith(f"Журнал печатей s3://{seal_bucket}/{PREFIX} не совпадает")
        for p in backup.backup_check(source=target)
    )
