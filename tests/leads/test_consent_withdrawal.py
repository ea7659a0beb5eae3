"""A driver withdraws consent by the link on every page and in every e-mail they get; the
shop then stops processing their data (152-FZ art. 9 p. 2, art. 21 p. 5)."""

from __future__ import annotations

import datetime as dt
import io
import re
import uuid

import pytest
from django.conf import settings
from django.core import mail, signing
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from autoservice.consent import consent_record_make, consent_text_current
from autoservice.models import ConsentRecord, OutboxMessage, OutboxStatus
from autoservice.outbox import outbox_deliver_now, outbox_put
from leads.models import Channel, EventKind, Lead, Status
from leads.services import LeadInput, driver_request_submit, lead_change_status
from leads.withdrawal import withdrawal_path_for_lead
from optima import offers
from optima.models import OfferStatus
from tests.factories import (
    EstimateFactory,
    LeadFactory,
    MembershipFactory,
    OfferVersionFactory,
    ShopFactory,
)

LINK = re.compile(r"(/s/[\w-]+/consent/withdraw/[A-Za-z0-9_:\-]+/)")


def _shows_phone(page: str) -> bool:
    """Whether +7 903 123-45-67 appears on the page, as stored or as formatted for people."""
    return "+79031234567" in page or "+7 903 123-45-67" in page or "903 123" in page


def _driver_lead(shop, phone="+79031234567", email="driver@example.ru") -> Lead:
    """A request a driver sent through the shop's form, with their consent."""
    lead = driver_request_submit(
        shop=shop,
        channel=Channel.PHOTO,
        contact=LeadInput(customer_name="Анна", phone=phone, email=email),
        consent_text=consent_text_current(shop),
        submission_key=uuid.uuid4(),
        upload_token=uuid.uuid4().hex,
        ip="203.0.113.5",
        user_agent="Mozilla/5.0",
    ).lead
    assert lead.consent_id
    return lead


def _link(text: str) -> str:
    """The withdrawal link's path, from a page, an e-mail or a PDF's text."""
    found = LINK.search(re.sub(r"\s+", "", text) if "consent/withdraw" not in text else text)
    assert found, "no consent withdrawal link"
    return found.group(1)


def _withdraw(client, path: str):
    page = client.get(path)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Отозвать согласие" in html and "в течение 30 дней" in html
    assert 'name="csrfmiddlewaretoken"' in html and 'method="post"' in html
    done = client.post(path, follow=True)
    assert done.status_code == 200
    assert "Согласие отозвано" in done.content.decode()
    return done


def _assert_withdrawn(lead: Lead) -> None:
    lead.refresh_from_db()
    assert lead.consent_withdrawn_at is not None
    assert ConsentRecord.objects.get(pk=lead.consent_id).withdrawn_at is not None
    assert lead.events.filter(kind=EventKind.CONSENT_WITHDRAWN).count() == 1


# --- a working link on every private page and in every e-mail ----------------------------------


def test_photo_form_thank_you_page_links_to_withdrawal(client, shop):
    lead = _driver_lead(shop)
    page = client.get(reverse("photoportal:photo_sent", args=[shop.slug, lead.public_token]))
    _withdraw(client, _link(page.content.decode()))
    _assert_withdrawn(lead)


def test_estimate_page_sent_by_link_links_to_withdrawal(client, shop):
    lead = _driver_lead(shop)
    estimate = EstimateFactory(shop=shop)
    estimate.lead = lead
    estimate.save()
    page = client.get(reverse("smartcalc:calc_result", args=[shop.slug, estimate.public_token]))
    assert page.status_code == 200
    _withdraw(client, _link(page.content.decode()))
    _assert_withdrawn(lead)


def test_offer_page_links_to_withdrawal(client, shop):
    lead = _driver_lead(shop)
    version = OfferVersionFactory(
        offer__shop=shop, offer__lead=lead, status=OfferStatus.SENT, valid_until=dt.date(2099, 1, 1)
    )
    page = client.get(reverse("optima:offer_public", args=[shop.slug, version.offer.token]))
    assert page.status_code == 200
    _withdraw(client, _link(page.content.decode()))
    _assert_withdrawn(lead)


def test_offer_e_mail_links_to_withdrawal(client, shop, advisor):
    lead = _driver_lead(shop, email="anna@example.ru")
    version = OfferVersionFactory(offer__shop=shop, offer__lead=lead)
    offers.offer_send(version=version, by=advisor)
    message = OutboxMessage.objects.get(kind=offers.NOTIFY_OFFER_SENT)
    assert message.subject_phone == lead.phone
    assert outbox_deliver_now(message.pk) == "sent"
    letter = mail.outbox[0]
    assert letter.to == ["anna@example.ru"]
    assert settings.SITE_URL + _link(letter.body) in letter.body
    _withdraw(client, _link(letter.body))
    _assert_withdrawn(lead)


