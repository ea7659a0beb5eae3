"""Our Bitrix24 and amoCRM adapters against the documented requests and answers
(tests/crm/contracts/, each file's source in its README): what we send has the documented
shape, what the CRMs answer is read as documented, each documented error becomes the right
kind of error with a Russian message that says what to do."""

from __future__ import annotations

import json

import pytest

from crm.clients import (
    AmoCrm,
    Bitrix24,
    CrmLead,
    CrmRefusedError,
    CrmSettingsError,
    CrmTemporaryError,
    amo_base_url,
    bitrix_webhook_ok,
)
from tests.crm.fake_crm import CONTRACTS, FakeCrm

LEAD = CrmLead(
    title="Заявка №7: Kia Rio",
    name="Иван",
    phone="+79161234567",
    comments="Канал: фото\nПомят передний бампер",
    link="http://127.0.0.1:8000/staff/leads/42/",
    source_id="WEB",
    source_description="Цифровая стойка автосервиса: фото",
    utm_source="sto-frontdesk",
    utm_medium="photo",
    utm_campaign="demo",
    request_id="evt_1",
    tags=("Цифровая стойка",),
)


def _doc(kind: str, name: str):
    return json.loads((CONTRACTS / kind / name).read_text())


def _shape(value):
    """The structure of a JSON value: keys and element shapes, not the values."""
    if isinstance(value, dict):
        return {key: _shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_shape(value[0])] if value else []
    return type(value).__name__


# --- Bitrix24 --------------------------------------------------------------------------

# Fields of crm.lead.add as documented (api-reference/crm/leads/crm-lead-add.md).
BITRIX_LEAD_FIELDS = {
    "TITLE", "NAME", "LAST_NAME", "SECOND_NAME", "PHONE", "EMAIL", "COMMENTS", "SOURCE_ID",
    "SOURCE_DESCRIPTION", "UTM_SOURCE", "UTM_MEDIUM", "UTM_CAMPAIGN", "UTM_CONTENT",
    "UTM_TERM", "OPENED", "STATUS_ID", "ASSIGNED_BY_ID", "WEB",
}  # fmt: skip


def test_bitrix_lead_add_sends_the_documented_body_and_reads_the_lead_id(db):
    with FakeCrm("bitrix24") as fake:
        remote_id = Bitrix24(fake.webhook_url()).lead_add(LEAD)
    assert remote_id == _doc("bitrix24", "crm_lead_add.json")["result"] == 3465
    (call,) = fake.calls("/crm.lead.add")
    assert call.method == "POST" and call.headers["Content-Type"] == "application/json"
    documented = _doc("bitrix24", "crm_lead_add_request.json")
    assert set(call.body) == set(documented)  # {"fields", "params"}
    assert call.body["params"] == documented["params"]
    fields = call.body["fields"]
    assert set(fields) <= BITRIX_LEAD_FIELDS
    assert _shape(fields["PHONE"]) == _shape(documented["fields"]["PHONE"])
    assert fields["PHONE"] == [{"VALUE": "+79161234567", "VALUE_TYPE": "WORK"}]
    assert fields["TITLE"] == "Заявка №7: Kia Rio" and fields["NAME"] == "Иван"
    assert LEAD.link in fields["COMMENTS"] and "Помят передний бампер" in fields["COMMENTS"]
    assert (fields["SOURCE_ID"], fields["UTM_SOURCE"], fields["UTM_MEDIUM"]) == (
        "WEB",
        "sto-frontdesk",
        "photo",
    )
    assert fields["UTM_CAMPAIGN"] == "demo"


def test_bitrix_timeline_comment_goes_to_the_lead_in_the_documented_shape(db):
    with FakeCrm("bitrix24") as fake:
        comment_id = Bitrix24(fake.webhook_url()).comment_add(3465, "Статус: в работе")
    assert comment_id == 999
    (call,) = fake.calls("/crm.timeline.comment.add")
    documented = _doc("bitrix24", "crm_timeline_comment_add_request.json")["fields"]
    required = {"ENTITY_ID", "ENTITY_TYPE", "COMMENT"}
    assert set(call.body["fields"]) == required and required <= set(documented)
    assert call.body["fields"] == {
        "ENTITY_ID": 3465,
        "ENTITY_TYPE": "lead",
        "COMMENT": "Статус: в работе",
    }
    assert type(call.body["fields"]["ENTITY_ID"]) is type(documented["ENTITY_ID"])


