"""Small things people noticed: quotes around a quoted shop name, the login field, an
invited person's access, the favicon, the demo's logins and formatted phones."""

from __future__ import annotations

import io

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.template import Context, Template
from django.urls import reverse

from autoservice.models import Shop
from tests.factories import LeadFactory, ShopFactory, UserFactory


def test_a_shop_name_with_its_own_quotes_is_not_quoted_again(db):
    assert ShopFactory.build(name="Кузовной центр «Демо»").quoted_name == "Кузовной центр «Демо»"
    assert ShopFactory.build(name='ООО "Мотор"').quoted_name == 'ООО "Мотор"'
    assert ShopFactory.build(name="Автосервис Север").quoted_name == "«Автосервис Север»"


def test_driver_page_after_sending_names_a_quoted_shop_once(client, db):
    shop = ShopFactory(name="Кузовной центр «Демо»", phone="+74951234567")
    lead = LeadFactory(shop=shop)
    url = reverse("photoportal:photo_sent", args=[shop.slug, lead.public_token])
    html = client.get(url).content.decode()
    assert "Кузовной центр «Демо» получил ваши фото" in html
    assert "«Кузовной центр «Демо»»" not in html
    assert "Позвонить: +7 495 123-45-67" in html


def test_phone_filter_formats_russian_numbers(db):
    html = Template("{% load phones %}{{ a|phone }} | {{ b|phone }} | {{ c|phone }}").render(
        Context({"a": "+74951234567", "b": "+79161112233", "c": ""})
    )
    assert html == "+7 495 123-45-67 | +7 916 111-22-33 | "


def test_shop_page_shows_the_phone_formatted_and_dials_the_raw_number(client, db):
    shop = ShopFactory(phone="+74951234567")
    html = client.get(reverse("photoportal:shop_page", args=[shop.slug])).content.decode()
    assert "+7 495 123-45-67" in html and 'href="tel:+74951234567"' in html


def test_login_field_asks_for_the_e_mail(client, db):
    html = client.get(reverse("login")).content.decode()
    assert "Имя пользователя" not in html
    assert 'type="email" name="username"' in html and "E-mail<span" in html


def test_invited_person_without_a_password_is_shown_as_invited(manager_client, manager):
    invited = UserFactory(username="new@example.ru")
    invited.set_unusable_password()
    invited.save()
    from autoservice.models import Membership

    Membership.objects.create(user=invited, shop=manager.shop, role="advisor")
    html = manager_client.get(reverse("autoservice:team")).content.decode()
    row = html[html.index("new@example.ru") :].split("</tr>")[0]
    assert "приглашён, пароль не задан" in row and ">есть<" not in row


def test_favicon_is_linked_and_served(client, db):
    html = client.get(reverse("login")).content.decode()
    assert 'rel="icon"' in html and "img/favicon.svg" in html
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"].endswith("img/favicon.ico")


def test_demo_prints_the_logins_last_with_a_platform_admin(db, django_capture_on_commit_callbacks):
    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("demo", password="demo-pass-123", stdout=out)
    lines = out.getvalue().rstrip().splitlines()
    block = "\n".join(lines[-11:])
    assert lines[-1].startswith("=====")
    assert "/s/demo/" in block and "/accounts/login/" in block and "/admin/" in block
    for email in ("manager@demo.local", "advisor1@demo.local", "admin@demo.local"):
        assert f"{email}" in block
    assert "пароль demo-pass-123" in block
    admin = get_user_model().objects.get(username="admin@demo.local")
    assert admin.is_superuser and admin.is_staff and admin.check_password("demo-pass-123")
    assert Shop.objects.get(slug="demo").kind == "body"
    only = io.StringIO()
    call_command("demo", "--logins", password="demo-pass-123", stdout=only)
    assert only.getvalue().strip().splitlines()[-1].startswith("=====")
