"""Two web nodes behind nginx (deploy/nginx/), as production runs them: gunicorn twice from the
Procfile's `web` line, started as the systemd units start it (bin/procfile-run), on two ports,
each with a VAR_DIR of its own, one PostgreSQL and one Redis, the media folder shared (as
object storage is), nginx on loopback with a port that balances both nodes and a port pinned
to each. A driver sends a request with photos through node A, an advisor signs in on A; then
node A is killed and node B shows the lead and its photos to the same session, the upload
limit counted on A still holds on B, and a login locked out on A stays locked on B."""

from __future__ import annotations

import gzip
import http.cookiejar
import io
import os
import re
import urllib.error
import urllib.parse
import urllib.request
import uuid

import pytest
from django.conf import settings as django_settings
from PIL import Image

from leads.models import Lead, LeadPhoto
from tests.factories import MembershipFactory, ShopFactory
from tests.nginxstack import multipart, nginx_args, render_loopback, wait_port
from tests.realstack import free_port, processes_database_url, wait_for
from tests.s3 import bucket_objects, bucket_url, storage_env

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "correct-horse-42"  # tests.factories.UserFactory's


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    """One person's browser: cookies kept across nodes (a cookie is for the host, any port)."""

    def __init__(self):
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), NoRedirect()
        )

    def request(self, port: int, path: str, data: bytes | None = None, headers=None):
        req = urllib.request.Request(
            f"http://127.0.0.1:{port}{path}", data=data, headers=headers or {}
        )
        try:
            with self.opener.open(req, timeout=30) as response:
                return response.status, response.headers, response.read()
        except urllib.error.HTTPError as answer:
            return answer.code, answer.headers, answer.read()

    def cookie(self, name: str) -> str:
        return next((c.value for c in self.jar if c.name == name), "")

    def login(self, port: int, username: str, password: str):
        self.request(port, "/accounts/login/")
        form = {
            "csrfmiddlewaretoken": self.cookie("csrftoken"),
            "username": username,
            "password": password,
        }
        return self.request(
            port,
            "/accounts/login/",
            urllib.parse.urlencode(form).encode(),
            {
                "Content-Type": "application/x-www-form-urlencoded",
                "Referer": f"http://127.0.0.1:{port}/accounts/login/",
            },
        )


