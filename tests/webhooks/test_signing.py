"""Signatures exactly as the Standard Webhooks specification makes them, checked against the
test vector its reference libraries share:
standard-webhooks/standard-webhooks, libraries/python/tests/test_webhooks.py
(`test_sign_function`; the same vector in libraries/go/webhook_test.go and
libraries/php/tests/WebhookTest.php), and the header format of
spec/standard-webhooks.md ("Signature scheme", "Webhook headers")."""

from __future__ import annotations

import base64
import time

import pytest

from tests.webhooks.docs import doc_verify
from webhooks import signing

SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SPEC_MSG_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SPEC_TIMESTAMP = 1614265330
SPEC_PAYLOAD = b'{"test": 2432232314}'
SPEC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
# libraries/python/tests/test_webhooks.py, test_invalid_signature_raises_error: one letter off.
SPEC_WRONG_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OA="


def test_the_specs_vector_signs_to_the_specs_signature():
    assert (
        signing.signature(
            secret=SPEC_SECRET, msg_id=SPEC_MSG_ID, timestamp=SPEC_TIMESTAMP, body=SPEC_PAYLOAD
        )
        == SPEC_SIGNATURE
    )


def test_during_rotation_both_signatures_go_space_separated():
    other = signing.secret_generate()
    header = signing.signature_header(
        secrets=[other, SPEC_SECRET],
        msg_id=SPEC_MSG_ID,
        timestamp=SPEC_TIMESTAMP,
        body=SPEC_PAYLOAD,
    )
    first, second = header.split(" ")
    assert first.startswith("v1,") and first != SPEC_SIGNATURE
    assert second == SPEC_SIGNATURE


def test_a_new_secret_is_whsec_and_32_random_bytes():
    secret = signing.secret_generate()
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 32
    assert secret != signing.secret_generate()


def test_the_documented_snippet_accepts_the_specs_vector_and_refuses_a_wrong_one(monkeypatch):
    verify = doc_verify()
    monkeypatch.setattr(time, "time", lambda: SPEC_TIMESTAMP + 10)
    headers = {
        "webhook-id": SPEC_MSG_ID,
        "webhook-timestamp": str(SPEC_TIMESTAMP),
        "webhook-signature": SPEC_SIGNATURE,
    }
    assert verify(SPEC_SECRET, headers, SPEC_PAYLOAD) == {"test": 2432232314}
    with pytest.raises(ValueError, match="подпись"):
        verify(SPEC_SECRET, {**headers, "webhook-signature": SPEC_WRONG_SIGNATURE}, SPEC_PAYLOAD)
    # A replay long after the timestamp is refused even with a valid signature.
    monkeypatch.setattr(time, "time", lambda: SPEC_TIMESTAMP + 3600)
    with pytest.raises(ValueError, match="старый"):
        verify(SPEC_SECRET, headers, SPEC_PAYLOAD)
