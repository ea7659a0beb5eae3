"""Third parties' secrets (suppliers' passwords and API keys) encrypted at rest.

The column holds a Fernet token (AES-128-CBC with an HMAC-SHA256, versioned and
timestamped), never the plain text. Keys come from FIELD_ENCRYPTION_KEYS: comma-separated
url-safe base64 Fernet keys, newest first. The newest encrypts; any of them decrypts, so a
key is rotated by putting a new one first, running `manage.py reencrypt_secrets`, and then
dropping the old one.

With DEBUG on and no keys set, settings allow a development key derived from SECRET_KEY
(`development_key`): it is for development only, since anyone who knows SECRET_KEY can
read the secrets and changing SECRET_KEY makes them unreadable. With DEBUG off the service
refuses to start without FIELD_ENCRYPTION_KEYS (settings.py).
"""

from __future__ import annotations

import base64
import functools
import hashlib
from collections.abc import Iterator
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core import checks
from django.core.exceptions import FieldError, ImproperlyConfigured
from django.db import models
from django.db.models.lookups import Exact, IsNull

SETTING = "FIELD_ENCRYPTION_KEYS"
# Every Fernet token starts with the version byte 0x80, which base64 writes as "gAAAAA".
TOKEN_PREFIX = "gAAAAA"


class DecryptionError(Exception):
    """A stored token that none of the configured keys opens: a key is missing from
    FIELD_ENCRYPTION_KEYS (or the column was changed by hand). Never garbage instead."""


def development_key(secret_key: str) -> str:
    """A Fernet key derived from SECRET_KEY, for development only (DEBUG on, no keys set)."""
    digest = hashlib.sha256(
        b"autoservice field encryption, development only\x00" + secret_key.encode()
    ).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii")


def configured_keys() -> list[str]:
    """The keys in force, newest first. Raises ImproperlyConfigured naming the variable when
    there are none (and no development key is allowed) or one is not a Fernet key."""
    keys = list(getattr(settings, SETTING, None) or [])
    if not keys and getattr(settings, "FIELD_ENCRYPTION_DEVELOPMENT_KEY", False):
        keys = [development_key(settings.SECRET_KEY)]
    if not keys:
        raise ImproperlyConfigured(
            f"Не задана переменная окружения {SETTING}: нечем шифровать пароли поставщиков. "
            f"/ Environment variable {SETTING} is required to encrypt suppliers' secrets."
        )
    return keys


@functools.lru_cache(maxsize=8)
def _fernets(keys: tuple[str, ...]) -> tuple[MultiFernet, Fernet]:
    """All keys (to decrypt) and the newest (to tell a current token), built once per set."""
    fernets = []
    for position, key in enumerate(keys, start=1):
        try:
            fernets.append(Fernet(key.strip().encode("ascii")))
        except (ValueError, UnicodeEncodeError):
            raise ImproperlyConfigured(
                f"{SETTING}: ключ №{position} — не ключ Fernet (нужны 32 байта в url-safe "
                f"base64, например из Fernet.generate_key()). / Key #{position} in {SETTING} "
                f"is not a Fernet key (32 url-safe base64-encoded bytes)."
            ) from None
    return MultiFernet(fernets), fernets[0]


def _fernet() -> MultiFernet:
    return _fernets(tuple(configured_keys()))[0]


def _newest() -> Fernet:
    return _fernets(tuple(configured_keys()))[1]


def _undecryptable(where: str) -> DecryptionError:
    place = f" ({where})" if where else ""
    return DecryptionError(
        f"Не удаётся расшифровать сохранённый секрет{place}: ни один ключ из {SETTING} "
        f"к нему не подходит. Верните в {SETTING} ключ, которым он был зашифрован. "
        f"/ No key in {SETTING} decrypts the stored secret{place}: add back the key it "
        f"was encrypted with."
    )


def generate_key() -> str:
    """A new random key, to put first in FIELD_ENCRYPTION_KEYS."""
    return Fernet.generate_key().decode("ascii")


def encrypt(plain: str) -> str:
    """The Fernet token of `plain`, made with the newest key."""
    return _fernet().encrypt(plain.encode("utf-8")).decode("ascii")


def decrypt(token: str, *, where: str = "") -> str:
    """The plain text of a token made with any configured key. Raises DecryptionError with
    a message that says which column and what to check, never returns garbage."""
    try:
        return _fernet().decrypt(token.encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeError):
        raise _undecryptable(where) from None


def is_current(token: str) -> bool:
    """Whether the token was made with the newest key (nothing to re-encrypt)."""
    try:
        _newest().decrypt(token.encode("ascii"))
    except (InvalidToken, UnicodeError):
        return False
    return True


def rotate(token: str, *, where: str = "") -> str:
    """The same secret encrypted with the newest key."""
    try:
        return _fernet().rotate(token.encode("ascii")).decode("ascii")
    except (InvalidToken, UnicodeError):
        raise _undecryptable(where) from None


def looks_encrypted(value: str) -> bool:
    """Whether a stored value has the shape of a Fernet token (for the migration that
    encrypts plain values in place: a token is never encrypted twice)."""
    if not value.startswith(TOKEN_PREFIX):
        return False
    try:
        raw = base64.urlsafe_b64decode(value.encode("ascii"))
    except (ValueError, UnicodeError):
        return False
    # version, timestamp, IV, at least one cipher block, HMAC
    return len(raw) >= 1 + 8 + 16 + 16 + 32 and (len(raw) - 57) % 16 == 0


class _ExactEmpty(Exact):
    """Tokens differ on every save, so an encrypted column can only be compared with ''."""

    def get_prep_lookup(self) -> Any:
        if self.rhs not in ("", None):
            raise FieldError("An encrypted column can be compared with '' only.")
        return super().get_prep_lookup()


class EncryptedTextField(models.TextField):
    """Text kept encrypted in its column (a Fernet token) and plain on the model instance.
    Empty stays empty, so "no password" needs no key. Only `= ''` and `IS NULL` lookups
    work: the token of one value differs on every save."""

    description = "Text encrypted at rest (Fernet)"

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        if not value:
            return value
        return decrypt(value, where=self._where())

    def get_db_prep_save(self, value: Any, connection: Any) -> Any:
        value = super().get_db_prep_save(value, connection)
        if not value:
            return value
        return encrypt(value)

    def value_to_string(self, obj: models.Model) -> str:
        # What a serializer writes (dumpdata, fixtures): the token, never the plain secret.
        value = self.value_from_object(obj)
        return encrypt(value) if value else (value or "")

    def to_python(self, value: Any) -> Any:
        # What a deserializer reads back (loaddata): a token is opened with the current keys.
        if isinstance(value, str) and looks_encrypted(value):
            return decrypt(value, where=self._where())
        return super().to_python(value)

    def get_lookup(self, lookup_name: str) -> Any:
        if lookup_name == "exact":
            return _ExactEmpty
        if lookup_name == "isnull":
            return IsNull
        return None

    def _where(self) -> str:
        model = getattr(self, "model", None)
        return f"{model._meta.label}.{self.name}" if model is not None else self.name


def encrypted_fields() -> Iterator[tuple[type[models.Model], EncryptedTextField]]:
    """Every encrypted column of the installed models."""
    from django.apps import apps

    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if isinstance(field, EncryptedTextField):
                yield model, field


@checks.register()
def check_keys(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """`manage.py check` (and migrate, runserver) name a missing or malformed key."""
    try:
        _fernet()
    except ImproperlyConfigured as exc:
        return [checks.Error(str(exc), id="autoservice.E001")]
    return []
