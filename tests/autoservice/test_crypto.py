"""Third parties' secrets are encrypted at rest: keys from FIELD_ENCRYPTION_KEYS (newest
first), rotation with `reencrypt_secrets`, a clear error for a key that does not fit, and
the migration that encrypts the plain values already stored."""

from __future__ import annotations

import importlib
import io

import pytest
from cryptography.fernet import Fernet
from django.apps import apps
from django.core.exceptions import FieldError, ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.db import connection

from autoservice import crypto
from optima.models import Supplier
from tests.factories import SupplierFactory

OLD_KEY = Fernet.generate_key().decode()
NEW_KEY = Fernet.generate_key().decode()
STRANGER_KEY = Fernet.generate_key().decode()

migration = importlib.import_module("optima.migrations.0006_encrypt_supplier_secrets")


def _raw_secret(pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM optima_supplier WHERE id = %s", [pk])
        return cursor.fetchone()[0]


def _set_raw_secret(pk: int, value: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute("UPDATE optima_supplier SET secret = %s WHERE id = %s", [value, pk])


def _reencrypt() -> str:
    out = io.StringIO()
    call_command("reencrypt_secrets", stdout=out)
    return out.getvalue()


def test_a_token_holds_no_plain_text_and_reads_back():
    token = crypto.encrypt("Пароль-4711")
    assert token.startswith(crypto.TOKEN_PREFIX) and "4711" not in token
    assert crypto.looks_encrypted(token)
    assert crypto.decrypt(token) == "Пароль-4711"
    assert crypto.encrypt("Пароль-4711") != token  # a fresh IV every time


def test_plain_values_do_not_look_encrypted():
    for plain in ["", "demo", "gAAAAA", "gAAAAAshort-password", "s3cret-password"]:
        assert not crypto.looks_encrypted(plain)


def test_data_encrypted_with_an_old_key_is_read_after_a_new_key_is_put_first(db, settings):
    settings.FIELD_ENCRYPTION_KEYS = [OLD_KEY]
    supplier = SupplierFactory(secret="old-key-secret-1")
    old_token = _raw_secret(supplier.pk)

    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY, OLD_KEY]
    assert Supplier.objects.get(pk=supplier.pk).secret == "old-key-secret-1"
    assert _raw_secret(supplier.pk) == old_token  # reading rewrites nothing

    output = _reencrypt()
    assert "optima.Supplier.secret: перешифровано 1, уже новым ключом 0" in output
    assert _raw_secret(supplier.pk) != old_token

    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY]
    assert Supplier.objects.get(pk=supplier.pk).secret == "old-key-secret-1"


def test_reencrypting_twice_changes_nothing_the_second_time(db, settings):
    settings.FIELD_ENCRYPTION_KEYS = [OLD_KEY]
    suppliers = [SupplierFactory(secret=f"secret-{n}") for n in range(3)]
    SupplierFactory(secret="")
    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY, OLD_KEY]

    assert "перешифровано 3, уже новым ключом 0" in _reencrypt()
    tokens = [_raw_secret(s.pk) for s in suppliers]
    assert "перешифровано 0, уже новым ключом 3" in _reencrypt()
    assert [_raw_secret(s.pk) for s in suppliers] == tokens
    assert _raw_secret(Supplier.objects.get(secret="").pk) == ""


def test_a_key_that_does_not_fit_gives_a_clear_error_not_garbage(db, settings):
    settings.FIELD_ENCRYPTION_KEYS = [OLD_KEY]
    supplier = SupplierFactory(secret="only-the-old-key-opens-it")

    settings.FIELD_ENCRYPTION_KEYS = [STRANGER_KEY]
    with pytest.raises(crypto.DecryptionError) as error:
        Supplier.objects.get(pk=supplier.pk)
    message = str(error.value)
    assert "FIELD_ENCRYPTION_KEYS" in message and "optima.Supplier.secret" in message
    assert "Не удаётся расшифровать" in message


