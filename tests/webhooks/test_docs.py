"""webhooks/WEBHOOKS.md is true: its Python snippet, taken from the file, verifies a real
delivery of each documented event kind, and every event type is documented."""

from __future__ import annotations

import json

from autoservice.events import EVENT_TYPES
from leads.services import LeadInput, lead_create
from tests.webhooks.docs import DOC, doc_snippet, doc_verify


def test_the_documented_snippet_verifies_a_real_delivery(
    shop, endpoint, receiver, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        lead, _created = lead_create(
            shop=shop, channel="phone", data=LeadInput(customer_name="Ива", phone="+79161234567")
        )
    got = receiver.received[0]
    event = doc_verify()(endpoint.raw_secret, got.headers, got.body)
    assert event == json.loads(got.body)
    assert event["data"]["lead_id"] == lead.pk
    # The snippet needs nothing beyond the standard library.
    imports = {line.split()[1] for line in doc_snippet().splitlines() if line.startswith("import")}
    assert imports <= {"base64", "hashlib", "hmac", "json", "time"}


def test_every_event_type_is_documented():
    text = DOC.read_text(encoding="utf-8")
    for code in [*EVENT_TYPES, "webhook.test"]:
        assert f"| `{code}` |" in text, code


def test_the_manager_opens_the_documentation_from_the_webhooks_page(manager_client):
    from django.urls import reverse

    page = manager_client.get(reverse("webhooks:endpoints")).content.decode()
    assert reverse("webhooks:docs") in page
    answer = manager_client.get(reverse("webhooks:docs"))
    assert answer["Content-Type"] == "text/plain; charset=utf-8"
    assert doc_snippet() in answer.content.decode()
