from django.core import mail
from django.urls import reverse

from tests.factories import MembershipFactory


def test_staff_logs_in_and_lands_on_home(client, advisor):
    response = client.post(
        reverse("login"), {"username": advisor.user.username, "password": "correct-horse-42"}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("leads:inbox")


def test_wrong_password_shows_the_russian_message_and_keeps_the_login(client, advisor):
    response = client.post(
        reverse("login"), {"username": advisor.user.username, "password": "nope"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Пожалуйста, введите правильные" in html
    assert f'value="{advisor.user.username}"' in html


def test_repeated_failures_are_throttled_even_with_the_right_password(client, advisor, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": advisor.user.username, "password": "nope"})
    response = client.post(
        reverse("login"), {"username": advisor.user.username, "password": "correct-horse-42"}
    )
    assert response.status_code == 429
    assert "Вход временно заблокирован" in response.content.decode()


def test_password_reset_sends_a_russian_letter(client, advisor):
    response = client.post(reverse("password_reset"), {"email": advisor.user.email})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    assert "Восстановление пароля" in mail.outbox[0].subject
    assert "/accounts/reset/" in mail.outbox[0].body


def test_logout_is_a_post(client, advisor):
    client.force_login(advisor.user)
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get(reverse("autoservice:staff_home")).status_code == 302


def test_manager_invites_a_colleague_who_sets_a_password(manager_client, manager):
    response = manager_client.post(
        reverse("autoservice:member_create"),
        {
            "first_name": "Пётр",
            "last_name": "Иванов",
            "email": "Petr@Example.ru",
            "role": "advisor",
        },
    )
    assert response.status_code == 302
    member = manager.shop.memberships.get(user__email="petr@example.ru")
    assert member.role == "advisor"
    assert not member.user.has_usable_password()
    assert len(mail.outbox) == 1
    assert manager.shop.name in mail.outbox[0].subject
    assert "/accounts/reset/" in mail.outbox[0].body


def test_duplicate_email_is_refused_and_the_form_keeps_input(manager_client, advisor):
    response = manager_client.post(
        reverse("autoservice:member_create"),
        {
            "first_name": "Пётр",
            "last_name": "Иванов",
            "email": advisor.user.email,
            "role": "advisor",
        },
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "уже есть" in html
    assert 'value="Пётр"' in html


def test_manager_cannot_demote_themselves(manager_client, manager):
    response = manager_client.post(
        reverse("autoservice:member_edit", args=[manager.pk]),
        {"role": "advisor", "is_active": "on"},
    )
    assert response.status_code == 200
    manager.refresh_from_db()
    assert manager.role == "manager"


def test_manager_deactivates_a_colleague(manager_client, manager):
    colleague = MembershipFactory(shop=manager.shop)
    manager_client.post(
        reverse("autoservice:member_edit", args=[colleague.pk]), {"role": "advisor"}
    )
    colleague.user.refresh_from_db()
    assert colleague.user.is_active is False


def test_manager_makes_an_api_token_shown_once_and_revokes_it(manager_client, manager):
    import re

    from autoservice.apitokens import shop_for_token

    html = manager_client.post(
        reverse("autoservice:api_tokens"),
        {"action": "create", "name": "amoCRM", "scopes": ["intake:read"], "expires_in_days": ""},
    ).content.decode()
    raw = re.search(r'id="new-token">([^<]+)<', html).group(1)
    assert shop_for_token(raw) == manager.shop
    assert raw not in manager_client.get(reverse("autoservice:api_tokens")).content.decode()
    token = manager.shop.api_tokens.get()
    manager_client.post(reverse("autoservice:api_tokens"), {"action": "revoke", "token": token.pk})
    assert shop_for_token(raw) is None
