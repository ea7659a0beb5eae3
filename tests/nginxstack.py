"""nginx of the deployment files (deploy/nginx/), run as an ordinary user on loopback in
front of gunicorn nodes: the tests of the two-node stack and `make loadtest` use it."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def render_loopback(
    prefix: Path,
    *,
    port: int,
    nodes: list[int],
    var_dir: Path,
    media_root: Path,
    events_port: int = 1,
    pinned: dict[int, int] | None = None,
) -> Path:
    """Write <prefix>/nginx.conf from deploy/nginx/loopback.conf.template: every node in
    `nodes` (gunicorn ports) behind `port`, and for each {node port: nginx port} in `pinned`
    a port of its own that reaches only that node (to send a request to a chosen node)."""
    prefix.mkdir(parents=True, exist_ok=True)
    pinned = pinned or {}
    pinned_upstreams = "".join(
        f"    upstream autoservice_node_{node} {{\n        server 127.0.0.1:{node};\n    }}\n"
        for node in pinned
    )
    pinned_servers = "".join(
        f"    server {{\n        listen 127.0.0.1:{listen};\n"
        f"        set $web_upstream autoservice_node_{node};\n"
        "        set $events_upstream autoservice_events;\n"
        f"        set $var_dir {var_dir};\n        set $media_root {media_root}/;\n"
        f"        include {DEPLOY}/nginx/autoservice-locations.conf;\n    }}\n"
        for node, listen in pinned.items()
    )
    values = {
        "USER_DIRECTIVE": "user root;" if os.geteuid() == 0 else "",
        "PREFIX": str(prefix),
        "DEPLOY": str(DEPLOY),
        "PORT": str(port),
        "EVENTS_PORT": str(events_port),
        "VAR_DIR": str(var_dir),
        "MEDIA_ROOT": str(media_root),
        "WEB_SERVERS": "".join(
            f"        server 127.0.0.1:{node} max_fails=1 fail_timeout=10s;\n" for node in nodes
        ).rstrip("\n"),
        "PINNED_UPSTREAMS": pinned_upstreams,
        "PINNED_SERVERS": pinned_servers,
    }
    template = (DEPLOY / "nginx" / "loopback.conf.template").read_text()
    text = re.sub(r"\{\{([A-Z_]+)\}\}", lambda m: values[m.group(1)], template)
    conf = prefix / "nginx.conf"
    conf.write_text(text)
    return conf


def render_production_for_check(prefix: Path) -> Path:
    """deploy/nginx/autoservice.conf as an admin installs it, inside a minimal nginx.conf,
    with only what this machine lacks replaced: the snippets' folder, a self-signed
    certificate in place of the real one, and log files in `prefix`. For `nginx -t`."""
    prefix.mkdir(parents=True, exist_ok=True)
    cert, key = prefix / "cert.pem", prefix / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
        + ["-subj", "/CN=sto.example.ru", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    text = (DEPLOY / "nginx" / "autoservice.conf").read_text()
    text = text.replace("/etc/nginx/snippets/", f"{DEPLOY}/nginx/")
    text = re.sub(r"ssl_certificate /\S+;", f"ssl_certificate {cert};", text)
    text = re.sub(r"ssl_certificate_key /\S+;", f"ssl_certificate_key {key};", text)
    text = text.replace("/var/log/nginx/", f"{prefix}/")
    (prefix / "autoservice.conf").write_text(text)
    conf = prefix / "nginx.conf"
    conf.write_text(
        f"pid {prefix}/nginx.pid;\nerror_log {prefix}/error.log;\nevents {{}}\n"
        f"http {{\n    include /etc/nginx/mime.types;\n"
        f"    client_body_temp_path {prefix}/client_body;\n"
        f"    proxy_temp_path {prefix}/proxy;\n"
        f"    include {prefix}/autoservice.conf;\n}}\n"
    )
    return conf


def nginx_check(conf: Path) -> subprocess.CompletedProcess:
    """`nginx -t` of a configuration, with its prefix the configuration's folder."""
    return subprocess.run(
        [NGINX, "-t", "-p", str(conf.parent), "-c", str(conf)],
        capture_output=True,
        text=True,
    )


def nginx_args(conf: Path) -> list[str]:
    """The command that runs nginx in the foreground, as a test's or loadtest's process."""
    return [NGINX, "-p", str(conf.parent), "-c", str(conf), "-g", "daemon off;"]


def wait_port(port: int, seconds: float = 15) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.3).close()
            return True
        except OSError:
            time.sleep(0.1)
    return False


def multipart(fields: dict[str, str], files: list[tuple[str, str, bytes]]) -> tuple[bytes, str]:
    """A form as a browser posts it: the fields, then (field name, file name, JPEG bytes)."""
    import uuid

    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
            + value.encode()
            + b"\r\n"
        )
    for field, filename, content in files:
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; '
            f'filename="{filename}"\r\nContent-Type: image/jpeg\r\n\r\n'.encode()
            + content
            + b"\r\n"
        )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"
