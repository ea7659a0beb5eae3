"""With English chosen, the pages people use show no Russian product text.

The data of the test is written in Latin letters (names, the shop, the description, the
shop's own consent text), so any Cyrillic left in the visible text or in the attributes
people see (titles, placeholders, labels for screen readers, button values, the strings
the scripts show from data-* attributes) is a string that bypasses gettext.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from html.parser import HTMLParser

import pytest
from django.urls import reverse
from django.utils import translation

from autoservice.consent import consent_text_publish
from intake.models import ShotTemplate
from leads import services as lead_services
from leads.models import Status
from smartcalc import services as calc_services
from smartcalc.models import Generation
from tests.factories import (
    EstimateFactory,
    IntakeRecordFactory,
    LeadFactory,
    LeadPhotoFactory,
    MembershipFactory,
    ShopFactory,
    UserFactory,
)

CYRILLIC = re.compile(r"[\u0400-\u04ff]")
# Attributes whose values people read or hear; data-* carry the words the scripts show.
SHOWN_ATTRIBUTES = {"title", "placeholder", "aria-label", "alt", "label"}
BUTTON_INPUTS = {"submit", "button", "reset"}
# A Russian number plate is typed data and Cyrillic by law.
PLATE = "А123ВС77"


class _VisibleText(HTMLParser):
    """Collects the text nodes and the shown attributes, skipping script and style bodies."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in ("script", "style"):
            self._skip += 1
        for name, value in attrs.items():
            if not value:
                continue
            shown = (
                name in SHOWN_ATTRIBUTES
                or name.startswith("data-")
                or (name == "value" and tag == "button")
                or (name == "value" and tag == "input" and attrs.get("type") in BUTTON_INPUTS)
                or (name == "content" and tag == "meta" and attrs.get("name") == "description")
            )
            if shown:
                self.found.append(f"<{tag} {name}> {value.strip()}")

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip and data.strip():
            self.found.append(" ".join(data.split()))


def cyrillic_in(html: str, allowed: Iterable[str] = ()) -> list[str]:
    """Texts with Cyrillic left once the plate and the `allowed` patterns are taken out."""
    parser = _VisibleText()
    parser.feed(html)
    allowed = re.compile("|".join([re.escape(PLATE), *allowed]))
    return [text for text in parser.found if CYRILLIC.search(allowed.sub("", text))]


def _platform_shot_list() -> list[str]:
    """The platform's shot lists are data (intake/migrations/0002_default_templates.py)."""
    texts = set()
    for template in ShotTemplate.objects.filter(shop__isnull=True).prefetch_related("specs"):
        texts.add(str(template))
        for spec in template.specs.all():
            texts |= {spec.name, spec.instruction}
    return [re.escape(text) for text in sorted(texts, key=len, reverse=True)]


def test_the_checker_finds_russian_in_text_and_attributes_but_not_in_scripts():
    html = (
        '<p>Hello <b>мир</b></p><button value="Отправить">Send</button>'
        '<input type="text" value="Иван"><img alt="Фото">'
        '<script>var data = {"name": "Иван"};</script><style>/* стиль */</style>'
        f"<span>{PLATE}</span>"
    )
    assert cyrillic_in(html) == ["мир", "<button value> Отправить", "<img alt> Фото"]


