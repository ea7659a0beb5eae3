"""Suppliers' passwords and keys are kept encrypted: the column becomes text (a Fernet token
is longer than the password) and the plain values already stored are encrypted in place.
The reverse decrypts them back, with the same keys."""

from django.db import migrations

from autoservice import crypto


def _rewrite(apps, schema_editor, change):
    Supplier = apps.get_model("optima", "Supplier")
    connection = schema_editor.connection
    table = connection.ops.quote_name(Supplier._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, secret FROM {table} WHERE secret <> ''")  # noqa: S608
        rows = cursor.fetchall()
        for pk, stored in rows:
            new = change(stored, f"optima.Supplier.secret id={pk}")
            if new != stored:
                cursor.execute(f"UPDATE {table} SET secret = %s WHERE id = %s", [new, pk])  # noqa: S608


def _encrypt(stored, where):
    if crypto.looks_encrypted(stored):
        crypto.decrypt(stored, where=where)  # a token no key opens stops the migration
        return stored
    return crypto.encrypt(stored)


def _decrypt(stored, where):
    return crypto.decrypt(stored, where=where) if crypto.looks_encrypted(stored) else stored


def encrypt_secrets(apps, schema_editor):
    _rewrite(apps, schema_editor, _encrypt)


def decrypt_secrets(apps, schema_editor):
    _rewrite(apps, schema_editor, _decrypt)


class Migration(migrations.Migration):

    dependencies = [
        ("optima", "0005_search_crosses"),
    ]

    operations = [
        migrations.AlterField(
            model_name="supplier",
            name="secret",
            field=crypto.EncryptedTextField(blank=True, verbose_name="пароль или ключ"),
        ),
        migrations.RunPython(encrypt_secrets, decrypt_secrets, elidable=False),
    ]
