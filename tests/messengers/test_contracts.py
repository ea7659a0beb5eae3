"""The clients against the documented shapes (tests/messengers/contracts/README.md cites
each file): what we send is what the Bot API / MAX API document, what they answer is read
right, and each documented error becomes the right kind of failure."""

from __future__ import annotations

import pytest

from messengers.clients import (
    MaxClient,
    MessengerBlocked,
    MessengerError,
    MessengerRateLimited,
    MessengerTokenRefused,
    TelegramClient,
)
from tests.messengers.fake_bots import MAX_TOKEN, TELEGRAM_TOKEN, FakeBot


@pytest.fixture
def tg():
    with FakeBot("telegram", code="K7M2QX9P") as fake:
        yield fake


@pytest.fixture
def mx():
    with FakeBot("max", code="K7M2QX9P") as fake:
        yield fake


def test_telegram_send_message_posts_chat_id_and_text_as_json(tg):
    result = TelegramClient(TELEGRAM_TOKEN, tg.base).send_message("1297094036", "Новая заявка")
    (call,) = tg.calls("sendMessage")
    assert call.method == "POST" and call.path == f"/bot{TELEGRAM_TOKEN}/sendMessage"
    assert call.body == {"chat_id": "1297094036", "text": "Новая заявка"}
    assert result["message_id"] == 4272 and result["chat"]["id"] == 1297094036


def test_telegram_send_photo_uploads_the_file_as_multipart(tg):
    result = TelegramClient(TELEGRAM_TOKEN, tg.base).send_photo(
        "1297094036", b"\xff\xd8jpeg-bytes", "Подпись", "1.web.jpg"
    )
    (call,) = tg.calls("sendPhoto")
    assert call.headers["Content-Type"].startswith("multipart/form-data; boundary=")
    assert call.body["chat_id"] == "1297094036" and call.body["caption"] == "Подпись"
    assert call.body["photo"] == ("1.web.jpg", b"\xff\xd8jpeg-bytes")
    assert result["photo"][0]["file_id"]


def test_telegram_get_me_and_updates_are_read(tg):
    client = TelegramClient(TELEGRAM_TOKEN, tg.base)
    assert client.get_me()["username"] == "shop_service_bot"
    updates = client.get_updates(None)
    assert updates.marker == 871200302  # the last update_id + 1, as getUpdates documents
    (incoming,) = updates.items
    assert incoming.chat_id == "1297094036" and incoming.text == "/start K7M2QX9P"
    assert incoming.name == "ivan_master"
    client.get_updates(updates.marker)
    assert tg.calls("getUpdates")[-1].body["offset"] == 871200302


@pytest.mark.parametrize(
    ("mode", "error", "text"),
    [
        ("limit", MessengerRateLimited, "Too Many Requests: retry after 5"),
        ("blocked", MessengerBlocked, "Forbidden: bot was blocked by the user"),
        ("no_chat", MessengerBlocked, "Bad Request: chat not found"),
        ("401", MessengerTokenRefused, "Unauthorized"),
        ("fail", MessengerError, "Internal Server Error"),
    ],
)
def test_telegram_documented_errors(tg, mode, error, text):
    tg.mode = mode
    with pytest.raises(error) as raised:
        TelegramClient(TELEGRAM_TOKEN, tg.base).send_message("1", "x")
    assert text in str(raised.value)
    assert TELEGRAM_TOKEN not in str(raised.value)
    if mode == "limit":
        assert raised.value.retry_after_seconds == 5


def test_max_send_message_uses_the_token_header_and_user_id(mx):
    result = MaxClient(MAX_TOKEN, mx.base).send_message("4005123", "Новая заявка")
    (call,) = mx.calls("messages")
    assert call.method == "POST" and call.query == {"user_id": ["4005123"]}
    assert call.headers["Authorization"] == MAX_TOKEN
    assert MAX_TOKEN not in call.path and "access_token" not in call.query
    assert call.body == {"text": "Новая заявка"}
    assert result["message"]["body"]["mid"].startswith("mid.")


def test_max_image_goes_as_an_attachment_by_url(mx):
    image = {"type": "image", "payload": {"url": "https://sto.example.ru/p/abc/"}}
    MaxClient(MAX_TOKEN, mx.base).send_message("4005123", "Новая заявка", [image])
    (call,) = mx.calls("messages")
    assert call.body == {"text": "Новая заявка", "attachments": [image]}


def test_max_me_and_updates_are_read(mx):
    client = MaxClient(MAX_TOKEN, mx.base)
    assert client.get_me()["username"] == "id7701234567_bot"
    updates = client.get_updates(None)
    assert updates.marker == 145
    started, said = updates.items
    assert started.chat_id == "4005123" and started.text == "K7M2QX9P"
    assert said.text == "привет"
    client.get_updates(145)
    assert mx.calls("updates")[-1].query["marker"] == ["145"]


@pytest.mark.parametrize(
    ("mode", "error"),
    [
        ("limit", MessengerRateLimited),
        ("blocked", MessengerBlocked),
        ("401", MessengerTokenRefused),
        ("fail", MessengerError),
    ],
)
def test_max_documented_errors(mx, mode, error):
    mx.mode = mode
    with pytest.raises(error) as raised:
        MaxClient(MAX_TOKEN, mx.base).send_message("4005123", "x")
    assert MAX_TOKEN not in str(raised.value)


def test_a_wrong_max_token_is_refused_like_the_real_api(mx):
    with pytest.raises(MessengerTokenRefused):
        MaxClient("not-the-token-at-all", mx.base).get_me()
