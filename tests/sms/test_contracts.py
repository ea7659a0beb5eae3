"""Our gateway clients against the gateways' documented requests and answers
(tests/sms/contracts/README.md: https://sms.ru/api/send, https://sms.ru/api/status,
https://smsc.ru/api/http/send/sms/sms_answer/, https://smsc.ru/api/http/status_messages/).
The fake server returns the documented files as they are, so each answer read here is the
documented one."""

from __future__ import annotations

import json
import threading
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from sms.gateways import (
    DELIVERED,
    NOT_FOUND,
    UNDELIVERED,
    Smsc,
    SmsRefusedError,
    SmsRu,
    SmsSettingsError,
)

CONTRACTS = Path(__file__).resolve().parent / "contracts"


class Documented:
    """Answers every request with one documented file, byte for byte; records the form."""

    def __init__(self, name: str):
        self.payload = (CONTRACTS / name).read_bytes()
        self.forms: list[tuple[str, dict]] = []

    def __enter__(self):
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                form = {k: v[-1] for k, v in parse_qs(raw).items()}
                owner.forms.append((urlsplit(self.path).path, form))
                self.send_response(200)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(owner.payload)))
                self.end_headers()
                self.wfile.write(owner.payload)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def _documented_request() -> dict:
    url = (CONTRACTS / "smsru" / "send_request.txt").read_text().strip()
    return {k: v[-1] for k, v in parse_qs(urlsplit(url).query).items()}


def test_smsru_send_sends_the_documented_parameters_and_reads_the_sms_id(settings):
    with Documented("smsru/send_ok.json") as doc:
        settings.SMSRU_BASE_URL = doc.base
        got = SmsRu("my-api-id").send(phone="+79255070602", text="hello world", sender="", our_id=7)
    ((path, form),) = doc.forms
    assert path == "/sms/send"
    assert set(form) == set(_documented_request())  # api_id, to, msg, json
    assert form == {"api_id": "my-api-id", "to": "79255070602", "msg": "hello world", "json": "1"}
    assert got.gateway_id == "000000-10000000" and got.balance == Decimal("4122.56")


def test_smsru_send_reads_the_documented_refusal_of_a_number(settings):
    with Documented("smsru/send_ok.json") as doc:
        settings.SMSRU_BASE_URL = doc.base
        with pytest.raises(SmsRefusedError) as refused:
            SmsRu("k").send(phone="+74993221627", text="x", sender="", our_id=1)
    assert "код 207" in refused.value.message and "нельзя отправлять" in refused.value.message


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("smsru/error_bad_api_id.json", "неправильный api_id"),
        ("smsru/error_low_balance.json", "недостаточно средств — пополните баланс"),
    ],
)
def test_smsru_account_errors_are_for_the_manager(settings, name, words):
    with Documented(name) as doc:
        settings.SMSRU_BASE_URL = doc.base
        with pytest.raises(SmsSettingsError) as refused:
            SmsRu("k").send(phone="+79255070602", text="x", sender="", our_id=1)
    assert words in refused.value.message


@pytest.mark.parametrize(
    ("sms_id", "state"), [("000000-000001", DELIVERED), ("000000-000002", UNDELIVERED)]
)
def test_smsru_status_reads_the_documented_report(settings, sms_id, state):
    with Documented("smsru/status_ok.json") as doc:
        settings.SMSRU_BASE_URL = doc.base
        report = SmsRu("k").status(gateway_id=sms_id, phone="+79255070602")
    assert report.state == state
    ((path, form),) = doc.forms
    assert path == "/sms/status" and form == {"api_id": "k", "sms_id": sms_id, "json": "1"}


def test_smsc_send_passes_our_id_and_reads_the_documented_answer(settings):
    with Documented("smsc/send_ok.json") as doc:
        settings.SMSC_BASE_URL = doc.base
        got = Smsc("login", "psw").send(
            phone="+79255070602", text="Привет", sender="AvtoServis", our_id=1234
        )
    ((path, form),) = doc.forms
    assert path == "/sys/send.php"
    assert form["login"] == "login" and form["psw"] == "psw" and form["fmt"] == "3"
    assert form["phones"] == "79255070602" and form["mes"] == "Привет"
    assert form["id"] == "1234" and form["sender"] == "AvtoServis" and form["cost"] == "3"
    doc_answer = json.loads((CONTRACTS / "smsc" / "send_ok.json").read_text())
    assert got.gateway_id == str(doc_answer["id"]) and got.cost == Decimal("1.40")


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("smsc/error_login.json", "неверный логин или пароль SMSC"),
        ("smsc/error_low_balance.json", "на счёте SMSC недостаточно средств"),
    ],
)
def test_smsc_account_errors_are_for_the_manager(settings, name, words):
    with Documented(name) as doc:
        settings.SMSC_BASE_URL = doc.base
        with pytest.raises(SmsSettingsError) as refused:
            Smsc("l", "p").send(phone="+79255070602", text="x", sender="", our_id=1)
    assert words in refused.value.message


def test_smsc_status_and_lookup_by_our_id(settings):
    with Documented("smsc/status_delivered.json") as doc:
        settings.SMSC_BASE_URL = doc.base
        client = Smsc("l", "p")
        assert client.status(gateway_id="1234", phone="+79255070602").state == DELIVERED
        assert client.lookup(our_id=1234, phone="+79255070602").gateway_id == "1234"
    assert [form["id"] for _path, form in doc.forms] == ["1234", "1234"]
    with Documented("smsc/status_not_found.json") as doc:
        settings.SMSC_BASE_URL = doc.base
        assert Smsc("l", "p").lookup(our_id=99, phone="+79255070602") is None
        assert Smsc("l", "p").status(gateway_id="99", phone="+79255070602").state == NOT_FOUND
