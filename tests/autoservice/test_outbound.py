"""The outbound policy: requests the server makes on a user's behalf never reach internal
addresses, follow few redirects (each checked), stop at a size and a time, and keep to https
in production. A real HTTP server on 127.0.0.1 answers; the internal addresses other than
loopback are refused before any connection, so nothing is ever sent to them."""

from __future__ import annotations

import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from autoservice.outbound import (
    OutboundRefused,
    RefusalReason,
    outbound_request,
    outbound_url_check,
)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:  # quiet
        pass

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        self.server.hits.append(self.path)
        parts = urlsplit(self.path)
        query = parse_qs(parts.query)
        if parts.path == "/ok":
            self._answer(200, b"hello")
        elif parts.path == "/host":
            self._answer(200, self.headers["Host"].encode())
        elif parts.path == "/redirect":
            self._redirect(query["to"][0])
        elif parts.path == "/loop":
            self._redirect("/loop")
        elif parts.path == "/big":
            self._answer(200, b"x" * 5000)
        elif parts.path == "/big-undeclared":  # no Content-Length: read until closed
            self.send_response(200)
            self.send_header("Connection", "close")
            self.end_headers()
            for _ in range(50):
                self.wfile.write(b"y" * 1000)
            self.close_connection = True
        elif parts.path == "/slow":
            time.sleep(2)
            self._answer(200, b"late")
        elif parts.path == "/drip":  # a byte at a time: each wait short, the whole long
            self.send_response(200)
            self.send_header("Content-Length", "40")
            self.end_headers()
            for _ in range(40):
                self.wfile.write(b"z")
                self.wfile.flush()
                time.sleep(0.1)
        else:
            self._answer(404, b"none")

    def _answer(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        self.wfile.write(body)

    def _redirect(self, location: str) -> None:
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()


@pytest.fixture
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    httpd.hits = []
    httpd.base = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def nothing_allowed(settings):
    settings.OUTBOUND_ALLOWED_HOSTS = []
    settings.DEBUG = True
    return settings


@pytest.fixture
def server_allowed(settings, server):
    settings.OUTBOUND_ALLOWED_HOSTS = [f"127.0.0.1:{server.server_address[1]}"]
    settings.DEBUG = False  # as in production: only the allowed host gets plain http
    return settings


def _get(url: str, **kwargs) -> bytes:
    kwargs.setdefault("timeout_s", 5)
    kwargs.setdefault("max_bytes", 1000)
    return outbound_request("GET", url, **kwargs).body


# --- addresses -------------------------------------------------------------------------------

INTERNAL = [
    ("127.0.0.1", "loopback"),
    ("127.8.9.10", "loopback"),
    ("10.1.2.3", "частной"),
    ("172.16.0.1", "частной"),
    ("192.168.1.1", "частной"),
    ("169.254.169.254", "link-local"),
    ("100.64.0.1", "CGNAT"),
    ("224.0.0.1", "multicast"),
    ("0.0.0.0", "неопределённый"),
    ("240.0.0.1", "зарезервированный"),
    ("[::1]", "loopback"),
    ("[::]", "неопределённый"),
    ("[fe80::1]", "link-local"),
    ("[fc00::1]", "уникальный локальный"),
    ("[fd12:3456::1]", "уникальный локальный"),
    ("[ff02::1]", "multicast"),
    ("[::ffff:127.0.0.1]", "loopback"),
    ("[::ffff:169.254.169.254]", "link-local"),
    ("[::ffff:10.0.0.1]", "частной"),
    ("[64:ff9b::a9fe:a9fe]", "link-local"),  # NAT64 of 169.254.169.254
    ("[2002:7f00:1::]", "loopback"),  # 6to4 of 127.0.0.1
]


@pytest.mark.parametrize(("host", "kind"), INTERNAL, ids=[h for h, _k in INTERNAL])
def test_every_internal_address_class_is_refused_before_connecting(nothing_allowed, host, kind):
    with pytest.raises(OutboundRefused) as refused:
        _get(f"http://{host}:6379/")
    assert refused.value.reason == RefusalReason.ADDRESS
    assert "внутреннюю сеть" in refused.value.message and kind in refused.value.message
    with pytest.raises(OutboundRefused):
        outbound_url_check(f"https://{host}/latest/meta-data/")


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::ffff:127.0.0.1]", "LOCALHOST."])
def test_a_real_server_on_loopback_gets_no_request(nothing_allowed, server, host):
    port = server.server_address[1]
    with pytest.raises(OutboundRefused) as refused:
        _get(f"http://{host}:{port}/ok")
    assert refused.value.reason == RefusalReason.ADDRESS
    assert server.hits == []


