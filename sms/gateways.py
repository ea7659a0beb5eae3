"""The two SMS gateways as they document themselves, each call one HTTP exchange under the
outbound policy (autoservice.outbound). An answer becomes a value or one of three errors:

- `SmsSettingsError`: the gateway refuses the account (wrong key or password, no money,
  sender name not approved); every message would fail the same way until the manager acts;
- `SmsTemporaryError`: down, slow, a 5xx; the same call later will likely pass;
- `SmsRefusedError`: this one message is refused (a wrong number, a number that cannot
  receive SMS); sending it again would not help.

`uncertain` on an error says the gateway may have accepted the message anyway (the answer
was lost: a timeout, a connection broken after the request went out).

SMS.ru: https://sms.ru/api/send and https://sms.ru/api/status (json=1). SMSC:
https://smsc.ru/api/http/send/sms/ and https://smsc.ru/api/http/status_messages/ (fmt=3).
Shapes are tested against the documented examples in tests/sms/contracts/ (README there).
"""

from __future__ import annotations

import http.client
import json
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from autoservice.outbound import OutboundRefused, outbound_request

from .models import Gateway, SmsSettings

MAX_ANSWER_BYTES = 256 * 1024


class SmsError(Exception):
    def __init__(self, message: str, *, uncertain: bool = False):
        super().__init__(message)
        self.message = message
        self.uncertain = uncertain


class SmsSettingsError(SmsError):
    """Only the manager can fix it (key, password, balance, sender name)."""


class SmsTemporaryError(SmsError):
    """Down, slow or busy: retried."""


class SmsRefusedError(SmsError):
    """This message is refused for good."""


@dataclass(frozen=True)
class Accepted:
    gateway_id: str
    cost: Decimal | None = None
    balance: Decimal | None = None


# What a delivery status means for us.
PENDING, DELIVERED, UNDELIVERED, NOT_FOUND = "pending", "delivered", "undelivered", "not_found"


@dataclass(frozen=True)
class Delivery:
    state: str
    text: str = ""
    cost: Decimal | None = None  # what the gateway charged, when its report says


def _decimal(value: Any) -> Decimal | None:
    try:
        return None if value in (None, "") else Decimal(str(value))
    except InvalidOperation:
        return None


def _exchange(name: str, url: str, params: dict[str, str]) -> Any:
    """One POST of a form; the answer's JSON. Both gateways take POST as well as GET; the
    secrets travel in the body so that they never appear in a proxy's request log."""
    timeout = settings.SMS_TIMEOUT_SECONDS
    try:
        answer = outbound_request(
            "POST",
            url,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            body=urlencode(params).encode(),
            timeout_s=timeout,
            max_bytes=MAX_ANSWER_BYTES,
            max_redirects=0,
        )
    except OutboundRefused as refused:
        raise SmsSettingsError(
            _("%(gw)s: адрес не принят — %(why)s") % {"gw": name, "why": refused.message}
        ) from None
    except TimeoutError:
        raise SmsTemporaryError(
            _("%(gw)s не ответил за %(s)s с; повторим позже.") % {"gw": name, "s": timeout},
            uncertain=True,
        ) from None
    except ConnectionRefusedError:
        raise SmsTemporaryError(
            _("%(gw)s недоступен (соединение отклонено); повторим позже.") % {"gw": name}
        ) from None
    except (OSError, http.client.HTTPException) as exc:
        raise SmsTemporaryError(
            _("%(gw)s недоступен (%(why)s); повторим позже.")
            % {"gw": name, "why": exc.__class__.__name__},
            uncertain=True,
        ) from None
    if answer.status >= 500:
        raise SmsTemporaryError(
            _("%(gw)s ответил ошибкой %(code)s; повторим позже.")
            % {"gw": name, "code": answer.status}
        )
    try:
        return json.loads(answer.body)
    except ValueError:
        raise SmsTemporaryError(
            _("%(gw)s ответил не в формате JSON (HTTP %(code)s); повторим позже.")
            % {"gw": name, "code": answer.status}
        ) from None


# --- SMS.ru -------------------------------------------------------------------------------

