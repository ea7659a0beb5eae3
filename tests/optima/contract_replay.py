"""A tiny HTTP server on loopback that answers each route with a documented answer file from
tests/optima/contracts/, byte for byte, and records what the adapter sent."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

CONTRACTS = Path(__file__).resolve().parent / "contracts"


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, str]
    form: dict[str, str]
    headers: dict[str, str]
    body: str = ""


@dataclass
class Replay:
    """routes: {(method, path): (HTTP status, "supplier/file.json")}."""

    routes: dict[tuple[str, str], tuple[int, str]]
    seen: list[Seen] = field(default_factory=list)
    url: str = ""

    def __enter__(self) -> Replay:
        replay = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                self._answer("GET")

            def do_POST(self) -> None:
                self._answer("POST")

            def _answer(self, method: str) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode() if length else ""
                replay.seen.append(
                    Seen(
                        method,
                        parts.path,
                        {k: v[-1] for k, v in parse_qs(parts.query).items()},
                        {k: v[-1] for k, v in parse_qs(body, keep_blank_values=True).items()},
                        dict(self.headers),
                        body,
                    )
                )
                status, name = replay.routes.get((method, parts.path.rstrip("/")), (404, ""))
                payload = (CONTRACTS / name).read_bytes() if name else b"not found"
                self.send_response(status)
                content_type = "application/json; charset=utf-8"
                if name.endswith(".xml"):  # SOAP answers (Rossko)
                    content_type = "text/xml; charset=utf-8"
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def calls(self, path: str) -> list[Seen]:
        return [s for s in self.seen if s.path.rstrip("/") == path]
