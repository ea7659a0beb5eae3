"""Errors as RFC 9457 problem details: `application/problem+json`, a stable `type` URI per
kind of problem, Russian `title` and `detail`.

Each `type` opens a page that explains the problem (`/api/problems/<slug>`).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.http import Http404
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.response import Response

PROBLEM_CONTENT_TYPE = "application/problem+json"


@dataclass(frozen=True)
class ProblemKind:
    slug: str
    status: int
    title: str | Promise
    explanation: str | Promise


KINDS: dict[str, ProblemKind] = {
    kind.slug: kind
    for kind in (
        ProblemKind(
            "validation",
            400,
            _("Запрос заполнен неверно"),
            _(
                "Параметр или поле запроса не прошли проверку. В `detail` сказано, что не так, "
                "в `errors` — какие поля."
            ),
        ),
        ProblemKind(
            "malformed",
            400,
            _("Запрос не разобран"),
            _("Тело запроса — не JSON или не объект JSON. Пришлите JSON в кодировке UTF-8."),
        ),
        ProblemKind(
            "unauthorized",
            401,
            _("Нужен действующий токен"),
            _(
                "Передайте токен в заголовке `Authorization: Bearer <токен>`. Токен могли "
                "отозвать или у него истёк срок: руководитель выпускает новый в настройках."
            ),
        ),
        ProblemKind(
            "forbidden",
            403,
            _("Токену это не разрешено"),
            _("У токена нет нужного права. Руководитель выпускает токен с нужными правами."),
        ),
        ProblemKind(
            "not-found",
            404,
            _("Не найдено"),
            _("Такого объекта нет в вашем автосервисе."),
        ),
        ProblemKind(
            "method-not-allowed",
            405,
            _("Метод не поддерживается"),
            _("Этот адрес не принимает такой HTTP-метод."),
        ),
        ProblemKind(
            "not-acceptable",
            406,
            _("Формат ответа не поддерживается"),
            _("API отвечает только JSON."),
        ),
        ProblemKind(
            "conflict",
            409,
            _("Конфликт"),
            _(
                "Запрос противоречит уже сделанному: например, тот же Idempotency-Key пришёл "
                "с другим телом запроса."
            ),
        ),
        ProblemKind(
            "unsupported-media-type",
            415,
            _("Тип тела запроса не поддерживается"),
            _("Присылайте тело запроса как application/json."),
        ),
        ProblemKind(
            "rate-limited",
            429,
            _("Слишком много запросов"),
            _(
                "Токен исчерпал запросы на эту минуту. Повторите через столько секунд, "
                "сколько сказано в заголовке Retry-After."
            ),
        ),
    )
}


def problem_type(slug: str) -> str:
    return f"{settings.SITE_URL}/api/problems/{slug}"


class Problem(exceptions.APIException):
    """A refusal from our own code, with the kind it is and a Russian detail."""

    def __init__(self, slug: str, detail: str | Promise, *, errors: dict | None = None) -> None:
        self.kind = KINDS[slug]
        self.status_code = self.kind.status
        self.errors = errors
        super().__init__(detail=str(detail))


def problem_response(
    slug: str,
    detail: str | Promise,
    *,
    errors: dict | None = None,
    headers: dict | None = None,
    instance: str | None = None,
) -> Response:
    kind = KINDS[slug]
    body: dict = {
        "type": problem_type(slug),
        "title": str(kind.title),
        "status": kind.status,
        "detail": str(detail),
    }
    if instance:
        body["instance"] = instance
    if errors:
        body["errors"] = errors
    return Response(body, status=kind.status, headers=headers, content_type=PROBLEM_CONTENT_TYPE)


def _flatten(detail) -> dict[str, list[str]] | list[str] | str:
    if isinstance(detail, dict):
        return {str(key): _flatten(value) for key, value in detail.items()}
    if isinstance(detail, list):
        return [_flatten(item) for item in detail]
    return str(detail)


_DRF_SLUGS: list[tuple[type[exceptions.APIException], str]] = [
    (exceptions.ParseError, "malformed"),
    (exceptions.ValidationError, "validation"),
    (exceptions.NotAuthenticated, "unauthorized"),
    (exceptions.AuthenticationFailed, "unauthorized"),
    (exceptions.PermissionDenied, "forbidden"),
    (exceptions.NotFound, "not-found"),
    (exceptions.MethodNotAllowed, "method-not-allowed"),
    (exceptions.NotAcceptable, "not-acceptable"),
    (exceptions.UnsupportedMediaType, "unsupported-media-type"),
    (exceptions.Throttled, "rate-limited"),
]

_DETAILS = {
    "malformed": _("Тело запроса — не JSON-объект: проверьте синтаксис и кодировку UTF-8."),
    "unauthorized": _("Нужен действующий токен: заголовок Authorization: Bearer <токен>."),
    "not-found": _("Такого объекта нет в вашем автосервисе."),
    "method-not-allowed": _("Этот адрес не принимает метод %(method)s."),
    "not-acceptable": _("API отвечает только JSON: уберите Accept или укажите application/json."),
    "unsupported-media-type": _("Присылайте тело запроса как application/json."),
    "rate-limited": _("Слишком много запросов с этим токеном: повторите через %(wait)s с."),
}


def exception_handler(exc: Exception, context: dict) -> Response | None:
    """DRF's EXCEPTION_HANDLER: every refusal of the API as a problem document."""
    request = context.get("request")
    instance = request.path if request is not None else None
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    if isinstance(exc, Problem):
        headers = {"WWW-Authenticate": 'Bearer realm="api"'} if exc.status_code == 401 else None
        return problem_response(
            exc.kind.slug, exc.detail, errors=exc.errors, headers=headers, instance=instance
        )
    if not isinstance(exc, exceptions.APIException):
        return None
    slug = next((s for cls, s in _DRF_SLUGS if isinstance(exc, cls)), None)
    if slug is None:
        return None
    headers: dict[str, str] = {}
    errors = None
    if slug == "validation":
        errors = _flatten(exc.detail)
        if not isinstance(errors, dict):
            errors = {"non_field_errors": errors if isinstance(errors, list) else [errors]}
        detail = _("Проверьте поля: %(fields)s.") % {"fields": ", ".join(errors)}
    elif slug == "rate-limited":
        wait = int(exc.wait or 1) if getattr(exc, "wait", None) is not None else 60
        wait = max(wait, 1)
        headers["Retry-After"] = str(wait)
        detail = _DETAILS[slug] % {"wait": wait}
    elif slug == "method-not-allowed":
        detail = _DETAILS[slug] % {"method": request.method if request else ""}
    elif slug == "forbidden":
        detail = str(exc.detail)
    else:
        detail = _DETAILS[slug]
    if slug == "unauthorized":
        headers["WWW-Authenticate"] = 'Bearer realm="api"'
    return problem_response(slug, detail, errors=errors, headers=headers, instance=instance)