def _sealed_with_consent(shop, advisor, **fields):
    from tests.intake.test_intake_views import _sealed

    consent = consent_record_make(
        shop=shop,
        text=consent_text_current(shop),
        name="Ирина",
        phone="+79160000000",
        ip=None,
        user_agent="",
    )
    return _sealed(shop, advisor, consent=consent, **fields)


def test_intake_act_e_mail_and_pdf_link_to_withdrawal(
    client, advisor, django_capture_on_commit_callbacks
):
    shop = advisor.shop
    with django_capture_on_commit_callbacks(execute=True):
        record = _sealed_with_consent(shop, advisor, customer_email="i@example.ru")
    letter = mail.outbox[0]
    assert letter.to == ["i@example.ru"]
    from_mail = _link(letter.body)
    pdf = client.get(reverse("intake:intake_public_act", args=[shop.slug, record.public_token]))
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    assert _link(text) == from_mail
    attached = letter.attachments[0][1]
    attached_text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(attached)).pages)
    assert _link(attached_text) == from_mail
    _withdraw(client, from_mail)
    consent = ConsentRecord.objects.get(pk=record.consent_id)
    assert consent.withdrawn_at is not None


def test_a_request_taken_by_phone_without_consent_can_still_be_withdrawn(client, shop):
    lead = LeadFactory(shop=shop, channel=Channel.PHONE, phone="+79035550000")
    _withdraw(client, withdrawal_path_for_lead(lead))
    lead.refresh_from_db()
    assert lead.consent_withdrawn_at is not None


# --- the link itself ---------------------------------------------------------------------------


def test_a_tampered_or_foreign_link_is_404(client, shop):
    lead = _driver_lead(shop)
    path = withdrawal_path_for_lead(lead)
    token = path.rstrip("/").rsplit("/", 1)[1]
    tampered = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    assert client.get(path.replace(token, tampered)).status_code == 404
    assert client.post(path.replace(token, tampered)).status_code == 404
    other = ShopFactory()
    assert client.get(path.replace(f"/s/{shop.slug}/", f"/s/{other.slug}/")).status_code == 404
    # A value signed for another purpose (another salt) opens nothing either.
    forged = signing.dumps({"s": shop.pk, "c": [lead.consent_id]})
    assert client.get(path.replace(token, forged)).status_code == 404
    lead.refresh_from_db()
    assert lead.consent_withdrawn_at is None


def test_withdrawal_needs_the_button_not_just_the_link(client, shop):
    lead = _driver_lead(shop)
    client.get(withdrawal_path_for_lead(lead))
    lead.refresh_from_db()
    assert lead.consent_withdrawn_at is None


def test_the_withdrawal_post_is_csrf_protected(shop):
    from django.test import Client

    lead = _driver_lead(shop)
    strict = Client(enforce_csrf_checks=True)
    assert strict.post(withdrawal_path_for_lead(lead)).status_code == 403
    lead.refresh_from_db()
    assert lead.consent_withdrawn_at is None


def test_withdrawing_twice_changes_nothing_the_second_time(client, shop):
    lead = _driver_lead(shop)
    path = withdrawal_path_for_lead(lead)
    client.post(path)
    lead.refresh_from_db()
    first = lead.consent_withdrawn_at
    again = client.post(path, follow=True)
    assert "Согласие отозвано" in again.content.decode()
    lead.refresh_from_db()
    assert lead.consent_withdrawn_at == first
    assert lead.events.filter(kind=EventKind.CONSENT_WITHDRAWN).count() == 1
    assert ConsentRecord.objects.get(pk=lead.consent_id).withdrawn_at == first


def test_withdrawal_covers_every_request_of_that_phone_in_that_shop_only(client, shop):
    first = _driver_lead(shop, phone="+79031112233")
    second = _driver_lead(shop, phone="+79031112233")
    stranger = _driver_lead(shop, phone="+79039998877")
    elsewhere = _driver_lead(ShopFactory(), phone="+79031112233")
    client.post(withdrawal_path_for_lead(first))
    for lead in (first, second):
        lead.refresh_from_db()
        assert lead.consent_withdrawn_at is not None
    for lead in (stranger, elsewhere):
        lead.refresh_from_db()
        assert lead.consent_withdrawn_at is None
        assert ConsentRecord.objects.get(pk=lead.consent_id).withdrawn_at is None


# --- processing stops --------------------------------------------------------------------------


