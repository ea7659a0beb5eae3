"""What `make loadtest` sends (loadtest/run.py starts locust with one group of these users per
phase). Targets (the demo shop's ids, tokens and photo files) come from LOADTEST_TARGETS, a
JSON file run.py writes after loading the demo data.

Saturating users (no wait, one route each) measure a route's most requests per second:
Ceiling (the bare get-by-PK page), Landing, PhotoPage, Calculator, Offer. The mix is drivers,
one driver sending photos at a steady pace, and advisors."""

from __future__ import annotations

import json
import os
import random
import re
from pathlib import Path

from locust import HttpUser, between, constant, constant_pacing, task

T = json.loads(Path(os.environ["LOADTEST_TARGETS"]).read_text())
SLUG = T["slug"]
PHOTOS = [Path(p).read_bytes() for p in T["photos"]]
TOKEN_RE = re.compile(r'name="form_token" value="([^"]+)"')
CSRF_RE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def expect(response, status: int) -> None:
    """A response other than the one a person would get counts as an error."""
    if response.status_code != status:
        response.failure(f"{response.status_code} instead of {status}")
    else:
        response.success()


def landing(user: HttpUser) -> None:
    with user.client.get(f"/s/{SLUG}/", name="driver: landing", catch_response=True) as r:
        expect(r, 200)


def photo_page(user: HttpUser) -> str:
    with user.client.get(
        f"/s/{SLUG}/photo/", name="driver: photo form page", catch_response=True
    ) as r:
        expect(r, 200)
        found = TOKEN_RE.search(r.text)
        return found.group(1) if found else ""


def calculator(user: HttpUser) -> None:
    part = random.choice(T["calc_parts"])
    data = {f"kind_{part}": random.choice(["dent", "scratch"]), f"size_{part}": "2"}
    with user.client.post(
        T["calc_estimate_path"], data=data, name="driver: calculator estimate", catch_response=True
    ) as r:
        expect(r, 200)


def offer(user: HttpUser) -> None:
    token = random.choice(T["offer_tokens"])
    with user.client.get(f"/s/{SLUG}/o/{token}/", name="driver: offer", catch_response=True) as r:
        expect(r, 200)


def send_photos(user: HttpUser) -> None:
    token = photo_page(user)
    n = random.randrange(1_000_000)
    # Each send is another driver's phone: an address of its own (documentation ranges), as
    # a load balancer in front of nginx reports it (run.py sets PROXY_COUNT=2). From one
    # address the shop takes 30 requests an hour (leads/services.py).
    address = f"{random.choice(['198.51.100', '203.0.113', '192.0.2'])}.{n % 250 + 1}"
    data = {
        "form_token": token,
        "description": "Вмятина на задней левой двери, нагрузочная проверка",
        "vehicle_make": "Kia",
        "vehicle_model": "Rio",
        "vehicle_year": "2019",
        "customer_name": f"Водитель {n}",
        "phone": f"+7 912 {n // 10000 % 100:03d}-{n // 100 % 100:02d}-{n % 100:02d}",
        "preferred_contact": "call",
        "consent": "on",
    }
    files = [("photos", (f"photo{i}.jpg", p, "image/jpeg")) for i, p in enumerate(PHOTOS)]
    with user.client.post(
        f"/s/{SLUG}/photo/",
        data=data,
        files=files,
        headers={"X-Forwarded-For": address},
        name="driver: photo upload (3 × 3 MB)",
        allow_redirects=False,
        catch_response=True,
    ) as r:
        expect(r, 302)


class Ceiling(HttpUser):
    wait_time = constant(0)

    @task
    def bare(self):
        with self.client.get(
            f"/loadtest/ceiling/{T['shop_pk']}/",
            name="ceiling: bare get-by-PK",
            catch_response=True,
        ) as r:
            expect(r, 200)


class Landing(HttpUser):
    wait_time = constant(0)

    @task
    def go(self):
        landing(self)


class PhotoPage(HttpUser):
    wait_time = constant(0)

    @task
    def go(self):
        photo_page(self)


class Calculator(HttpUser):
    wait_time = constant(0)

    @task
    def go(self):
        calculator(self)


class Offer(HttpUser):
    wait_time = constant(0)

    @task
    def go(self):
        offer(self)


class Driver(HttpUser):
    """A driver on the shop's pages: reads, prices a dent, opens an offer."""

    weight = 6
    wait_time = between(1, 3)

    @task(4)
    def t_landing(self):
        landing(self)

    @task(2)
    def t_photo_page(self):
        photo_page(self)

    @task(3)
    def t_calculator(self):
        calculator(self)

    @task(2)
    def t_offer(self):
        offer(self)


class PhotoSender(HttpUser):
    """Drivers sending 3 photos of 3 MB, one request every LOADTEST_UPLOAD_EVERY_S seconds: a
    pace the photo worker keeps up with, so the soak shows whether its queue grows."""

    fixed_count = 1
    wait_time = constant_pacing(float(os.environ.get("LOADTEST_UPLOAD_EVERY_S", "12")))

    @task
    def send(self):
        send_photos(self)


class Advisor(HttpUser):
    """A service advisor: the inbox, a lead, now and then a parts search on the suppliers."""

    weight = 2
    wait_time = between(1, 3)

    def on_start(self):
        page = self.client.get("/accounts/login/", name="staff: login page")
        csrf = CSRF_RE.search(page.text).group(1)
        with self.client.post(
            "/accounts/login/",
            data={
                "csrfmiddlewaretoken": csrf,
                "username": T["staff_user"],
                "password": T["staff_password"],
            },
            headers={"Referer": f"{self.host}/accounts/login/"},
            name="staff: login",
            allow_redirects=False,
            catch_response=True,
        ) as r:
            expect(r, 302)

    @task(4)
    def inbox(self):
        with self.client.get("/staff/leads/", name="staff: inbox", catch_response=True) as r:
            expect(r, 200)

    @task(6)
    def inbox_poll(self):
        # The open inbox asks for new leads every 10 s (leads/templates/leads/inbox.html):
        # the most frequent staff request.
        with self.client.get(
            "/staff/leads/poll/", name="staff: inbox poll (every 10 s)", catch_response=True
        ) as r:
            expect(r, 200)

    @task(4)
    def lead(self):
        pk = random.choice(T["lead_pks"])
        with self.client.get(
            f"/staff/leads/{pk}/", name="staff: lead page", catch_response=True
        ) as r:
            expect(r, 200)

    @task(1)
    def parts_search(self):
        page = self.client.get("/staff/parts/", name="staff: parts search form")
        csrf = CSRF_RE.search(page.text).group(1)
        with self.client.post(
            "/staff/parts/",
            data={"csrfmiddlewaretoken": csrf, "numbers": random.choice(T["oem_numbers"])},
            headers={"Referer": f"{self.host}/staff/parts/"},
            name="staff: parts search start",
            allow_redirects=False,
            catch_response=True,
        ) as r:
            expect(r, 302)
            results = r.headers.get("Location", "")
        if not results:
            return
        with self.client.get(results, name="staff: parts results", catch_response=True) as r:
            expect(r, 200)
        for _poll in range(2):
            with self.client.get(
                results.rstrip("/") + "/table/",
                name="staff: parts results table",
                catch_response=True,
            ) as r:
                expect(r, 200)