def test_bitrix_check_reads_who_the_webhook_acts_as(db):
    with FakeCrm("bitrix24") as fake:
        said = Bitrix24(fake.webhook_url()).check()
    assert "Vadim Valeev" in said and "ID 1" in said


@pytest.mark.parametrize(
    ("mode", "error", "words"),
    [
        ("401", CrmSettingsError, "Битрикс24 отклонил ключ вебхука (401"),
        ("fail", CrmTemporaryError, "INTERNAL_SERVER_ERROR"),
        ("limit", CrmTemporaryError, "QUERY_LIMIT_EXCEEDED"),
    ],
)
def test_bitrix_documented_errors_become_what_to_do(db, mode, error, words):
    with FakeCrm("bitrix24", mode=mode) as fake, pytest.raises(error) as raised:
        Bitrix24(fake.webhook_url()).lead_add(LEAD)
    assert words in raised.value.message


def test_bitrix_a_wrong_webhook_code_is_the_documented_invalid_credentials(db):
    with FakeCrm("bitrix24") as fake, pytest.raises(CrmSettingsError) as raised:
        Bitrix24(fake.webhook_url("wrongcode")).lead_add(LEAD)
    assert "INVALID_CREDENTIALS" in raised.value.message
    assert "создайте новый входящий вебхук" in raised.value.message


@pytest.mark.parametrize(
    ("name", "status", "error", "words"),
    [
        ("error_expired_token.json", 401, CrmSettingsError, "отклонил ключ"),
        ("error_insufficient_scope.json", 401, CrmSettingsError, "нет права «CRM»"),
        ("crm_lead_add_access_denied.json", 403, CrmSettingsError, "отказал в доступе"),
        ("crm_timeline_comment_add_not_found.json", 400, CrmRefusedError, "NOT_FOUND"),
    ],
)
def test_bitrix_error_answers_are_read_as_documented(name, status, error, words):
    from crm.clients import Answer, bitrix_error

    found = bitrix_error(Answer(status, _doc("bitrix24", name)))
    assert isinstance(found, error) and words in found.message


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://sto.bitrix24.ru/rest/1/abc123def456/", True),
        ("https://crm.example.ru/rest/17/abc123/", True),
        ("https://sto.bitrix24.ru/rest/1/abc123/crm.lead.add.json", False),
        ("https://sto.bitrix24.ru/", False),
        ("sto.bitrix24.ru/rest/1/abc/", False),
        ("https://sto.bitrix24.ru/rest/abc/123/", False),
    ],
)
def test_only_an_incoming_webhook_address_is_taken(url, ok):
    assert bitrix_webhook_ok(url) is ok


# --- amoCRM ----------------------------------------------------------------------------


def _amo(fake, **kw) -> AmoCrm:
    return AmoCrm(fake.base, fake.secret, **kw)


def test_amo_complex_lead_embeds_the_contact_with_its_phone_as_documented(db):
    with FakeCrm("amocrm") as fake:
        remote_id = _amo(fake, pipeline_id=3177727, status_id=32392159).lead_add(LEAD)
    assert remote_id == _doc("amocrm", "leads_complex.json")[0]["id"] == 9774766
    (call,) = fake.calls("/api/v4/leads/complex")
    assert call.headers["Authorization"] == f"Bearer {fake.secret}"
    documented = _doc("amocrm", "leads_complex_request.json")
    assert isinstance(call.body, list) and len(call.body) == 1
    sent, example = call.body[0], documented[0]
    for key in ("name", "pipeline_id", "status_id", "request_id"):
        assert type(sent[key]) is type(example[key]), key
    assert (sent["pipeline_id"], sent["status_id"]) == (3177727, 32392159)
    contact = sent["_embedded"]["contacts"][0]
    example_contact = example["_embedded"]["contacts"][0]
    documented_phone = next(
        f for f in example_contact["custom_fields_values"] if f["field_code"] == "PHONE"
    )
    assert contact["first_name"] == "Иван" and "first_name" in example_contact
    assert contact["custom_fields_values"] == [
        {"field_code": "PHONE", "values": [{"value": "+79161234567", "enum_code": "WORK"}]}
    ]
    assert _shape(contact["custom_fields_values"][0]) == _shape(documented_phone)
    assert sent["_embedded"]["tags"] == [{"name": "Цифровая стойка"}]


