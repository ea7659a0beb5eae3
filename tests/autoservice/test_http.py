"""The JSON refusal every page's script reads."""

from __future__ import annotations

import json

from django.utils import translation
from django.utils.translation import gettext_lazy

from autoservice.http import json_error


def test_refusal_carries_the_message_and_the_status():
    response = json_error("Файл не получен: выберите фото ещё раз.", 413)

    assert response.status_code == 413
    assert response["Content-Type"] == "application/json"
    assert json.loads(response.content) == {"error": "Файл не получен: выберите фото ещё раз."}
    # Readable in the body as it is, not as \u escapes.
    assert "Файл не получен".encode() in response.content


def test_refusal_is_a_bad_request_unless_told_otherwise():
    assert json_error("Нет такого кадра.").status_code == 400


def test_lazy_message_is_translated_into_the_active_language():
    message = gettext_lazy("Фото не получено: снимите кадр ещё раз.")

    with translation.override("en"):
        english = json_error(message, 400)
    with translation.override("ru"):
        russian = json_error(message, 400)

    assert json.loads(english.content) == {"error": "Photo not received: take the shot again."}
    assert json.loads(russian.content) == {"error": "Фото не получено: снимите кадр ещё раз."}
