"""Fake SMS.ru and SMSC on loopback, answering from the documented examples in
tests/sms/contracts/ (README there): they record every request (form fields parsed), keep
what they accepted, and can be told to fail (500), be slow after accepting (the answer is
lost: the client times out though the message went out), refuse the key or the balance, or
refuse the number."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

CONTRACTS = Path(__file__).resolve().parent / "contracts"
DOC_PHONE = "79255070602"  # the number in SMS.ru's documented example
DOC_SMS_ID = "000000-10000000"


@dataclass
class Seen:
    path: str
    form: dict[str, str]


@dataclass
class FakeGateway:
    """kind "smsru" or "smsc"; mode "ok", "fail" (500), "slow_after_accept", "bad_key",
    "low_balance", "bad_number"; `report` "delivered" or "undelivered" for status calls."""

    kind: str
    mode: str = "ok"
    report: str = "delivered"
    slow_seconds: float = 3.0
    seen: list[Seen] = field(default_factory=list)
    accepted: dict[str, str] = field(default_factory=dict)  # gateway id -> phone
    base: str = ""

    def __enter__(self) -> FakeGateway:
        fake = self
        self._stop = threading.Event()
        self._lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                fake._handle(self)

            def do_POST(self) -> None:
                fake._handle(self)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        self.base = f"http://127.0.0.1:{self._server.server_address[1]}"
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def sends(self) -> list[Seen]:
        return [s for s in self.seen if s.path.endswith(("/sms/send", "/sys/send.php"))]

    def file(self, name: str) -> bytes:
        return (CONTRACTS / self.kind / name).read_bytes()

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        length = int(request.headers.get("Content-Length") or 0)
        raw = request.rfile.read(length).decode() if length else ""
        parts = urlsplit(request.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        form = {**query, **{k: v[-1] for k, v in parse_qs(raw).items()}}
        with self._lock:
            self.seen.append(Seen(parts.path, form))
            status, payload = self._answer(parts.path, form)
        if self.mode == "slow_after_accept" and parts.path.endswith(("/sms/send", "/sys/send.php")):
            self._stop.wait(self.slow_seconds)
        try:
            request.send_response(status)
            request.send_header("Content-Type", "application/json; charset=utf-8")
            request.send_header("Content-Length", str(len(payload)))
            request.end_headers()
            request.wfile.write(payload)
        except OSError:
            pass  # the client gave up waiting

    def _answer(self, path: str, form: dict[str, str]) -> tuple[int, bytes]:
        if self.mode == "fail":
            return 500, b"<html>502 Bad Gateway</html>"
        if self.kind == "smsru":
            return self._smsru(path, form)
        return self._smsc(path, form)

    def _smsru(self, path: str, form: dict[str, str]) -> tuple[int, bytes]:
        if self.mode == "bad_key":
            return 200, self.file("error_bad_api_id.json")
        if self.mode == "low_balance":
            return 200, self.file("error_low_balance.json")
        if path == "/sms/send":
            doc = json.loads(self.file("send_ok.json"))
            ok, refused = doc["sms"][DOC_PHONE], doc["sms"]["74993221627"]
            sms_id = f"000000-{10000000 + len(self.accepted)}"
            if self.mode == "bad_number":
                doc["sms"] = {form["to"]: refused}
            else:
                doc["sms"] = {form["to"]: {**ok, "sms_id": sms_id}}
                self.accepted[sms_id] = form["to"]
            return 200, json.dumps(doc, ensure_ascii=False).encode()
        if path == "/sms/status":
            doc = json.loads(self.file("status_ok.json"))
            entry = doc["sms"]["000000-000001" if self.report == "delivered" else "000000-000002"]
            doc["sms"] = {form["sms_id"]: entry}
            return 200, json.dumps(doc, ensure_ascii=False).encode()
        return 404, b"{}"

    def _smsc(self, path: str, form: dict[str, str]) -> tuple[int, bytes]:
        if self.mode == "bad_key":
            return 200, self.file("error_login.json")
        if path == "/sys/send.php":
            if self.mode == "low_balance":
                return 200, self.file("error_low_balance.json")
            doc = json.loads(self.file("send_ok.json"))
            doc["id"] = int(form["id"])
            self.accepted[form["id"]] = form["phones"]
            return 200, json.dumps(doc).encode()
        if path == "/sys/status.php":
            if form.get("id") in self.accepted:
                return 200, self.file("status_delivered.json")
            return 200, self.file("status_not_found.json")
        return 404, b"{}"
