"""The one way the server makes an HTTP request on a user's behalf (public module).

A shop manager types addresses the server then calls: a supplier's API, a price list
published at a URL. Any such request goes through `outbound_request`, and any such address
is checked at save time with `outbound_url_check`. The policy:

- only `https://` when `DEBUG` is off (`http://` too with `DEBUG` on); never another scheme;
- the host is resolved once, and every address it resolves to must be public: loopback,
  private (RFC 1918), link-local, carrier-grade NAT, multicast, reserved, unspecified,
  unique-local IPv6, and IPv6 forms that carry such an IPv4 address (IPv4-mapped, NAT64,
  6to4) are refused;
- the socket is opened to the address that was checked (no second DNS look-up), while the
  Host header and the TLS server name stay the hostname the manager typed;
- every redirect is checked the same way, at most `max_redirects` of them;
- the whole exchange is bounded in time (`timeout_s`) and size (`max_bytes`).

`settings.OUTBOUND_ALLOWED_HOSTS` (from the environment, empty in production) lists hosts,
as `host` or `host:port`, that are let through despite the address and https rules: the demo
suppliers on 127.0.0.1 and the test servers.

Refusals raise `OutboundRefused` with a Russian message for people. Faults of the other side
(connection refused, unknown host, TLS failure, a broken answer) are the standard
`OSError` / `http.client.HTTPException` subclasses; running out of time is `TimeoutError`.
"""

from __future__ import annotations

import concurrent.futures
import http.client
import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urljoin, urlsplit, urlunsplit

from django.conf import settings
from django.utils.translation import gettext as _