def _jpeg(color: tuple[int, int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (640, 480), color).save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def _form_token(page: bytes) -> str:
    return re.search(rb'name="form_token" value="([^"]+)"', page).group(1).decode()


@pytest.mark.timeout(180)
def test_a_lead_sent_and_a_login_made_on_node_a_are_served_by_node_b_after_a_dies(
    processes, redis_server, platform_consent_text, tmp_path
):
    shop = ShopFactory(notification_emails="", embed_origins="https://kuzov-service.ru")
    advisor = MembershipFactory(shop=shop).user
    other = MembershipFactory(shop=shop).user
    media = tmp_path / "media"  # shared by the nodes, as the bucket is
    media.mkdir()
    node_a, node_b = free_port(), free_port()
    front, pinned_a, pinned_b = free_port(), free_port(), free_port()

    def env(name: str, port: int) -> dict[str, str]:
        var = tmp_path / name  # each node's own disk: nothing on it is shared
        var.mkdir(exist_ok=True)
        return {
            **os.environ,
            "DEBUG": "true",  # unhashed static files: no collectstatic per test
            "DATABASE_URL": processes_database_url(),
            "REDIS_URL": redis_server.url,
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "MEDIA_ROOT": str(media),
            **storage_env(),  # with STORAGE=s3 the test's bucket, shared by every process
            "VAR_DIR": str(var),
            "WEB_PORT": str(port),
            "SITE_URL": f"http://127.0.0.1:{front}",
            "PROXY_COUNT": "1",  # nginx
            "PHOTO_UPLOADS_PER_HOUR_PER_ADDRESS": "3",
            "AXES_FAILURE_LIMIT": "3",
        }

    cwd = django_settings.BASE_DIR
    web_a = processes.start(
        "web-a", [str(cwd / "bin" / "procfile-run"), "web"], env=env("a", node_a), cwd=cwd
    )
    processes.start(
        "web-b", [str(cwd / "bin" / "procfile-run"), "web"], env=env("b", node_b), cwd=cwd
    )
    processes.start(
        "photos",
        [str(cwd / "bin" / "procfile-run"), "worker_photos"],
        env=env("worker", 0),
        cwd=cwd,
    )
    conf = render_loopback(
        tmp_path / "nginx",
        port=front,
        nodes=[node_a, node_b],
        var_dir=tmp_path / "a",
        media_root=media,
        pinned={node_a: pinned_a, node_b: pinned_b},
    )
    processes.start("nginx", nginx_args(conf))

    def logs() -> str:
        return (
            "\n".join(
                f"--- {name} ---\n{processes.log(name)[-3000:]}"
                for name in ("web-a", "web-b", "photos", "nginx")
            )
            + (tmp_path / "nginx" / "error.log").read_text(errors="replace")[-2000:]
        )

    for port in (node_a, node_b, front):
        wait_for(
            lambda port=port: wait_port(port, 0.5), seconds=40, what=f"port {port}", context=logs
        )
    driver, staff, intruder = Browser(), Browser(), Browser()

    # Node A: the driver sends two photos with the form, the advisor signs in.
    status, _headers, page = driver.request(pinned_a, f"/s/{shop.slug}/photo/")
    assert status == 200, logs()
    body, content_type = multipart(
        {
            "form_token": _form_token(page),
            "description": "Скол на капоте после гравия",
            "vehicle_make": "Lada",
            "vehicle_model": "Vesta",
            "vehicle_year": "2020",
            "customer_name": "Ольга",
            "phone": "+7 912 345-67-80",
            "preferred_contact": "call",
            "consent": "on",
        },
        [
            ("photos", "hood.jpg", _jpeg((200, 30, 30))),
            ("photos", "side.jpg", _jpeg((30, 200, 30))),
        ],
    )
    status, headers, _page = driver.request(
        pinned_a, f"/s/{shop.slug}/photo/", body, {"Content-Type": content_type}
    )
    assert status == 302 and "/photo/sent/" in headers["Location"], logs()
    lead = Lead.objects.get(shop=shop)
    photos = list(LeadPhoto.objects.filter(lead=lead).order_by("pk"))
    assert len(photos) == 2
    status, headers, _page = staff.login(pinned_a, advisor.username, PASSWORD)
    assert status == 302 and headers["Location"].endswith("/staff/leads/"), logs()
    # Node A counts failed logins of another account until it is locked out.
    for _attempt in range(3):
        intruder.login(pinned_a, other.username, "wrong-password")

    processes.kill(web_a)
    # Its workers share the listening socket and die a moment after the master.
    wait_for(lambda: not wait_port(node_a, 0.2), seconds=10, what="node A refuses connections")

    # Node B: the same session sees the lead and its photos, made by the photo worker.
    status, _headers, page = staff.request(pinned_b, "/staff/leads/")
    assert status == 200, logs()
    assert f"/staff/leads/{lead.pk}/" in page.decode()
    wait_for(
        lambda: LeadPhoto.objects.filter(lead=lead, state="ready").count() == 2,
        seconds=60,
        what="both photos processed",
        context=logs,
    )
    status, _headers, page = staff.request(pinned_b, f"/staff/leads/{lead.pk}/")
    assert status == 200 and f"/staff/leads/{lead.pk}/photos/{photos[0].pk}/" in page.decode()
    for photo in photos:
        status, headers, image = staff.request(
            pinned_b, f"/staff/leads/{lead.pk}/photos/{photo.pk}/web/"
        )
        if status == 302:
            # STORAGE=s3: node B hands out a presigned link to the object the photo worker
            # wrote to the bucket from A's upload; the link alone opens it (no session).
            assert headers["Location"].startswith(bucket_url()), headers["Location"]
            with urllib.request.urlopen(headers["Location"], timeout=10) as answer:  # noqa: S310
                status, headers, image = answer.status, answer.headers, answer.read()
        assert status == 200 and headers["Content-Type"] == "image/jpeg"
        assert Image.open(io.BytesIO(image)).size[0] > 0
    if django_settings.STORAGE == "s3":
        # Every file of the lead is in the one bucket (and, the suite checks, none under
        # MEDIA_ROOT).
        photos = list(LeadPhoto.objects.filter(lead=lead).order_by("pk"))
        stored = set(bucket_objects(django_settings.STORAGES["default"]["OPTIONS"]["bucket_name"]))
        for photo in photos:
            assert {photo.original.name, photo.web.name, photo.thumb.name} <= stored
    # The balanced port, with node A dead, sends everything to B.
    status, _headers, _page = staff.request(front, f"/staff/leads/{lead.pk}/")
    assert status == 200, logs()

    # The hourly upload limit (3 per address) already counted A's two photos: B takes one
    # more and refuses the next.
    status, _headers, page = driver.request(pinned_b, f"/s/{shop.slug}/photo/")
    token = _form_token(page)
    answers = []
    for color in ((10, 10, 200), (200, 200, 10)):
        body, content_type = multipart(
            {"form_token": token, "client_id": str(uuid.uuid4())},
            [("file", "more.jpg", _jpeg(color))],
        )
        status, _headers, answer = driver.request(
            pinned_b, f"/s/{shop.slug}/photo/upload/", body, {"Content-Type": content_type}
        )
        answers.append((status, answer.decode()[:300]))
    assert [status for status, _answer in answers] == [201, 429], answers

    # What nginx itself answers: hashed static files from VAR_DIR/static with their .gz copy,
    # private media never from outside, a body over the photo limit refused before gunicorn,
    # the embeddable driver form without X-Frame-Options (its CSP says who may frame it),
    # staff pages with DENY, the security headers once each, the request id passed on.
    static = tmp_path / "a" / "static" / "leads"
    static.mkdir(parents=True)
    (static / "inbox.0123abcd.css").write_text("body { color: black; }\n" * 200)
    with gzip.open(static / "inbox.0123abcd.css.gz", "wt") as packed:
        packed.write("body { color: black; }\n" * 200)
    status, headers, body = driver.request(
        front, "/static/leads/inbox.0123abcd.css", headers={"Accept-Encoding": "gzip"}
    )
    assert status == 200 and headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(body).startswith(b"body { color: black; }")
    assert (
        headers["X-Content-Type-Options"] == "nosniff"
        and "max-age=31536000" in headers["Cache-Control"]
    )
    (media / "secret.txt").write_text("private")
    assert driver.request(front, "/protected-media/secret.txt")[0] == 404
    (media / "secret.txt").unlink()  # nginx's own check; no file of the app's
    status, _headers, _body = driver.request(
        front,
        f"/s/{shop.slug}/photo/upload/",
        b"x" * (22 * 1024 * 1024),
        {"Content-Type": "application/octet-stream"},
    )
    assert status == 413
    status, headers, _page = driver.request(front, f"/s/{shop.slug}/photo/")
    assert status == 200 and "X-Frame-Options" not in headers
    assert headers["Content-Security-Policy"] == "frame-ancestors 'self' https://kuzov-service.ru"
    assert headers["Referrer-Policy"] == "same-origin"
    status, headers, _page = staff.request(
        front, "/staff/leads/", headers={"X-Request-ID": "trace-from-the-balancer-1"}
    )
    assert status == 200 and headers.get_all("X-Frame-Options") == ["DENY"]
    assert headers.get_all("X-Content-Type-Options") == ["nosniff"]
    assert headers.get_all("Referrer-Policy") == ["same-origin"]
    assert headers["X-Request-ID"] == "trace-from-the-balancer-1"

    # The account locked out on A is locked on B, even with the right password.
    status, _headers, _page = intruder.login(pinned_b, other.username, PASSWORD)
    assert status == 429
    assert intruder.request(pinned_b, "/staff/leads/")[0] == 302  # still signed out