def test_messages_not_yet_sent_are_cancelled_and_new_ones_refused(client, shop, advisor):
    lead = _driver_lead(shop)
    version = OfferVersionFactory(offer__shop=shop, offer__lead=lead)
    offers.offer_send(version=version, by=advisor)
    pending = OutboxMessage.objects.get(kind=offers.NOTIFY_OFFER_SENT)
    to_the_shop = outbox_put(shop=shop, kind="tests.to_the_shop", dedupe_key="shop", payload={})
    client.post(withdrawal_path_for_lead(lead))
    pending.refresh_from_db()
    assert pending.status == OutboxStatus.CANCELLED
    assert outbox_deliver_now(pending.pk) == "skipped"
    assert mail.outbox == []
    refused = outbox_put(
        shop=shop,
        kind=offers.NOTIFY_OFFER_SENT,
        dedupe_key="offer-sent:again",
        payload={"version_id": version.pk},
        subject_phone=lead.phone,
    )
    assert refused is None
    assert not OutboxMessage.objects.filter(dedupe_key="offer-sent:again").exists()
    # Messages to the shop itself are not the driver's: they go on.
    to_the_shop.refresh_from_db()
    assert to_the_shop.status == OutboxStatus.PENDING


def test_a_message_claimed_after_withdrawal_is_never_sent(shop, advisor):
    lead = _driver_lead(shop)
    version = OfferVersionFactory(offer__shop=shop, offer__lead=lead)
    offers.offer_send(version=version, by=advisor)
    message = OutboxMessage.objects.get(kind=offers.NOTIFY_OFFER_SENT)
    # Withdrawn by another path while the message waited (e.g. the platform admin).
    ConsentRecord.objects.filter(pk=lead.consent_id).update(withdrawn_at=timezone.now())
    assert outbox_deliver_now(message.pk) == "cancelled"
    message.refresh_from_db()
    assert message.status == OutboxStatus.CANCELLED
    assert mail.outbox == []


def test_no_offer_is_sent_after_withdrawal(client, shop, advisor):
    lead = _driver_lead(shop)
    version = OfferVersionFactory(offer__shop=shop, offer__lead=lead)
    client.post(withdrawal_path_for_lead(lead))
    with pytest.raises(ValidationError, match="отозвал согласие"):
        offers.offer_send(version=version, by=advisor)
    version.refresh_from_db()
    assert version.status == OfferStatus.DRAFT
    assert not OutboxMessage.objects.exists()


def test_the_lead_status_is_frozen(client, shop, advisor):
    lead = _driver_lead(shop)
    client.post(withdrawal_path_for_lead(lead))
    lead.refresh_from_db()
    with pytest.raises(ValidationError, match="заморожена"):
        lead_change_status(lead=lead, status=Status.IN_PROGRESS, by=advisor)
    client.force_login(advisor.user)
    url = reverse("leads:lead_detail", args=[lead.pk])
    response = client.post(url, {"action": "status", "status": "in_progress"})
    assert response.status_code == 400
    lead.refresh_from_db()
    assert lead.status == Status.NEW


def test_advisors_see_the_flag_but_not_the_contacts(client, shop):
    lead = _driver_lead(shop, phone="+79031234567", email="hidden@example.ru")
    client.post(withdrawal_path_for_lead(lead))
    advisor = MembershipFactory(shop=shop)
    client.force_login(advisor.user)
    inbox = client.get(reverse("leads:inbox")).content.decode()
    assert "согласие отозвано" in inbox
    assert not _shows_phone(inbox) and "Анна" not in inbox
    page = client.get(reverse("leads:lead_detail", args=[lead.pk])).content.decode()
    assert "Согласие отозвано" in page
    assert not _shows_phone(page) and "hidden@example.ru" not in page
    assert 'value="status"' not in page and 'value="contacted"' not in page


def test_managers_still_see_the_contacts_of_a_frozen_lead(client, shop):
    lead = _driver_lead(shop, phone="+79031234567")
    client.post(withdrawal_path_for_lead(lead))
    manager = MembershipFactory(shop=shop, role="manager")
    client.force_login(manager.user)
    inbox = client.get(reverse("leads:inbox")).content.decode()
    assert "согласие отозвано" in inbox and _shows_phone(inbox)


def test_a_new_request_with_fresh_consent_is_processed_again(client, shop):
    old = _driver_lead(shop, phone="+79031234567")
    client.post(withdrawal_path_for_lead(old))
    new = _driver_lead(shop, phone="+79031234567")
    assert new.consent_withdrawn_at is None
    message = outbox_put(
        shop=shop, kind="tests.to_driver", dedupe_key="fresh", payload={}, subject_phone=new.phone
    )
    assert message is not None


def test_a_frozen_lead_hands_no_contacts_to_intake_or_parts(client, shop):
    lead = _driver_lead(shop, phone="+79031234567")
    client.post(withdrawal_path_for_lead(lead))
    advisor = MembershipFactory(shop=shop)
    client.force_login(advisor.user)
    page = client.get(reverse("leads:lead_detail", args=[lead.pk])).content.decode()
    assert f"{reverse('intake:intake_start')}?lead={lead.pk}" not in page
    form = client.get(reverse("intake:intake_start"), {"lead": lead.pk}).content.decode()
    assert not _shows_phone(form) and "Анна" not in form
