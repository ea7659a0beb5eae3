"""The manager hands an advisor's customers to another: all, or those ticked; advisors cannot;
another shop's advisor is a 404; a bad choice is told in Russian with the ticks kept."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from customers.models import Customer, EventKind
from customers.services import customers_reassign
from leads.models import Channel
from leads.services import LeadInput, lead_create
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


def _customer_of(shop, member, phone, name):
    lead, _ = lead_create(
        shop=shop,
        channel=Channel.PHONE,
        data=LeadInput(customer_name=name, phone=phone, vehicle_make="Kia", vehicle_model="Rio"),
    )
    Customer.objects.filter(pk=lead.customer_id).update(manager=member)
    return Customer.objects.get(pk=lead.customer_id)


def test_manager_hands_the_ticked_customers_of_a_leaving_advisor_to_another(
    manager_client, manager, shop
):
    leaving = MembershipFactory(shop=shop, user__first_name="Пётр", user__last_name="Уходящий")
    taking = MembershipFactory(shop=shop, user__first_name="Анна", user__last_name="Новая")
    a = _customer_of(shop, leaving, "+79031230001", "Клиент Первый")
    b = _customer_of(shop, leaving, "+79031230002", "Клиент Второй")
    c = _customer_of(shop, leaving, "+79031230003", "Клиент Третий")
    url = reverse("customer_reassign:member_customers", args=[leaving.pk])

    page = manager_client.get(url).content.decode()
    assert "Клиент Первый" in page and "+7 903 123-00-02" in page
    assert "Анна Новая" in page

    response = manager_client.post(url, {"to_member": taking.pk, "customers": [a.pk, b.pk]})
    assert response.status_code == 302
    managers = dict(Customer.objects.values_list("pk", "manager_id"))
    assert managers == {a.pk: taking.pk, b.pk: taking.pk, c.pk: leaving.pk}
    event = a.events.get(kind=EventKind.MANAGER)
    assert event.actor == manager and "Анна Новая" in event.text and "Пётр Уходящий" in event.text


def test_no_one_chosen_is_told_in_russian_and_the_ticks_stay(manager_client, shop):
    leaving = MembershipFactory(shop=shop)
    a = _customer_of(shop, leaving, "+79031230001", "Клиент Первый")
    b = _customer_of(shop, leaving, "+79031230002", "Клиент Второй")
    url = reverse("customer_reassign:member_customers", args=[leaving.pk])
    response = manager_client.post(url, {"customers": [b.pk]})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Выберите сотрудника, которому передать клиентов." in page
    assert f'value="{b.pk}" checked' in page and f'value="{a.pk}" checked' not in page
    assert Customer.objects.filter(manager=leaving).count() == 2


def test_an_advisor_cannot_reassign_and_another_shops_staff_is_a_404(
    advisor, manager_client, shop, other_shop
):
    colleague = MembershipFactory(shop=shop)
    customer = _customer_of(shop, advisor, "+79031230001", "Клиент")
    url = reverse("customer_reassign:member_customers", args=[advisor.pk])
    as_advisor = Client()
    as_advisor.force_login(advisor.user)
    response = as_advisor.post(url, {"to_member": colleague.pk, "customers": [customer.pk]})
    assert response.status_code == 403
    assert Customer.objects.get().manager == advisor
    stranger = MembershipFactory(shop=other_shop)
    stranger_url = reverse("customer_reassign:member_customers", args=[stranger.pk])
    assert manager_client.get(stranger_url).status_code == 404


def test_reassign_service_refuses_an_advisor_and_a_switched_off_target(shop, manager, advisor):
    from django.core.exceptions import ValidationError

    off = MembershipFactory(shop=shop, user__is_active=False)
    _customer_of(shop, advisor, "+79031230001", "Клиент")
    with pytest.raises(ValidationError):
        customers_reassign(shop=shop, from_member=advisor, to_member=manager, by=advisor)
    with pytest.raises(ValidationError):
        customers_reassign(shop=shop, from_member=advisor, to_member=off, by=manager)
    assert customers_reassign(shop=shop, from_member=advisor, to_member=manager, by=manager) == 1
