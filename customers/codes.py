"""The driver asks for their page's link again by phone: a 6-digit one-time code by SMS.

Only a keyed hash of the code is kept, in Redis, for CODE_TTL_S with at most MAX_ATTEMPTS
tries; requests are limited per phone and per IP. The answer is the same whether or not the
phone is known, so the form cannot be used to learn who is a customer. The code travels to
the SMS app inside the `customer.code_requested` shop event encrypted with the platform key
(autoservice.crypto), never in plain in an event or a log line.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils.translation import gettext as _

from autoservice import crypto, events
from autoservice.consent import consent_withdrawn
from autoservice.models import Shop

from .models import Customer, CustomerPhone

CODE_TTL_S = 10 * 60
MAX_ATTEMPTS = 5
PHONE_LIMIT = 3  # codes per phone per PHONE_WINDOW_S
PHONE_WINDOW_S = 10 * 60
IP_LIMIT = 10  # code requests per IP per IP_WINDOW_S
IP_WINDOW_S = 60 * 60


class CodeRefused(Exception):  # noqa: N818 - a refusal with a message for the driver
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class _Entry:
    digest: str
    customer_id: int
    attempts: int
    expires_at: float


def _key(shop: Shop, phone: str) -> str:
    return f"custcode:{shop.pk}:{phone}"


def _digest(shop: Shop, phone: str, code: str) -> str:
    secret = settings.SECRET_KEY.encode()
    return hmac.new(secret, f"{shop.pk}:{phone}:{code}".encode(), hashlib.sha256).hexdigest()


def _take(key: str, limit: int, window_s: int) -> bool:
    """Count one more try in a fixed window; False when over the limit."""
    cache.add(key, 0, timeout=window_s)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window_s)
        count = 1
    return count <= limit


def customer_for_phone(shop: Shop, phone: str) -> Customer | None:
    """The customer this phone belongs to (the survivor of a merge), unless they withdrew
    consent to processing."""
    row = (
        CustomerPhone.objects.filter(shop=shop, phone=phone)
        .select_related("customer__merged_into")
        .first()
    )
    if row is None or consent_withdrawn(shop=shop, phone=phone):
        return None
    customer = row.customer
    for _hop in range(5):
        if customer.merged_into is None:
            return customer
        customer = Customer.objects.select_related("merged_into").get(pk=customer.merged_into_id)
    return None


def code_request(*, shop: Shop, phone: str, ip: str | None) -> None:
    """Sends a code when the phone is a customer's; says nothing either way. Raises
    CodeRefused when the phone or the address asked too often."""
    if ip and not _take(f"custcode:ip:{ip}", IP_LIMIT, IP_WINDOW_S):
        raise CodeRefused(_("Слишком много запросов с этого устройства. Попробуйте через час."))
    if not _take(f"custcode:phone:{shop.pk}:{phone}", PHONE_LIMIT, PHONE_WINDOW_S):
        raise CodeRefused(
            _("Код на этот номер уже отправлялся несколько раз. Попробуйте через 10 минут.")
        )
    customer = customer_for_phone(shop, phone)
    if customer is None:
        return
    code = f"{secrets.randbelow(1_000_000):06d}"
    entry = _Entry(
        digest=_digest(shop, phone, code),
        customer_id=customer.pk,
        attempts=0,
        expires_at=time.time() + CODE_TTL_S,
    )
    with transaction.atomic():
        cache.set(_key(shop, phone), entry.__dict__, timeout=CODE_TTL_S)
        events.event_emit(
            shop=shop,
            type=events.CUSTOMER_CODE_REQUESTED,
            subject=f"customer:{customer.pk}",
            data={"customer_id": customer.pk, "phone": phone, "code_sealed": crypto.encrypt(code)},
        )


def code_check(*, shop: Shop, phone: str, code: str) -> Customer:
    """The customer whose page the right code opens; CodeRefused otherwise. A code works
    once; after MAX_ATTEMPTS wrong ones it is gone."""
    key = _key(shop, phone)
    raw = cache.get(key)
    wrong = _("Код неверный или устарел. Проверьте SMS или запросите новый код.")
    if not raw:
        raise CodeRefused(wrong)
    entry = _Entry(**raw)
    code = "".join(ch for ch in code if ch.isdigit())
    if not hmac.compare_digest(entry.digest, _digest(shop, phone, code)):
        attempts = entry.attempts + 1
        left = entry.expires_at - time.time()
        if attempts >= MAX_ATTEMPTS or left <= 0:
            cache.delete(key)
            raise CodeRefused(_("Слишком много неверных попыток. Запросите новый код."))
        cache.set(key, {**entry.__dict__, "attempts": attempts}, timeout=int(left) + 1)
        raise CodeRefused(wrong)
    cache.delete(key)
    customer = customer_for_phone(shop, phone)
    if customer is None:
        raise CodeRefused(wrong)
    return customer


def code_decrypt(sealed: str) -> str:
    """For the SMS app's listener: the code to put in the SMS text."""
    return crypto.decrypt(sealed, where="customer.code_requested")