__all__ = [
    "OutboundRefused",
    "OutboundResponse",
    "RefusalReason",
    "outbound_request",
    "outbound_url_check",
    "outbound_url_validator",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
# Headers that carry credentials: not sent on to another host after a redirect.
_CREDENTIAL_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization"})
_CHUNK = 65536

_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_UNIQUE_LOCAL = ipaddress.ip_network("fc00::/7")
_LINK_LOCAL_V6 = ipaddress.ip_network("fe80::/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class RefusalReason(StrEnum):
    BAD_URL = "bad_url"
    SCHEME = "scheme"
    ADDRESS = "address"
    REDIRECTS = "redirects"
    TOO_LARGE = "too_large"


class OutboundRefused(Exception):
    """The request is not made (or not finished) by policy; `message` is for people."""

    def __init__(self, reason: RefusalReason, message: str):
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass(frozen=True)
class OutboundResponse:
    """A whole answer: its status, headers, body (at most `max_bytes`) and final URL."""

    status: int
    headers: Mapping[str, str]
    body: bytes
    url: str

    def header(self, name: str, default: str = "") -> str:
        return self.headers.get(name.lower(), default)

    @property
    def content_type(self) -> str:
        return self.header("content-type")


@dataclass(frozen=True)
class _Target:
    """A checked URL: where to connect (the checked addresses) and what to ask for."""

    url: str
    scheme: str
    hostname: str
    port: int
    path: str
    addresses: tuple[tuple[int, tuple], ...]  # (family, sockaddr) as getaddrinfo gives


# --- the check -------------------------------------------------------------------------------


def outbound_url_check(url: str, *, unresolved_ok: bool = False) -> str:
    """The URL, stripped, if the server may call it; `OutboundRefused` otherwise.

    With `unresolved_ok` (the save-time check of a form), a hostname that does not resolve
    now is accepted: it is checked again, like every address, when the request is made.
    Otherwise an unknown host raises `socket.gaierror`.
    """
    url = url.strip()
    try:
        _target(url)
    except (socket.gaierror, TimeoutError):
        if not unresolved_ok:
            raise
        _target(url, resolve=False)
    return url


def _target(url: str, *, resolve: bool = True, dns_timeout_s: float | None = None) -> _Target:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise OutboundRefused(RefusalReason.BAD_URL, _("Адрес указан неверно.")) from None
    scheme = parts.scheme.lower()
    hostname = (parts.hostname or "").rstrip(".").lower()
    if scheme not in ("http", "https"):
        raise OutboundRefused(
            RefusalReason.SCHEME,
            _("Адрес должен начинаться с https:// — другие протоколы не поддерживаются."),
        )
    if not hostname:
        raise OutboundRefused(RefusalReason.BAD_URL, _("В адресе нет имени сервера."))
    if port is None:
        port = 443 if scheme == "https" else 80
    allowed = _allowed(hostname, port)
    literal = _literal_ip(hostname)
    if literal is not None and not allowed:
        _refuse_if_internal(hostname, literal)
    addresses: tuple[tuple[int, tuple], ...] = ()
    if resolve:
        limit = settings.OUTBOUND_DNS_TIMEOUT_S
        addresses = _resolve(hostname, port, limit if dns_timeout_s is None else dns_timeout_s)
        if not allowed:
            for _family, sockaddr in addresses:
                _refuse_if_internal(hostname, ipaddress.ip_address(sockaddr[0].split("%")[0]))
    # After the address: an internal one is named as such, whatever the scheme.
    if scheme == "http" and not settings.DEBUG and not allowed:
        raise OutboundRefused(
            RefusalReason.SCHEME,
            _("Адрес должен начинаться с https:// — без шифрования данные не отправляются."),
        )
    path = urlunsplit(("", "", parts.path or "/", parts.query, ""))
    return _Target(url, scheme, hostname, port, path, addresses)


def _allowed(hostname: str, port: int) -> bool:
    """Is the host on OUTBOUND_ALLOWED_HOSTS, as `host` (any port) or `host:port`?"""
    for entry in getattr(settings, "OUTBOUND_ALLOWED_HOSTS", ()) or ():
        entry = entry.strip().lower()
        if not entry:
            continue
        host, port_text = entry, ""
        if entry.startswith("["):  # [::1] or [::1]:8080
            host, _bracket, rest = entry[1:].partition("]")
            port_text = rest.removeprefix(":")
        elif entry.count(":") == 1:
            host, _colon, port_text = entry.partition(":")
        if host.rstrip(".") == hostname and (not port_text or port_text == str(port)):
            return True
    return False


def _literal_ip(hostname: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(hostname.split("%")[0])
    except ValueError:
        return None


# The system resolver has no time limit of its own (a dead DNS server costs ~5 s per try and
# name server), so look-ups run on these threads and the caller waits only its own time. A
# look-up that outlives its caller finishes on its thread and is forgotten.
_DNS_THREADS = concurrent.futures.ThreadPoolExecutor(max_workers=8, thread_name_prefix="dns")


def _resolve(hostname: str, port: int, timeout_s: float) -> tuple[tuple[int, tuple], ...]:
    look_up = _DNS_THREADS.submit(
        socket.getaddrinfo, hostname, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
    )
    try:
        found = look_up.result(timeout=max(timeout_s, 0.0))
    except concurrent.futures.TimeoutError:
        look_up.cancel()
        raise TimeoutError(f"DNS look-up of {hostname} out of time") from None
    except UnicodeError:  # a label too long for IDNA
        raise OutboundRefused(RefusalReason.BAD_URL, _("Адрес указан неверно.")) from None
    addresses = tuple(dict.fromkeys((family, sockaddr) for family, _t, _p, _c, sockaddr in found))
    if not addresses:
        raise socket.gaierror(socket.EAI_NONAME, "no address")
    return addresses


def _internal_kind(ip: IPAddress) -> str | None:
    """What kind of non-public address `ip` is (a Russian phrase), or None if it is public."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:  # ::ffff:a.b.c.d is the IPv4 address itself
            return _internal_kind(ip.ipv4_mapped)
        embedded = ip.sixtofour
        if embedded is None and ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None and (kind := _internal_kind(embedded)) is not None:
            return kind
    if ip.is_unspecified:
        return _("неопределённый адрес")
    if ip.is_loopback:
        return _("адрес самого сервера (loopback)")
    if ip.is_multicast:
        return _("групповой адрес (multicast)")
    if ip.is_link_local or (isinstance(ip, ipaddress.IPv6Address) and ip in _LINK_LOCAL_V6):
        return _("адрес локального сегмента (link-local)")
    if isinstance(ip, ipaddress.IPv4Address) and ip in _CGNAT:
        return _("адрес сети оператора связи (CGNAT)")
    if isinstance(ip, ipaddress.IPv6Address) and ip in _UNIQUE_LOCAL:
        return _("уникальный локальный адрес IPv6")
    if ip.is_reserved:
        return _("зарезервированный адрес")
    if ip.is_private:
        return _("адрес частной сети")
    if not ip.is_global:
        return _("зарезервированный адрес")
    return None


def _refuse_if_internal(hostname: str, ip: IPAddress) -> None:
    kind = _internal_kind(ip)
    if kind is not None:
        raise OutboundRefused(
            RefusalReason.ADDRESS,
            _(
                "Адрес %(host)s ведёт во внутреннюю сеть (%(ip)s — %(kind)s): "
                "сервер не обращается по таким адресам."
            )
            % {"host": hostname, "ip": ip, "kind": kind},
        )


# --- the request -----------------------------------------------------------------------------


def outbound_request(
    method: str,
    url: str,
    *,
    headers: Mapping[str, str] | None = None,
    body: bytes | None = None,
    timeout_s: float,
    max_bytes: int,
    max_redirects: int = 3,
    socket_timeout_s: float | None = None,
) -> OutboundResponse:
    """Make one HTTP(S) exchange under the outbound policy and return the whole answer.

    `timeout_s` bounds everything: each DNS look-up (also at most OUTBOUND_DNS_TIMEOUT_S),
    connect, send, every read, every redirect; `socket_timeout_s` (default: `timeout_s`)
    bounds each single socket wait.
    Redirects (301/302/303/307/308) are followed, each re-checked, at most `max_redirects`;
    a 303, or a 301/302 after a POST, continues as a GET without body; credentials headers
    are not carried to another host. An answer over `max_bytes` is cut and refused.
    """
    deadline = time.monotonic() + timeout_s
    per_socket = timeout_s if socket_timeout_s is None else socket_timeout_s
    sent_headers = dict(headers or {})
    redirects = 0
    while True:
        left = deadline - time.monotonic()
        target = _target(url, dns_timeout_s=min(left, settings.OUTBOUND_DNS_TIMEOUT_S))
        response = _exchange(
            target,
            method,
            sent_headers,
            body,
            deadline=deadline,
            per_socket=per_socket,
            max_bytes=max_bytes,
        )
        location = response.header("location")
        if response.status not in REDIRECT_STATUSES or not location:
            return response
        if redirects >= max_redirects:
            raise OutboundRefused(
                RefusalReason.REDIRECTS,
                _("Сервер перенаправил запрос слишком много раз (больше %(n)s).")
                % {"n": max_redirects},
            )
        redirects += 1
        next_url = urljoin(url, location)
        if response.status == 303 or (response.status in (301, 302) and method == "POST"):
            method, body = ("HEAD" if method == "HEAD" else "GET"), None
            sent_headers = {
                k: v
                for k, v in sent_headers.items()
                if k.lower() not in ("content-type", "content-length")
            }
        if _origin(next_url) != _origin(url):
            sent_headers = {
                k: v for k, v in sent_headers.items() if k.lower() not in _CREDENTIAL_HEADERS
            }
        url = next_url


def _origin(url: str) -> tuple[str, str, int | None]:
    try:
        parts = urlsplit(url)
        return parts.scheme.lower(), (parts.hostname or "").lower(), parts.port
    except ValueError:
        return "", "", None


def _exchange(
    target: _Target,
    method: str,
    headers: dict[str, str],
    body: bytes | None,
    *,
    deadline: float,
    per_socket: float,
    max_bytes: int,
) -> OutboundResponse:
    def wait() -> float:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("outbound request out of time")
        return min(per_socket, remaining)

    conn = _PinnedConnection(target, timeout=wait())
    # A watchdog closes the socket at the deadline: a server that drips bytes slowly
    # cannot stretch the exchange past it through many short socket waits.
    watchdog = threading.Timer(max(0.0, deadline - time.monotonic()), conn.abort)
    watchdog.daemon = True
    watchdog.start()
    try:
        conn.request(method, target.path, body=body, headers=headers)
        sock = conn.sock
        if sock is not None:
            sock.settimeout(wait())
        response = conn.getresponse()
        declared = response.getheader("Content-Length", "")
        if declared.strip().isdigit() and int(declared) > max_bytes:
            raise _too_large(max_bytes)
        chunks: list[bytes] = []
        size = 0
        while not response.isclosed():
            if sock is not None:
                sock.settimeout(wait())
            chunk = response.read1(_CHUNK)
            if not chunk:
                break
            size += len(chunk)
            if size > max_bytes:
                raise _too_large(max_bytes)
            chunks.append(chunk)
        if conn.aborted:
            raise TimeoutError("outbound request out of time")
        if response.length:  # the server closed before sending the declared length
            raise http.client.IncompleteRead(b"".join(chunks), response.length)
        return OutboundResponse(
            status=response.status,
            headers={name.lower(): value for name, value in response.getheaders()},
            body=b"".join(chunks),
            url=target.url,
        )
    except (OSError, http.client.HTTPException, ValueError):
        if conn.aborted or time.monotonic() >= deadline:
            raise TimeoutError("outbound request out of time") from None
        raise
    finally:
        watchdog.cancel()
        conn.close()


def _too_large(max_bytes: int) -> OutboundRefused:
    return OutboundRefused(
        RefusalReason.TOO_LARGE,
        _("Ответ сервера слишком большой (больше %(mb)s МБ).")
        % {"mb": f"{max_bytes / 1048576:.1f}".rstrip("0").rstrip(".").replace(".", ",")},
    )


class _PinnedConnection(http.client.HTTPConnection):
    """An HTTP(S) connection to the checked address, speaking to the hostname."""

    def __init__(self, target: _Target, *, timeout: float):
        super().__init__(target.hostname, target.port, timeout=timeout)
        self._target = target
        self.aborted = False

    def connect(self) -> None:
        sock = self._open()
        if self._target.scheme == "https":
            context = ssl.create_default_context()
            sock = context.wrap_socket(sock, server_hostname=self._target.hostname)
        self.sock = sock

    def _open(self) -> socket.socket:
        error: OSError | None = None
        for family, sockaddr in self._target.addresses:
            sock = socket.socket(family, socket.SOCK_STREAM)
            try:
                sock.settimeout(self.timeout)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                sock.connect(sockaddr)
                return sock
            except OSError as exc:
                sock.close()
                error = exc
        raise error or OSError("no address to connect to")

    def abort(self) -> None:
        self.aborted = True
        sock = self.sock
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def outbound_url_validator(value: str) -> None:
    """A form field validator: the address typed must pass `outbound_url_check` (a host
    that does not resolve yet is accepted; it is checked again on every request)."""
    from django.core.exceptions import ValidationError

    try:
        outbound_url_check(value, unresolved_ok=True)
    except OutboundRefused as refused:
        raise ValidationError(refused.message, code=f"outbound_{refused.reason}") from None
