"""Answers shared by the views of every app."""

from __future__ import annotations

from django.http import JsonResponse
from django.utils.functional import Promise

__all__ = ["json_error"]


def json_error(message: str | Promise, status: int = 400) -> JsonResponse:
    """A refusal for a page's script: ``{"error": message}`` with ``status``.

    The scripts show ``error`` to the person as it is, so ``message`` is a translated
    sentence that says what to do. Non-ASCII stays readable in the body.
    """
    return JsonResponse(
        {"error": str(message)}, status=status, json_dumps_params={"ensure_ascii": False}
    )