@pytest.fixture
def english(db):
    """A Latin-lettered shop with a lead carrying photos, an estimate and a timeline, and an
    intake record being captured. The timeline is written while English is the language:
    its lines are stored as text in the language of the moment (leads/services.py)."""
    shop = ShopFactory(
        name="North Garage",
        slug="north-garage",
        region="Moscow",
        address="Moscow, 1 Lenin Street",
    )
    consent_text_publish(
        shop=shop,
        title="Consent to personal data processing",
        body="I agree that North Garage processes my name and phone to answer my request.",
    )
    advisor = MembershipFactory(
        shop=shop, user=UserFactory(first_name="Ivan", last_name="Petrov"), role="manager"
    )
    with translation.override("en"):
        earlier = LeadFactory(shop=shop, customer_name="Alex Driver", phone="+79161234567")
        for _ in range(3):
            LeadPhotoFactory(lead=None, shop=shop, upload_token="upload-1")
        LeadPhotoFactory(lead=None, shop=shop, upload_token="upload-1", state="processing")
        lead, _created = lead_services.lead_create(
            shop=shop,
            channel="photo",
            data=lead_services.LeadInput(
                customer_name="Alex Driver",
                phone="+79161234567",
                email="alex@example.com",
                vehicle_make="Kia",
                vehicle_model="Rio",
                vehicle_year=2019,
                plate=PLATE,
                description="Reversed into a post, the rear bumper is cracked.",
            ),
            upload_token="upload-1",
        )
        assert lead.repeat_of == earlier
        lead_services.lead_assign(lead=lead, assignee=advisor, by=advisor)
        lead_services.lead_mark_contacted(lead=lead, by=advisor, note="Called, coming Monday.")
        lead_services.lead_add_note(lead=lead, by=advisor, text="Bumper in stock.")
        lead_services.lead_change_status(lead=lead, status=Status.BOOKED, by=advisor)
        record = IntakeRecordFactory(
            shop=shop,
            lead=lead,
            customer_name="Irina",
            plate=PLATE,
            make="Lada",
            model="Vesta",
            body_type="sedan",
            damages=[{"part": "bumper_rear", "kind": "crack", "size": "2"}],
        )
        # The driver of the earlier request priced it in English and keeps the link.
        calc_services.estimate_attach_lead(estimate=EstimateFactory(shop=shop), lead=earlier)
    # This driver priced the damage in Russian; the advisor reads the lead in English.
    with translation.override("ru"):
        calc_services.estimate_attach_lead(estimate=EstimateFactory(shop=shop), lead=lead)
    return {"shop": shop, "advisor": advisor, "lead": lead, "earlier": earlier, "record": record}


def _english_client(client, user=None):
    if user is not None:
        client.force_login(user)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    return client


def _page(response) -> str:
    assert response.status_code == 200, response.status_code
    assert '<html lang="en">' in response.content.decode()
    return response.content.decode()


def _damage_form(shop, generation):
    return reverse("smartcalc:calc_damage", args=[shop.slug, generation.pk, "sedan"])


DAMAGES = {
    "kind_door_front_left": "dent",
    "size_door_front_left": "2",
    "kind_bumper_front": "crack",
    "size_bumper_front": "1",
    "kind_headlamp_left": "broken",
    "size_headlamp_left": "2",
}


def test_driver_and_staff_pages_show_no_russian_in_english(client, english):
    shop, lead, record = english["shop"], english["lead"], english["record"]
    solaris = Generation.objects.get(
        model__make__name="Hyundai", model__name="Solaris", popular=True
    )
    client = _english_client(client)
    pages = {
        "shop page": _page(client.get(reverse("photoportal:shop_page", args=[shop.slug]))),
        "photo form": _page(client.get(reverse("photoportal:photo_form", args=[shop.slug]))),
        "photo sent": _page(
            client.get(reverse("photoportal:photo_sent", args=[shop.slug, lead.public_token]))
        ),
        "calculator": _page(client.get(reverse("smartcalc:calc_vehicle", args=[shop.slug]))),
        "calculator, make chosen": _page(
            client.get(
                reverse("smartcalc:calc_vehicle", args=[shop.slug]), {"make": solaris.model.make_id}
            )
        ),
        "calculator, model chosen": _page(
            client.get(
                reverse("smartcalc:calc_vehicle", args=[shop.slug]), {"model": solaris.model_id}
            )
        ),
        "calculator, damage": _page(client.post(_damage_form(shop, solaris), DAMAGES)),
        "calculator, contact": _page(
            client.post(
                reverse("smartcalc:calc_send", args=[shop.slug, solaris.pk, "sedan"]), DAMAGES
            )
        ),
        "estimate link": _page(
            client.get(
                reverse(
                    "smartcalc:calc_result",
                    args=[shop.slug, english["earlier"].estimate.public_token],
                )
            )
        ),
    }
    client = _english_client(client, english["advisor"].user)
    pages |= {
        "inbox": _page(client.get(reverse("leads:inbox"))),
        "lead page": _page(client.get(reverse("leads:lead_detail", args=[lead.pk]))),
        "intake capture": _page(client.get(reverse("intake:intake_record", args=[record.pk]))),
    }
    assert "data-total" in pages["calculator, damage"]
    assert "IMG_0001.jpg" in pages["lead page"] and "Bumper in stock." in pages["lead page"]
    allowed = [*_platform_shot_list()]
    found = [
        f"{name}: {text}" for name, html in pages.items() for text in cyrillic_in(html, allowed)
    ]
    assert not found, "Russian left on English pages:\n" + "\n".join(dict.fromkeys(found))
