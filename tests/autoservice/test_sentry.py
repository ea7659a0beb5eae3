"""Sentry only when a DSN is set, and never with a driver's phone or e-mail in the event.

The events go to a transport of the test's own (sentry_sdk.transport.Transport, the
documented extension point for custom transports), so nothing leaves the machine."""

from __future__ import annotations

import logging
import os
import subprocess
import sys

import pytest
import sentry_sdk
from sentry_sdk.transport import Transport

from autoservice.sentry import EMAIL_MASK, PHONE_MASK, scrub, sentry_init


class KeepingTransport(Transport):
    def __init__(self, options=None):
        super().__init__(options)
        self.events: list[dict] = []

    def capture_envelope(self, envelope):
        for item in envelope.items:
            event = item.get_event()
            if event is not None:
                self.events.append(event)

    def flush(self, timeout, callback=None):
        return None

    def kill(self):
        return None


@pytest.fixture
def sentry_off_afterwards():
    yield
    sentry_sdk.get_client().close()
    sentry_sdk.init()  # no DSN: a client that sends nothing


def test_without_a_dsn_sentry_is_not_started(sentry_off_afterwards):
    assert sentry_init(dsn="", environment="test") is False
    assert not sentry_sdk.get_client().is_active()


def test_with_a_dsn_events_lose_phones_and_emails(sentry_off_afterwards):
    transport = KeepingTransport()
    started = sentry_init(
        dsn="https://public@o0.ingest.sentry.invalid/1", environment="test", transport=transport
    )
    assert started and sentry_sdk.get_client().is_active()
    client = sentry_sdk.get_client()
    assert not client.should_send_default_pii()
    collected = client.options["data_collection"]
    assert collected["http_bodies"] == []  # a driver's form body is their name and phone
    assert (collected["user_info"], collected["stack_frame_variables"]) == (False, False)
    assert collected["cookies"]["mode"] == collected["url_query_params"]["mode"] == "off"
    integrations = set(sentry_sdk.get_client().integrations)
    assert {"django", "celery"} <= integrations

    logging.getLogger("tests.sentry").info("звонок клиенту ivan.petrov@mail.ru")
    try:
        raise ValueError("Клиент +7 (912) 345-67-89 не отвечает, запасной 89123456789")
    except ValueError:
        sentry_sdk.capture_exception()
    sentry_sdk.capture_message("Письмо на driver+car@example.ru не ушло, тел. 8 912 345 67 89")

    error, message = transport.events
    text = str(error) + str(message)
    for secret in ("345-67-89", "89123456789", "ivan.petrov", "driver+car", "345 67 89"):
        assert secret not in text
    assert error["exception"]["values"][0]["value"] == (
        f"Клиент {PHONE_MASK} не отвечает, запасной {PHONE_MASK}"
    )
    assert message["message"] == f"Письмо на {EMAIL_MASK} не ушло, тел. {PHONE_MASK}"
    crumbs = error["breadcrumbs"]["values"]
    assert any(crumb.get("message") == f"звонок клиенту {EMAIL_MASK}" for crumb in crumbs)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("+79123456789", PHONE_MASK),
        ("8 (912) 345-67-89", PHONE_MASK),
        ("тел.: +7 912 345 67 89.", f"тел.: {PHONE_MASK}."),
        ("a.b-c@yandex.ru, ok", f"{EMAIL_MASK}, ok"),
        # What is not a contact stays readable: ids, part numbers, money, dates.
        ("заявка 12345 на 6RU807221", "заявка 12345 на 6RU807221"),
        ("Сумма 12 345,50 ₽ от 2026-11-30", "Сумма 12 345,50 ₽ от 2026-11-30"),
        ("в 2026-11-30 12:49:49 заказ 1234567890123", "в 2026-11-30 12:49:49 заказ 1234567890123"),
        ("звонил с 912 345 67 89", f"звонил с {PHONE_MASK}"),
    ],
)
def test_scrub_masks_contacts_and_keeps_the_rest(text, expected):
    assert scrub(text) == expected


@pytest.mark.parametrize(
    ("dsn", "active"), [("", "False"), ("https://k@o0.sentry.invalid/1", "True")]
)
def test_settings_start_sentry_only_with_a_dsn(dsn, active):
    """A fresh process, as gunicorn and the worker start: without SENTRY_DSN the SDK is not
    even imported."""
    code = (
        "import sys, django; django.setup(); "
        "started = 'sentry_sdk' in sys.modules; "
        "import sentry_sdk; print(started and sentry_sdk.get_client().is_active())"
    )
    env = {**os.environ, "SENTRY_DSN": dsn, "DJANGO_SETTINGS_MODULE": "autoservice.settings"}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == active