def test_a_name_that_resolves_inside_is_refused_and_the_message_names_it(nothing_allowed):
    with pytest.raises(OutboundRefused) as refused:
        outbound_url_check("https://localhost:8443/api")
    assert "localhost" in refused.value.message
    assert "127.0.0.1" in refused.value.message


def test_a_public_address_passes_the_check(nothing_allowed):
    assert outbound_url_check(" https://93.184.216.34/price.csv ") == (
        "https://93.184.216.34/price.csv"
    )
    assert outbound_url_check("https://[2a00:1450:4010::8a]/") == "https://[2a00:1450:4010::8a]/"


def test_an_unknown_host_is_accepted_only_when_saving(nothing_allowed):
    url = "https://id1.public.api.abcp.invalid/search"
    assert outbound_url_check(url, unresolved_ok=True) == url
    with pytest.raises(socket.gaierror):
        outbound_url_check(url)


# --- the allowed hosts -------------------------------------------------------------------------


def test_only_a_listed_host_and_port_is_let_through(settings, server):
    port = server.server_address[1]
    settings.DEBUG = False
    settings.OUTBOUND_ALLOWED_HOSTS = [f"127.0.0.1:{port + 1}", "localhost"]
    with pytest.raises(OutboundRefused):
        _get(f"{server.base}/ok")
    assert server.hits == []
    settings.OUTBOUND_ALLOWED_HOSTS = [f"127.0.0.1:{port}"]
    assert _get(f"{server.base}/ok") == b"hello"
    settings.OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1"]  # any port
    assert _get(f"{server.base}/ok") == b"hello"
    assert server.hits == ["/ok", "/ok"]


def test_the_checked_address_is_connected_to_and_the_host_header_is_the_name(
    settings, server, monkeypatch
):
    port = server.server_address[1]
    settings.OUTBOUND_ALLOWED_HOSTS = ["localhost"]
    lookups = []
    real = socket.getaddrinfo

    def counting(host, *args, **kwargs):
        lookups.append(host)
        return [a for a in real(host, *args, **kwargs) if a[0] == socket.AF_INET]

    monkeypatch.setattr(socket, "getaddrinfo", counting)
    assert _get(f"http://localhost:{port}/host") == f"localhost:{port}".encode()
    assert lookups == ["localhost"]  # one look-up: no second resolution when connecting


# --- redirects -------------------------------------------------------------------------------


def test_a_redirect_is_followed_when_it_stays_allowed(server_allowed, server):
    response = outbound_request(
        "GET", f"{server.base}/redirect?to=/ok", timeout_s=5, max_bytes=1000
    )
    assert (response.status, response.body) == (200, b"hello")
    assert response.url == f"{server.base}/ok"


@pytest.mark.parametrize(
    "to",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]:6379/",
        "http://localhost:{port}/ok",
        "http://10.0.0.5/",
        "ftp://example.org/price.csv",
        "http://127.0.0.1:{other_port}/ok",
    ],
)
def test_a_redirect_from_an_allowed_server_to_a_forbidden_address_is_refused(
    server_allowed, server, to
):
    to = to.format(port=server.server_address[1], other_port=server.server_address[1] + 1)
    with pytest.raises(OutboundRefused) as refused:
        _get(f"{server.base}/redirect?to={to}")
    assert refused.value.reason in (RefusalReason.ADDRESS, RefusalReason.SCHEME)
    assert server.hits == [f"/redirect?to={to}"]


