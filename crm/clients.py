"""The two CRMs as they document themselves: Bitrix24's REST methods through an incoming
webhook, amoCRM's API v4 with a long-lived token. Each call is one HTTP exchange under the
outbound policy; its answer becomes a value or one of three errors:

- `CrmSettingsError` (a 401 and its kin, a refused address): the CRM will refuse every call
  until the manager changes the settings, so nothing is retried;
- `CrmTemporaryError` (timeout, 5xx, the CRM's request limit): retried with backoff;
- `CrmRefusedError` (the CRM did not accept this request): retried, and shown.

Each message is Russian and says what to do. The request and answer shapes are tested against
the documented examples in tests/crm/contracts/ (sources in its README).
"""

from __future__ import annotations

import http.client
import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _

from autoservice.outbound import OutboundRefused, outbound_request

MAX_ANSWER_BYTES = 2 * 1024 * 1024


class CrmError(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class CrmSettingsError(CrmError):
    """The CRM refuses the key, the rights or the address: fixed only by the manager."""


class CrmTemporaryError(CrmError):
    """Down, slow or over its limit: the same call later will likely pass."""


class CrmRefusedError(CrmError):
    """The CRM did not accept this request."""


@dataclass(frozen=True)
class CrmLead:
    """What a CRM gets of one of our leads (or of a test lead)."""

    title: str
    name: str
    phone: str
    comments: str
    link: str
    source_id: str = "WEB"
    source_description: str = ""
    utm_source: str = ""
    utm_medium: str = ""
    utm_campaign: str = ""
    request_id: str = ""
    tags: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class Answer:
    status: int
    data: Any


def _exchange(method: str, url: str, *, headers: dict[str, str], payload: Any, crm: str) -> Answer:
    body = None if payload is None else json.dumps(payload, ensure_ascii=False).encode()
    sent = {"Accept": "application/json", **headers}
    if body is not None:
        sent["Content-Type"] = "application/json"
    timeout = settings.CRM_TIMEOUT_SECONDS
    try:
        response = outbound_request(
            method, url, headers=sent, body=body, timeout_s=timeout, max_bytes=MAX_ANSWER_BYTES
        )
    except OutboundRefused as refused:
        raise CrmSettingsError(
            _("%(crm)s: адрес не принят — %(why)s") % {"crm": crm, "why": refused.message}
        ) from None
    except TimeoutError:
        raise CrmTemporaryError(
            _("%(crm)s не ответил за %(s)s с; повторим позже.") % {"crm": crm, "s": timeout}
        ) from None
    except (OSError, http.client.HTTPException) as exc:
        raise CrmTemporaryError(
            _("%(crm)s недоступен (%(why)s); повторим позже.")
            % {"crm": crm, "why": exc.__class__.__name__}
        ) from None
    if response.status == 204 or not response.body:
        return Answer(response.status, None)
    try:
        data = json.loads(response.body)
    except ValueError:
        if response.status >= 500:
            raise CrmTemporaryError(
                _("%(crm)s ответил ошибкой %(code)s; повторим позже.")
                % {"crm": crm, "code": response.status}
            ) from None
        raise CrmRefusedError(
            _("%(crm)s ответил не в формате JSON (HTTP %(code)s).")
            % {"crm": crm, "code": response.status}
        ) from None
    return Answer(response.status, data)


# --- Bitrix24 --------------------------------------------------------------------------

BITRIX = "Битрикс24"
# System errors that only the manager can fix (b24restdocs _includes/system-errors.md).
_BITRIX_KEY_ERRORS = {"INVALID_CREDENTIALS", "NO_AUTH_FOUND", "expired_token", "invalid_token"}
_BITRIX_RETRY_ERRORS = {
    "QUERY_LIMIT_EXCEEDED",
    "OPERATION_TIME_LIMIT",
    "INTERNAL_SERVER_ERROR",
    "ERROR_UNEXPECTED_ANSWER",
}


def bitrix_lead_fields(lead: CrmLead) -> dict:
    """The `fields` of crm.lead.add for our lead."""
    fields = {
        "TITLE": lead.title,
        "NAME": lead.name,
        "PHONE": [{"VALUE": lead.phone, "VALUE_TYPE": "WORK"}],
        "COMMENTS": "\n".join(part for part in (lead.comments, lead.link) if part),
        "SOURCE_ID": lead.source_id,
        "SOURCE_DESCRIPTION": lead.source_description,
        "UTM_SOURCE": lead.utm_source,
        "UTM_MEDIUM": lead.utm_medium,
        "UTM_CAMPAIGN": lead.utm_campaign,
        "OPENED": "Y",
    }
    return {key: value for key, value in fields.items() if value not in ("", None)}


def bitrix_error(answer: Answer) -> CrmError:
    data = answer.data if isinstance(answer.data, dict) else {}
    code = str(data.get("error") or "")
    description = str(data.get("error_description") or "")
    said = f"{code}: {description}" if code else description or f"HTTP {answer.status}"
    if code in _BITRIX_KEY_ERRORS or (answer.status == 401 and not code):
        return CrmSettingsError(
            _(
                "Битрикс24 отклонил ключ вебхука (%(status)s, %(said)s): создайте новый "
                "входящий вебхук и вставьте его адрес."
            )
            % {"status": answer.status, "said": said}
        )
    if code == "insufficient_scope":
        return CrmSettingsError(
            _(
                "У вебхука Битрикс24 нет права «CRM» (%(said)s): откройте вебхук в Битрикс24, "
                "отметьте право crm и сохраните."
            )
            % {"said": said}
        )
    if code in _BITRIX_RETRY_ERRORS or answer.status >= 500:
        return CrmTemporaryError(
            _("Битрикс24 временно не принимает запросы (%(said)s); повторим позже.")
            % {"said": said}
        )
    if answer.status in (401, 403) or description.rstrip(".").lower() == "access denied":
        return CrmSettingsError(
            _(
                "Битрикс24 отказал в доступе (%(status)s, %(said)s): проверьте тариф с REST API "
                "и права пользователя вебхука на лиды."
            )
            % {"status": answer.status, "said": said}
        )
    if code == "ERROR_METHOD_NOT_FOUND" or answer.status == 404:
        return CrmSettingsError(
            _(
                "По адресу вебхука нет REST API Битрикс24 (%(said)s): скопируйте адрес "
                "входящего вебхука целиком, вида https://портал.bitrix24.ru/rest/1/код/."
            )
            % {"said": said}
        )
    return CrmRefusedError(_("Битрикс24 не принял запрос: %(said)s") % {"said": said})


@dataclass(frozen=True)
class Bitrix24:
    webhook_url: str

    def call(self, method: str, params: dict) -> Any:
        url = self.webhook_url.rstrip("/") + "/" + method
        answer = _exchange("POST", url, headers={}, payload=params, crm=BITRIX)
        data = answer.data
        if answer.status == 200 and isinstance(data, dict) and "result" in data:
            return data["result"]
        raise bitrix_error(answer)

    def lead_add(self, lead: CrmLead) -> int:
        result = self.call(
            "crm.lead.add",
            {"fields": bitrix_lead_fields(lead), "params": {"REGISTER_SONET_EVENT": "Y"}},
        )
        return _remote_id(result, BITRIX)

    def comment_add(self, remote_id: int, text: str) -> int:
        result = self.call(
            "crm.timeline.comment.add",
            {"fields": {"ENTITY_ID": remote_id, "ENTITY_TYPE": "lead", "COMMENT": text}},
        )
        return _remote_id(result, BITRIX)

    def check(self) -> str:
        """Who the webhook acts as (method `profile`, no scope needed)."""
        result = self.call("profile", {})
        if not isinstance(result, dict):
            raise CrmRefusedError(_("Битрикс24 ответил не так, как описано в документации."))
        name = " ".join(str(result.get(k) or "") for k in ("NAME", "LAST_NAME")).strip()
        return _("Вебхук работает от имени пользователя %(name)s (ID %(id)s).") % {
            "name": name or "—",
            "id": result.get("ID"),
        }


def _remote_id(value: Any, crm: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise CrmRefusedError(
            _("%(crm)s не вернул номер созданной записи.") % {"crm": crm}
        ) from None
    if number <= 0:
        raise CrmRefusedError(_("%(crm)s не вернул номер созданной записи.") % {"crm": crm})
    return number


def bitrix_webhook_ok(url: str) -> bool:
    """An incoming webhook's address: https://<portal>/rest/<user id>/<code>/."""
    parts = urlsplit(url)
    segments = [s for s in parts.path.split("/") if s]
    return (
        parts.scheme in ("https", "http")
        and bool(parts.hostname)
        and len(segments) == 3
        and segments[0] == "rest"
        and segments[1].isdigit()
        and segments[2].isalnum()
        and not parts.query
        and not parts.fragment
    )


# --- amoCRM ----------------------------------------------------------------------------

AMO = "amoCRM"


def amo_complex_body(lead: CrmLead, *, pipeline_id: int | None, status_id: int | None) -> list:
    """The body of POST /api/v4/leads/complex: one lead with its contact embedded."""
    item: dict[str, Any] = {
        "name": lead.title,
        "_embedded": {
            "contacts": [
                {
                    "first_name": lead.name,
                    "custom_fields_values": [
                        {
                            "field_code": "PHONE",
                            "values": [{"value": lead.phone, "enum_code": "WORK"}],
                        }
                    ],
                }
            ],
            "tags": [{"name": tag} for tag in lead.tags],
        },
    }
    if pipeline_id:
        item["pipeline_id"] = pipeline_id
    if status_id:
        item["status_id"] = status_id
    if lead.request_id:
        item["request_id"] = lead.request_id
    if not lead.tags:
        del item["_embedded"]["tags"]
    return [item]


def amo_note_body(text: str) -> list:
    return [{"note_type": "common", "params": {"text": text}}]


def amo_error(answer: Answer) -> CrmError:
    data = answer.data if isinstance(answer.data, dict) else {}
    detail = str(data.get("detail") or data.get("title") or f"HTTP {answer.status}")
    if answer.status == 401:
        return CrmSettingsError(
            _(
                "amoCRM отклонил токен (401, %(detail)s): выпустите новый долгосрочный токен в "
                "настройках интеграции amoCRM и вставьте его."
            )
            % {"detail": detail}
        )
    if answer.status == 402:
        return CrmSettingsError(
            _("Аккаунт amoCRM не оплачен (402): продлите его, затем нажмите «Проверить».")
        )
    if answer.status == 403:
        return CrmSettingsError(
            _(
                "amoCRM запретил доступ (403, %(detail)s): у пользователя токена нет прав на "
                "сделки, или аккаунт заблокирован."
            )
            % {"detail": detail}
        )
    if answer.status == 429 or answer.status >= 500:
        return CrmTemporaryError(
            _("amoCRM временно не принимает запросы (HTTP %(code)s); повторим позже.")
            % {"code": answer.status}
        )
    problems = []
    for item in data.get("validation-errors") or []:
        for error in item.get("errors") or []:
            problems.append(f"{error.get('path')}: {error.get('detail')}")
    said = "; ".join(problems) or detail
    return CrmRefusedError(
        _("amoCRM не принял запрос (HTTP %(code)s): %(said)s")
        % {"code": answer.status, "said": said}
    )


def amo_base_url(value: str) -> str:
    """An account address from what the manager typed: «shop», «shop.amocrm.ru» or a URL."""
    value = value.strip().rstrip("/")
    if not value:
        return ""
    if "://" not in value:
        value = value if "." in value else f"{value}.amocrm.ru"
        value = f"https://{value}"
    parts = urlsplit(value)
    return f"{parts.scheme}://{parts.netloc}"


@dataclass(frozen=True)
class AmoCrm:
    base_url: str
    token: str
    pipeline_id: int | None = None
    status_id: int | None = None

    def call(self, method: str, path: str, payload: Any = None) -> Any:
        answer = _exchange(
            method,
            self.base_url.rstrip("/") + path,
            headers={"Authorization": f"Bearer {self.token}"},
            payload=payload,
            crm=AMO,
        )
        if 200 <= answer.status < 300:
            return answer.data
        raise amo_error(answer)

    def lead_add(self, lead: CrmLead) -> int:
        data = self.call(
            "POST",
            "/api/v4/leads/complex",
            amo_complex_body(lead, pipeline_id=self.pipeline_id, status_id=self.status_id),
        )
        if not isinstance(data, list) or not data or not isinstance(data[0], dict):
            raise CrmRefusedError(_("amoCRM ответил не так, как описано в документации."))
        return _remote_id(data[0].get("id"), AMO)

    def note_add(self, remote_id: int, text: str) -> int:
        data = self.call("POST", f"/api/v4/leads/{int(remote_id)}/notes", amo_note_body(text))
        notes = ((data or {}).get("_embedded") or {}).get("notes") or [{}]
        return _remote_id(notes[0].get("id"), AMO)

    def pipelines(self) -> list[dict]:
        """The account's lead pipelines with their stages, archived ones left out."""
        data = self.call("GET", "/api/v4/leads/pipelines") or {}
        found = []
        for pipeline in (data.get("_embedded") or {}).get("pipelines") or []:
            if pipeline.get("is_archive"):
                continue
            statuses = (pipeline.get("_embedded") or {}).get("statuses") or []
            found.append(
                {
                    "id": pipeline.get("id"),
                    "name": pipeline.get("name") or "",
                    "statuses": [
                        {"id": status.get("id"), "name": status.get("name") or ""}
                        # 142 and 143 are "won" and "lost": a new lead never starts there.
                        for status in sorted(statuses, key=lambda s: s.get("sort") or 0)
                        if status.get("id") not in (142, 143)
                    ],
                }
            )
        return found