def test_reencrypting_with_a_missing_old_key_stops_and_rewrites_nothing(db, settings):
    settings.FIELD_ENCRYPTION_KEYS = [OLD_KEY]
    readable = SupplierFactory(secret="first")
    lost = SupplierFactory(secret="second")
    tokens = {s.pk: _raw_secret(s.pk) for s in (readable, lost)}
    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY, OLD_KEY]
    _set_raw_secret(lost.pk, Fernet(STRANGER_KEY.encode()).encrypt(b"second").decode())
    tokens[lost.pk] = _raw_secret(lost.pk)

    with pytest.raises(CommandError, match="FIELD_ENCRYPTION_KEYS"):
        _reencrypt()
    assert {s.pk: _raw_secret(s.pk) for s in (readable, lost)} == tokens


def test_without_keys_the_development_key_comes_from_secret_key(db, settings):
    settings.FIELD_ENCRYPTION_KEYS = []
    settings.FIELD_ENCRYPTION_DEVELOPMENT_KEY = True
    supplier = SupplierFactory(secret="dev-only")
    token = _raw_secret(supplier.pk)
    assert Fernet(crypto.development_key(settings.SECRET_KEY).encode()).decrypt(token.encode())
    assert Supplier.objects.get(pk=supplier.pk).secret == "dev-only"

    settings.SECRET_KEY = "another-" + settings.SECRET_KEY
    with pytest.raises(crypto.DecryptionError):
        Supplier.objects.get(pk=supplier.pk)


def test_without_keys_and_without_development_mode_nothing_is_encrypted(settings):
    settings.FIELD_ENCRYPTION_KEYS = []
    settings.FIELD_ENCRYPTION_DEVELOPMENT_KEY = False
    with pytest.raises(ImproperlyConfigured, match="FIELD_ENCRYPTION_KEYS"):
        crypto.encrypt("anything")
    assert [e.id for e in crypto.check_keys()] == ["autoservice.E001"]


def test_a_malformed_key_is_named_by_its_position(settings):
    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY, "not-a-fernet-key"]
    with pytest.raises(ImproperlyConfigured, match="№2"):
        crypto.encrypt("anything")


def test_encrypted_column_is_compared_with_empty_only(db):
    SupplierFactory(secret="")
    SupplierFactory(secret="s3")
    assert Supplier.objects.filter(secret="").count() == 1
    assert Supplier.objects.exclude(secret="").count() == 1
    with pytest.raises(FieldError):
        Supplier.objects.filter(secret="s3").count()
    with pytest.raises(FieldError):
        Supplier.objects.filter(secret__contains="s").count()


def test_migration_encrypts_plain_values_in_place_and_reverses(db):
    plain = SupplierFactory(secret="x")
    empty = SupplierFactory(secret="")
    already = SupplierFactory(secret="stays-encrypted")
    _set_raw_secret(plain.pk, "plain-from-before")
    already_token = _raw_secret(already.pk)

    with connection.schema_editor() as editor:
        migration.encrypt_secrets(apps, editor)
    token = _raw_secret(plain.pk)
    assert crypto.looks_encrypted(token) and "plain-from-before" not in token
    assert Supplier.objects.get(pk=plain.pk).secret == "plain-from-before"
    assert _raw_secret(empty.pk) == ""
    assert _raw_secret(already.pk) == already_token  # never encrypted twice

    with connection.schema_editor() as editor:
        migration.encrypt_secrets(apps, editor)
    assert _raw_secret(plain.pk) == token

    with connection.schema_editor() as editor:
        migration.decrypt_secrets(apps, editor)
    assert _raw_secret(plain.pk) == "plain-from-before"
    assert _raw_secret(already.pk) == "stays-encrypted"
    assert _raw_secret(empty.pk) == ""


def test_dumpdata_writes_the_token_and_loaddata_reads_the_secret_back(db, tmp_path):
    supplier = SupplierFactory(secret="pa55-word-of-the-supplier")
    out = io.StringIO()
    call_command("dumpdata", "optima.supplier", "--indent", "1", stdout=out)
    dumped = out.getvalue()
    assert "pa55-word-of-the-supplier" not in dumped
    assert crypto.TOKEN_PREFIX in dumped

    fixture = tmp_path / "suppliers.json"
    fixture.write_text(dumped, encoding="utf-8")
    Supplier.objects.filter(pk=supplier.pk).update(secret="")
    call_command("loaddata", str(fixture), verbosity=0)
    assert Supplier.objects.get(pk=supplier.pk).secret == "pa55-word-of-the-supplier"