def test_a_redirect_to_plain_http_is_refused_in_production(settings, server):
    settings.OUTBOUND_ALLOWED_HOSTS = [f"127.0.0.1:{server.server_address[1]}"]
    settings.DEBUG = False
    with pytest.raises(OutboundRefused) as refused:
        _get(f"{server.base}/redirect?to=http://93.184.216.34/")
    assert refused.value.reason == RefusalReason.SCHEME


def test_too_many_redirects_are_refused(server_allowed, server):
    with pytest.raises(OutboundRefused) as refused:
        _get(f"{server.base}/loop")
    assert refused.value.reason == RefusalReason.REDIRECTS
    assert "перенаправил" in refused.value.message
    assert server.hits == ["/loop"] * 4  # the first answer and three redirects
    with pytest.raises(OutboundRefused):
        _get(f"{server.base}/redirect?to=/ok", max_redirects=0)


# --- size and time ---------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/big", "/big-undeclared"])
def test_an_oversized_answer_is_cut_and_refused(server_allowed, server, path):
    with pytest.raises(OutboundRefused) as refused:
        _get(f"{server.base}{path}", max_bytes=1000)
    assert refused.value.reason == RefusalReason.TOO_LARGE
    assert "слишком большой" in refused.value.message
    assert _get(f"{server.base}{path}", max_bytes=60000)[:1] in (b"x", b"y")


def test_a_slow_answer_times_out(server_allowed, server):
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        _get(f"{server.base}/slow", timeout_s=0.5)
    assert time.monotonic() - started < 1.5


def test_a_dripping_answer_is_cut_at_the_total_time(server_allowed, server):
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        _get(f"{server.base}/drip", timeout_s=1.0, socket_timeout_s=0.5)
    assert time.monotonic() - started < 2.0


def test_a_dns_look_up_that_hangs_is_abandoned_at_the_time_limit(
    nothing_allowed, monkeypatch, settings
):
    settings.OUTBOUND_DNS_TIMEOUT_S = 1
    # A resolver whose name server does not answer: the system call itself has no limit.
    release = threading.Event()
    real = socket.getaddrinfo

    def hanging(host, *args, **kwargs):
        if host == "supplier.example":
            release.wait(10)
        return real("93.184.215.14", *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", hanging)
    started = time.monotonic()
    try:
        with pytest.raises(TimeoutError):
            _get("https://supplier.example/api", timeout_s=0.5)
        assert time.monotonic() - started < 1.5
        # At save time a name that cannot be looked up now is accepted, as an unknown one is.
        assert outbound_url_check("https://supplier.example/p.csv", unresolved_ok=True)
    finally:
        release.set()


# --- schemes ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url", ["ftp://example.org/price.csv", "file:///etc/passwd", "gopher://127.0.0.1:6379/_"]
)
def test_schemes_other_than_http_are_refused(nothing_allowed, url):
    with pytest.raises(OutboundRefused) as refused:
        outbound_url_check(url)
    assert refused.value.reason == RefusalReason.SCHEME
    assert "https://" in refused.value.message


def test_plain_http_is_refused_when_debug_is_off(settings):
    settings.OUTBOUND_ALLOWED_HOSTS = []
    settings.DEBUG = False
    with pytest.raises(OutboundRefused) as refused:
        outbound_url_check("http://93.184.216.34/price.csv")
    assert refused.value.reason == RefusalReason.SCHEME
    assert outbound_url_check("https://93.184.216.34/price.csv")
    settings.DEBUG = True
    assert outbound_url_check("http://93.184.216.34/price.csv")


def test_a_pdf_fetches_no_internal_resource(nothing_allowed, server, tmp_path):
    from autoservice.pdf import render_pdf

    secret = tmp_path / "secret.css"
    secret.write_text("body { color: red }")
    pdf = render_pdf(
        f'<link rel="stylesheet" href="file://{secret}">'
        f'<img src="{server.base}/ok"><img src="http://169.254.169.254/x.png"><p>смета</p>',
        base_url=f"{server.base}/",
    )
    assert pdf.startswith(b"%PDF")
    assert server.hits == []
