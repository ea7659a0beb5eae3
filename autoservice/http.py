"""Answers shared by the views of every app."""

from __future__ import annotations

from django.conf import settings
from django.http import JsonResponse
from django.utils.functional import Promise

__all__ = ["json_error", "problem_json"]


def json_error(message: str | Promise, status: int = 400) -> JsonResponse:
    """A refusal for a page's script: ``{"error": message}`` with ``status``.

    The scripts show ``error`` to the person as it is, so ``message`` is a translated
    sentence that says what to do. Non-ASCII stays readable in the body.
    """
    return JsonResponse(
        {"error": str(message)}, status=status, json_dumps_params={"ensure_ascii": False}
    )


def problem_json(
    detail: str | Promise, status: int, *, slug: str, title: str | Promise
) -> JsonResponse:
    """An RFC 9457 problem document for a refusal made before the REST API's own views run
    (a NUL in the query, a request too big): the same shape as api/problems.py gives."""
    body = {
        "type": f"{settings.SITE_URL}/api/problems/{slug}",
        "title": str(title),
        "status": status,
        "detail": str(detail),
    }
    return JsonResponse(
        body,
        status=status,
        content_type="application/problem+json",
        json_dumps_params={"ensure_ascii": False},
    )
