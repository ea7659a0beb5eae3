"""Fake Bitrix24 and amoCRM on loopback: they answer from the documented examples in
tests/crm/contracts/ (byte for byte), check the webhook code or the bearer token as the real
ones do, record every request, and can be told to fail (500), be slow (sleep past the
client's time limit), hit their request limit, or refuse the key (401)."""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

CONTRACTS = Path(__file__).resolve().parent / "contracts"

BITRIX_METHODS = {
    "crm.lead.add": "crm_lead_add.json",
    "crm.timeline.comment.add": "crm_timeline_comment_add.json",
    "profile": "profile.json",
}
AMO_ROUTES = [
    ("POST", re.compile(r"^/api/v4/leads/complex$"), "leads_complex.json"),
    ("POST", re.compile(r"^/api/v4/leads/\d+/notes$"), "lead_notes.json"),
    ("GET", re.compile(r"^/api/v4/leads/pipelines$"), "pipelines.json"),
]


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class FakeCrm:
    """kind: "bitrix24" or "amocrm". `secret` is the webhook code (Bitrix24) or the token
    (amoCRM) the fake accepts; `mode` is "ok", "fail", "slow", "limit" or "401"."""

    kind: str
    secret: str = "k3y0f7h3w3bh00k"
    mode: str = "ok"
    slow_seconds: float = 3.0
    seen: list[Seen] = field(default_factory=list)
    base: str = ""

    def __enter__(self) -> FakeCrm:
        fake = self
        self._stop = threading.Event()

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                fake._handle(self, "GET")

            def do_POST(self) -> None:
                fake._handle(self, "POST")

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

    # What the shop's manager pastes into the settings.
    def webhook_url(self, code: str | None = None) -> str:
        return f"{self.base}/rest/1/{code or self.secret}/"

    def calls(self, suffix: str) -> list[Seen]:
        return [s for s in self.seen if s.path.endswith(suffix)]

    def _handle(self, request: BaseHTTPRequestHandler, method: str) -> None:
        length = int(request.headers.get("Content-Length") or 0)
        raw = request.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode(errors="replace")
        self.seen.append(Seen(method, request.path, dict(request.headers), body))
        status, payload = self._answer(method, request.path, request.headers)
        if self.mode == "slow":
            self._stop.wait(self.slow_seconds)
        try:
            request.send_response(status)
            request.send_header("Content-Type", "application/json; charset=utf-8")
            request.send_header("Content-Length", str(len(payload)))
            request.end_headers()
            request.wfile.write(payload)
        except OSError:
            pass  # the client gave up waiting

    def _file(self, name: str) -> bytes:
        return (CONTRACTS / self.kind / name).read_bytes()

    def _answer(self, method: str, path: str, headers) -> tuple[int, bytes]:
        if self.kind == "bitrix24":
            match = re.match(r"^/rest/(\d+)/([^/]+)/([\w.]+?)(?:\.json)?$", path)
            if not match or match.group(3) not in BITRIX_METHODS:
                return (
                    404,
                    b'{"error":"ERROR_METHOD_NOT_FOUND","error_description":"Method not found!"}',
                )
            if self.mode == "401" or match.group(2) != self.secret:
                return 401, self._file("error_invalid_credentials.json")
            if self.mode == "fail":
                return 500, self._file("error_internal_server_error.json")
            if self.mode == "limit":
                return 503, self._file("error_query_limit_exceeded.json")
            return 200, self._file(BITRIX_METHODS[match.group(3)])
        name = next(
            (n for m, pattern, n in AMO_ROUTES if m == method and pattern.match(path)), None
        )
        if name is None:
            return 404, b""
        if self.mode == "401" or headers.get("Authorization") != f"Bearer {self.secret}":
            return 401, self._file("error_401.json")
        if self.mode == "fail":
            return 500, b""
        if self.mode == "limit":
            return 429, b""
        return 200, self._file(name)