SMSRU = "SMS.ru"
# https://sms.ru/api/send, "Коды ответа": what only the account owner can fix.
_SMSRU_SETTINGS = {
    200: gettext_lazy("неправильный api_id — скопируйте ключ заново в личном кабинете SMS.ru"),
    201: gettext_lazy("на счёте SMS.ru недостаточно средств — пополните баланс"),
    204: gettext_lazy(
        "имя отправителя не согласовано с оператором — согласуйте его в SMS.ru или "
        "оставьте поле пустым"
    ),
    206: gettext_lazy("превышен дневной лимит отправки в аккаунте SMS.ru"),
    300: gettext_lazy("неправильный токен: истёк срок действия или изменился IP"),
    301: gettext_lazy("неправильный api_id или логин/пароль"),
    302: gettext_lazy("аккаунт SMS.ru не подтверждён — войдите в личный кабинет и подтвердите его"),
}
_SMSRU_TEMPORARY = {220, 500, 501, 502, 503, 504}
# https://sms.ru/api/status: 103 delivered, 110 read; 104-108 and 150 will never be.
_SMSRU_DELIVERED = {103, 110}
_SMSRU_UNDELIVERED = {104, 105, 106, 107, 108, 150}


def _smsru_error(code: int, text: str) -> SmsError:
    if code in _SMSRU_SETTINGS:
        return SmsSettingsError(
            _("SMS.ru отказал (код %(code)s): %(what)s.")
            % {"code": code, "what": _SMSRU_SETTINGS[code]}
        )
    said = text or _("без пояснения")
    if code in _SMSRU_TEMPORARY:
        return SmsTemporaryError(
            _("SMS.ru временно не принимает сообщения (код %(code)s: %(text)s); повторим позже.")
            % {"code": code, "text": said}
        )
    return SmsRefusedError(
        _("SMS.ru не принял сообщение (код %(code)s: %(text)s).") % {"code": code, "text": said}
    )


class SmsRu:
    name = SMSRU
    # SMS.ru's API cannot find a message by an id of ours: see `lookup`.
    can_lookup = False

    def __init__(self, api_id: str):
        self.api_id = api_id
        self.base = settings.SMSRU_BASE_URL.rstrip("/")

    def send(self, *, phone: str, text: str, sender: str, our_id: int) -> Accepted:
        to = phone.lstrip("+")
        params = {"api_id": self.api_id, "to": to, "msg": text, "json": "1"}
        if sender:
            params["from"] = sender
        data = _exchange(SMSRU, f"{self.base}/sms/send", params)
        if not isinstance(data, dict):
            raise SmsTemporaryError(_("SMS.ru ответил непонятно; повторим позже."))
        if data.get("status") != "OK":
            raise _smsru_error(int(data.get("status_code") or 0), str(data.get("status_text", "")))
        one = (data.get("sms") or {}).get(to) or {}
        if one.get("status") != "OK":
            raise _smsru_error(int(one.get("status_code") or 0), str(one.get("status_text", "")))
        return Accepted(str(one["sms_id"]), balance=_decimal(data.get("balance")))

    def status(self, *, gateway_id: str, phone: str) -> Delivery:
        params = {"api_id": self.api_id, "sms_id": gateway_id, "json": "1"}
        data = _exchange(SMSRU, f"{self.base}/sms/status", params)
        if not isinstance(data, dict) or data.get("status") != "OK":
            raise _smsru_error(int((data or {}).get("status_code") or 0), "")
        one = (data.get("sms") or {}).get(gateway_id) or {}
        code = int(one.get("status_code") or 0)
        text = str(one.get("status_text", ""))
        if one.get("status") != "OK" or code == -1:
            return Delivery(NOT_FOUND, text)
        cost = _decimal(one.get("cost"))
        if code in _SMSRU_DELIVERED:
            return Delivery(DELIVERED, text, cost)
        if code in _SMSRU_UNDELIVERED:
            return Delivery(UNDELIVERED, text, cost)
        return Delivery(PENDING, text, cost)

    def lookup(self, *, our_id: int, phone: str) -> Accepted | None:
        raise NotImplementedError("SMS.ru cannot look a message up by the sender's id")


# --- SMSC ---------------------------------------------------------------------------------

