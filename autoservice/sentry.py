"""Errors to Sentry, when the shop's operator sets SENTRY_DSN, without drivers' contacts.

No personal data is collected (`data_collection`, which replaces `send_default_pii` in
sentry-sdk 2.x and is stricter than `send_default_pii=False`: that one still sends request
bodies, and a driver's form body is their name and phone). `before_send` also takes phone
numbers and e-mail addresses out of the texts an event carries (log messages, exception
values, breadcrumbs, the request's address), because a driver's phone often sits inside one.
"""

from __future__ import annotations

import re
from typing import Any

PHONE_MASK = "[телефон]"
EMAIL_MASK = "[e-mail]"

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Russian numbers as people type them: +7 999 123-45-67, 8 (999) 1234567, 79991234567,
# 999 123 45 67; grouped 3-3-2-2 so that dates, times and part numbers stay readable.
_PHONE = re.compile(
    r"(?<![\w+])(?:(?:\+7|7|8)[\s\-]*)?\(?\d{3}\)?[\s\-]*\d{3}[\s\-]*\d{2}[\s\-]*\d{2}(?!\w)"
)


def scrub(text: str) -> str:
    return _PHONE.sub(PHONE_MASK, _EMAIL.sub(EMAIL_MASK, text))


def _scrub_tree(value: Any) -> Any:
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {key: _scrub_tree(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub_tree(item) for item in value]
    return value


# The parts of an event that hold free text; stack frames' local variables are not sent
# (include_local_variables=False), and request data is left out by send_default_pii=False.
_TEXT_PARTS = ("message", "logentry", "exception", "breadcrumbs", "extra", "tags", "request")

# Users, cookies, query strings, bodies, SQL parameters, task arguments and local variables
# stay here; of the headers only the harmless ones go.
DATA_COLLECTION: dict[str, Any] = {
    "user_info": False,
    "cookies": {"mode": "off"},
    "http_headers": {
        "request": {"mode": "allowlist", "terms": ["user-agent", "content-type", "x-request-id"]}
    },
    "http_bodies": [],
    "url_query_params": {"mode": "off"},
    "database_query_data": False,
    "queues": False,
    "stack_frame_variables": False,
}


def before_send(event: dict[str, Any], hint: dict[str, Any]) -> dict[str, Any]:
    for part in _TEXT_PARTS:
        if part in event:
            event[part] = _scrub_tree(event[part])
    return event


def before_breadcrumb(crumb: dict[str, Any], hint: dict[str, Any]) -> dict[str, Any]:
    return _scrub_tree(crumb)


def sentry_init(
    *,
    dsn: str,
    environment: str,
    traces_sample_rate: float = 0.0,
    transport: Any = None,
) -> bool:
    """Start the Sentry client with the Django and Celery integrations; nothing without a
    DSN. `transport` is for the tests (a Transport that keeps envelopes instead of sending)."""
    if not dsn:
        return False
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    options: dict[str, Any] = {
        "dsn": dsn,
        "environment": environment,
        "integrations": [DjangoIntegration(), CeleryIntegration()],
        "data_collection": DATA_COLLECTION,
        "before_send": before_send,
        "before_breadcrumb": before_breadcrumb,
        "traces_sample_rate": traces_sample_rate,
    }
    if transport is not None:
        options["transport"] = transport
    sentry_sdk.init(**options)
    return True
