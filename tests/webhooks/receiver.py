"""A webhook receiver on loopback: a real threaded HTTP server that records every request
and answers as the test scripts it."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


# (request number from 1, the request) -> (status, body)
Answer = Callable[[int, Received], tuple[int, bytes]]


def always(status: int, body: bytes = b"ok") -> Answer:
    return lambda _n, _r: (status, body)


class Receiver:
    def __init__(self, answer: Answer | None = None):
        self.answer = answer or always(200)
        self.received: list[Received] = []
        # Extra answer headers, and a Retry-After to send with every answer.
        self.headers: dict[str, str] = {}
        self.retry_after: str | None = None
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                length = int(self.headers.get("Content-Length") or 0)
                got = Received(
                    self.path,
                    {k.lower(): v for k, v in self.headers.items()},
                    self.rfile.read(length),
                )
                with receiver.lock:
                    receiver.received.append(got)
                    number = len(receiver.received)
                status, body = receiver.answer(number, got)
                try:
                    self._answer(status, body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the sender gave up waiting (a timeout test)

            def _answer(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                for name, value in receiver.headers.items():
                    self.send_header(name, value)
                if receiver.retry_after is not None:
                    self.send_header("Retry-After", receiver.retry_after)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/sto"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