def test_amo_a_merged_duplicate_still_gives_the_lead_id(db):
    from crm.clients import Answer  # noqa: F401 - the answer is read by lead_add below

    with FakeCrm("amocrm") as fake:
        fake_file = fake._file  # noqa: SLF001 - serve the documented "merged" example
        fake._file = lambda name: fake_file(  # noqa: SLF001
            "leads_complex_merged.json" if name == "leads_complex.json" else name
        )
        assert _amo(fake).lead_add(LEAD) == 9774766


def test_amo_note_is_a_common_note_on_the_lead(db):
    with FakeCrm("amocrm") as fake:
        note_id = _amo(fake).note_add(9774766, "Статус: в работе")
    assert note_id == 76610421
    (call,) = fake.calls("/api/v4/leads/9774766/notes")
    documented = _doc("amocrm", "lead_notes_request.json")
    assert _shape(call.body) == _shape(documented)
    assert call.body == [{"note_type": "common", "params": {"text": "Статус: в работе"}}]


def test_amo_pipelines_are_read_without_the_won_and_lost_stages(db):
    with FakeCrm("amocrm") as fake:
        pipelines = _amo(fake).pipelines()
    assert pipelines == [
        {
            "id": 3177727,
            "name": "Воронка",
            "statuses": [
                {"id": 32392156, "name": "Неразобранное"},
                {"id": 32392159, "name": "Первичный контакт"},
            ],
        }
    ]
    assert fake.seen[0].method == "GET"


@pytest.mark.parametrize(
    ("mode", "error", "words"),
    [
        ("401", CrmSettingsError, "amoCRM отклонил токен (401, Invalid user name or password)"),
        ("fail", CrmTemporaryError, "HTTP 500"),
        ("limit", CrmTemporaryError, "HTTP 429"),
    ],
)
def test_amo_documented_errors_become_what_to_do(db, mode, error, words):
    with FakeCrm("amocrm", mode=mode) as fake, pytest.raises(error) as raised:
        _amo(fake).lead_add(LEAD)
    assert words in raised.value.message


def test_amo_validation_and_payment_errors_are_read_as_documented():
    from crm.clients import Answer, amo_error

    refused = amo_error(Answer(400, _doc("amocrm", "error_400_validation.json")))
    assert isinstance(refused, CrmRefusedError)
    assert "custom_fields_values.0.field_id" in refused.message
    unpaid = amo_error(Answer(402, _doc("amocrm", "error_402.json")))
    assert isinstance(unpaid, CrmSettingsError) and "не оплачен" in unpaid.message


def test_slow_crm_is_a_timeout_to_retry(db, settings):
    settings.CRM_TIMEOUT_SECONDS = 1
    with (
        FakeCrm("amocrm", mode="slow", slow_seconds=3) as fake,
        pytest.raises(CrmTemporaryError) as raised,
    ):
        _amo(fake).lead_add(LEAD)
    assert "не ответил за 1 с" in raised.value.message


@pytest.mark.parametrize(
    ("typed", "base"),
    [
        ("sto", "https://sto.amocrm.ru"),
        ("sto.amocrm.ru", "https://sto.amocrm.ru"),
        ("https://sto.amocrm.ru/leads/pipeline/", "https://sto.amocrm.ru"),
        ("https://sto.kommo.com", "https://sto.kommo.com"),
    ],
)
def test_amo_account_address_from_what_the_manager_typed(typed, base):
    assert amo_base_url(typed) == base
