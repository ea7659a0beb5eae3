"""Fake Telegram Bot API and MAX bot API on loopback: they answer with the documented
examples in tests/messengers/contracts/, check the token the way the real ones do (Telegram:
in the path `/bot<token>/<method>`; MAX: the `Authorization` header), record every request,
and can be told to be slow, fail (500), rate-limit (429), refuse the token (401), or answer
that the person blocked the bot (403)."""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

CONTRACTS = Path(__file__).resolve().parent / "contracts"
TELEGRAM_TOKEN = "5566778899:AAH3xQk0bUlMqJd9sT7vYw2nE4rF6gH8iJ0"
MAX_TOKEN = "f9LHodD0cOKzEDlbgy2ZT5yCc9XJkvJm3fGq1tsqy8w"


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    raw: bytes
    body: Any = None  # JSON, or {name: value or (filename, bytes)} for multipart
    at: float = field(default_factory=time.monotonic)  # when it arrived

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]


@dataclass
class FakeBot:
    """kind: "telegram" or "max"; mode: "ok", "slow", "fail", "limit", "401", "blocked",
    "no_chat" (Telegram's 400 "chat not found").
    `modes` (a list) overrides `mode` for the next requests, one each, then `mode` again."""

    kind: str
    mode: str = "ok"
    modes: list[str] = field(default_factory=list)
    slow_seconds: float = 3.0
    code: str = ""  # put into updates answers in place of {CODE}
    seen: list[Seen] = field(default_factory=list)
    base: str = ""

    @property
    def token(self) -> str:
        return TELEGRAM_TOKEN if self.kind == "telegram" else MAX_TOKEN

    def __enter__(self) -> FakeBot:
        fake = self
        self._stop = threading.Event()
        self._lock = threading.Lock()

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

    def calls(self, name: str) -> list[Seen]:
        return [s for s in self.seen if s.name == name]

    def _file(self, name: str) -> bytes:
        data = (CONTRACTS / self.kind / name).read_bytes()
        return data.replace(b"{CODE}", self.code.encode())

    def _handle(self, request: BaseHTTPRequestHandler, method: str) -> None:
        length = int(request.headers.get("Content-Length") or 0)
        raw = request.rfile.read(length) if length else b""
        split = urlsplit(request.path)
        seen = Seen(method, split.path, parse_qs(split.query), dict(request.headers), raw)
        content_type = request.headers.get("Content-Type", "")
        if content_type.startswith("multipart/form-data"):
            message = BytesParser(policy=HTTP).parsebytes(
                f"Content-Type: {content_type}\r\n\r\n".encode() + raw
            )
            seen.body = {}
            for part in message.iter_parts():
                payload = part.get_payload(decode=True)
                filename = part.get_filename()
                name = part.get_param("name", header="content-disposition")
                seen.body[name] = (filename, payload) if filename else payload.decode()
        elif raw:
            seen.body = json.loads(raw)
        with self._lock:
            mode = self.modes.pop(0) if self.modes else self.mode
            self.seen.append(seen)
        status, payload = self._answer(method, split.path, request.headers, mode)
        if mode == "slow":
            self._stop.wait(self.slow_seconds)
        try:
            request.send_response(status)
            request.send_header("Content-Type", "application/json; charset=utf-8")
            request.send_header("Content-Length", str(len(payload)))
            request.end_headers()
            request.wfile.write(payload)
        except OSError:
            pass  # the client gave up waiting

    def _answer(self, method: str, path: str, headers, mode: str) -> tuple[int, bytes]:
        if self.kind == "telegram":
            match = re.match(r"^/bot([^/]+)/(\w+)$", path)
            if not match:
                return 404, b'{"ok":false,"error_code":404,"description":"Not Found"}'
            if mode == "401" or match.group(1) != self.token:
                return 401, self._file("error_401.json")
            if mode == "fail":
                return 500, self._file("error_500.json")
            if mode == "limit":
                return 429, self._file("error_429.json")
            if mode == "blocked" and match.group(2) in ("sendMessage", "sendPhoto"):
                return 403, self._file("error_403_blocked.json")
            if mode == "no_chat" and match.group(2) in ("sendMessage", "sendPhoto"):
                return 400, self._file("error_400_chat_not_found.json")
            files = {
                "getMe": "getMe.json",
                "sendMessage": "sendMessage.json",
                "sendPhoto": "sendPhoto.json",
                "getUpdates": "getUpdates.json",
            }
            name = files.get(match.group(2))
            if name is None:
                return 404, b'{"ok":false,"error_code":404,"description":"Not Found"}'
            return 200, self._file(name)
        # MAX
        if mode == "401" or headers.get("Authorization") != self.token:
            return 401, self._file("error_401.json")
        if mode == "fail":
            return 500, self._file("error_500.json")
        if mode == "limit":
            return 429, self._file("error_429.json")
        if mode == "blocked" and path == "/messages":
            return 403, self._file("error_403.json")
        routes = {("GET", "/me"): "me.json", ("POST", "/messages"): "messages.json"}
        routes[("GET", "/updates")] = "updates.json"
        name = routes.get((method, path))
        if name is None:
            return 404, b'{"code":"not.found","message":"Not found"}'
        return 200, self._file(name)