SMSC = "SMSC"
# https://smsc.ru/api/http/send/sms/sms_answer/ error codes.
_SMSC_SETTINGS = {
    2: gettext_lazy("неверный логин или пароль SMSC"),
    3: gettext_lazy("на счёте SMSC недостаточно средств — пополните баланс"),
    6: gettext_lazy(
        "сообщение запрещено (по тексту или по имени отправителя) — проверьте имя "
        "отправителя в SMSC"
    ),
}
_SMSC_TEMPORARY = {4, 9}
# https://smsc.ru/api/http/status_messages/statuses/
_SMSC_DELIVERED = {1, 2, 4}
_SMSC_UNDELIVERED = {3, 20, 22, 23, 24, 25}


def _smsc_error(code: int, text: str) -> SmsError:
    if code in _SMSC_SETTINGS:
        return SmsSettingsError(
            _("SMSC отказал (код %(code)s): %(what)s.")
            % {"code": code, "what": _SMSC_SETTINGS[code]}
        )
    said = text or _("без пояснения")
    if code in _SMSC_TEMPORARY:
        # 9: the same request again within a minute: an earlier one may have gone through,
        # so the retry asks status.php first (the in-flight mark stays).
        return SmsTemporaryError(
            _("SMSC временно не принимает запросы (код %(code)s: %(text)s); повторим позже.")
            % {"code": code, "text": said},
            uncertain=code == 9,
        )
    return SmsRefusedError(
        _("SMSC не принял сообщение (код %(code)s: %(text)s).") % {"code": code, "text": said}
    )


class Smsc:
    name = SMSC
    # SMSC takes the message id from the sender (`id`) and answers status.php by it.
    can_lookup = True

    def __init__(self, login: str, password: str):
        self.login = login
        self.password = password
        self.base = settings.SMSC_BASE_URL.rstrip("/")

    def _auth(self) -> dict[str, str]:
        return {"login": self.login, "psw": self.password, "fmt": "3", "charset": "utf-8"}

    def send(self, *, phone: str, text: str, sender: str, our_id: int) -> Accepted:
        params = {**self._auth(), "phones": phone.lstrip("+"), "mes": text, "id": str(our_id)}
        params["cost"] = "3"  # the answer then carries the cost and the balance
        if sender:
            params["sender"] = sender
        data = _exchange(SMSC, f"{self.base}/sys/send.php", params)
        if not isinstance(data, dict):
            raise SmsTemporaryError(_("SMSC ответил непонятно; повторим позже."))
        if "error_code" in data:
            raise _smsc_error(int(data["error_code"]), str(data.get("error", "")))
        return Accepted(
            str(data.get("id", our_id)),
            cost=_decimal(data.get("cost")),
            balance=_decimal(data.get("balance")),
        )

    def _status(self, *, gateway_id: str, phone: str) -> dict:
        params = {**self._auth(), "phone": phone.lstrip("+"), "id": gateway_id}
        data = _exchange(SMSC, f"{self.base}/sys/status.php", params)
        if not isinstance(data, dict):
            raise SmsTemporaryError(_("SMSC ответил непонятно; повторим позже."))
        if "error_code" in data:
            raise _smsc_error(int(data["error_code"]), str(data.get("error", "")))
        return data

    def status(self, *, gateway_id: str, phone: str) -> Delivery:
        data = self._status(gateway_id=gateway_id, phone=phone)
        code = int(data.get("status", -3))
        text = str(data.get("status_name", ""))
        if code == -3:
            return Delivery(NOT_FOUND, text)
        if code in _SMSC_DELIVERED:
            return Delivery(DELIVERED, text)
        if code in _SMSC_UNDELIVERED:
            return Delivery(UNDELIVERED, text)
        return Delivery(PENDING, text)

    def lookup(self, *, our_id: int, phone: str) -> Accepted | None:
        """Whether SMSC already has our message: after a worker died mid-send."""
        data = self._status(gateway_id=str(our_id), phone=phone)
        if int(data.get("status", -3)) == -3:
            return None
        return Accepted(str(our_id), cost=_decimal(data.get("cost")))


def gateway_client(conf: SmsSettings) -> SmsRu | Smsc:
    if conf.gateway == Gateway.SMSC:
        return Smsc(conf.login, conf.password)
    return SmsRu(conf.api_key)
