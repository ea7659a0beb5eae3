"""What the customer signs: the act PDF (its diagram, pages, lamps, signatures), the summary
on the signing screen, one draft per lead and the shop's default shot list."""

from __future__ import annotations

import importlib
import io
import re

import pytest
from django.apps import apps as django_apps
from django.urls import reverse
from pypdf import PdfReader

from autoservice.models import ShopKind
from intake import services
from intake.act import act_html, act_pdf_bytes
from intake.models import IntakeRecord, ShotTemplate
from tests.concurrency import restore_reference_data, run_together
from tests.factories import IntakeRecordFactory, LeadFactory, MembershipFactory, ShopFactory
from tests.intake.test_sealing import new_record, sealed_record

DAMAGES = [
    {"part": "taillamp_left", "kind": "broken", "size": ""},
    {"part": "door_rear_left", "kind": "dent", "size": "2"},
    {"part": "bumper_front", "kind": "scratch", "size": "1"},
    {"part": "mirror_right", "kind": "crack", "size": "1"},
]


def _marked_parts(html: str) -> set[str]:
    """Parts the drawing fills: every element tagged data-damaged, whatever its kind."""
    return set(re.findall(r'<[a-z]+ id="part-([a-z_]+)"[^>]*\bdata-damaged="1"', html))


def _pages_text(pdf: bytes) -> list[str]:
    return [page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf)).pages]


def test_act_diagram_marks_every_damaged_part_of_the_record_with_a_broken_tail_lamp(shop):
    record = IntakeRecordFactory(shop=shop, damages=DAMAGES)
    html = act_html(record)
    assert _marked_parts(html) == {d["part"] for d in DAMAGES}
    # The list beside the drawing names the same parts, the lamp without a size.
    listed = set(re.findall(r'<li data-part="([a-z_]+)"', html))
    assert listed == {d["part"] for d in DAMAGES}
    assert "Фонарь задний левый: разбито или отсутствует<" in html
    text = " ".join(_pages_text(act_pdf_bytes(record)))
    assert "Фонарь задний левый" in text


def test_act_diagram_marks_the_same_parts_the_web_picker_shows(advisor_client, advisor):
    record = IntakeRecordFactory(shop=advisor.shop, damages=DAMAGES)
    page = advisor_client.get(reverse("intake:intake_record", args=[record.pk])).content.decode()
    # The picker's selects are its state: a part is shown damaged when its kind is chosen.
    selects = re.findall(r'<select[^>]*name="kind_([a-z_]+)"[^>]*>(.*?)</select>', page, re.S)
    shown = {part for part, options in selects if " selected" in options}
    assert shown == _marked_parts(act_html(record))


def test_act_names_warning_lamps_in_russian(shop):
    record = IntakeRecordFactory(shop=shop, warning_lamps=["check_engine", "abs", "oil"])
    html = act_html(record)
    assert "check_engine" not in html.split("</style>")[1]
    assert "неисправность двигателя (Check Engine)" in html
    assert "давление масла" in html


def test_act_of_a_17_shot_record_has_no_blank_page_and_signatures_under_the_data(shop, advisor):
    record = sealed_record(shop, advisor)
    assert record.shots.filter(accepted=True).count() == 17
    pdf = act_pdf_bytes(record)
    reader = PdfReader(io.BytesIO(pdf))
    pages = _pages_text(pdf)
    assert len(pages) >= 2
    for number, (page, text) in enumerate(zip(reader.pages, pages, strict=True), start=1):
        body = re.sub(r"\d+ / \d+\s*$", "", text.strip())  # the page counter in the margin
        # A page with only a heading on it (or nothing) is a blank page.
        assert len(body) > 120 or len(page.images) >= 3, (number, body)
    first = pages[0]
    assert "Пробег" in first and "45210" in first
    assert "Мастер-приёмщик" in first and "Клиент подтверждает" in first
    assert "фотофиксация" in pages[1].lower()


