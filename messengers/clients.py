"""The Telegram Bot API and MAX bot API, as far as the shop's notifications need them.

Shapes (cited in tests/messengers/contracts/README.md):
- Telegram https://core.telegram.org/bots/api — `POST {base}/bot<token>/<method>`; every
  answer is `{"ok": true, "result": ...}` or `{"ok": false, "error_code": ..., "description":
  ..., "parameters": {"retry_after": N}}`; 429 carries `retry_after`, 403 "Forbidden: bot was
  blocked by the user" means that chat will not take messages.
- MAX https://dev.max.ru/docs-api — `{base}/<path>` with header `Authorization: <token>`;
  `POST /messages?user_id=` with `{"text": ..., "attachments": [...]}`, `GET /me`,
  `GET /updates?marker=`; errors `{"code": ..., "message": ...}`.

Every call goes through the outbound policy. The token is in Telegram's URL path, so no
error raised here quotes a URL: only the messenger's own description.
"""

from __future__ import annotations

import http.client
import json
import socket
import uuid
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.conf import settings
from django.utils.translation import gettext as _

from autoservice.outbound import OutboundRefused, outbound_request

from .models import Messenger

MAX_ANSWER_BYTES = 1024 * 1024
TIMEOUT_S = 10.0


class MessengerError(Exception):
    """The messenger did not take the request; worth trying again later."""

    retry_after_seconds: int | None = None


class MessengerUncertain(MessengerError):
    """The request went out and no answer came back (a timeout, a connection cut while
    waiting): the messenger may have delivered it. Neither Telegram nor MAX takes an
    idempotency key, so sending again could make a second copy."""


class MessengerRateLimited(MessengerError):
    """429: the messenger names how long to wait (the outbox honours it)."""

    def __init__(self, message: str, retry_after: int | None):
        super().__init__(message)
        self.retry_after_seconds = retry_after


class MessengerBlocked(MessengerError):
    """403: the person blocked the bot (or never started it); retrying will not help."""


class MessengerTokenRefused(MessengerError):
    """401/404 on the bot itself: the token is wrong or revoked."""


@dataclass(frozen=True)
class Incoming:
    """A text someone sent to the bot: who (chat to answer), their name, what."""

    chat_id: str
    name: str
    text: str


@dataclass
class Updates:
    items: list[Incoming] = field(default_factory=list)
    marker: int | None = None


def _call(method: str, url: str, *, headers: dict, body: bytes | None) -> tuple[int, dict]:
    try:
        response = outbound_request(
            method, url, headers=headers, body=body, timeout_s=TIMEOUT_S, max_bytes=MAX_ANSWER_BYTES
        )
    except OutboundRefused as refused:
        raise MessengerError(refused.message) from None
    except TimeoutError:
        raise MessengerUncertain(_("Мессенджер не ответил вовремя.")) from None
    except (ConnectionRefusedError, socket.gaierror) as exc:
        # Nothing reached the messenger: safe to try again.
        raise MessengerError(
            _("Мессенджер недоступен (%(why)s).") % {"why": exc.__class__.__name__}
        ) from None
    except (OSError, http.client.HTTPException) as exc:
        # Cut while sending or waiting: it may have arrived.
        raise MessengerUncertain(
            _("Мессенджер недоступен (%(why)s).") % {"why": exc.__class__.__name__}
        ) from None
    try:
        data = json.loads(response.body or b"{}")
    except ValueError:
        data = {}
    return response.status, data if isinstance(data, dict) else {}


