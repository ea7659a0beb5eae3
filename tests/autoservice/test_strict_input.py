"""Bad numbers, dates and choices are a Russian 400; the small security fixes around them."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zoneinfo

import pytest
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core import mail
from django.urls import reverse

from autoservice.models import Membership
from autoservice.params import ParamError, datetime_param, id_param, int_param
from autoservice.spreadsheets import cell_safe, cell_unescape
from optima.models import OfferStatus
from tests.factories import MembershipFactory, OfferVersionFactory, ShopFactory

MOSCOW = zoneinfo.ZoneInfo("Europe/Moscow")


# --- the shared parser --------------------------------------------------------------------


@pytest.mark.parametrize(
    "value", ["²", "٣", "-1", "1e5", "0x10", "99999999999999999999", " 1 2", "x" * 10_000]
)
def test_int_param_takes_only_ascii_digits_in_range(value):
    with pytest.raises(ParamError) as caught:
        id_param(value, name="model")
    assert "model" in caught.value.message


def test_int_param_reads_digits_and_gives_the_default_for_blank():
    assert int_param("42", name="n", min=1, max=50) == 42
    assert int_param(" ", name="n", default=7) == 7
    with pytest.raises(ParamError, match="от 1 до 50"):
        int_param("51", name="n", min=1, max=50)


@pytest.mark.parametrize(
    "value",
    ["9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+23:59", "2026-02-30", "²", "1e5", "x" * 500],
)
def test_datetime_param_refuses_overflow_and_nonsense(value):
    with pytest.raises(ParamError, match="ISO 8601"):
        datetime_param(value, name="updated_since", tz=MOSCOW)


def test_datetime_param_reads_a_moment_a_lost_plus_and_a_day():
    assert datetime_param("2026-03-01T09:00:00+03:00", name="s", tz=MOSCOW) == dt.datetime(
        2026, 3, 1, 6, tzinfo=dt.UTC
    )
    assert datetime_param("2026-03-01T09:00:00 03:00", name="s", tz=MOSCOW).hour == 9
    assert datetime_param("2026-03-01", name="s", tz=MOSCOW) == dt.datetime(
        2026, 3, 1, tzinfo=MOSCOW
    )


# --- the pages of the audit --------------------------------------------------------------------


@pytest.mark.parametrize("param", ["model", "make"])
def test_calculator_answers_a_bad_model_with_a_russian_400(client, shop, param):
    response = client.get(reverse("smartcalc:calc_vehicle", args=[shop.slug]), {param: "²"})
    assert response.status_code == 400
    html = response.content.decode()
    assert f"Параметр {param} должен быть целым числом" in html
    assert shop.name in html  # the shop's own page frame


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"limit": "²"}, "Параметр limit"),
        ({"limit": "0"}, "Параметр limit"),
        ({"after": "²"}, "Параметр after"),
        ({"after": "99999999999999999999"}, "Параметр after"),
        ({"updated_since": "9999-12-31T23:59:59-23:59"}, "Параметр updated_since"),
    ],
)
def test_intake_api_answers_bad_parameters_with_a_json_400(client, shop, params, words):
    from autoservice.apitokens import token_create

    _token, raw = token_create(shop=shop, name="CRM")
    response = client.get(
        reverse("intake:api_intake_records"), params, HTTP_AUTHORIZATION=f"Bearer {raw}"
    )
    assert response.status_code == 400
    assert words in response.json()["error"]


def test_intake_api_still_reads_a_large_limit_as_the_maximum(client, shop):
    from autoservice.apitokens import token_create

    _token, raw = token_create(shop=shop, name="CRM")
    response = client.get(
        reverse("intake:api_intake_records"), {"limit": "500"}, HTTP_AUTHORIZATION=f"Bearer {raw}"
    )
    assert response.status_code == 200


@pytest.mark.parametrize("param", ["cursor", "newest"])
@pytest.mark.parametrize("value", ["²", "OTk5OS0xMi0zMVQyMzo1OTo1OS0yMzo1OXwx", "MjAyNnwyMjI"])
def test_inbox_answers_a_forged_cursor_with_a_400(advisor_client, param, value):
    url = reverse("leads:inbox" if param == "cursor" else "leads:inbox_poll")
    response = advisor_client.get(url, {param: value})
    assert response.status_code == 400
    assert "Ссылка на страницу списка повреждена" in response.content.decode() or (
        "Параметр" in response.content.decode()
    )


def test_a_nul_character_in_a_form_is_a_400_before_the_view(client, shop):
    response = client.get(reverse("smartcalc:calc_vehicle", args=[shop.slug]), {"q": "a\x00b"})
    assert response.status_code == 400
    assert "NUL" in response.content.decode()


def test_a_ten_thousand_character_login_is_a_form_error_not_a_500(client, db):
    response = client.post(reverse("login"), {"username": "x" * 10_000, "password": "nope"})
    assert response.status_code == 200


def test_revoking_a_token_by_a_bad_id_is_a_400(manager_client):
    response = manager_client.post(
        reverse("autoservice:api_tokens"), {"action": "revoke", "token": "²"}
    )
    assert response.status_code == 400


# --- unknown offer choices -----------------------------------------------------------------------


def _sent(shop):
    version = OfferVersionFactory(offer__shop=shop, status=OfferStatus.SENT)
    version.valid_until = dt.date(2099, 1, 1)
    version.save()
    return version


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({"set": "garbage"}, "Такого набора в предложении нет"),
        ({"set": ""}, "Такого набора в предложении нет"),
        ({"pos_0": "²", "action": "review"}, "Такого варианта нет"),
        ({"pos_0": "7", "action": "review"}, "Такого варианта нет"),
        ({"pos_0": "99999999999999999999", "action": "review"}, "Такого варианта нет"),
        ({"pos_0": "0", "pos_5": "0", "action": "review"}, "Такой детали в предложении нет"),
        ({"pos_0": "0", "pos_²": "0", "action": "review"}, "Такой детали в предложении нет"),
        (
            {"pos_0": "7", "action": "confirm", "version": "1", "total": "36000.00"},
            "Такого варианта нет",
        ),
        ({"pos_0": "0", "action": "accept"}, "Неизвестное действие"),
    ],
)
def test_unknown_offer_choice_is_refused_and_nothing_is_accepted(client, shop, data, words):
    version = _sent(shop)
    url = reverse("optima:offer_public", args=[shop.slug, version.offer.token])
    response = client.post(url, data)
    assert response.status_code == 400
    assert words in response.content.decode()
    version.refresh_from_db()
    assert version.status == OfferStatus.SENT and version.accepted_at is None


def test_a_known_set_only_preselects_and_accepts_nothing(client, shop):
    version = _sent(shop)
    url = reverse("optima:offer_public", args=[shop.slug, version.offer.token])
    response = client.post(url, {"set": "самый выгодный"})
    assert response.status_code == 200
    assert 'name="pos_0" value="1" data-price="7500.00"' in response.content.decode()
    version.refresh_from_db()
    assert version.status == OfferStatus.SENT and version.accepted_at is None


# --- spreadsheets ---------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"])
def test_a_formula_cell_is_written_as_text_and_read_back_as_it_was(text):
    assert cell_safe(text) == "'" + text
    assert cell_unescape(cell_safe(text)) == text
    assert cell_safe("Бампер") == "Бампер" and cell_unescape("'ok") == "'ok"


def _price(shop, oem: str):
    from smartcalc.models import ShopPartPrice, VehicleModel

    model = VehicleModel.objects.filter(make__name="Hyundai", name="Solaris").first()
    return ShopPartPrice.objects.create(
        shop=shop, vehicle_model=model, part="bumper_front", oem_number=oem, original_rub=100
    )


def test_price_list_exports_neutralise_formulas(manager_client, manager):
    _price(manager.shop, '=HYPERLINK("http://x","y")')
    body = manager_client.get(reverse("smartcalc:price_export", args=["csv"])).content
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))
    assert rows[1][3] == '\'=HYPERLINK("http://x","y")'

    from openpyxl import load_workbook

    book = load_workbook(
        io.BytesIO(manager_client.get(reverse("smartcalc:price_export", args=["xlsx"])).content)
    )
    assert book.active.cell(row=2, column=4).value == '\'=HYPERLINK("http://x","y")'
    assert book.active.cell(row=2, column=4).data_type == "s"


def test_an_exported_price_list_imports_as_it_was(manager):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from smartcalc.pricelist import pricelist_csv, pricelist_parse

    _price(manager.shop, "-123")
    parsed = pricelist_parse(SimpleUploadedFile("p.csv", pricelist_csv(manager.shop)))
    assert not parsed.errors
    assert parsed.rows[0]["oem_number"] == "-123"


# --- invitations tell nobody which addresses have accounts --------------------------------------


def _invite(client, email: str):
    return client.post(
        reverse("autoservice:member_create"),
        {"first_name": "Пётр", "last_name": "Иванов", "email": email, "role": "advisor"},
        follow=True,
    )


def test_inviting_an_address_another_shop_uses_answers_like_a_new_one(manager_client, manager):
    stranger = MembershipFactory(shop=ShopFactory(), role="manager")
    taken = _invite(manager_client, stranger.user.email.upper())
    new = _invite(manager_client, "new-colleague@example.ru")
    assert taken.status_code == new.status_code == 200
    assert taken.redirect_chain == new.redirect_chain
    said = [str(m) for m in taken.context["messages"]]
    assert said == [f"Сотрудник добавлен, приглашение отправлено на {stranger.user.email}."]
    # Nothing changed for the other shop's account; its owner learns of the attempt.
    stranger.refresh_from_db()
    assert stranger.shop != manager.shop and stranger.user.has_usable_password()
    assert not Membership.objects.filter(shop=manager.shop, user=stranger.user).exists()
    letters = {letter.to[0]: letter for letter in mail.outbox}
    assert "уже есть учётная запись" in letters[stranger.user.email].body
    assert "/accounts/reset/" not in letters[stranger.user.email].body
    assert "/accounts/reset/" in letters["new-colleague@example.ru"].body


# --- login lockout and link lifetimes ---------------------------------------------------------


@pytest.fixture
def _quick_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _login(client, user, password: str, ip: str):
    return client.post(
        reverse("login"), {"username": user.username, "password": password}, REMOTE_ADDR=ip
    )


@pytest.mark.usefixtures("_quick_passwords")
def test_one_address_trying_many_accounts_is_locked(client, shop, settings):
    assert settings.AXES_FAILURE_LIMIT == 5
    members = [MembershipFactory(shop=shop) for _ in range(6)]
    for member in members[:5]:
        for _ in range(4):
            _login(client, member.user, "nope", "203.0.113.9")
    response = _login(client, members[5].user, "correct-horse-42", "203.0.113.9")
    assert response.status_code == 429
    # Another address is not locked for an account that had no failures.
    assert _login(client, members[5].user, "correct-horse-42", "198.51.100.1").status_code == 302


@pytest.mark.usefixtures("_quick_passwords")
def test_one_account_tried_from_many_addresses_is_locked(client, advisor):
    for n in range(5):
        _login(client, advisor.user, "nope", f"203.0.113.{n + 1}")
    response = _login(client, advisor.user, "correct-horse-42", "198.51.100.7")
    assert response.status_code == 429


class _TokensAt(PasswordResetTokenGenerator):
    def __init__(self, now: dt.datetime):
        super().__init__()
        self.now = now

    def _now(self):
        return self.now


def test_reset_and_invitation_links_last_24_hours(advisor, settings):
    assert settings.PASSWORD_RESET_TIMEOUT == 24 * 60 * 60
    made = dt.datetime(2026, 3, 1, 9, 0)
    token = _TokensAt(made).make_token(advisor.user)
    assert _TokensAt(made + dt.timedelta(hours=23, minutes=59)).check_token(advisor.user, token)
    assert not _TokensAt(made + dt.timedelta(hours=24, minutes=1)).check_token(advisor.user, token)
