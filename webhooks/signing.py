"""Standard Webhooks signatures (symmetric, `v1`).

https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md:
the secret is `whsec_` + base64 of 24 to 64 random bytes; the signed content is
`webhook-id.webhook-timestamp.body`; the signature is base64 of its HMAC-SHA256 with the
decoded secret, sent as `v1,<signature>`, several of them space-separated while a rotated
secret still signs.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets

PREFIX = "whsec_"
SECRET_BYTES = 32


def secret_generate() -> str:
    return PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def _key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(PREFIX))


def signature(*, secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """`v1,<base64 HMAC-SHA256>` of `msg_id.timestamp.body` with one secret."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def signature_header(*, secrets: list[str], msg_id: str, timestamp: int, body: bytes) -> str:
    return " ".join(
        signature(secret=secret, msg_id=msg_id, timestamp=timestamp, body=body)
        for secret in secrets
    )


def headers(*, secrets: list[str], msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "User-Agent": "autoservice-webhooks/1",
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature_header(
            secrets=secrets, msg_id=msg_id, timestamp=timestamp, body=body
        ),
    }


def body_bytes(payload: dict) -> bytes:
    """The body exactly as signed and sent: compact JSON, UTF-8 (Russian text as is)."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