class TelegramClient:
    kind = Messenger.TELEGRAM

    def __init__(self, token: str, base: str | None = None):
        self.token = token
        self.base = (base or settings.TELEGRAM_API_BASE).rstrip("/")

    def _url(self, method: str) -> str:
        return f"{self.base}/bot{self.token}/{method}"

    def _result(self, status: int, data: dict):
        if data.get("ok") is True:
            return data.get("result")
        code = int(data.get("error_code") or status)
        description = str(data.get("description") or status)
        if code == 429:
            retry = (data.get("parameters") or {}).get("retry_after")
            raise MessengerRateLimited(
                f"Telegram 429: {description}", int(retry) if retry is not None else None
            )
        if code == 403 or (code == 400 and "chat not found" in description):
            # Blocked, deactivated, or a chat that does not exist (any more): retrying the
            # same chat will not help.
            raise MessengerBlocked(f"Telegram {code}: {description}")
        if code in (401, 404):
            raise MessengerTokenRefused(f"Telegram {code}: {description}")
        raise MessengerError(f"Telegram {code}: {description}")

    def _json(self, method: str, payload: dict):
        body = json.dumps(payload, ensure_ascii=False).encode()
        status, data = _call(
            "POST",
            self._url(method),
            headers={"Content-Type": "application/json; charset=utf-8"},
            body=body,
        )
        return self._result(status, data)

    def get_me(self) -> dict:
        return self._json("getMe", {})

    def send_message(self, chat_id: str, text: str) -> dict:
        return self._json("sendMessage", {"chat_id": chat_id, "text": text})

    def send_photo(self, chat_id: str, photo: bytes, caption: str, filename: str) -> dict:
        """The photo file itself, multipart/form-data (the way the Bot API takes uploads)."""
        boundary = uuid.uuid4().hex
        parts = []
        for name, value in (("chat_id", str(chat_id)), ("caption", caption)):
            parts.append(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
                + value.encode()
                + b"\r\n"
            )
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="photo"; '
            f'filename="{filename}"\r\nContent-Type: image/jpeg\r\n\r\n'.encode()
            + photo
            + b"\r\n"
        )
        body = b"".join(parts) + f"--{boundary}--\r\n".encode()
        status, data = _call(
            "POST",
            self._url("sendPhoto"),
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
            body=body,
        )
        return self._result(status, data)

    def get_updates(self, marker: int | None) -> Updates:
        payload: dict = {"timeout": 0, "allowed_updates": ["message"]}
        if marker is not None:
            payload["offset"] = marker
        result = self._json("getUpdates", payload) or []
        updates = Updates(marker=marker)
        for update in result:
            updates.marker = max(updates.marker or 0, int(update["update_id"]) + 1)
            message = update.get("message") or {}
            chat = message.get("chat") or {}
            if "text" in message and "id" in chat:
                sender = message.get("from") or {}
                name = sender.get("username") or sender.get("first_name") or ""
                updates.items.append(Incoming(str(chat["id"]), name, message["text"]))
        return updates


class MaxClient:
    kind = Messenger.MAX

    def __init__(self, token: str, base: str | None = None):
        self.token = token
        self.base = (base or settings.MAX_API_BASE).rstrip("/")

    def _request(
        self, method: str, path: str, query: dict | None = None, payload: dict | None = None
    ) -> dict:
        url = f"{self.base}{path}" + (f"?{urlencode(query)}" if query else "")
        headers = {"Authorization": self.token}
        body = None
        if payload is not None:
            headers["Content-Type"] = "application/json; charset=utf-8"
            body = json.dumps(payload, ensure_ascii=False).encode()
        status, data = _call(method, url, headers=headers, body=body)
        if 200 <= status < 300:
            return data
        description = str(data.get("message") or data.get("code") or status)
        if status == 429:
            raise MessengerRateLimited(f"MAX 429: {description}", None)
        if status == 403:
            raise MessengerBlocked(f"MAX 403: {description}")
        if status == 401:
            raise MessengerTokenRefused(f"MAX 401: {description}")
        raise MessengerError(f"MAX {status}: {description}")

    def get_me(self) -> dict:
        return self._request("GET", "/me")

    def send_message(self, chat_id: str, text: str, attachments: list | None = None) -> dict:
        payload: dict = {"text": text}
        if attachments:
            payload["attachments"] = attachments
        return self._request("POST", "/messages", {"user_id": chat_id}, payload)

    def get_updates(self, marker: int | None) -> Updates:
        query: dict = {"timeout": 0, "types": "message_created,bot_started"}
        if marker is not None:
            query["marker"] = marker
        data = self._request("GET", "/updates", query)
        updates = Updates(marker=data.get("marker", marker))
        for update in data.get("updates") or []:
            if update.get("update_type") == "bot_started":
                user = update.get("user") or {}
                text = str(update.get("payload") or "")
            elif update.get("update_type") == "message_created":
                message = update.get("message") or {}
                user = message.get("sender") or {}
                text = str((message.get("body") or {}).get("text") or "")
            else:
                continue
            if "user_id" in user and text:
                name = user.get("username") or user.get("first_name") or ""
                updates.items.append(Incoming(str(user["user_id"]), name, text))
        return updates


def client_for(kind: str, token: str) -> TelegramClient | MaxClient:
    return TelegramClient(token) if kind == Messenger.TELEGRAM else MaxClient(token)