def test_signing_screen_summarises_everything_recorded(advisor_client, advisor):
    record = new_record(advisor.shop, advisor)
    services.record_update_details(
        record=record,
        odometer_km=45210,
        fuel_level=6,
        warning_lamps=["check_engine", "tpms"],
        belongings="Видеорегистратор, детское кресло",
        damages=DAMAGES,
    )
    services.shot_skip(
        record=record, spec=record.template.specs.get(code="roof"), reason="Нет стремянки"
    )
    response = advisor_client.get(reverse("intake:intake_sign", args=[record.pk]))
    html = response.content.decode()
    summary = html[html.index('id="sign-summary"') : html.index('id="sign-form"')]
    for shown in (
        "45210 км",
        "3/4",
        "XW8ZZZ61ZJG000001",
        "Видеорегистратор, детское кресло",
        "неисправность двигателя (Check Engine)",
        "давление в шинах",
        "Фонарь задний левый: разбито или отсутствует",
        "Дверь задняя левая: вмятина",
        "0 кадров",
        "Нет стремянки",
        "+7 916 123-45-67",
    ):
        assert shown in summary, shown


def _start_from_lead(client, lead):
    template = ShotTemplate.objects.get(shop__isnull=True, family="body", is_current=True)
    return client.post(
        reverse("intake:intake_start") + f"?lead={lead.pk}",
        {
            "template": template.pk,
            "plate": "a123bc77",
            "model": "Rio",
            "body_type": "sedan",
            "customer_name": "Ирина",
            "customer_phone": "8 916 111-22-33",
            "consent": "on",
            "lead": lead.pk,
        },
    )


def test_second_start_from_a_lead_resumes_its_draft(advisor_client, advisor):
    lead = LeadFactory(shop=advisor.shop)
    first = _start_from_lead(advisor_client, lead)
    record = IntakeRecord.objects.get()
    assert first["Location"] == reverse("intake:intake_record", args=[record.pk])
    again = advisor_client.get(reverse("intake:intake_start") + f"?lead={lead.pk}")
    assert again.status_code == 302
    assert again["Location"] == reverse("intake:intake_record", args=[record.pk])
    posted = _start_from_lead(advisor_client, lead)
    assert posted["Location"] == reverse("intake:intake_record", args=[record.pk])
    assert IntakeRecord.objects.filter(lead=lead).count() == 1
    panel = advisor_client.get(reverse("leads:lead_detail", args=[lead.pk])).content.decode()
    assert "Продолжить приёмку" in panel


def test_after_signing_the_next_visit_of_the_lead_starts_a_new_record(shop, advisor):
    lead = LeadFactory(shop=shop)
    first = sealed_record(shop, advisor)
    IntakeRecord.objects.filter(pk=first.pk).update(lead=lead)
    assert services.draft_for_lead(lead) is None
    second = services.record_create(
        shop=shop,
        by=advisor,
        template=first.template,
        data=services.VehicleData(
            plate="",
            vin="",
            make="",
            model="",
            year=None,
            body_type="sedan",
            customer_name="Ирина",
            customer_phone="+79161112233",
        ),
        consent=None,
        lead=lead,
    )
    assert second.pk != first.pk and not second.is_sealed


@pytest.mark.django_db(transaction=True)
def test_two_starts_at_once_from_one_lead_make_one_draft():
    restore_reference_data()
    importlib.import_module("intake.migrations.0002_default_templates").create(django_apps, None)
    shop = ShopFactory()
    advisor = MembershipFactory(shop=shop)
    lead = LeadFactory(shop=shop)
    template = ShotTemplate.objects.filter(shop__isnull=True, family="body").first()

    def start(_index: int) -> int:
        return services.record_create(
            shop=shop,
            by=advisor,
            template=template,
            data=services.VehicleData(
                plate="А123ВС77",
                vin="",
                make="Kia",
                model="Rio",
                year=None,
                body_type="sedan",
                customer_name="Ирина",
                customer_phone="+79161112233",
            ),
            consent=None,
            lead=lead,
        ).pk

    ids = run_together(4, start)
    assert len(set(ids)) == 1
    assert IntakeRecord.objects.filter(lead=lead).count() == 1


@pytest.mark.parametrize(
    ("kind", "family"), [(ShopKind.BODY, "body"), (ShopKind.SERVICE, "service")]
)
def test_start_form_preselects_the_shot_list_of_the_shop_kind(db, client, kind, family):
    member = MembershipFactory(shop=ShopFactory(kind=kind))
    client.force_login(member.user)
    html = client.get(reverse("intake:intake_start")).content.decode()
    template = ShotTemplate.objects.get(shop__isnull=True, family=family, is_current=True)
    assert re.search(rf'<option value="{template.pk}" selected>', html), html
