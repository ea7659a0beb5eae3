"""E-mails of the product: Russian templates (subject, text, optional HTML), rendered in the
shop's time zone, with a stable Message-ID so that a retried delivery is recognisably the
same letter."""

from __future__ import annotations

from collections.abc import Sequence

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template import TemplateDoesNotExist
from django.template.loader import render_to_string
from django.utils import timezone, translation

from .models import Shop


def send_templated(
    *,
    template: str,
    context: dict,
    shop: Shop,
    to: Sequence[str],
    message_id: str,
    attachments: Sequence[tuple[str, bytes, str]] = (),
) -> None:
    """`template` names `<template>_subject.txt`, `<template>.txt` and, if it exists,
    `<template>.html`."""
    with translation.override("ru"), timezone.override(shop.tzinfo):
        subject = " ".join(render_to_string(f"{template}_subject.txt", context).split())
        body = render_to_string(f"{template}.txt", context)
        try:
            html = render_to_string(f"{template}.html", context)
        except TemplateDoesNotExist:
            html = None
    domain = settings.SITE_URL.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0]
    email = EmailMultiAlternatives(
        subject=subject,
        body=body,
        to=list(to),
        headers={"Message-ID": f"<{message_id}@{domain or 'localhost'}>"},
    )
    if html is not None:
        email.attach_alternative(html, "text/html")
    for name, content, mimetype in attachments:
        email.attach(name, content, mimetype)
    email.send()
